"""The contract of one kind of Open Dental write (od_parts.py registers the kinds; a kind in a
module of its own subclasses this without importing od_parts, so there is no import cycle)."""

from __future__ import annotations

from ..pms.client import ODClient
from ..settings.export import OpenDentalConfig
from ..store.reports import Report


class PartKind:
    """One kind of write. `run` is the exporter's attempt (opendental_export.ODRun: client, pat_num,
    report, job, settings, listing(), def_num()); `resource` the list searched for the marker
    (`GET /<resource>?PatNum=`), `marker_field` the field the marker is written into, `id_key` the
    new row's id in the answer."""

    resource = "documents"
    marker_field = "Description"
    id_key = "DocNum"
    found_by = "marker"  # how find() knows an earlier write (the audit entry says it)

    def owns(self, name: str) -> bool:
        raise NotImplementedError

    def names(self, settings: OpenDentalConfig, report: Report) -> list[str]:
        raise NotImplementedError

    def body(self, run, name: str, marker: str) -> tuple[dict, str]:
        """The request body and a note for the outbox (e.g. "downscaled to fit")."""
        raise NotImplementedError

    def post(self, client: ODClient, body: dict) -> dict:
        return client.request("POST", self.resource, body=body) or {}

    def find(self, run, name: str, marker: str) -> str | None:
        for row in run.listing(self.resource):
            if marker in str(row.get(self.marker_field) or ""):
                return str(row.get(self.id_key) or "?")
        return None

    def present(self, run, name: str) -> tuple[str, str] | None:
        """The part is in Open Dental already by other hands (a crown charted before): (its id, why);
        it is then done without a write. Asked before every write."""
        return None
