"""`review --patient ID` (issue 18, "follow the chart"): the newest study of the patient the
practice knows by a PatNum or a chart number; an unknown patient is said so, never guessed."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from samples import write_png
from tray_app.cli import main
from tray_app.config import Config, Paths, SourceConfig
from tray_app.review.patient import find, id_kinds
from tray_app.store.db import Database

PATNUM_TEMPLATE = "{patnum}_{last}_{first}_{date:%Y%m%d}_{seq}"


def _file(folder, name, seed, hours_ago):
    f = write_png(folder / name, seed=seed)
    t = time.time() - hours_ago * 3600  # the study's image time is the file's
    os.utime(f, (t, t))
    return f


@pytest.fixture
def practice(home, tmp_path):
    """Chart-number folders `op1`, `op2` and a PatNum folder; patient A1 has two studies (op1
    older, op2 newer), B2 one newer than both; 77 is a PatNum of one patient and a chart number
    of another."""
    folders = {n: tmp_path / n for n in ("op1", "op2", "pano")}
    for f in folders.values():
        f.mkdir()
    assert main(["config", "add-source", str(folders["op1"])]) == 0
    assert main(["config", "add-source", str(folders["op2"])]) == 0
    assert main(["config", "add-source", str(folders["pano"]), "--patient-id", "patnum",
                 "--template", PATNUM_TEMPLATE]) == 0
    _file(folders["op1"], "A1_Doe_Jo_20261128_1.png", 1, 5)
    assert main(["ingest", str(folders["op1"])]) == 0
    _file(folders["op2"], "A1_Doe_Jo_20261129_1.png", 2, 3)
    _file(folders["op2"], "B2_Roe_Ann_20261130_1.png", 3, 1)
    _file(folders["op2"], "77_Xu_Li_20261130_1.png", 4, 2)
    _file(folders["pano"], "77_Poe_Al_20261130_1.png", 5, 2)
    assert main(["ingest", str(folders["op2"]), str(folders["pano"])]) == 0
    paths = Paths.resolve()
    db = Database(paths.database)
    ids = {(r["patient_id"], r["patient_id_kind"], r["source_path"]): r["id"] for r in db.query(
        "SELECT s.id, s.patient_id, s.patient_id_kind, src.path AS source_path FROM studies s "
        "JOIN sources src ON src.id=s.source_id")}
    yield db, Config.load(paths.config_file), {k[0] + "@" + os.path.basename(k[2]): v for k, v in ids.items()}
    db.close()


def test_the_patients_newest_study_is_chosen(practice):
    db, config, ids = practice
    assert ids["A1@op1"] < ids["A1@op2"]  # the older study came in first
    match = find(db, config, " a1 ", "chartnumber")  # as typed: spaces and case do not matter
    assert match.study_id == ids["A1@op2"] and match.message == ""
    assert find(db, config, "B2").study_id == ids["B2@op2"]


def test_both_id_kinds_and_a_number_that_is_both(practice):
    db, config, ids = practice
    assert find(db, config, "77", "patnum").study_id == ids["77@pano"]
    assert find(db, config, "77", "chartnumber").study_id == ids["77@op2"]
    both = find(db, config, "77")  # the watch folders use both meanings: this id names two patients
    assert both.study_id is None and "--id-kind" in both.message
    assert find(db, config, "A1", "patnum").study_id is None  # A1 is a chart number, not a PatNum


def test_the_kind_defaults_to_what_the_watch_folders_say():
    config = Config()
    assert id_kinds(config) == ("patnum", "chartnumber")  # nothing configured yet: either
    config.sources = [SourceConfig(path="x", patient_id="patnum")]
    assert id_kinds(config) == ("patnum",)
    assert id_kinds(config, "chartnumber") == ("chartnumber",)
    config.dicom.enabled = True  # the DICOM receiver's studies count their id as a chart number
    assert id_kinds(config) == ("patnum", "chartnumber")


def test_an_unknown_patient_is_said_so(practice):
    db, config, _ = practice
    match = find(db, config, "Z9", "chartnumber")
    assert match.study_id is None and "No radiographs of the patient with chart number Z9" in match.message
    assert find(db, config, "  ").study_id is None


def test_review_patient_screenshot_opens_the_newest_study_or_says_unknown(practice, home, tmp_path):
    _, _, ids = practice
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    out = tmp_path / "patient.png"
    ok = subprocess.run([sys.executable, "-m", "tray_app", "review", "--patient", "A1", "--screenshot", str(out)],
                        env=env, capture_output=True, text=True, timeout=180)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert out.is_file()
    missing = tmp_path / "missing.png"
    res = subprocess.run([sys.executable, "-m", "tray_app", "review", "--patient", "Z9", "--id-kind", "chartnumber",
                          "--screenshot", str(missing)], env=env, capture_output=True, text=True, timeout=180)
    assert res.returncode == 1
    assert "No radiographs of the patient with chart number Z9" in res.stderr
    assert missing.is_file()  # the queue, with the message in the status bar
