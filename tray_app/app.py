"""Composition root: builds the services from the config and starts/stops them.

Threads: watchdog observers and the supervisor discover paths; the readiness monitor
promotes complete files; one analysis worker (`worker.py`) takes them through intake and
the model; the outbox worker exports. SQLite (WAL) is the only shared state, so any of them
can die and restart without loss.
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
from .clinical import comparison
from .config import Config, Paths, SourceConfig, bundled_models_dir
from .export.outbox import Outbox, OutboxWorker
from .intake.pipeline import Outcome, Processor
from .intake.after_steps import StepRunner, inline
from .quality.step import QualityStep
from .sources.dicom_scp import StorageSCP, inbox_dir
from .sources.readiness import ReadinessMonitor
from .sources.watch import Discovery, Watcher
from .store import audit
from .store import sources as source_repo
from .store.db import Database
from .worker import AnalysisWorker, Health

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
    """Everything `run` starts, built from one config: watcher, readiness monitor, analysis
    worker, outbox worker and (when enabled) the DICOM receiver.

    In client mode (`[client] hub_url` set: an operatory PC reviewing through the hub) none of
    those is built: the hub watches, analyses and exports; this PC only keeps its local
    database (clinicians, audit) and the tray polls the hub."""

    config: Config
    paths: Paths
    db: Database = field(init=False)
    model: OnnxModel | None = field(init=False, default=None)
    model_problem: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.paths.ensure()
        self.db = Database(self.paths.database)
        self.health = Health()
        self._stop = threading.Event()
        self.paused = False
        self.client_mode = bool(self.config.client.hub_url)
        if self.client_mode:
            self.scp = self.hub = self.watcher = self.readiness = self.worker = self.worklist = None
            self.processor = self.outbox = self.exporter = self.urgent_alerts = self.alert_sender = None
            self.sources = []
            return
        sources = list(self.config.sources)
        self.scp = None
        if self.config.dicom.enabled:
            inbox = inbox_dir(self.paths.data_dir)
            self.scp = StorageSCP(self.config.dicom, inbox, max_instance_bytes=self.config.intake.max_file_mb << 20)
            # pushed images land in the inbox, which is watched like any export folder
            sources.append(SourceConfig(path=str(inbox), kind="native"))
        self.sources = sync_sources(self.db, sources)
        self.hub = self._make_hub() if self.config.hub.enabled else None
        self.worklist = self._make_worklist() if self.config.worklist.enabled else None
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
        # the steps that may lag, off the model's thread and behind it during a burst
        self.processor.step_runner = StepRunner(model_busy=self.processor.next_image_waiting)
        self.processor.after_image.append(QualityStep(self.db, self.config))  # retake advice, seconds after arrival
        self.processor.after_image.append(comparison.step_for(   # priors (issue 20)
            self.db, self.config, lambda: self.processor.model))
        self.outbox = Outbox(self.db, self.config.export, automation=self.config.governance.automated)
        self.exporter = OutboxWorker(self.outbox, poll_seconds=5.0)  # signatures from other processes (CLI) too
        self.urgent_alerts, self.alert_sender = self._make_alerts()
        self.worker = AnalysisWorker(
            self.db, self.config, self.paths.data_dir, self.paths.cache_dir, self.processor, self.health,
            self.wake_worker, load_model=self.load_model, rescan=self.watcher.scan_all,
            wake_readiness=self.readiness.wake.set, wake_exporter=self.exporter.wake,
        )
        self.discovery.on_error = self.readiness.on_error = self.health.component_failed
        self.readiness.on_promoted = self.worker.work_arrived

    def _make_alerts(self):
        """The urgent alert at analysis (export/urgent_alert.py): recorded by an after_image step,
        written to Open Dental by a sender thread with the outbox's rules."""
        from .analysis.catalog import ModelCatalog
        from .export.urgent_alert import UrgentAlerts
        from .store import findings

        catalog = ModelCatalog(model_search_dirs(self.paths))
        alerts = UrgentAlerts(self.db, self.config,
                              lambda study_id: catalog.demonstration(findings.models_of_study(self.db, study_id)))
        sender = OutboxWorker(alerts, poll_seconds=5.0)
        alerts.wake = sender.wake
        self.processor.after_image.append(inline(alerts.after_image))  # its row must not wait
        return alerts, sender

    def _make_hub(self):
        """The review hub other PCs review through (its modules load only when it is on)."""
        from .analysis.catalog import ModelCatalog
        from .hub.server import HubServer
        from .review.api import ReviewAPI

        api = ReviewAPI(self.db, self.config, ModelCatalog(model_search_dirs(self.paths)))
        return HubServer(self.config.hub, self.paths.data_dir, api)

    def _make_worklist(self):
        """The DICOM worklist from Open Dental's schedule (loaded only when it is on)."""
        from .worklist import Worklist

        return Worklist(self.config, self.db)

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
        if self.client_mode:
            log.info("service started: client mode, reviewing through the hub")  # no patient data here
            return
        self.processor.step_runner.start()
        self.worker.start()
        self.readiness.start()
        self.watcher.start()
        self.exporter.start()
        self.alert_sender.start()
        if self.scp is not None:
            try:
                self.scp.start()
            except OSError as exc:
                self.health.receiver_problem = (f"the DICOM receiver cannot listen on port {self.config.dicom.port} "
                                                f"({exc.strerror or exc})")
                log.error(self.health.receiver_problem)
        if self.hub is not None:
            try:
                self.hub.start()
            except OSError as exc:
                self.health.receiver_problem = str(exc)
                log.error(self.health.receiver_problem)
        if self.worklist is not None:
            self.worklist.start()  # a port it cannot take is its `problem`, never the service's end
        log.info("service started: watching %d folder(s)", len(self.sources))

    def stop(self) -> None:
        self._stop.set()
        if self.client_mode:
            self.db.close()
            log.info("service stopped")
            return
        self.worker.stop()
        if self.hub is not None:
            self.hub.stop()
        if self.scp is not None:
            self.scp.stop()
        if self.worklist is not None:
            self.worklist.stop()
        self.exporter.stop()
        self.alert_sender.stop()
        self.watcher.stop()
        self.readiness.stop()
        self.worker.join(timeout=30)
        self.processor.step_runner.stop()
        self.db.close()
        log.info("service stopped")

    @property
    def problem(self) -> str:
        """The condition of the PC the tray should show (empty when there is none); then the
        worklist's (its port, or a schedule Open Dental could not refresh)."""
        return self.health.problem or (self.worklist.problem if self.worklist else "")

    def set_paused(self, paused: bool) -> None:
        """Pause watching and analysis (tray menu); resuming rescans what arrived meanwhile."""
        self.paused = paused
        if self.client_mode:
            return
        self.watcher.paused = paused
        self.discovery.paused = paused
        self.worker.paused = paused
        if not paused:  # listing the shares can take long: never on the caller's (tray/GUI) thread
            def rescan():
                try:
                    self.watcher.scan_all()
                except Exception:
                    log.exception("rescan after resume failed")
                self.wake_worker.set()

            threading.Thread(target=rescan, name="resume-scan", daemon=True).start()

    # -- synchronous use (CLI `run --once`, `ingest`, tests) ----------------------------------
    def work_once(self) -> Outcome | None:
        return self.worker.work_once()


    def run_once(self) -> None:
        """Scan the folders, process everything there, return (no background threads)."""
        if self.client_mode:
            return
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
        if self.client_mode:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending_discovered = self.readiness.check_once()
            outcome = self.worker.work_once()
            if outcome is None and pending_discovered == 0 and not self.worker.waiting_retries:
                return
            if outcome is None:
                time.sleep(0.2)
