"""Structured write-back (issue 19 item 3): confirmed treatment codes as planned procedures and
accepted existing work as existing procedures, through the exactly-once outbox, against the
loopback Open Dental (od_api/procedures.py follows ProcedureLogs POST's documented contract)."""

from __future__ import annotations

import json
import random

import pytest

from tray_app.export.job import Job
from tray_app.export.outbox import Outbox
from tray_app.review.api import SignError
from tray_app.store import audit
from tray_app.store.reports import Report

from .conftest import od_config

PROC_ONLY = dict(write_images=False, write_pdf=False, write_chart_note=True, write_treatment_plan=True,
                 write_existing_conditions=True)


def _study(ws, key="A"):
    """Study `key` with the model's findings rejected, and added: caries #19 MO and #30 DO, a crown on #3,
    a periapical radiolucency on #8 (accepted, its code left unconfirmed) and a rejected caries on #14."""
    api = ws.api()
    sid = ws.studies[key]
    for fid in ws.findings(key):
        api.reject(fid)
    image = ws.db.one("SELECT id FROM images WHERE study_id=? ORDER BY id", (sid,))["id"]
    box = (10, 10, 40, 40)
    ids = {"c19": api.add(image, "caries", box, tooth_fdi=36, surfaces="mo"),
           "c30": api.add(image, "caries", box, tooth_fdi=46, surfaces="do"),
           "crown3": api.add(image, "crown", box, tooth_fdi=16),
           "pa8": api.add(image, "periapical_radiolucency", box, tooth_fdi=11),
           "c14": api.add(image, "caries", box, tooth_fdi=25, surfaces="o")}
    return api, sid, ids


def _sign(ws, key="A", confirm=("c19", "c30"), codes=None):
    api, sid, ids = _study(ws, key)
    preview = {c["finding_id"]: c for c in api.preview_export(sid)["confirm"]}
    chosen = codes or {ids[k]: preview[ids[k]]["code"] for k in confirm}
    api.sign(sid, 1, "246813", reject=[ids["c14"]], codes=chosen)
    return sid, ids


def _procs(server):
    return server.state.tables["procedurelogs"]


def test_confirmed_codes_become_planned_procedures_and_the_crown_an_existing_one(workspace, od_server, od_keys,
                                                                                clock):
    ws = workspace
    sid, ids = _sign(ws)
    [r] = Outbox(ws.db, od_config(od_server, **PROC_ONLY), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    posts = [q["json"] for q in od_server.writes() if q["path"] == "/procedurelogs"]
    planned = sorted((p["procCode"], p["ToothNum"], p.get("Surf"), p["ProcStatus"]) for p in posts
                     if p["ProcStatus"] == "TP")
    assert planned == [("D2392", "19", "MO", "TP"), ("D2392", "30", "OD", "TP")]
    existing = [p for p in posts if p["ProcStatus"] != "TP"]
    # a 25.3 office: the crown is charted as a condition (Cn exists from 25.1.14), with the crown code, no surfaces
    assert [(p["procCode"], p["ToothNum"], p["ProcStatus"], "Surf" in p) for p in existing] == \
        [("D2740", "3", "Cn", False)]
    assert len(posts) == 3 and all(p["PatNum"] == 1001 and p["ProcDate"] == r_date(ws, sid) for p in posts)
    # the periapical finding (code not confirmed) and the rejected caries wrote nothing
    assert not [p for p in posts if p["ToothNum"] in ("8", "14")]
    assert od_server.state.commlogs  # the note still goes
    parts = {p["part"]: p for p in ws.db.query("SELECT part, state, remote_id FROM export_parts")}
    assert {f"proc{ids['c19']}", f"proc{ids['c30']}", f"proc{ids['crown3']}", "note"} == set(parts)
    assert {p["remote_id"] for n, p in parts.items() if n != "note"} == {str(p["ProcNum"]) for p in _procs(od_server)}


def r_date(ws, sid):
    from tray_app.pms.formats import od_datetime

    return od_datetime(Report.from_json(ws.db.one("SELECT snapshot FROM reports WHERE study_id=?",
                                                  (sid,))["snapshot"]).signed_at)[:10]


def test_a_crown_already_charted_is_not_charted_again(workspace, od_server, od_keys, clock):
    ws = workspace
    od_server.add_procedure(1001, "D2750", "EO", tooth="3")  # charted years ago, another crown code
    od_server.add_procedure(1001, "D2392", "TP", tooth="30", surf="DO")  # planned at an earlier exam
    od_server.add_procedure(1001, "D2740", "EO", tooth="4")  # another tooth: does not count
    _sign(ws)
    [r] = Outbox(ws.db, od_config(od_server, **PROC_ONLY), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    posts = [q["json"] for q in od_server.writes() if q["path"] == "/procedurelogs"]
    assert [(p["procCode"], p["ToothNum"]) for p in posts] == [("D2392", "19")]
    details = [json.loads(a["data"])["detail"] for a in ws.db.query("SELECT data FROM audit WHERE event='export_found'")]
    assert any("#3 already has D2750 charted (EO)" in d for d in details)
    assert any("D2392 on #30 is already planned" in d for d in details)


def test_nothing_without_confirmation_or_with_the_switches_off(workspace, od_server, od_keys, clock):
    ws = workspace
    _sign(ws, confirm=())  # the dentist confirmed no code
    [r] = Outbox(ws.db, od_config(od_server, **dict(PROC_ONLY, write_existing_conditions=False)),
                 clock=clock).drain_once()
    assert r["state"] == "done" and not _procs(od_server)
    assert [q["path"] for q in od_server.writes()] == ["/commlogs"]
    # the defaults write no procedure at all, confirmed codes or not
    _sign(ws, key="E")
    [r] = Outbox(ws.db, od_config(od_server, write_images=False, write_pdf=False), clock=clock).drain_once()
    assert r["state"] == "done" and not _procs(od_server)


def test_a_changed_code_is_the_one_written_and_bad_codes_refuse_the_signature(workspace, od_server, od_keys, clock):
    ws = workspace
    api, sid, ids = _study(ws)
    with pytest.raises(SignError, match="not a CDT code"):
        api.sign(sid, 1, "246813", codes={ids["c19"]: "2392"})
    with pytest.raises(SignError, match="not an accepted finding"):
        api.sign(sid, 1, "246813", reject=[ids["c14"]], codes={ids["c14"]: "D2391"})
    with pytest.raises(SignError, match="not an accepted finding"):
        api.sign(sid, 1, "246813", codes={ids["crown3"]: "D2740"})  # existing work takes no treatment code
    with pytest.raises(SignError, match="D2391 is charted by surface, but finding .* on #8 has no surfaces"):
        api.sign(sid, 1, "246813", reject=[ids["c14"]], codes={ids["pa8"]: "D2391"})
    assert ws.db.one("SELECT 1 FROM reports WHERE study_id=?", (sid,)) is None  # nothing signed
    api.sign(sid, 1, "246813", reject=[ids["c14"]], codes={ids["c19"]: "d2393", ids["pa8"]: "D3330"})
    report = Report.from_json(ws.db.one("SELECT snapshot FROM reports WHERE study_id=?", (sid,))["snapshot"])
    assert report.confirmed_codes == [{"finding_id": ids["c19"], "code": "D2393"},
                                      {"finding_id": ids["pa8"], "code": "D3330"}]
    [r] = Outbox(ws.db, od_config(od_server, **dict(PROC_ONLY, write_existing_conditions=False)),
                 clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    assert sorted((p["procCode"], p["ToothNum"], p.get("Surf", "")) for p in _procs(od_server)) == \
        [("D2393", "19", "MO"), ("D3330", "8", "")]


def test_an_older_open_dental_gets_existing_work_as_eo(workspace, od_server, od_keys, clock):
    ws = workspace
    od_server.state.tables["preferences"] = [{"PrefNum": 1, "PrefName": "ProgramVersion", "ValueString": "24.4.31.0"}]
    _sign(ws)
    [r] = Outbox(ws.db, od_config(od_server, **dict(PROC_ONLY, existing_status="Cn")), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    [crown] = [p for p in _procs(od_server) if p["ToothNum"] == "3"]
    assert crown["ProcStatus"] == "EO" and "takes Cn only from 25.1.14" in json.dumps(r["summary"])
    assert [q["query"] for q in od_server.state.requests if q["path"] == "/preferences"] == \
        [{"PrefName": "ProgramVersion"}]


def test_missing_procedurelogs_permission_is_one_clear_sentence(workspace, od_server, od_keys, clock):
    ws = workspace
    od_server.denied = {"ProcedureLogs"}
    _sign(ws)
    outbox = Outbox(ws.db, od_config(od_server, **PROC_ONLY), clock=clock)
    [r] = outbox.drain_once()
    assert r["state"] == "needs_attention"
    assert "ProcedureLogs permission" in r["reason"] and "write_treatment_plan" in r["reason"]
    assert not _procs(od_server)
    assert {p["state"] for p in ws.db.query("SELECT state FROM export_parts WHERE part LIKE 'proc%'")} <= {"pending"}
    od_server.denied = set()
    outbox.retry()
    [r] = outbox.drain_once()
    assert r["state"] == "done" and len(_procs(od_server)) == 3


class SimulatedCrash(BaseException):
    """The process dies between Open Dental's answer and our commit."""


@pytest.mark.parametrize("fault", ["500_after", "504_after", "reset_after", "timeout_after", "crash"])
def test_an_unknown_outcome_never_writes_a_procedure_twice(workspace, od_server, od_keys, clock, monkeypatch, fault):
    ws = workspace
    _sign(ws)
    cfg = od_config(od_server, **PROC_ONLY)
    outbox = Outbox(ws.db, cfg, clock=clock)
    if fault == "crash":
        real_done = Job.done
        left = [1]

        def crashing_done(self, name, remote_id="", *, how="written", detail=""):
            if name.startswith("proc") and how == "written" and left[0]:
                left[0] -= 1
                raise SimulatedCrash(name)
            return real_done(self, name, remote_id, how=how, detail=detail)

        monkeypatch.setattr(Job, "done", crashing_done)
        with pytest.raises(SimulatedCrash):
            outbox.drain_once()
        assert ws.db.one("SELECT state FROM outbox")["state"] == "sending"
        outbox = Outbox(ws.db, cfg, clock=clock)  # restarted: the row's lease runs out, then it is taken again
    else:
        od_server.fail(fault, "POST /procedurelogs")
        outbox.drain_once()
    for _ in range(4):
        clock.advance(400)
        outbox.drain_once()
    assert ws.db.one("SELECT state FROM outbox")["state"] == "done"
    keys = [(p["procCode"], p["ToothNum"], p["ProcStatus"]) for p in _procs(od_server)]
    assert sorted(keys) == [("D2392", "19", "TP"), ("D2392", "30", "TP"), ("D2740", "3", "Cn")]
    found = [json.loads(a["data"]) for a in ws.db.query("SELECT data FROM audit WHERE event='export_found'")]
    assert [f["detail"] for f in found] == ["found by identity; not written again"]
    assert audit.verify(ws.db.conn()).ok


def test_random_faults_across_studies_write_each_procedure_once(workspace, od_server, od_keys, clock):
    ws = workspace
    rng = random.Random(19)
    cfg = od_config(od_server, **PROC_ONLY)
    kinds = ["500", "500_after", "504_after", "reset", "reset_after", "timeout_after"]
    outbox = Outbox(ws.db, cfg, clock=clock)
    for key in ("A", "E", "F"):
        _sign(ws, key)
        for target in ("POST /procedurelogs", "POST /procedurelogs", "GET /procedurelogs"):
            od_server.fail(rng.choice(kinds), target)
        for _ in range(8):
            clock.advance(400)
            outbox.drain_once()
    assert [r["state"] for r in ws.db.query("SELECT state FROM outbox")] == ["done"] * 3
    assert len(od_server.state.faults_fired) == 9
    by_patient: dict[int, list] = {}
    for p in _procs(od_server):
        by_patient.setdefault(p["PatNum"], []).append((p["procCode"], p["ToothNum"], p["ProcStatus"]))
    assert set(by_patient) == {1001, 5005, 6006}
    assert all(sorted(v) == [("D2392", "19", "TP"), ("D2392", "30", "TP"), ("D2740", "3", "Cn")]
               for v in by_patient.values())
    assert len(od_server.state.commlogs) == 3


def test_an_automated_export_writes_no_procedure(workspace, od_server, od_keys, clock):
    from tray_app.export.od_procedures import procedures
    from tray_app.settings.export import OpenDentalConfig

    ws = workspace
    sid, ids = _sign(ws)
    report = Report.from_json(ws.db.one("SELECT snapshot FROM reports WHERE study_id=?", (sid,))["snapshot"])
    settings = OpenDentalConfig(**PROC_ONLY)
    assert [p.name for p in procedures(settings, report)] == [f"proc{ids[k]}" for k in ("c19", "c30", "crown3")]
    automated = Report.from_dict(dict(report.to_dict(), automated={"at": report.signed_at}))
    assert procedures(settings, automated) == []


def test_loopback_procedurelogs_post_follows_the_contract(od_server):
    from tray_app.pms.client import ODClient, ODError
    from tray_app.pms.keys import ODKeys

    from .od_server import CUST, DEV

    ok = {"PatNum": 1001, "ProcDate": "2026-12-01", "ProcStatus": "TP", "procCode": "D2392", "ToothNum": "19",
          "Surf": "MO"}
    with ODClient(od_config(od_server).opendental, ODKeys(DEV, CUST)) as c:
        row = c.request("POST", "procedurelogs", body=ok)
        assert row["ProcNum"] and row["procCode"] == "D2392" and row["Surf"] == "MO"
        bad = [({"ProcStatus": "XX"}, "ProcStatus is invalid"), ({"ProcDate": "12/01/2026"}, "ProcDate format"),
               ({"ToothNum": "33"}, "ToothNum is invalid"), ({"Surf": "MX"}, "Surf is invalid"),
               ({"Surf": ""}, "Surf is required"), ({"procCode": "D9999"}, "not a valid procedure code"),
               ({"procCode": "D2740"}, "Surf is not valid"), ({"PatNum": 4}, "PatNum is invalid")]
        for change, message in bad:
            with pytest.raises(ODError) as e:
                c.request("POST", "procedurelogs", body=dict(ok, **change))
            assert e.value.status == 400 and message in str(e.value), change
        for missing in ("PatNum", "ProcDate", "ProcStatus", "procCode"):
            with pytest.raises(ODError) as e:
                c.request("POST", "procedurelogs", body={k: v for k, v in ok.items() if k != missing})
            assert e.value.status == 400 and f"{missing} is required" in str(e.value)
        od_server.state.tables["preferences"] = [{"PrefNum": 1, "PrefName": "ProgramVersion",
                                                  "ValueString": "25.1.13.0"}]
        with pytest.raises(ODError):
            c.request("POST", "procedurelogs", body=dict(ok, ProcStatus="Cn", procCode="D2740", Surf=""))
        assert c.request("POST", "procedurelogs", body=dict(ok, ProcStatus="EO", procCode="D2740",
                                                            Surf=""))["ProcStatus"] == "EO"


def test_the_sign_off_preview_says_what_is_charted(workspace):
    ws = workspace
    api, sid, ids = _study(ws)
    preview = api.preview_export(sid)
    assert {c["finding_id"] for c in preview["confirm"]} == {ids[k] for k in ("c19", "c30", "pa8", "c14")}
    assert preview["plans_treatment"] is False and preview["existing"] == []  # not sent to Open Dental
    od = api.config.export.opendental
    api.config.export.destinations = ["opendental"]
    od.write_treatment_plan = od.write_existing_conditions = True
    preview = api.preview_export(sid)
    assert preview["plans_treatment"] is True
    assert preview["existing"] == [{"finding_id": ids["crown3"], "label": "crown", "tooth_universal": "3",
                                    "code": "D2740"}]
