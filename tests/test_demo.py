"""The embedded default: `dental-bridge demo --headless --once` on a fresh home."""

import json
import os
import subprocess
import sys


def test_demo_once_prints_studies_with_findings(tmp_path):
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(tmp_path / "demo"))
    env.pop("DISPLAY", None)
    res = subprocess.run([sys.executable, "-m", "tray_app", "demo", "--headless", "--once"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "DEMONSTRATION ONLY" in out and "AI-Assisted Preliminary Findings" in out
    assert out.count("Study ") == 7
    q = subprocess.run([sys.executable, "-m", "tray_app", "queue", "--json"], env=env, capture_output=True,
                       text=True, timeout=60)
    studies = json.loads(q.stdout)["studies"]
    assert len(studies) == 7 and sum(s["image_count"] for s in studies) == 31
    # one patient was seen a year ago too: today's study is compared with it, the earlier one with nothing
    farid = sorted((s for s in studies if s["patient"]["id"] == "DEMO006"), key=lambda s: s["study_date"])
    assert [s["image_count"] for s in farid] == [2, 2]
    assert not any(t.startswith("changed since") for t in farid[0]["tags"])
    d = farid[0]["study_date"]
    assert f"changed since {d[:4]}-{d[4:6]}-{d[6:]}" in farid[1]["tags"] and "progressing" in farid[1]["tags"]
    sets = {s["patient"]["id"]: s["set"]["text"] for s in studies}
    assert sets["DEMO005"] == "FMX complete (18 images)" and sets["DEMO001"] == "4BW complete (4 images)"
    labels = {f["label"] for s in studies for im in s["images"] for f in im["findings"]}
    assert "tooth" in labels and len(labels - {"tooth"}) >= 2, labels
    # DICOM bitewings carry a tooth list, so their findings are placed on numbered teeth
    bw = [f for s in studies for im in s["images"] if im["kind"] == "bitewing" for f in im["findings"]]
    assert sum(f["tooth_universal"] is not None for f in bw) >= 0.8 * len(bw)
