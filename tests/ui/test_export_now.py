"""The tray's "Export now" drains the running service's outbox: one owner of the database and
the exporters, the same message for the user."""

from __future__ import annotations

import pytest

from tray_app.app import Service
from tray_app.config import Config
from tray_app.review.api import ReviewAPI
from tray_app.store import db as store_db
from tray_app.ui.app_shell import AppShell
from ui_home import DENTIST


@pytest.fixture
def shell_with_signed_study(review_home, tmp_path, qtbot):
    drop = tmp_path / "drop"
    drop.mkdir()
    config = Config()
    config.export.destinations = ["folder"]
    config.export.folder.path = str(drop)
    service = Service(config, review_home)  # built, not started: its outbox worker does not drain
    api = ReviewAPI(service.db, config)
    study = api.queue()[0]
    dentist = service.db.one("SELECT id FROM clinicians WHERE name=?", (DENTIST[0],))["id"]
    api.sign(study["id"], dentist, DENTIST[2])
    shell = AppShell(service, review_home, config, open_url=lambda url: None, quit_app=lambda: None, poll_ms=0)
    shell.start(start_service=False, first_run=False)
    yield shell, drop, study["id"]
    shell.shutdown()


def test_export_now_sends_through_the_service_outbox(shell_with_signed_study, qtbot, monkeypatch):
    shell, drop, study_id = shell_with_signed_study
    opened = []
    real_init = store_db.Database.__init__

    def counting_init(self, *args, **kwargs):
        opened.append(args)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(store_db.Database, "__init__", counting_init)
    shell.export_now()
    qtbot.waitUntil(lambda: any(t == "Export" for t, _ in shell.tray.notifications), timeout=30_000)
    assert shell.tray.notifications[-1] == ("Export", "Sent 1 of 1 export(s).")
    assert opened == []  # no second Database (nor Outbox over it) next to the service's
    assert any(p.suffix == ".pdf" for p in drop.iterdir())
    row = shell.service.db.one("SELECT state FROM outbox WHERE study_id=?", (study_id,))
    assert row["state"] == "done"

