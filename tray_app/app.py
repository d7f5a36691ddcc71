"""Composition root: builds the services from the config and starts/stops them.

Threads: watchdog observers and the supervisor discover paths; the readiness monitor
promotes complete files; one analysis worker takes them through intake and the model.
SQLite (WAL) is the only shared state, so any of them can die and restart without loss.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import registry
from .analysis.manifest import ManifestError
from .analysis.model import OnnxModel
from .config import Config, Paths, SourceConfig, bundled_models_dir
from .intake.errors import RetryLater, is_disk_full
from .intake.pipeline import Outcome, Processor
from .sources.readiness import ReadinessMonitor
from .sources.watch import Discovery, Watcher
from .store import audit
from .store import images as image_repo
from .store import sources as source_repo
from .store.db import Database

log = logging.getLogger(__name__)


def model_search_dirs(paths: Paths) -> list[tuple[Path, str]]:
    return [(paths.user_models_dir, "user"), (bundled_models_dir(), "bundled")]


def load_configured_model(config: Config, paths: Paths) -> tuple[OnnxModel | None, str]:
    """The model to use and, when there is none, a sentence saying why."""
    entries = registry.discover(model_search_dirs(paths))
    entry = registry.choose(entries, config.analysis.model)
    if entry is None:
        broken = [e.error for e in entries if e.error]
        if config.analysis.model:
            why = f"model {config.analysis.model!r} is not installed"
        else:
            why = "no model is installed (put a model folder with model.onnx + model.json in " f"{paths.user_models_dir})"
        return None, why + ("; " + "; ".join(broken) if broken else "")
    try:
        return OnnxModel(entry.manifest, threads=config.analysis.threads), ""
    except ManifestError as exc:
        return None, str(exc)


def sync_sources(db: Database, sources: list[SourceConfig]) -> list[tuple[int, SourceConfig]]:
    out = []
    with db.tx() as c:
        for s in sources:
            if s.enabled:
                out.append((source_repo.upsert(c, s.path, s.kind), s))
    return out


@dataclass
class Service:
    MAX_UNEXPECTED_FAILURES = 3

    config: Config
    paths: Paths
    db: Database = field(init=False)
    model: OnnxModel | None = field(init=False, default=None)
    model_problem: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.paths.ensure()
        self.db = Database(self.paths.database)
        sources = list(self.config.sources)
        self.scp = None
        if self.config.dicom.enabled:
            from .sources.dicom_scp import StorageSCP, inbox_dir

            inbox = inbox_dir(self.paths.data_dir)
            self.scp = StorageSCP(self.config.dicom, inbox, max_instance_bytes=self.config.intake.max_file_mb << 20)
            # pushed images land in the inbox, which is watched like any export folder
            sources.append(SourceConfig(path=str(inbox), kind="native"))
        self.sources = sync_sources(self.db, sources)
        self.wake_worker = threading.Event()
        self.discovery = Discovery(self.db, threading.Event())
        self.readiness = ReadinessMonitor(self.db, self.config.intake.settle_seconds, self.wake_worker,
                                          renamed_in=self.discovery.renamed_in)
        self.discovery.wake = self.readiness.wake
        self.watcher = Watcher(
            self.db, self.discovery, self.sources,
            reconcile_seconds=self.config.intake.reconcile_minutes * 60,
            supervise_seconds=self.config.intake.supervise_seconds,
            poll_seconds=self.config.intake.poll_seconds,
        )
        self.processor = Processor(self.db, self.config, self.paths, None, dict(self.sources))
        from .export.outbox import Outbox, OutboxWorker

        self.outbox = Outbox(self.db, self.config.export, automation=self.config.governance.automated)
        self.exporter = OutboxWorker(self.outbox, poll_seconds=5.0)  # signatures from other processes (CLI) too
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._retry_at: dict[int, float] = {}
        self.paused = False
        self._disk_full = False
        self.receiver_problem = ""  # the DICOM port could not be taken
        self._rescan_needed = False
        self.discovery.on_error = self.readiness.on_error = self._component_failed

    # -- model -----------------------------------------------------------------------------
    def load_model(self) -> None:
        self.model, self.model_problem = load_configured_model(self.config, self.paths)
        self.processor.model = self.model
        if self.model is None:
            log.warning("analysis paused: %s", self.model_problem)
        else:
            m = self.model.manifest
            log.info("model %s %s loaded%s", m.name, m.version, " (demonstration model)" if m.is_demonstration else "")
            self._audit_model_change(m)

    def _audit_model_change(self, m) -> None:
        """Audit when the model in use differs from the last one audited (install, swap, update)."""
        with self.db.tx() as c:
            current = {"name": m.name, "version": m.version, "manifest_sha256": m.sha256,
                       "directory": str(m.directory), "demonstration": m.is_demonstration}
            if audit.latest_data(c, "model_in_use") != current:
                audit.append(c, "model_in_use", f"model:{m.name}", **current)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._worker = threading.Thread(target=self._work_loop, name="analysis-worker", daemon=True)
        self._worker.start()
        self.readiness.start()
        self.watcher.start()
        self.exporter.start()
        if self.scp is not None:
            try:
                self.scp.start()
            except OSError as exc:
                self.receiver_problem = (f"the DICOM receiver cannot listen on port {self.config.dicom.port} "
                                         f"({exc.strerror or exc})")
                log.error(self.receiver_problem)
        log.info("service started: watching %d folder(s)", len(self.sources))

    def stop(self) -> None:
        self._stop.set()
        self.wake_worker.set()
        if self.scp is not None:
            self.scp.stop()
        self.exporter.stop()
        self.watcher.stop()
        self.readiness.stop()
        if self._worker:
            self._worker.join(timeout=30)
        self.db.close()
        log.info("service stopped")

    # -- work ------------------------------------------------------------------------------
    def _work_loop(self) -> None:
        if self.model is None:
            self.load_model()  # off the GUI thread; a slow model load never blocks watching
        last_housekeeping = last_disk_check = last_automation = 0.0
        while not self._stop.is_set():
            try:
                did = self.work_once()
            except Exception:
                log.exception("analysis worker pass failed; continuing")
                did = False
            if not did and self.config.governance.automated and time.monotonic() - last_automation > 5:
                last_automation = time.monotonic()
                self.automation_pass()
            if not did and time.monotonic() - last_housekeeping > 3600:
                last_housekeeping = time.monotonic()
                self._housekeeping()
            if not did and self._rescan_needed and time.monotonic() - last_disk_check > 10:
                last_disk_check = time.monotonic()
                self._recover_from_disk_full()
            if not did:
                self.wake_worker.wait(1.0)
                self.wake_worker.clear()

    def automation_pass(self) -> list[dict]:
        """Targeted automation: decide quiet, fully analysed studies and wake the exporter."""
        from .automation import run_pass

        try:
            decided = run_pass(self.db, self.config.governance, list(self.config.export.destinations))
        except Exception:
            log.exception("automation pass failed; will try again")
            return []
        if any(d.get("destinations") for d in decided):
            self.exporter.wake()
        return decided

    def _housekeeping(self) -> None:
        from .retention import purge
        from .sources.dicom_scp import inbox_dir

        try:
            purge(self.db, self.paths.cache_dir, self.config.governance.retention_days,
                  inbox_dir=inbox_dir(self.paths.data_dir))
        except Exception:
            log.exception("retention purge failed; will try again later")

    DISK_FULL = ("the disk holding Dental AI Bridge's data is full: free some space; "
                 "waiting images are read again automatically")

    def _component_failed(self, exc: BaseException) -> None:
        self._rescan_needed = True  # some file may not have been recorded: scan again once writes work
        if is_disk_full(exc):
            if not self._disk_full:
                log.error("%s (%s)", self.DISK_FULL, exc)
            self._disk_full = True

    @property
    def problem(self) -> str:
        """The condition of the PC the tray should show (empty when there is none)."""
        return self.DISK_FULL if self._disk_full else self.receiver_problem

    def _recover_from_disk_full(self) -> None:
        """Files that arrived while the disk was full were never recorded: rescan once it works."""
        try:
            self.processor.probe_staging()
            self.watcher.scan_all()
        except Exception as exc:
            log.info("still cannot record new files (%s)", exc)
            self._component_failed(exc)
            return
        log.info("recording works again: rescanned the watch folders")
        self._rescan_needed = False
        self._disk_full = False
        self._retry_at.clear()  # images held back for the disk go now (one early retry for locked ones is harmless)
        self.readiness.wake.set()

    def set_paused(self, paused: bool) -> None:
        """Pause watching and analysis (tray menu); resuming rescans what arrived meanwhile."""
        self.paused = paused
        self.watcher.paused = paused
        self.discovery.paused = paused
        if not paused:  # listing the shares can take long: never on the caller's (tray/GUI) thread
            def rescan():
                try:
                    self.watcher.scan_all()
                except Exception:
                    log.exception("rescan after resume failed")
                self.wake_worker.set()

            threading.Thread(target=rescan, name="resume-scan", daemon=True).start()

    def work_once(self) -> Outcome | None:
        if self.paused:
            return None
        now = time.monotonic()
        for image_id, t in list(self._retry_at.items()):
            if t <= now:
                del self._retry_at[image_id]
        row = image_repo.next_work(self.db, model_available=self.model is not None, skip=self._retry_at)
        if row is None:
            return None
        try:
            outcome = self.processor.process(row["id"])
            self._disk_full = False
            return outcome
        except RetryLater as exc:
            attempts = image_repo.record_attempt(self.db, row["id"], str(exc))
            delay = min(300.0, 0.5 * 2 ** min(attempts, 10))  # sharing violations pass; never give up
            self._retry_at[row["id"]] = time.monotonic() + delay
            log.info("image %d: %s; retrying in %.0f s", row["id"], exc, delay)
            return Outcome(row["id"], row["path"], "retry", str(exc))
        except Exception as exc:
            if is_disk_full(exc):
                # the PC's problem, not the image's: never count it against the file
                self._component_failed(exc)
                self._retry_at[row["id"]] = time.monotonic() + 30.0
                return Outcome(row["id"], row["path"], "retry", self.problem)
            # a bug or a model failure on this one image: retry a few times, then set it aside
            # with the reason, so one bad image can never stall the queue
            log.exception("image %d: unexpected failure", row["id"])
            reason = f"could not be processed ({type(exc).__name__}: {str(exc)[:120]})"
            attempts = image_repo.record_attempt(self.db, row["id"], reason)
            if attempts >= self.MAX_UNEXPECTED_FAILURES:
                image_repo.quarantine(self.db, row["id"], reason)
                return Outcome(row["id"], row["path"], "quarantined", reason)
            self._retry_at[row["id"]] = time.monotonic() + 2.0 * attempts
            return Outcome(row["id"], row["path"], "retry", reason)

    def run_once(self) -> None:
        """Scan the folders, process everything there, return (no background threads)."""
        self.load_model()
        for w in self.watcher.watches:
            w_path = w.source.path
            if os.path.isdir(w_path):
                self.discovery.scan(w_path, w.source_id)
            else:
                log.warning("source %d is not reachable; skipped", w.source_id)
        self.drain()

    def drain(self, timeout: float = 600.0) -> None:
        """Process everything pending now (used by --once and ingest); returns when idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending_discovered = self.readiness.check_once()
            outcome = self.work_once()
            if outcome is None and pending_discovered == 0 and not self._retry_at:
                return
            if outcome is None:
                time.sleep(0.2)
