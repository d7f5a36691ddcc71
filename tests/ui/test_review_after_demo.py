"""The newcomer's trap: `dental-bridge demo` keeps its workspace apart from the practice's profile,
so a plain `review` afterwards used to open the empty practice profile ("study 3 does not exist").
While the practice has no study yet, `review` opens the demo's queue, and `queue` lists it, and
each says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tray_app.commands.shared import demo_instead
from tray_app.config import Paths, default_demo_home


@pytest.fixture
def fresh_user(tmp_path, monkeypatch):
    """A user profile without DENTAL_BRIDGE_HOME, its folders under tmp_path (platformdirs' XDG variables)."""
    monkeypatch.delenv("DENTAL_BRIDGE_HOME", raising=False)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    assert str(default_demo_home()).startswith(str(tmp_path))
    return Paths.resolve().ensure()


def _review(tmp_path, *args, command="review"):
    env = {k: v for k, v in os.environ.items() if k != "DENTAL_BRIDGE_HOME"}
    return subprocess.run([sys.executable, "-m", "tray_app", command, *args], env=env, capture_output=True,
                          text=True, timeout=180)


def test_review_after_demo_opens_the_demo_queue_and_says_so(fresh_user, built_home, tmp_path):
    shutil.copytree(built_home, default_demo_home())  # what `demo` leaves behind
    out = tmp_path / "shot.png"
    res = _review(tmp_path, "--study", "2", "--screenshot", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "opening the demo workspace" in res.stderr and str(default_demo_home()) in res.stderr
    assert out.is_file()
    # a chart link is the practice's: never answered from the demo
    res = _review(tmp_path, "--patient", "DEMO001", "--screenshot", str(out))
    assert res.returncode == 1 and "demo workspace" not in res.stderr
    assert "No radiographs of the patient" in res.stderr


def test_queue_after_demo_lists_the_demo_queue_and_says_so(fresh_user, built_home, tmp_path):
    """`queue` read the empty practice profile and said "No studies are waiting for review"."""
    shutil.copytree(built_home, default_demo_home())
    res = _review(tmp_path, "--json", command="queue")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "listing the demo workspace" in res.stderr
    import json

    assert len(json.loads(res.stdout)["studies"]) == 3


def test_without_a_demo_a_missing_study_is_an_error(fresh_user, tmp_path):
    res = _review(tmp_path, "--study", "3", "--screenshot", str(tmp_path / "shot.png"))
    assert res.returncode == 1 and "study 3 does not exist" in res.stderr


def test_the_practice_profile_wins_once_it_has_a_study(fresh_user, built_home, tmp_path):
    shutil.copytree(built_home, default_demo_home())
    assert demo_instead(fresh_user) == default_demo_home()
    shutil.copy(Paths.under(built_home).database, fresh_user.database)  # the practice's first studies
    assert demo_instead(fresh_user) is None
