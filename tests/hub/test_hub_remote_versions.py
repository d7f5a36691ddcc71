"""Issue 18 item 4 through the review window's API on client homes, against a real hub process:
`RemoteReviewAPI` sends the version of the study it last read with every action, so a stale one
is refused with the hub's sentence; and a client's window follows the hub by long-poll, so
another PC's accept shows within a second."""

from __future__ import annotations

import pytest

from tray_app.hub.client import HubClient, store_token, stored_token
from tray_app.hub.remote_api import RemoteReviewAPI
from tray_app.review.api import ReviewError, StaleVersion

from .test_hub_remote import client_home, remote, remote_window  # noqa: F401 (fixtures)


@pytest.fixture
def operatory4(hub, home, client_home, capsys, monkeypatch):  # noqa: F811
    """A second paired PC, "Operatory 4" (the client home keeps Operatory 3's token)."""
    with monkeypatch.context() as m:  # the code is shown on the hub
        m.setenv("DENTAL_BRIDGE_HOME", str(home))
        code = hub.pairing_code(capsys)
    mine = stored_token(hub.url)
    with HubClient(hub.url, hub.fingerprint, token="") as pairing:
        token = pairing.pair(code, "Operatory 4")
    store_token(hub.url, mine)
    api = RemoteReviewAPI(HubClient(hub.url, hub.fingerprint, token))
    yield api
    api.close()


def _findings(study: dict) -> list[dict]:
    return [f for im in study["images"] for f in im["findings"] if f["label"] != "tooth"]


def _status(hub, finding_id: int) -> str:
    return hub.db.one("SELECT status FROM findings WHERE id=?", (finding_id,))[0]


def test_a_stale_edit_add_or_undo_from_another_remote_api_is_refused_until_reread(hub, remote, operatory4):  # noqa: F811
    study_id = remote.queue()[0]["id"]
    seen = remote.study(study_id)
    first, second = _findings(seen)[:2]
    operatory4.study(study_id)
    operatory4.accept(first["id"])  # Operatory 4 changes the study after Operatory 3 read it
    for stale in (lambda: remote.edit(second["id"], note="checked"),
                  lambda: remote.add(seen["images"][0]["id"], "caries", [5, 6, 25, 26]),
                  lambda: remote.undo(study_id),
                  lambda: remote.reject(second["id"])):
        with pytest.raises(StaleVersion) as refused:
            stale()
        assert isinstance(refused.value, ReviewError)  # what the window and the commands catch
        text = str(refused.value)
        assert text.startswith("this study changed on another PC: ") and "Operatory 4" in text and "reload" in text
    row = hub.db.one("SELECT note, status FROM findings WHERE id=?", (second["id"],))
    assert (row["note"] or "", row["status"]) == ("", second["status"])
    assert _status(hub, first["id"]) == "accepted"  # the undo did not take Operatory 4's accept back
    assert hub.audit("review_edit") == [] and hub.audit("review_add") == [] and hub.audit("review_undo") == []

    remote.study(study_id)  # reloaded: now it applies
    remote.edit(second["id"], note="checked")
    assert hub.db.one("SELECT note FROM findings WHERE id=?", (second["id"],))[0] == "checked"
    assert [a["data"]["actor"] for a in hub.audit("review_edit")] == ["hub:Operatory 3"]


def test_the_window_reloads_a_study_another_pc_changed_when_its_edit_is_refused(hub, remote_window, operatory4):  # noqa: F811
    w = remote_window
    w.hub_follow.stop()  # only the refusal can tell the window now
    study_id = w.study["id"]
    first, second = _findings(w.study)[:2]
    operatory4.study(study_id)
    operatory4.accept(first["id"])
    w.findings_panel.select_finding(second["id"])
    w.ask_finding_details = lambda finding, title: {"label": second["label"], "note": "looks fine"}
    w.edit_current()
    assert "changed on another PC" in w.status.currentMessage()
    assert hub.db.one("SELECT note FROM findings WHERE id=?", (second["id"],))[0] in (None, "")
    shown = {f["id"]: f["status"] for f in _findings(w.study)}
    assert shown[first["id"]] == "accepted"  # the window shows the study as it is now
    w.edit_current()  # based on what it shows now: goes through
    assert hub.db.one("SELECT note FROM findings WHERE id=?", (second["id"],))[0] == "looks fine"


def test_another_pcs_accept_shows_in_a_client_window_by_long_poll(hub, remote_window, operatory4, qtbot):  # noqa: F811
    w = remote_window  # built with poll_ms=0: no 2 s poll, only the hub follower reloads it
    assert w.hub_follow is not None
    qtbot.waitUntil(lambda: w.hub_follow.follower.version != "", timeout=5_000)  # shown: following
    study_id = w.study["id"]
    target = next(f for f in _findings(w.study) if f["status"] != "accepted")
    operatory4.study(study_id)
    operatory4.accept(target["id"])
    qtbot.waitUntil(lambda: {f["id"]: f["status"] for f in _findings(w.study)}[target["id"]] == "accepted",
                    timeout=3_000)
    follower = w.hub_follow.follower
    w.close()  # the tray hides its window on close …
    assert not w.hub_follow.running() and follower._stop.is_set()
    w.show()  # … and shows it again: following again
    assert w.hub_follow.running() and w.hub_follow.follower is not follower
    second = next(f for f in _findings(w.study) if f["status"] != "rejected" and f["id"] != target["id"])
    operatory4.study(study_id)
    operatory4.reject(second["id"])
    qtbot.waitUntil(lambda: {f["id"]: f["status"] for f in _findings(w.study)}[second["id"]] == "rejected",
                    timeout=3_000)
