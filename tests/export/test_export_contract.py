"""Exporters behind a small contract (issue 17): one RetryLater for intake and export, a
name → factory registry of destinations, and each exporter speaking the outbox's errors."""

from __future__ import annotations

import pytest

from .conftest import od_config
from tray_app.export import destinations
from tray_app.export.job import NeedsAttention, RetryLater
from tray_app.export.opendental_export import OpenDentalExporter
from tray_app.export.outbox import Outbox
from tray_app.settings.export import ExportConfig


def test_intake_and_export_share_one_retry_later():
    from tray_app.errors import RetryLater as leaf
    from tray_app.intake.errors import RetryLater as intake

    assert intake is leaf and RetryLater is leaf


class Recording:
    """A destination a plug-in could add: it sees the claimed job and writes one part."""

    name = "recording"

    def __init__(self):
        self.jobs = []

    def export(self, job):
        self.jobs.append(job)
        job.part("note")
        job.begin("note")
        job.done("note", "r-1")
        return {"written": 1}


def test_a_registered_destination_is_made_by_name_and_exported_to(workspace, clock, monkeypatch):
    made = []
    monkeypatch.setitem(destinations._FACTORIES, "recording", lambda cfg, keys: made.append(Recording()) or made[-1])
    assert "recording" in destinations.names()
    workspace.sign("A", destinations=("recording",))
    outbox = Outbox(workspace.db, ExportConfig(), clock=clock)
    [result] = outbox.drain_once()
    assert result["state"] == "done" and result["remote_ids"] == "note=r-1"
    assert len(made) == 1 and made[0].jobs[0].study_id == workspace.studies["A"]
    outbox.exporter("recording")
    assert len(made) == 1  # one exporter per destination, made when its first row is due


def test_an_unknown_destination_needs_attention():
    with pytest.raises(NeedsAttention, match="unknown to this version"):
        destinations.create("fax", ExportConfig())


class Spy:
    """Wraps the real Open Dental exporter to see what it raises to the outbox."""

    name = "opendental"

    def __init__(self, inner):
        self.inner = inner
        self.raised = []

    def export(self, job):
        try:
            return self.inner.export(job)
        except Exception as exc:
            self.raised.append(exc)
            raise


@pytest.mark.parametrize("fault, error, state", [("504", RetryLater, "failed"),
                                                  ("refused key", NeedsAttention, "needs_attention")])
def test_open_dental_errors_reach_the_outbox_in_its_own_terms(workspace, od_server, od_keys, clock, fault, error,
                                                             state):
    from tray_app.pms.client import ODError
    from tray_app.pms.keys import ODKeys

    cfg = od_config(od_server)
    keys = (lambda: ODKeys("wrong", "keys")) if fault == "refused key" else None
    spy = Spy(OpenDentalExporter(cfg.opendental, keys_provider=keys))
    workspace.sign("A")
    if fault == "504":
        od_server.fail("504", "GET")
    [result] = Outbox(workspace.db, cfg, exporters={"opendental": spy}, clock=clock).drain_once()
    assert result["state"] == state, result
    [raised] = spy.raised
    assert isinstance(raised, error) and isinstance(raised.__cause__, ODError)
    assert raised.logged.startswith("Open Dental ")  # the log gets the kind, never the message
