"""The demo's announcement of an analysed image reads it through the store (issue 17)."""

from samples import write_png
from service_helpers import home_paths
from tray_app.cli import main
from tray_app.demo.workspace import _announce
from tray_app.store import findings, images
from tray_app.store.db import Database


def test_the_demo_announces_an_analysed_image_with_its_patient_and_findings(home, export_dir, capsys):
    write_png(export_dir / "A1_Doe_Jo_20261128_1.png", seed=1)
    assert main(["ingest", str(export_dir)]) == 0
    capsys.readouterr()
    db = Database(home_paths().database)
    try:
        [image_id] = [r["id"] for r in db.query("SELECT id FROM images")]
        row = images.with_patient(db, image_id)
        assert (row["kind"] is not None, row["patient_id"]) == (True, "A1")
        counts = [(r["label"], r["c"]) for r in findings.count_by_label(db, image_id)]
        assert sorted(counts) == [("caries", 1), ("restoration", 1)]
        _announce(db, "analyzed", image_id, {"caries": "decay"})
        assert images.with_patient(db, image_id + 1) is None
    finally:
        db.close()
    out = capsys.readouterr().out
    assert f"analysed image {image_id} (" in out and "patient A1): " in out
    assert "1 decay" in out and "1 restoration" in out
