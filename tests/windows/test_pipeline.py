"""The headless pipeline on Windows, end to end with onnxruntime and the bundled model:
`ingest --json` of generated DICOM bitewings, `demo --headless --once`, and the review window
rendered offscreen from the result."""

from __future__ import annotations

import json

import pytest

from .child import run_cli

pytestmark = pytest.mark.windows


def test_ingest_analyses_generated_dicom_bitewings(win_home, tmp_path):
    from tray_app.demo import writers
    from tray_app.demo.synth import generate_sample

    src = tmp_path / "in"
    src.mkdir()
    for i, ts in enumerate(("explicit", "rle")):
        s = generate_sample("bitewing", 40 + i, bits_stored=12, view="right molar")
        writers.write_dicom(s, src / f"W{i}_bitewing.dcm", patient_id=f"W{i:03d}", patient_name="Wine^Lane",
                            birth_date="19800101", transfer_syntax=ts)
    r = run_cli(win_home, "ingest", str(src), "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 2, r.stdout
    assert all(row["status"] == "analyzed" and row["findings"] for row in rows), rows
    r = run_cli(win_home, "audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr


def test_demo_headless_once_then_review_screenshot(win_home, tmp_path):
    r = run_cli(win_home, "demo", "--headless", "--once")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "analyzed" in r.stdout and "Study 1" in r.stdout, r.stdout[-3000:]
    q = run_cli(win_home, "queue", "--json")
    assert q.returncode == 0, q.stderr[-2000:]
    studies = json.loads(q.stdout)["studies"]
    assert len(studies) >= 5, studies
    assert all(im["state"] == "analyzed" for s in studies for im in s["images"]), studies
    assert sum(len(im["findings"]) for s in studies for im in s["images"]) > 0

    shot = tmp_path / "review.png"
    r = run_cli(win_home, "review", "--screenshot", str(shot))  # the default 1366x768
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    from PIL import Image

    with Image.open(shot) as im:
        # without fonts every label is a row of empty boxes and the window grows past 2000 px
        assert im.size == (1366, 768)
        colours = im.convert("RGB").resize((171, 96)).getcolors(maxcolors=171 * 96)
    assert colours is None or len(colours) > 50, "the screenshot is (nearly) blank"


FONTS_OF_A_SCREENSHOT = (
    "import os, sys; from pathlib import Path\n"
    "from tray_app.config import Paths; from tray_app.ui.launch import screenshot\n"
    "screenshot(Paths.resolve(), None, Path(sys.argv[1]))\n"
    "from PySide6.QtGui import QFontDatabase; print(len(QFontDatabase.families()))\n"
)


def test_review_screenshot_renders_text_with_the_windows_fonts(win_home, tmp_path):
    import subprocess
    import sys

    from .child import REPO, app_env

    env = app_env(win_home)
    env.pop("QT_QPA_PLATFORM")  # as a support person runs it: the command picks offscreen itself
    r = subprocess.run([sys.executable, "-c", FONTS_OF_A_SCREENSHOT, str(tmp_path / "s.png")], env=env,
                       capture_output=True, text=True, timeout=240, cwd=str(REPO))
    assert r.returncode == 0, r.stderr[-3000:]
    assert int(r.stdout.split()[-1]) > 0, "Qt offscreen found no font: every text would be empty boxes"


def test_redirected_output_survives_names_outside_the_windows_code_page(win_home, tmp_path):
    """`dental-bridge queue > list.txt` on Windows writes in cp1252: a name like Dvořák (ř is not
    in cp1252) crashed the command; the JSON keeps it exactly (escaped), the text shows a "?"."""
    from tray_app.demo import writers
    from tray_app.demo.synth import generate_sample

    src = tmp_path / "in"
    src.mkdir()
    s = generate_sample("bitewing", 7, bits_stored=12, view="right molar")
    f = src / "CZ_bitewing.dcm"
    writers.write_dicom(s, f, patient_id="CZ001", patient_name="Novak^Jiri", birth_date="19800101",
                        transfer_syntax="explicit")
    import pydicom

    ds = pydicom.dcmread(f)
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8, as many current systems write
    ds.PatientName = "Dvořák^Jiří"
    ds.save_as(f)
    assert run_cli(win_home, "ingest", str(src)).returncode == 0
    plain = {"PYTHONIOENCODING": ""}  # as a support person's redirect: the pipe's code page
    r = run_cli(win_home, "queue", "--json", **plain)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["studies"][0]["patient"]["name"] == "Dvořák^Jiří"
    r = run_cli(win_home, "queue", **plain)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Dvo?" in r.stdout, r.stdout  # ř replaced (the rest is in the pipe's code page)
