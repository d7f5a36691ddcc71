"""Issue 18: review actions and sign-off through a real hub process on loopback."""

from __future__ import annotations

import pytest

from tray_app.hub.client import HubClient, HubError

from .conftest import PIN, run_cli


@pytest.fixture
def op3(hub, capsys):
    with HubClient(hub.url, hub.fingerprint, token="") as client:
        client.pair(hub.pairing_code(capsys), "Operatory 3")
        yield client


def _findings(study: dict) -> list[dict]:
    return [f for im in study["images"] for f in im["findings"] if f["label"] != "tooth"]


def test_the_queue_is_the_one_queue_json_prints(hub, op3, capsys):
    import json

    assert op3.queue() == json.loads(run_cli(capsys, "queue", "--json"))["studies"]


def test_accept_and_reject_land_in_the_hubs_store_audited_with_the_clients_name(hub, op3):
    study_id = op3.queue()[0]["id"]
    first, second = _findings(op3.study(study_id))[:2]
    before = op3.version()
    op3.accept(first["id"])
    op3.reject(second["id"])
    assert op3.version() != before  # a polling client sees the change
    status = {r["id"]: r["status"] for r in hub.db.query("SELECT id, status FROM findings")}
    assert (status[first["id"]], status[second["id"]]) == ("accepted", "rejected")
    assert [(a["subject"], a["data"]["actor"]) for a in hub.audit("review_accept")] == \
        [(f"finding:{first['id']}", "hub:Operatory 3")]
    assert [a["data"]["actor"] for a in hub.audit("review_reject")] == ["hub:Operatory 3"]
    assert [a["data"]["client"] for a in hub.audit("hub_viewed")] == ["Operatory 3"]
    with pytest.raises(HubError) as missing:
        op3.accept(999999)
    assert missing.value.status == 409 and "does not exist" in str(missing.value)


def test_sign_needs_the_clinicians_pin_checked_on_the_hub(hub, op3):
    study_id = op3.queue()[0]["id"]
    with pytest.raises(HubError) as refused:
        op3.sign(study_id, hub.dentist, "111111", accept=[])
    assert refused.value.status == 403
    assert hub.db.one("SELECT failed_attempts FROM clinicians WHERE id=?", (hub.dentist,))[0] == 1
    assert [a["data"]["client"] for a in hub.audit("hub_sign_refused")] == ["Operatory 3"]
    assert hub.db.one("SELECT status FROM studies WHERE id=?", (study_id,))[0] != "signed"

    accept = [f["id"] for f in _findings(op3.study(study_id))]
    result = op3.sign(study_id, hub.dentist, PIN, accept=accept)
    assert result["signed_by"] == "Dr Ada"
    assert hub.db.one("SELECT status FROM studies WHERE id=?", (study_id,))[0] == "signed"
    signed = hub.audit("signed")
    assert len(signed) == 1 and signed[0]["data"]["via"] == "Operatory 3"
    with pytest.raises(HubError) as again:  # a signature is final
        op3.sign(study_id, hub.dentist, PIN)
    assert again.value.status == 409 and "already signed by Dr Ada at" in str(again.value)


def test_the_pin_lock_out_holds_over_the_hub(hub, op3):
    from tray_app.review.clinicians import MAX_FAILURES

    study_id = op3.queue()[0]["id"]
    for _ in range(MAX_FAILURES):
        with pytest.raises(HubError):
            op3.sign(study_id, hub.dentist, "000000")
    with pytest.raises(HubError) as locked:
        op3.sign(study_id, hub.dentist, PIN)  # right, but locked out
    assert locked.value.status == 403 and "locked out" in str(locked.value)


def test_confirmed_treatment_codes_travel_with_the_signature(hub, op3):
    from tray_app.review.api import ReviewAPI
    from tray_app.store.reports import Report

    study_id = op3.queue()[0]["id"]
    image = op3.study(study_id)["images"][0]["id"]
    caries = ReviewAPI(hub.db).add(image, "caries", (5, 5, 20, 20), tooth_fdi=36, surfaces="MO")
    preview = {c["finding_id"]: c for c in op3._call("GET", f"/studies/{study_id}/preview")["confirm"]}
    assert preview[caries]["code"] == "D2392"  # offered to the operatory PC's sign-off dialog
    op3.sign(study_id, hub.dentist, PIN, codes={caries: "D2393"})
    report = Report.from_json(hub.db.one("SELECT snapshot FROM reports WHERE study_id=?", (study_id,))[0])
    assert report.confirmed_codes == [{"finding_id": caries, "code": "D2393"}]
