"""Open Dental export through the outbox against a loopback server that follows the API contract."""

from __future__ import annotations

import base64
import json
import random
import re
import time

import pytest

from tray_app.store import audit
from tray_app.pms.client import ODClient, ODError
from tray_app.pms.formats import tooth_numbers
from tray_app.export.opendental_export import OpenDentalExporter
from tray_app.export.job import Job
from tray_app.export.outbox import Outbox, OutboxWorker
from tray_app.pms.keys import ODKeys

from .conftest import od_config
from .od_server import CUST, DEV

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def report_sha(db, study_id):
    return db.one("SELECT sha256 FROM reports WHERE study_id=?", (study_id,))["sha256"]


def test_signed_study_makes_exactly_the_documented_requests(workspace, od_server, od_keys, clock):
    ws = workspace
    api = ws.api()
    fids = ws.findings("A")
    api.edit(fids[0], tooth_fdi=16, surfaces="mo")  # → Universal #3
    for fid in fids[1:]:
        api.accept(fid)
    api.sign(ws.studies["A"], 1, "246813")
    sid = ws.studies["A"]
    sha12 = report_sha(ws.db, sid)[:12]
    results = Outbox(ws.db, od_config(od_server), clock=clock).drain_once()
    assert [r["state"] for r in results] == ["done"]

    reqs = od_server.state.requests
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("GET", "/patients/1001"), ("GET", "/definitions"),
        ("POST", "/documents/Upload"), ("POST", "/documents/Upload"), ("POST", "/documents/Upload"),
        ("POST", "/commlogs")]
    assert reqs[1]["query"] == {"Category": "18"}
    assert all(r["auth"] == f"ODFHIR {DEV}/{CUST}" and r["content_type"] == "application/json" for r in reqs)
    assert all(r["status"] in (200, 201) for r in reqs)
    images = [r["json"] for r in reqs[2:4]]
    image_ids = sorted({f["image_id"] for f in json.loads(
        ws.db.one("SELECT snapshot FROM reports WHERE study_id=?", (sid,))["snapshot"])["findings"]})
    for body, image_id in zip(images, image_ids):
        assert body["PatNum"] == 1001 and body["ImgType"] == "Radiograph" and body["DocCategory"] == 52
        assert body["extension"] == ".jpg" and base64.b64decode(body["rawBase64"])[:3] == b"\xff\xd8\xff"
        assert body["Description"].startswith("AI-Assisted Preliminary Findings")
        assert body["Description"].endswith(f"[DAB:{sid}:{sha12}:img{image_id}]") and len(body["Description"]) <= 255
        assert DATETIME.match(body["DateCreated"])
    assert images[0]["ToothNumbers"] == "3" and "ToothNumbers" not in images[1]
    pdf = reqs[4]["json"]
    assert pdf["extension"] == ".pdf" and pdf["ImgType"] == "Document" and pdf["DocCategory"] == 52
    assert base64.b64decode(pdf["rawBase64"]).startswith(b"%PDF") and f"[DAB:{sid}:{sha12}:pdf]" in pdf["Description"]
    note = reqs[5]["json"]
    assert note["PatNum"] == 1001 and DATETIME.match(note["CommDateTime"])
    assert note["Note"].startswith("AI-Assisted Preliminary Findings") and "signed by Dr X (dentist)" in note["Note"]
    assert note["Note"].endswith(f"[DAB:{sid}:{sha12}:note]") and "stub-model 1.0.0" in note["Note"]

    # remote ids recorded, study exported, audit intact, nothing more to do
    row = ws.db.one("SELECT * FROM outbox")
    docnums = [str(d["DocNum"]) for d in od_server.state.documents]
    assert row["state"] == "done" and all(n in row["remote_id"] for n in docnums)
    assert str(od_server.state.commlogs[0]["CommlogNum"]) in row["remote_id"]
    assert ws.db.one("SELECT status FROM studies WHERE id=?", (sid,))["status"] == "exported"
    events = [r["event"] for r in ws.db.query("SELECT event FROM audit WHERE event LIKE 'export_%'")]
    assert events.count("export_write") == 4 and events.count("export_written") == 4 and "export_done" in events
    assert audit.verify(ws.db.conn()).ok
    clock.advance(3600)
    assert Outbox(ws.db, od_config(od_server), clock=clock).drain_once() == []
    assert len(od_server.state.requests) == 6


def test_chart_number_is_confirmed_before_writing(workspace, od_server, od_keys, clock):
    ws = workspace
    ws.sign("B")
    [r] = Outbox(ws.db, od_config(od_server, write_pdf=False, write_images=False), clock=clock).drain_once()
    assert r["state"] == "done"
    reqs = od_server.state.requests
    assert [(q["method"], q["path"], q["query"]) for q in reqs[:2]] == [
        ("GET", "/patients", {"ChartNumber": "C-77"}), ("GET", "/patients/2002", {})]
    assert [q["json"]["PatNum"] for q in od_server.writes()] == [2002]


class SimulatedCrash(BaseException):
    """The process dies: nothing after this point runs, not even the worker's error handling."""


def test_thirty_injected_failures_write_every_document_exactly_once(workspace, od_server, od_keys, clock, monkeypatch):
    ws = workspace
    pool = ["A", "B", "E", "F", "G", "H", "I", "J"]
    signed: list[str] = []
    cfg = od_config(od_server)
    rng = random.Random(6)
    http_kinds = ["500", "500_after", "504", "504_after", "reset", "reset_after", "timeout_after"]
    crashes_left = [0]
    real_done = Job.done

    def crashing_done(self, name, remote_id="", *, how="written", detail=""):
        if how == "written" and crashes_left[0] > 0:
            crashes_left[0] -= 1
            raise SimulatedCrash(f"crash after the server accepted {name}, before our commit")
        return real_done(self, name, remote_id, how=how, detail=detail)

    monkeypatch.setattr(Job, "done", crashing_done)
    plan = ["crash"] * 4 + [rng.choice(http_kinds) for _ in range(26)]
    rng.shuffle(plan)
    injected = {"crash": 0, "http": 0}

    def work_left():
        if not ws.db.one("SELECT 1 FROM outbox WHERE state<>'done'"):
            assert pool, "ran out of studies to export"
            signed.append(pool.pop(0))
            ws.sign(signed[-1])

    def pending_targets():
        parts = ws.db.query("SELECT p.part, p.state FROM export_parts p JOIN outbox o ON p.outbox_id=o.id "
                            "WHERE o.state<>'done'")
        fresh = ws.db.one("SELECT 1 FROM outbox o WHERE state<>'done' AND NOT EXISTS "
                          "(SELECT 1 FROM export_parts p WHERE p.outbox_id=o.id)")
        targets = ["GET /patients"]
        if fresh or any(p["part"] != "note" and p["state"] != "done" for p in parts):
            targets.append("POST /documents/Upload")
        if fresh or any(p["part"] == "note" and p["state"] != "done" for p in parts):
            targets.append("POST /commlogs")
        if any(p["part"] != "note" and p["state"] == "sending" for p in parts):
            targets.append("GET /documents")
        return targets

    outbox = Outbox(ws.db, cfg, clock=clock)
    for kind in plan:
        work_left()
        fired_before = len(od_server.state.faults_fired)
        if kind == "crash":
            crashes_left[0] = 1
        else:
            od_server.fail(kind, rng.choice(pending_targets()))
        for _ in range(5):  # the injected failure happens within a pass or two
            work_left()
            clock.advance(31)  # past any backoff (max 8 s) and any lease (30 s)
            try:
                outbox.drain_once()
            except SimulatedCrash:
                outbox = Outbox(ws.db, cfg, clock=clock)  # "restart": a fresh outbox on the same database
            if kind == "crash" and crashes_left[0] == 0:
                injected["crash"] += 1
                break
            if kind != "crash" and len(od_server.state.faults_fired) > fired_before:
                injected["http"] += 1
                break
        else:
            pytest.fail(f"injected failure {kind} never happened: {od_server.state.faults}")
    for _ in range(10):  # let everything finish
        clock.advance(31)
        outbox.drain_once()
    assert injected == {"crash": 4, "http": 26} and len(od_server.state.faults_fired) == 26

    rows = ws.db.query("SELECT * FROM outbox")
    assert [r["state"] for r in rows] == ["done"] * len(signed)
    for k in signed:
        sid = ws.studies[k]
        base = f"[DAB:{sid}:{report_sha(ws.db, sid)[:12]}:"
        parts = [p["part"] for p in ws.db.query("SELECT part FROM export_parts p JOIN outbox o ON p.outbox_id=o.id "
                                                "WHERE o.study_id=?", (sid,))]
        assert len(parts) == 4 and {"note", "pdf"} <= set(parts)
        for part in parts:
            if part == "note":
                assert len([c for c in od_server.state.commlogs if base + "note]" in c["Note"]]) == 1
            else:
                assert len(od_server.docs_with(base + part + "]")) == 1, part
    assert len(od_server.state.documents) == 3 * len(signed) and len(od_server.state.commlogs) == len(signed)
    found = ws.db.query("SELECT COUNT(*) AS n FROM audit WHERE event='export_found'")[0]["n"]
    assert found >= 4  # at least every crash was resolved by finding the marker, not by writing again
    assert audit.verify(ws.db.conn()).ok


def test_open_dental_closed_for_ten_minutes_then_drains_by_itself(workspace, od_server, od_keys, clock):
    ws = workspace
    cfg = od_config(od_server)
    cfg.retry.backoff_base_seconds, cfg.retry.backoff_max_seconds = 15.0, 120.0
    od_server.stop()  # Open Dental closed: nothing listens on its port
    ws.sign("A")
    ws.sign("E")
    outbox = Outbox(ws.db, cfg, clock=clock)
    worker = OutboxWorker(outbox, poll_seconds=0.01)
    start = clock.now
    worker.start()
    try:
        reopened = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.005)
            clock.advance(2.0)  # 2 simulated seconds per 5 real milliseconds
            if reopened is None and clock.now - start >= 600:
                states = {r["state"] for r in ws.db.query("SELECT state FROM outbox")}
                assert states <= {"failed", "sending"} and not od_server.state.requests
                reason = ws.db.one("SELECT reason FROM outbox WHERE state='failed'")
                assert reason and "cannot be reached" in reason["reason"]
                od_server.start()  # Open Dental opened again, same port
                reopened = clock.now
            if reopened and all(r["state"] == "done" for r in ws.db.query("SELECT state FROM outbox")):
                break
    finally:
        worker.stop()
    rows = ws.db.query("SELECT * FROM outbox")
    assert [r["state"] for r in rows] == ["done", "done"]
    from tray_app.export.outbox import parse_iso

    # while closed, each failure scheduled the next try at most one capped backoff (120 s) later,
    # so the exports went out within two minutes of Open Dental opening again
    failed = [json.loads(r["data"]) for r in ws.db.query("SELECT data FROM audit WHERE event='export_failed'")]
    last_retry = max(parse_iso(f["next_attempt_at"]) for f in failed)
    assert all("cannot be reached" in f["reason"] for f in failed)
    assert last_retry - start >= 600 - 120 and last_retry - reopened <= 120
    assert all(r["attempts"] >= 5 for r in rows)  # it kept trying while closed, with backoff
    assert all(r["attempts"] <= 20 for r in rows)  # … but did not hammer a closed Open Dental
    assert len(od_server.state.documents) == 6 and len(od_server.state.commlogs) == 2


@pytest.mark.parametrize("key,reason", [("C", "does not match"), ("D", "no patient with PatNum 4004")])
def test_patient_mismatch_never_writes(workspace, od_server, od_keys, clock, key, reason):
    ws = workspace
    ws.sign(key)
    outbox = Outbox(ws.db, od_config(od_server), clock=clock)
    [r] = outbox.drain_once()
    assert r["state"] == "needs_attention" and reason in r["reason"]
    assert od_server.writes() == []
    sid = ws.studies[key]
    assert ws.db.one("SELECT status FROM studies WHERE id=?", (sid,))["status"] == "export_failed"
    clock.advance(10_000)
    assert outbox.drain_once() == []  # not retried by itself
    # somebody fixes the chart in Open Dental and retries
    od_server.add_patient(int(ws.db.one("SELECT patient_id FROM studies WHERE id=?", (sid,))["patient_id"]),
                          "DOE", "Jane", "1980-01-01")
    assert outbox.retry() == 1
    [r] = outbox.drain_once()
    assert r["state"] == "done" and len(od_server.writes()) == 4


def test_mismatch_by_name_and_ambiguous_chart_number(workspace, od_server, od_keys, clock):
    ws = workspace
    od_server.state.patients[1001]["LName"] = "Smith"
    od_server.add_patient(2003, "Doe", "Jane", "1980-01-01", "C-77")  # a second chart with the same number
    ws.sign("A")
    ws.sign("B")
    results = {r["study_id"]: r for r in Outbox(ws.db, od_config(od_server), clock=clock).drain_once()}
    assert "last name" in results[ws.studies["A"]]["reason"]
    assert "share chart number C-77" in results[ws.studies["B"]]["reason"]
    assert all(r["state"] == "needs_attention" for r in results.values()) and od_server.writes() == []


def test_missing_keys_and_refused_key_need_attention(workspace, od_server, clock, memory_keyring):
    ws = workspace
    ws.sign("A")
    outbox = Outbox(ws.db, od_config(od_server), clock=clock)
    [r] = outbox.drain_once()
    assert r["state"] == "needs_attention" and "secrets set opendental" in r["reason"]
    assert od_server.state.requests == []
    from tray_app.pms.keys import set_opendental_keys

    set_opendental_keys(DEV, "wrongkey")
    outbox.retry()
    [r] = outbox.drain_once()
    assert r["state"] == "needs_attention" and "refused the API key" in r["reason"]
    assert DEV not in r["reason"] and "wrongkey" not in r["reason"]
    set_opendental_keys(DEV, CUST)
    outbox.retry()
    assert outbox.drain_once()[0]["state"] == "done"


def test_unknown_image_category_needs_attention(workspace, od_server, od_keys, clock):
    ws = workspace
    ws.sign("A")
    [r] = Outbox(ws.db, od_config(od_server, doc_category="X-rays"), clock=clock).drain_once()
    assert r["state"] == "needs_attention" and "no image category named 'X-rays'" in r["reason"]
    assert od_server.writes() == []


def test_large_upload_is_downscaled_and_says_so(workspace, od_server, od_keys, clock):
    ws = workspace
    ws.sign("A")
    od_server.body_limit = 120_000
    exporter = OpenDentalExporter(od_config(od_server).opendental,
                                  client_factory=lambda s, k: ODClient(s, k, body_limit=120_000))
    outbox = Outbox(ws.db, od_config(od_server, write_pdf=False), exporters={"opendental": exporter}, clock=clock)
    [r] = outbox.drain_once()
    assert r["state"] == "done"
    uploads = [q["json"] for q in od_server.writes() if q["path"] == "/documents/Upload"]
    assert uploads and all(len(json.dumps(u)) <= 120_000 for u in uploads)
    assert all("downscaled" in u["Description"] for u in uploads)
    assert "downscaled" in json.dumps(r["summary"])


def test_client_errors_are_one_actionable_sentence(od_server):
    keys = ODKeys(DEV, CUST)
    cfg = od_config(od_server).opendental
    with ODClient(cfg, keys) as c:
        with pytest.raises(ODError) as e404:
            c.request("GET", "nosuchthing")
        assert e404.value.status == 404 and not e404.value.retry and "too old" in str(e404.value)
        od_server.fail("504")
        with pytest.raises(ODError) as e504:
            c.image_categories()
        assert e504.value.retry and e504.value.written is None and "60 seconds" in str(e504.value)
        with pytest.raises(ODError) as e400:
            c.upload_document({"PatNum": 1001})
        assert e400.value.status == 400 and e400.value.written is False and "rawBase64 is required" in str(e400.value)
    with ODClient(cfg, ODKeys(DEV, "nope")) as c:
        with pytest.raises(ODError) as e401:
            c.image_categories()
        assert e401.value.status == 401 and "Setup > Advanced Setup > API" in str(e401.value)


def test_remote_mode_is_throttled_and_modes_fall_back(od_server):
    keys = ODKeys(DEV, CUST)
    cfg = od_config(od_server).opendental
    t = [0.0]
    sleeps = []

    def sleep(s):
        sleeps.append(s)
        t[0] += s

    with ODClient(cfg, keys, base_urls=[("remote", od_server.url)], clock=lambda: t[0], sleep=sleep) as c:
        for _ in range(3):
            c.image_categories()
    assert len(sleeps) == 2 and all(s == pytest.approx(1.0) for s in sleeps)
    dead = "http://127.0.0.1:9/api/v1/"  # nothing listens on the discard port
    with ODClient(cfg, keys, base_urls=[("local", dead), ("service", od_server.url)]) as c:
        assert c.patient(1001)["LName"] == "Doe" and c.mode == "service"
    with ODClient(cfg, keys, base_urls=[("local", dead)]) as c:
        with pytest.raises(ODError) as e:
            c.patient(1001)
        assert e.value.unreachable and e.value.written is False


def test_tooth_numbers_text():
    assert tooth_numbers(["1", "2", "3", "4", "5", "8"]) == "1-5,8"
    assert tooth_numbers(["3", "14", "A"]) == "3,14,A"
    assert tooth_numbers(["3", "4"]) == "3,4"
    assert tooth_numbers([]) == ""


def test_the_chart_note_names_the_model_once(workspace, od_server, od_keys, clock):
    ws = workspace
    ws.sign("A")
    [r] = Outbox(ws.db, od_config(od_server, write_pdf=False, write_images=False), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    [note] = [q["json"]["Note"] for q in od_server.state.requests if q["path"] == "/commlogs"]
    assert note.count("Model") == 1 and "Model: stub-model 1.0.0." in note, note
