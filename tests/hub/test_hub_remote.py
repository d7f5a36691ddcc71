"""Issue 18 item 3: a client home (an operatory PC joined with `client join`) reviews the hub's
studies: `queue --json`, the review window over `RemoteReviewAPI` and `sign`, against a real
hub process on loopback."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

from tray_app.config import Paths
from tray_app.hub.client import HubClient
from tray_app.hub.remote_api import RemoteReviewAPI
from tray_app.review.api import ReviewError, SignError, image_pixels

from .conftest import PATIENT_WORDS, PIN, free_port, run_cli

SHOTS = os.environ.get("HUB_REMOTE_SCREENSHOT_DIR")  # set to keep the rendered window for a look


@pytest.fixture
def client_home(hub, home, capsys, tmp_path, monkeypatch):
    """Operatory 3's home, joined with the hub's one-time code; DENTAL_BRIDGE_HOME points at it."""
    code = hub.pairing_code(capsys)
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(tmp_path / "operatory3"))
    run_cli(capsys, "client", "join", hub.url, code, "--name", "Operatory 3", "--fingerprint", hub.fingerprint)
    return Paths.resolve()


@pytest.fixture
def remote(hub, client_home):
    api = RemoteReviewAPI(HubClient(hub.url, hub.fingerprint))
    yield api
    api.close()


def _findings(study: dict) -> list[dict]:
    return [f for im in study["images"] for f in im["findings"] if f["label"] != "tooth"]


def test_a_client_homes_queue_json_is_the_hubs(hub, home, client_home, capsys, monkeypatch):
    from_client = json.loads(run_cli(capsys, "queue", "--json"))
    with monkeypatch.context() as m:
        m.setenv("DENTAL_BRIDGE_HOME", str(home))
        from_hub = json.loads(run_cli(capsys, "queue", "--json"))
    assert from_client == from_hub and from_hub["studies"]


def test_edit_add_and_undo_through_the_remote_api_land_on_the_hub(hub, remote):
    study = remote.study(remote.queue()[0]["id"])
    first, second = _findings(study)[:2]
    remote.accept(first["id"])
    remote.edit(second["id"], label="calculus", tooth_fdi=36, surfaces="d", note="checked", box=[40, 30, 10, 20])
    row = hub.db.one("SELECT * FROM findings WHERE id=?", (second["id"],))
    assert (row["label"], row["tooth_fdi"], row["surfaces"], row["note"], row["status"]) == \
        ("calculus", 36, "D", "checked", "edited")
    assert (row["x1"], row["y1"], row["x2"], row["y2"]) == (10, 20, 40, 30)
    image_id = study["images"][0]["id"]
    added = remote.add(image_id, "caries", [5, 6, 25, 26], tooth_fdi=46, surfaces="O")
    assert hub.db.one("SELECT status, image_id FROM findings WHERE id=?", (added,))[:] == ("added", image_id)
    assert added in [f["id"] for f in _findings(remote.study(study["id"]))]
    assert remote.undo(study["id"]) is True  # undoes the add
    assert added not in [f["id"] for f in _findings(remote.study(study["id"]))]
    for event in ("review_accept", "review_edit", "review_add", "review_undo"):
        assert [a["data"]["actor"] for a in hub.audit(event)] == ["hub:Operatory 3"]
    with pytest.raises(ReviewError, match="does not exist"):  # the hub's own sentence
        remote.edit(999999, note="x")
    with pytest.raises(ReviewError, match="surfaces"):
        remote.edit(first["id"], surfaces="XYZ")
    assert remote.preview_export(study["id"])["findings"]
    assert [c["name"] for c in remote.clinicians()] == ["Dr Ada"]
    assert remote.exports(study["id"]) == []


def test_pixels_come_from_the_hub_lossless_with_an_etag(hub, remote):
    image_id = remote.queue()[0]["images"][0]["id"]
    got = remote.pixels(image_id)
    assert got.dtype == np.uint8 and np.array_equal(got, np.asarray(image_pixels(hub.db, image_id)))
    etag, body = remote.hub.fetch(f"/images/{image_id}/pixels")
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and etag
    assert remote.hub.fetch(f"/images/{image_id}/pixels", etag) == (etag, None)  # 304: nothing sent again
    with pytest.raises(ReviewError, match="does not exist"):
        remote.pixels(999999)


@pytest.fixture
def remote_window(hub, client_home, qtbot):
    """The review window `review` opens on the client home (built over RemoteReviewAPI), shown."""
    from tray_app.ui.launch import build_window

    w = build_window(client_home, None, size=(1366, 768), poll_ms=0)
    qtbot.addWidget(w)
    try:
        w.show()
        qtbot.waitUntil(lambda: w.study is not None and w.canvas.pixmap_item is not None, timeout=15_000)
        yield w
    finally:
        w.close()  # stops the window's hub follower
        w.timer.stop()
        w.pixels.wait(5000)
        w.db_handle.close()
        w.api.close()


def test_the_review_window_over_the_remote_api_shows_the_hubs_study_and_image(hub, remote_window, tmp_path):
    w = remote_window
    assert isinstance(w.api, RemoteReviewAPI)
    first = w.api.queue()[0]
    assert w.study["id"] == first["id"] and w.study["patient"] == first["patient"]
    assert np.array_equal(w.pixels.cached(w.image_id), np.asarray(image_pixels(hub.db, w.image_id)))
    shot = os.path.join(SHOTS or str(tmp_path), "review_over_hub.png")
    assert w.grab().save(shot)

    f = w.findings_panel.current_finding()
    w.accept_current()
    assert hub.db.one("SELECT status FROM findings WHERE id=?", (f["id"],))[0] == "accepted"
    w.undo()
    assert hub.db.one("SELECT status FROM findings WHERE id=?", (f["id"],))[0] == f["status"]
    before = w._fingerprint
    with hub.db.tx() as c:  # the hub's store changes
        c.execute("UPDATE studies SET priority=priority+1 WHERE id=?", (first["id"],))
    w.poll()
    assert w._fingerprint != before  # the window saw the hub's change through `changes`


def test_the_sign_dialog_over_the_hub_checks_the_pin_there(hub, remote_window):
    w = remote_window
    study_id = w.study["id"]
    w.accept_current()
    dlg = w.open_sign_dialog()
    assert dlg is not None and "CHART NOTE" in dlg.browser.toPlainText()
    assert [c["name"] for c in dlg.clinicians] == ["Dr Ada"]
    dlg.pin.setText("111111")
    dlg.sign_btn.click()
    assert "PIN" in dlg.message.text() and dlg.isVisible()  # the hub's sentence, the dialog stays
    assert hub.db.one("SELECT failed_attempts FROM clinicians WHERE id=?", (hub.dentist,))[0] == 1
    dlg.pin.setText(PIN)
    dlg.sign_btn.click()
    assert not dlg.isVisible() and w.read_only()
    assert hub.db.one("SELECT status FROM studies WHERE id=?", (study_id,))[0] == "signed"
    assert [a["data"]["via"] for a in hub.audit("signed")] == ["Operatory 3"]


def test_review_screenshot_from_a_client_home_renders_the_hubs_study(hub, client_home, capsys, tmp_path):
    from PIL import Image

    study_id = hub.db.one("SELECT MIN(id) FROM studies")[0]
    out = tmp_path / "shot.png"
    assert "wrote" in run_cli(capsys, "review", "--study", str(study_id), "--screenshot", str(out))
    with Image.open(out) as im:
        assert im.size == (1366, 768)
    logged = "".join(p.read_text(errors="replace") for p in client_home.log_dir.glob("*.log"))
    assert not any(word in logged for word in PATIENT_WORDS)


def test_sign_from_a_client_home_with_a_wrong_then_the_right_pin(hub, client_home, capsys, monkeypatch):
    from tray_app.cli import main

    study_id = hub.db.one("SELECT MIN(id) FROM studies")[0]
    argv = ["sign", str(study_id), "--clinician", str(hub.dentist), "--pin-stdin", "--accept", "all", "--json"]
    monkeypatch.setattr("sys.stdin", io.StringIO("111111\n"))
    capsys.readouterr()
    assert main(argv) == 2
    assert "PIN" in capsys.readouterr().err
    assert hub.db.one("SELECT failed_attempts FROM clinicians WHERE id=?", (hub.dentist,))[0] == 1
    assert [a["data"]["client"] for a in hub.audit("hub_sign_refused")] == ["Operatory 3"]

    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    result = json.loads(run_cli(capsys, *argv))
    assert result["signed_by"] == "Dr Ada" and result["findings"] > 0
    assert hub.db.one("SELECT status FROM studies WHERE id=?", (study_id,))[0] == "signed"
    assert [a["data"]["via"] for a in hub.audit("signed")] == ["Operatory 3"]


def test_a_hub_that_does_not_answer_is_told_and_a_sign_error_keeps_its_type(hub, client_home, capsys):
    from tray_app.cli import main
    from tray_app.config import Config

    run_cli(capsys, "config", "set", "client.hub_url", f"https://127.0.0.1:{free_port()}")  # nothing listens
    assert main(["queue", "--json"]) == 2
    assert "error:" in capsys.readouterr().err
    with HubClient(hub.url, hub.fingerprint) as client:
        api = RemoteReviewAPI(client, Config())
        with pytest.raises(SignError):
            api.sign(hub.db.one("SELECT MIN(id) FROM studies")[0], hub.dentist, "000000")


def test_a_chart_link_on_a_client_home_opens_the_patients_newest_study_on_the_hub(hub, remote):
    from tray_app.review.api import ReviewAPI

    on_hub = ReviewAPI(hub.db).find_patient("1001")
    assert on_hub.study_id is not None and remote.find_patient("1001") == on_hub
    missing = remote.find_patient("424242", "patnum")
    assert missing.study_id is None and "424242" in missing.message
