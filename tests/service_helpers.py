from __future__ import annotations

import time
from pathlib import Path

from tray_app.config import Config, IntakeConfig, Paths, SourceConfig


def fast_config(*folders: Path, kind: str = "auto", **intake) -> Config:
    opts = dict(settle_seconds=0.4, supervise_seconds=0.3, reconcile_minutes=60.0)
    opts.update(intake)
    return Config(sources=[SourceConfig(path=str(f), kind=kind) for f in folders], intake=IntakeConfig(**opts))


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")


def states(db) -> dict[str, str]:
    return {r["path"]: r["state"] for r in db.query("SELECT path, state FROM images ORDER BY id")}


def home_paths() -> Paths:
    return Paths.resolve().ensure()


def wait_started(log_file, before: int, proc=None, timeout: float = 60.0) -> None:
    """Block until the service logged one more 'service started' than `before` (its signal
    handlers are installed from then on)."""
    def started():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the service exited with {proc.returncode} before starting")
        return log_file.exists() and log_file.read_text(errors="replace").count("service started") > before
    wait_for(started, timeout, message="the service to start")


def starts_logged(log_file) -> int:
    return log_file.read_text(errors="replace").count("service started") if log_file.exists() else 0


def cli_sign_all(export_dir: Path, monkeypatch, capsys) -> dict:
    """`ingest` the folder, add dentist 1 (PIN 246813) and `sign 1 --accept all --json`; the JSON."""
    import io
    import json
    import sys

    from tray_app.cli import main

    assert main(["ingest", str(export_dir)]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["clinicians", "add", "Dr Ada", "--role", "dentist", "--pin-stdin"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["sign", "1", "--clinician", "1", "--pin-stdin", "--accept", "all", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def ready_pngs(db, folder: Path, n: int) -> list[int]:
    """n generated radiographs in `folder`, recorded `ready` as the watcher and readiness leave them."""
    from samples import write_png

    return [mark_ready(db, write_png(folder / f"img_{i:02d}.png", seed=i)) for i in range(n)]


def mark_ready(db, path: Path) -> int:
    """A file recorded and `ready`, as the watcher and readiness leave it; its image id."""
    from tray_app.store import images as image_repo

    st = path.stat()
    image_id = image_repo.discover(db, str(path), None, st.st_size, st.st_mtime_ns)
    assert image_repo.mark_ready(db, image_id, st.st_size, st.st_mtime_ns)
    return image_id
