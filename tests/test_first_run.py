"""The first run as a newcomer has it: no DENTAL_BRIDGE_HOME, a fresh HOME, so everything lives
under ~/.local/share — a dotted folder that must not hide the watched folder's files."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from samples import write_png
from service_helpers import fast_config, home_paths, wait_for
from tray_app.app import Service
from tray_app.sources.filters import is_ignored


def newcomer_env(home) -> dict:
    """The environment of someone who just cloned the repository: own HOME, none of our variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DENTAL_BRIDGE", "XDG_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(home)
    return env


def test_hidden_folders_count_only_below_the_watched_folder():
    root = "/home/ann/.local/share/DentalAIBridge/demo/imaging-export"
    assert not is_ignored(f"{root}/DEMO001_01.dcm", root)
    assert not is_ignored(f"{root}/2026/DEMO001_01.dcm", root + "/")
    assert is_ignored(f"{root}/.sync/DEMO001_01.dcm", root)
    assert is_ignored(f"{root}/2026/.git/x.dcm", root)
    assert is_ignored(f"{root}/.hidden.dcm", root) and is_ignored(f"{root}/~DEMO.dcm.tmp", root)
    share = r"\\server\.practice\xrays"
    assert not is_ignored(share + r"\img.png", share) and is_ignored(share + r"\.sync\img.png", share)


@pytest.mark.parametrize("kind", ["native", "polling"])
def test_a_watched_folder_under_a_dotted_folder_is_read_but_its_dotted_folders_are_not(home, tmp_path, kind):
    export = tmp_path / ".local" / "share" / "practice" / "export"
    (export / ".sync").mkdir(parents=True)
    write_png(export / "before.png", seed=1)
    write_png(export / ".sync" / "before-sync.png", seed=2)
    s = Service(fast_config(export, kind=kind), home_paths())
    s.watcher.poll_seconds = 0.3
    s.start()
    try:
        analyzed = lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0]  # noqa: E731
        wait_for(lambda: analyzed() == 1, 60, message="the file there before the start (scan)")
        write_png(export / "after.png", seed=3)
        (export / ".git").mkdir()
        write_png(export / ".git" / "after-git.png", seed=4)
        write_png(export / ".sync" / "after-sync.png", seed=5)
        wait_for(lambda: analyzed() == 2, 60, message="the file written while watching (event)")
        s.watcher.scan_all()
        time.sleep(1.0)
        names = sorted(os.path.basename(r["path"]) for r in s.db.query("SELECT path FROM images"))
        assert names == ["after.png", "before.png"]
    finally:
        s.stop()


def test_readme_first_command_on_a_fresh_home_analyses_the_demo(tmp_path):
    """`dental-bridge demo` as the README says, on a machine without a display: it runs
    headless, and within a bounded time the demo radiographs are analysed; Ctrl-C stops it."""
    env = newcomer_env(tmp_path / "newcomer")
    (tmp_path / "newcomer").mkdir()
    # Ctrl-C as a terminal sends it: a shell without job control starts a background pytest with SIGINT
    # ignored, and the demo would inherit that (and never see the Ctrl-C below)
    proc = subprocess.Popen([sys.executable, "-m", "tray_app", "demo"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: sum("analysed image" in ln for ln in lines) >= 31 or proc.poll() is not None, 180,
                 interval=0.5, message="the 31 demo radiographs analysed")
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        reader.join(10)
    out = "".join(lines)
    home = tmp_path / "newcomer" / ".local" / "share" / "DentalAIBridge" / "demo"
    assert f"workspace:       {home}" in out, out
    assert "No display found: running headless." in out, out
    assert sum("analysed image" in ln for ln in lines) >= 31, out
    assert "quarantined" not in out, out
    assert out.count("Study ") == 7, out  # the queue printed on exit
    assert "Traceback" not in out, out
