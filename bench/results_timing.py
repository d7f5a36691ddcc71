"""Cost of sending results back and of targeted automation, against raw session.run in the
same run: GSPS and Secondary Capture build per image, the DICOM outbox drain (render + build
+ C-STORE to a loopback Storage SCP) per object, and one automation decision per study.

`python -m bench.results_timing [--images 12] [--json]` (temporary home, bundled model).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def _loopback_scp(port_holder: list):
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
    from pynetdicom import AE, evt

    from tray_app.export.dicom_results import GSPS_CLASS, SC_CLASS

    received = []
    ae = AE(ae_title="PACS")
    for uid in (GSPS_CLASS, SC_CLASS):
        ae.add_supported_context(uid, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    server = ae.start_server(("127.0.0.1", 0), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, lambda e: received.append(e.request.AffectedSOPInstanceUID)
                                            or 0x0000)])
    port_holder.append(server.server_address[1])
    return server, received


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 2)


def run(n_images: int) -> dict:
    from tray_app import automation
    from tray_app.app import Service
    from tray_app.config import Config, IntakeConfig, Paths, SourceConfig
    from tray_app.demo.synth import generate_batch
    from tray_app.demo.writers import write_dicom
    from tray_app.export import dicom_results as dr
    from tray_app.export.outbox import Outbox
    from tray_app.export.render import render_study_image
    from tray_app.store.reports import Report
    from tray_app.export.settings import DicomDestConfig, ExportConfig
    from tray_app.review.api import ReviewAPI
    from tray_app.review.clinicians import add_clinician

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DENTAL_BRIDGE_HOME"] = str(Path(tmp) / "home")
        folder = Path(tmp) / "export"
        folder.mkdir()
        for i, sample in enumerate(generate_batch(n_images, seed=515, kinds=("bitewing", "periapical"))):
            write_dicom(sample, folder / f"{i}.dcm", patient_id=f"B{i % 4}", patient_name=f"Bench^P{i % 4}",
                        birth_date="19800101")
        port: list = []
        server, received = _loopback_scp(port)
        export = ExportConfig(destinations=["dicom"], dicom=DicomDestConfig(host="127.0.0.1", port=port[0],
                                                                           called_ae="PACS", send_sc=True))
        cfg = Config(sources=[SourceConfig(path=str(folder), patient_id="patnum")],
                     intake=IntakeConfig(settle_seconds=0.2), export=export)
        cfg.governance.rollout = "targeted_automation"
        from tray_app.analysis.model import OnnxModel

        service = Service(cfg, Paths.resolve().ensure())
        runs: list[float] = []
        raw = OnnxModel.run_raw

        def timed(self, tensor):
            t0 = time.perf_counter()
            out = raw(self, tensor)
            runs.append(time.perf_counter() - t0)
            return out

        OnnxModel.run_raw = timed  # run_once loads its own session
        service.run_once()
        OnnxModel.run_raw = raw
        db = service.db
        studies = [r[0] for r in db.query("SELECT id FROM studies ORDER BY id")]

        later = datetime.now(timezone.utc) + timedelta(hours=1)
        per_study, outcomes = [], {}
        for sid in studies:
            t0 = time.perf_counter()
            outcome = automation.decide(db, sid, cfg.governance, ["dicom"])["outcome"]
            per_study.append(time.perf_counter() - t0)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        assert automation.run_pass(db, cfg.governance, ["dicom"], now=later) == []  # each decided once

        doc = add_clinician(db, "Dr Bench", "dentist", "246813")
        api = ReviewAPI(db, cfg)
        for sid in studies:
            for (fid,) in db.query("SELECT id FROM findings WHERE study_id=? AND label<>'tooth'", (sid,)):
                api.accept(fid)
            api.sign(sid, doc, "246813")

        gsps_t, sc_t, render_t = [], [], []
        for (snap_text, sha) in db.query("SELECT snapshot, sha256 FROM reports"):
            snapshot = Report.from_json(snap_text)
            for im in snapshot.images_to_render():
                src = dr.read_source(db, im["id"])
                t0 = time.perf_counter()
                dr.build_gsps(snapshot, im, src, report_sha256=sha)
                gsps_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                rendered = render_study_image(db, snapshot, im)
                render_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                dr.build_sc(snapshot, im, rendered, src, report_sha256=sha, study={})
                sc_t.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        results = Outbox(db, export, automation=True).drain_once()
        drain = time.perf_counter() - t0
        states = sorted({r["state"] for r in results})
        sent_signed = sum(1 for r in results if r["state"] == "done")
        server.shutdown()
        service.db.close()
        run_ms = _median_ms(runs)
        objects = len(received)
        per_object = drain / max(1, objects)
        return {
            "images": n_images, "studies": len(studies), "session_run_ms_median": run_ms,
            "gsps_build_ms_median": _median_ms(gsps_t), "sc_render_ms_median": _median_ms(render_t),
            "sc_build_ms_median": _median_ms(sc_t),
            "drain_objects": objects, "drain_rows_done": sent_signed, "drain_states": states,
            "drain_ms_per_object": round(per_object * 1000, 2),
            "automation_decision_ms_median": _median_ms(per_study), "automation_outcomes": outcomes,
            "ratio_gsps_build_to_raw": round(_median_ms(gsps_t) / run_ms, 2),
            "ratio_sc_render_build_to_raw": round((_median_ms(render_t) + _median_ms(sc_t)) / run_ms, 2),
            "ratio_drain_per_object_to_raw": round(per_object * 1000 / run_ms, 2),
            "ratio_automation_decision_to_raw": round(_median_ms(per_study) / run_ms, 2),
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = run(args.images)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:34} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
