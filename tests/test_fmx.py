"""An 18-image FMX delivered over 40 s forms one complete study; one missing two views is flagged."""

import json
import threading
import time

from samples import write_dicom
from service_helpers import fast_config, home_paths, wait_for
from tray_app.app import Service

FMX = {
    "BW right molar": ([16, 17, 46, 47], "R"), "BW right premolar": ([14, 15, 44, 45], "R"),
    "BW left premolar": ([24, 25, 34, 35], "L"), "BW left molar": ([26, 27, 36, 37], "L"),
    "PA maxillary right molar": ([16, 17, 18], "R"), "PA maxillary right premolar": ([14, 15], "R"),
    "PA maxillary right canine": ([12, 13], "R"), "PA maxillary centrals": ([11, 21], "B"),
    "PA maxillary left canine": ([22, 23], "L"), "PA maxillary left premolar": ([24, 25], "L"),
    "PA maxillary left molar": ([26, 27, 28], "L"),
    "PA mandibular right molar": ([46, 47, 48], "R"), "PA mandibular right premolar": ([44, 45], "R"),
    "PA mandibular right canine": ([42, 43], "R"), "PA mandibular centrals": ([41, 31], "B"),
    "PA mandibular left canine": ([32, 33], "L"), "PA mandibular left premolar": ([34, 35], "L"),
    "PA mandibular left molar": ([36, 37, 38], "L"),
}
DROPPED = ("PA maxillary right molar", "BW left premolar")


def test_fmx_over_40_seconds_is_one_complete_study_and_gaps_are_named(home, export_dir):
    service = Service(fast_config(export_dir), home_paths())
    service.start()
    try:
        jobs = [("FMX1", v) for v in FMX] + [("FMX2", v) for v in FMX if v not in DROPPED]
        jobs.sort(key=lambda j: list(FMX).index(j[1]))  # both patients' sensors fill in parallel
        gap = 40.0 / len(jobs)
        for i, (patient, view) in enumerate(jobs):
            teeth, lat = FMX[view]
            write_dicom(export_dir / f"{patient}_{i:02d}.dcm", seed=i, patient_id=patient, teeth=teeth,
                        ImageLaterality=lat, no_study_uid=True)
            time.sleep(gap)
        wait_for(lambda: service.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 34, 60,
                 message="34 analysed images")
        studies = {r["patient_id"]: r for r in service.db.query("SELECT * FROM studies")}
        assert set(studies) == {"FMX1", "FMX2"}
        one = json.loads(studies["FMX1"]["clinical"])["set"]
        two = json.loads(studies["FMX2"]["clinical"])["set"]
        assert one["complete"] and one["text"] == "FMX complete (18 images)"
        assert not two["complete"]
        assert two["text"] == "FMX: 16 of 18 — missing BW left premolar, PA maxillary right molar"
        assert "incomplete" in json.loads(studies["FMX2"]["tags"])
        assert [c["code"] for c in json.loads(studies["FMX1"]["clinical"])["cdt"]["imaging"]] == ["D0210"]
        audit_sets = [json.loads(r["data"])["set"] for r in service.db.query(
            "SELECT data FROM audit WHERE event='tags' AND subject=?", (f"study:{studies['FMX2']['id']}",))]
        assert audit_sets[-1] == two["text"]
    finally:
        service.stop()
