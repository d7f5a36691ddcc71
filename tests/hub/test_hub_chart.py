"""Issue 19 item 2 over the hub: an operatory PC sees the chart context the hub reads from Open
Dental (token-protected), and none of it lands in the hub's log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tray_app.hub.client import HubClient, HubError
from tray_app.hub.remote_api import RemoteReviewAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))

from od_api.medical import seed  # noqa: E402
from od_server import CUST, DEV, FakeOpenDental  # noqa: E402

ALERT = "Anticoagulated: INR before extractions"


@pytest.fixture
def od():
    server = FakeOpenDental().start()
    yield server
    server.stop()


def test_a_paired_client_gets_the_chart_context_an_unpaired_one_is_refused(hub, od, capsys):
    from tray_app.pms.keys import set_opendental_keys

    set_opendental_keys(DEV, CUST)  # into the keyring file the hub shares with this test
    # a guarded setting: authorised with the dentist's PIN, as a practice would
    hub.run_authorised(capsys, "config", "set", "export.opendental.base_url", od.url)
    hub.kill()
    hub.restart()
    od.add_patient(77, "Doe", "Jane", "1980-01-01", chart="1001", med_urg_note=ALERT)  # the study's chart number
    seed(od, 77, allergies=[("Sulfa drugs", "rash", True)], medications=[("Warfarin", "5 mg", "")])

    with HubClient(hub.url, hub.fingerprint, token="") as op3:
        op3.pair(hub.pairing_code(capsys), "Operatory 3")
        remote = RemoteReviewAPI(op3)
        study_id = remote.queue()[0]["id"]
        chart = remote.chart_context(study_id)
        assert chart["state"] == "ok", chart
        assert chart["alerts"] == [ALERT]
        assert chart["allergies"] == ["Sulfa drugs — rash"] and chart["medications"] == ["Warfarin — 5 mg"]
        assert isinstance(chart["flags"], list)
    with HubClient(hub.url, hub.fingerprint, token="not-a-token") as stranger:
        with pytest.raises(HubError) as refused:
            stranger._call("GET", f"/studies/{study_id}/chart", None, repeatable=True)
        assert refused.value.status == 401
    log = hub.log_text()
    assert not [w for w in ("Anticoagulated", "Sulfa", "Warfarin") if w in log]


def test_a_client_whose_hub_is_gone_shows_a_plain_state(hub, capsys):
    with HubClient(hub.url, hub.fingerprint, token="") as op3:
        op3.pair(hub.pairing_code(capsys), "Operatory 3")
        remote = RemoteReviewAPI(op3)
        study_id = remote.queue()[0]["id"]
        assert remote.chart_context(study_id)["state"] == "not_set_up"  # no Open Dental keys on the hub
        hub.kill()
        gone = remote.chart_context(study_id)
        hub.restart()
    assert gone["state"] == "unreachable" and "hub is not reachable" in gone["message"]
