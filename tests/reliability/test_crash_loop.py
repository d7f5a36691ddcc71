"""50 cycles of kill -9 at random moments while files arrive, studies are signed and
exports run against a loopback Open Dental: at the end every file is analysed once and
every signed study is written to the PMS exactly once — documents, note and procedures
(a confirmed caries code planned, an existing restoration charted)."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from samples import write_dicom
from export.od_server import CUST, DEV, FakeOpenDental
from file_keyring import share_with_subprocess
from service_helpers import home_paths, starts_logged, wait_for, wait_started
from tray_app.config import Config, IntakeConfig, SourceConfig
from tray_app.pms import keys as secrets
from tray_app.settings.export import ExportConfig, OpenDentalConfig, RetryConfig
from tray_app.review.api import ReviewAPI, ReviewError
from tray_app.review.clinicians import add_clinician
from tray_app.store import Database

CYCLES = int(os.environ.get("DAB_CRASH_CYCLES", "50"))
FILES = 25


@pytest.fixture
def od():
    server = FakeOpenDental().start()
    for i in range(FILES):
        server.add_patient(2000 + i, "Doe", "Jane", "1980-01-01")
    yield server
    server.stop()


def _start(env):
    return subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _sign_ready(api: ReviewAPI, doc: int) -> int:
    signed = 0
    for study in api.queue():
        if all(im["state"] == "analyzed" for im in study["images"]):
            try:
                codes = {}
                for im in study["images"]:
                    for f in im["findings"]:
                        if f["label"] == "caries" and not f["tooth_fdi"]:  # the stub model places no tooth
                            api.edit(f["id"], tooth_fdi=36, surfaces="MO", actor="test")
                        elif f["label"] == "restoration" and not f["tooth_fdi"]:
                            api.edit(f["id"], tooth_fdi=16, surfaces="DO", actor="test")
                        else:
                            api.accept(f["id"], actor="test")
                        if f["label"] == "caries":
                            codes[f["id"]] = "D2392"
                api.sign(study["id"], doc, "246813", codes=codes)
                signed += 1
            except ReviewError:
                pass  # the service changed it meanwhile; next round
    return signed


def test_kill_9_loop_over_ingest_and_export(home, export_dir, od, tmp_path, monkeypatch):
    paths = home_paths()
    config = Config(
        sources=[SourceConfig(path=str(export_dir), kind="native", patient_id="patnum")],
        intake=IntakeConfig(settle_seconds=0.3, supervise_seconds=0.3),
        export=ExportConfig(destinations=["opendental"],
                            opendental=OpenDentalConfig(base_url=od.url, timeout=2.0, connect_timeout=1.0,
                                                        write_treatment_plan=True, write_existing_conditions=True),
                            retry=RetryConfig(backoff_base_seconds=0.2, backoff_max_seconds=1.0, lease_seconds=10.0)),
    )
    config.save(paths.config_file)
    keyfile = tmp_path / "keyring.json"
    keyfile.write_text(json.dumps({f"{secrets.SERVICE}\n{secrets.DEVELOPER}": DEV,
                                   f"{secrets.SERVICE}\n{secrets.CUSTOMER}": CUST}))
    # this process signs too: it shares the service's keyring (the audit key lives there)
    env = share_with_subprocess(home, keyfile, monkeypatch)
    db = Database(paths.database)
    api = ReviewAPI(db, config)
    doc = add_clinician(db, "Dr Crash", "dentist", "246813")
    rng = random.Random(99)
    written = signed = 0
    for cycle in range(CYCLES):
        proc = _start(env)
        deadline = time.monotonic() + rng.uniform(0.4, 2.5)
        while time.monotonic() < deadline:
            if written < FILES and rng.random() < 0.5:
                write_dicom(export_dir / f"p{written:02d}.dcm", seed=written, patient_id=str(2000 + written))
                written += 1
            signed += _sign_ready(api, doc)
            time.sleep(rng.uniform(0.05, 0.2))
        if proc.poll() is not None:
            raise AssertionError("the service died on its own: " + proc.stderr.read().decode(errors="replace")[-2000:])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    while written < FILES:
        write_dicom(export_dir / f"p{written:02d}.dcm", seed=written, patient_id=str(2000 + written))
        written += 1

    log_file = paths.log_dir / "dental-bridge.log"
    before = starts_logged(log_file)
    proc = _start(env)
    try:
        wait_started(log_file, before, proc)

        def settled():
            nonlocal signed
            signed += _sign_ready(api, doc)
            return db.one("SELECT COUNT(*) FROM studies WHERE status='exported'")[0] == FILES
        wait_for(settled, 180, interval=0.5, message="every study analysed, signed and exported")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]

    rows = db.query("SELECT path, state, COUNT(*) n FROM images GROUP BY path")
    assert len(rows) == FILES and all(r["n"] == 1 for r in rows)
    inferences = db.query("SELECT subject, COUNT(*) n FROM audit WHERE event='inference' GROUP BY subject")
    assert len(inferences) == FILES and {r["n"] for r in inferences} == {1}
    assert signed == FILES
    # exactly once at the PMS: per study one annotated image + one PDF report, and one chart note
    per_patient_docs: dict[int, int] = {}
    for d in od.state.documents:
        per_patient_docs[d["PatNum"]] = per_patient_docs.get(d["PatNum"], 0) + 1
    assert per_patient_docs == {2000 + i: 2 for i in range(FILES)}, per_patient_docs
    notes = [c["PatNum"] for c in od.state.commlogs]
    assert sorted(notes) == [2000 + i for i in range(FILES)]
    procedures: dict[int, list] = {}
    for p in od.state.tables["procedurelogs"]:
        procedures.setdefault(p["PatNum"], []).append((p["procCode"], p["ToothNum"], p["Surf"], p["ProcStatus"]))
    assert procedures == {2000 + i: [("D2392", "19", "MO", "TP"), ("D2392", "3", "OD", "Cn")] for i in range(FILES)}, \
        procedures
    from tray_app.store import audit

    assert audit.verify(db.conn()).ok
    db.close()
