"""`RemoteReviewAPI`: what the review window, `queue`, `review` and `sign` use of `ReviewAPI`,
over a client home's hub (`[client] hub_url`, token in the keyring), so they work on the hub's
studies exactly as on the hub itself.

The hub's refusals come back as the same `ReviewError` / `SignError` with the hub's sentence;
a hub that cannot be reached is a `ReviewError` too, so the window shows it in its status bar
and the commands print it. Label names and colours come from this PC's model catalog (the same
bundled manifests as the hub's). Pixels are fetched as PNG and decoded here; the window polls
`changes()` instead of reading a database.

Conflicts: it remembers the version of each study it last read (`study()`, and the queue for a
study not read yet) and sends it as `expected_version` with every action; a study another PC
changed since is refused by the hub (409) and raised as `StaleVersion` with the hub's sentence,
so the window reloads it. After its own action succeeds the remembered version is dropped (the
study's new version is unknown until it is read again: the window always reads it right after).
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

import numpy as np

from ..analysis.catalog import ModelCatalog
from ..config import Config
from ..review.api import STALE_SENTENCE, ReviewError, SignError, StaleVersion
from ..review.patient import PatientMatch
from .client import HubClient, HubError


class RemoteReviewAPI:
    db = None  # a client home's studies are on the hub: nothing here reads this PC's database

    def __init__(self, client: HubClient, config: Config | None = None, catalog: ModelCatalog | None = None):
        self.hub = client
        self.config = config or Config()
        self.catalog = catalog or ModelCatalog.bundled()
        self._versions: dict[int, int] = {}  # study id → the version this PC last read
        self._study_of: dict[tuple[str, int], int] = {}  # ("finding"|"image", id) → study id

    @classmethod
    def for_config(cls, config: Config, catalog: ModelCatalog | None = None) -> "RemoteReviewAPI":
        """Over the hub `config.client` names (raises ReviewError when it cannot be reached)."""
        try:
            client = HubClient(config.client.hub_url, config.client.hub_fingerprint)
        except HubError as exc:
            raise ReviewError(str(exc)) from exc
        if not client.token:
            client.close()
            raise ReviewError(f"this PC is not paired with the hub at {config.client.hub_url}: "
                              "dental-bridge client join URL CODE")
        return cls(client, config, catalog)

    def close(self) -> None:
        self.hub.close()

    def _call(self, method: str, path: str, json: dict | None = None, error=ReviewError) -> dict:
        # a request whose answer was lost is sent again only when repeating it changes nothing
        # (reads, accept, reject); an add, edit, undo or sign-off is never sent twice
        repeatable = method == "GET" or path.endswith(("/accept", "/reject"))
        try:
            return self.hub._call(method, path, json, repeatable=repeatable)
        except HubError as exc:
            if exc.status == 409 and str(exc).startswith(STALE_SENTENCE):
                raise StaleVersion(str(exc)) from exc
            raise error(str(exc)) from exc

    def _remember(self, study: dict, *, read: bool = True) -> dict:
        """A study as read: its version (a queue row never overrides a study read) and its parts."""
        if read or study["id"] not in self._versions:
            self._versions[study["id"]] = study["version"]
        for im in study.get("images", []):
            self._study_of["image", im["id"]] = study["id"]
            for f in im.get("findings", []):
                self._study_of["finding", f["id"]] = study["id"]
        return study

    def _based_on(self, study_id: int | None) -> dict:
        """The `expected_version` field for an action on this study (none when it was never read)."""
        return {"expected_version": self._versions.get(study_id) if study_id is not None else None}

    def _act(self, study_id: int | None, path: str, fields: dict | None = None, error=ReviewError) -> dict:
        result = self._call("POST", path, (fields or {}) | self._based_on(study_id), error)
        self._versions.pop(study_id, None)  # changed by this action: read it again to know its version
        return result

    # -- reads -------------------------------------------------------------------------------
    def queue(self, include_done: bool = False) -> list[dict]:
        studies = self._call("GET", "/queue" + ("?all=1" if include_done else ""))["studies"]
        return [self._remember(s, read=False) for s in studies]

    def study(self, study_id: int) -> dict:
        return self._remember(self._call("GET", f"/studies/{study_id}"))

    def clinicians(self) -> list[dict]:
        return self._call("GET", "/clinicians")["clinicians"]

    def preview_export(self, study_id: int) -> dict:
        return self._call("GET", f"/studies/{study_id}/preview")

    def exports(self, study_id: int) -> list[dict]:
        return self._call("GET", f"/studies/{study_id}/exports")["exports"]

    def chart_context(self, study_id: int) -> dict:
        """What Open Dental charts for the study's patient, read by the hub; a hub that cannot be
        reached is a plain state for the window's chart panel, like Open Dental not reachable."""
        try:
            return self._call("GET", f"/studies/{study_id}/chart")
        except ReviewError:
            return {"state": "unreachable", "message": "The hub is not reachable — chart context unavailable"}

    def find_patient(self, patient_id: str, id_kind: str | None = None) -> PatientMatch:
        """Looked up on the hub, where the watch folders say what a patient id means."""
        params = urlencode({"id": patient_id} | ({"kind": id_kind} if id_kind else {}))
        found = self._call("GET", f"/patients/newest-study?{params}")
        return PatientMatch(found["study_id"], found["message"])

    def changes(self) -> str:
        """Changes whenever anything the window shows changes on the hub (its `changes` version)."""
        return self._call("GET", "/changes")["version"]

    def pixels(self, image_id: int) -> np.ndarray:
        """The image's 8-bit display pixels, from the hub (PNG, lossless)."""
        from PIL import Image

        try:
            etag, data = self.hub.fetch(f"/images/{image_id}/pixels")
        except HubError as exc:
            raise ReviewError(str(exc)) from exc
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im)  # as the hub holds them: the window makes colour grey as it does locally

    # -- finding actions (the actor is the hub's name for this PC: hub:NAME) ------------------
    def accept(self, finding_id: int, actor: str = "") -> None:
        self._act(self._study_of.get(("finding", finding_id)), f"/findings/{finding_id}/accept")

    def reject(self, finding_id: int, actor: str = "") -> None:
        self._act(self._study_of.get(("finding", finding_id)), f"/findings/{finding_id}/reject")

    def edit(self, finding_id: int, *, label: str | None = None, tooth_fdi: int | None = None,
             surfaces: str | None = None, note: str | None = None, box=None, actor: str = "") -> None:
        fields = {"label": label, "tooth_fdi": tooth_fdi, "surfaces": surfaces, "note": note,
                  "box": [float(v) for v in box] if box is not None else None}
        self._act(self._study_of.get(("finding", finding_id)), f"/findings/{finding_id}/edit",
                  {k: v for k, v in fields.items() if v is not None})

    def add(self, image_id: int, label: str, box, *, tooth_fdi: int | None = None, surfaces: str = "",
            note: str = "", actor: str = "") -> int:
        return self._act(self._study_of.get(("image", image_id)), f"/images/{image_id}/findings",
                         {"label": label, "box": [float(v) for v in box], "tooth_fdi": tooth_fdi,
                          "surfaces": surfaces, "note": note})["finding_id"]

    def undo(self, study_id: int, actor: str = "") -> bool:
        return bool(self._act(study_id, f"/studies/{study_id}/undo")["undone"])

    # -- sign-off (the PIN is checked on the hub, with its lock-out) -------------------------
    def sign(self, study_id: int, clinician_id: int, pin: str, *, accept=(), reject=(), codes=None) -> dict:
        return self._act(study_id, f"/studies/{study_id}/sign",
                         {"clinician": clinician_id, "pin": pin, "accept": sorted(accept), "reject": sorted(reject),
                          "codes": {str(k): v for k, v in (codes or {}).items()}}, error=SignError)
