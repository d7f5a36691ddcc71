"""The home folder's disk fills up: a clear error, nothing quarantined for it, no corruption,
and everything is processed once space is freed. Needs a small tmpfs (root); skipped elsewhere."""

import os
import shutil
import subprocess

import pytest

from model_factory import simple_detector
from samples import write_png
from service_helpers import fast_config, wait_for
from tray_app.store import audit
from tray_app.app import Service
from tray_app.config import Paths


@pytest.fixture
def tiny_home(tmp_path, monkeypatch):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(mnt / "home"))
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_waits_clearly_and_recovers(tiny_home, export_dir):
    paths = Paths.resolve().ensure()
    simple_detector(paths.user_models_dir / "stub")
    s = Service(fast_config(export_dir), paths)
    s.start()
    try:
        write_png(export_dir / "first.png", seed=1)
        wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 1, 30,
                 message="the first image")
        filler = tiny_home / "filler.bin"
        with open(filler, "wb") as f:  # fill the disk to the last block
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        for i in range(3):
            write_png(export_dir / f"during-{i}.png", seed=10 + i, h=400, w=600)
        wait_for(lambda: "disk holding" in s.problem, 30, message="the service to say the disk is full")
        assert s.db.one("SELECT COUNT(*) FROM images WHERE state='quarantined'")[0] == 0
        assert s.worker.is_alive()
        filler.unlink()  # space freed
        wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 4, 60,
                 message="all images analysed after space was freed (no reconcile scan is due in this test)")
        assert s.problem == ""
        assert s.db.one("PRAGMA integrity_check")[0] == "ok"
        assert audit.verify(s.db.conn()).ok
    finally:
        s.stop()


def test_a_full_user_quota_is_the_pcs_problem_not_the_images(home, export_dir, monkeypatch):
    """EDQUOT (roaming-profile or share quota) is reported like a full disk: not retried as the
    file's fault, and the image is read once the quota allows it."""
    import builtins
    import errno

    from tray_app.intake import staging  # the staging copy is written there

    quota_full = [True]

    def staging_open(file, mode="r", *args, **kwargs):
        if "w" in mode and quota_full[0]:
            raise OSError(errno.EDQUOT, "Disk quota exceeded", str(file))
        return builtins.open(file, mode, *args, **kwargs)

    monkeypatch.setattr(staging, "open", staging_open, raising=False)
    s = Service(fast_config(export_dir), Paths.resolve().ensure())
    s.start()
    try:
        write_png(export_dir / "quota.png", seed=3)
        wait_for(lambda: "disk holding" in s.problem, 30, message="the service to say the disk is full")
        row = s.db.one("SELECT state, attempts FROM images")
        assert row["state"] != "quarantined" and not row["attempts"]
        quota_full[0] = False
        wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 1, 60,
                 message="the image analysed once the quota allows it")
        assert s.problem == ""
    finally:
        s.stop()
