"""The analysis worker: one thread that takes images from `ready` to `analyzed`, one at a time.

A locked or unreachable file is retried with backoff and never given up; an unexpected
failure of one image is retried a few times, then that image is set aside with the reason,
so one bad image never stalls the queue. Our own disk being full is the PC's problem, not
the image's: nothing is counted against the file, and once writing works again the watch
folders are scanned for what arrived meanwhile. When idle the worker also runs the targeted
automation pass and the hourly retention purge.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .automation import run_pass
from .config import Config
from .intake.errors import RetryLater, is_disk_full
from .intake.pipeline import Outcome, Processor
from .retention import purge
from .sources.dicom_scp import inbox_dir
from .store import images as image_repo
from .store.db import Database

log = logging.getLogger(__name__)


@dataclass
class Health:
    """Conditions of the PC (not of any one image) that the tray shows."""

    DISK_FULL = ("the disk holding Dental AI Bridge's data is full: free some space; "
                 "waiting images are read again automatically")

    disk_full: bool = False
    rescan_needed: bool = False  # some file may not have been recorded: scan again once writes work
    receiver_problem: str = ""  # the DICOM receiver's or the review hub's port could not be taken

    def component_failed(self, exc: BaseException) -> None:
        """A watcher, the readiness monitor or the worker could not record something."""
        self.rescan_needed = True
        if is_disk_full(exc):
            if not self.disk_full:
                log.error("%s (%s)", self.DISK_FULL, exc)
            self.disk_full = True

    @property
    def problem(self) -> str:
        """The condition of the PC the tray should show (empty when there is none)."""
        return self.DISK_FULL if self.disk_full else self.receiver_problem


class AnalysisWorker:
    MAX_UNEXPECTED_FAILURES = 3

    def __init__(self, db: Database, config: Config, data_dir: Path, cache_dir: Path, processor: Processor,
                 health: Health, wake: threading.Event, *, load_model: Callable[[], None],
                 rescan: Callable[[], None], wake_readiness: Callable[[], None],
                 wake_exporter: Callable[[], None]):
        self.db, self.config, self.processor, self.health, self.wake = db, config, processor, health, wake
        self.data_dir, self.cache_dir = data_dir, cache_dir
        self._load_model, self._rescan = load_model, rescan
        self._wake_readiness, self._wake_exporter = wake_readiness, wake_exporter
        self.paused = False
        self._retry_at: dict[int, float] = {}  # image id -> monotonic time of its next try
        self._arrived = False  # images became ready since the loop last looked (work_arrived)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- thread ------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="analysis-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end after the image it is working on (`join` waits for it)."""
        self._stop.set()
        self.wake.set()

    def join(self, timeout: float) -> None:
        if self._thread:
            self._thread.join(timeout=timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def waiting_retries(self) -> bool:
        return bool(self._retry_at)

    def _loop(self) -> None:
        if self.processor.model is None:
            self._load_model()  # off the GUI thread; a slow model load never blocks watching
            try:
                self.processor.warm_up()
            except Exception:  # the first image meets (and reports) whatever this was
                log.exception("warm-up failed")
        last_housekeeping = last_disk_check = last_automation = 0.0
        while not self._stop.is_set():
            try:
                did = self.work_once(prefetch=True, commit_behind=True)
            except Exception:
                log.exception("analysis worker pass failed; continuing")
                did = False
            if not did and self.config.governance.automated and time.monotonic() - last_automation > 5:
                last_automation = time.monotonic()
                self.automation_pass()
            if not did and time.monotonic() - last_housekeeping > 3600:
                last_housekeeping = time.monotonic()
                self.housekeeping()
            if not did and self.health.rescan_needed and time.monotonic() - last_disk_check > 10:
                last_disk_check = time.monotonic()
                self._recover_from_disk_full()
            if not did:
                self.wake.wait(1.0)
                self.wake.clear()
        self.processor.stop_prefetch()
        self.processor.stop_commit()
        self._take_commit_failures()

    # -- idle-time jobs ----------------------------------------------------------------------
    def automation_pass(self) -> list[dict]:
        """Targeted automation: decide quiet, fully analysed studies and wake the exporter."""
        try:
            decided = run_pass(self.db, self.config.governance, list(self.config.export.destinations))
        except Exception:
            log.exception("automation pass failed; will try again")
            return []
        if any(d.get("destinations") for d in decided):
            self._wake_exporter()
        return decided

    def housekeeping(self) -> None:
        try:
            purge(self.db, self.cache_dir, self.config.governance.retention_days, inbox_dir=inbox_dir(self.data_dir))
        except Exception:
            log.exception("retention purge failed; will try again later")

    def _recover_from_disk_full(self) -> None:
        """Files that arrived while the disk was full were never recorded: rescan once it works."""
        try:
            self.processor.probe_staging()
            self._rescan()
        except Exception as exc:
            log.info("still cannot record new files (%s)", exc)
            self.health.component_failed(exc)
            return
        log.info("recording works again: rescanned the watch folders")
        self.health.rescan_needed = False
        self.health.disk_full = False
        self._retry_at.clear()  # images held back for the disk go now (one early retry for locked ones is harmless)
        self._wake_readiness()

    # -- one image ---------------------------------------------------------------------------
    def work_once(self, *, prefetch: bool = False, commit_behind: bool = False) -> Outcome | None:
        """One image; with `prefetch` the preparation thread starts on the next one meanwhile, with
        `commit_behind` this one's result is recorded on the commit thread (the service's loop)."""
        self._take_commit_failures()
        if self.paused:
            return None
        now = time.monotonic()
        for image_id, t in list(self._retry_at.items()):
            if t <= now:
                del self._retry_at[image_id]
        model = self.processor.model is not None
        self._arrived = False
        rows = image_repo.next_works(self.db, model_available=model, skip=self._skipped(), limit=2 if prefetch else 1)
        if not rows:
            return None
        row = rows[0]
        options = {}  # only what is asked for: tests stand in for `process` with plain functions
        if prefetch:
            known = rows[1]["id"] if len(rows) > 1 else None
            # asked once this image is prepared: what became ready meanwhile counts too
            options["prefetch_next"] = lambda: known if known is not None else self._arrived_after(row["id"])
        if commit_behind:
            options["commit_behind"] = True
        try:
            outcome = self.processor.process(row["id"], **options)
            self.health.disk_full = False
            return outcome
        except Exception as exc:
            return self._failed(row["id"], row["path"], exc)

    def work_arrived(self) -> None:
        """Images became ready (the readiness thread): wake the loop, and when the model is busy
        with an image taken before they arrived, start preparing the next one now. Otherwise a
        burst's second image was prepared only after the first one's model run (~30 ms idle)."""
        self._arrived = True
        self.wake.set()
        if not self.paused:
            self.processor.prefetch_arrived(self._arrived_after)

    def _arrived_after(self, image_id: int) -> int | None:
        """The image the loop would take after `image_id`, if any became ready since it looked."""
        if not self._arrived or self.processor.model is None:
            return None
        try:
            rows = image_repo.next_works(self.db, model_available=True, skip=[image_id, *self._skipped()], limit=1)
        except Exception:  # only a head start is lost: the loop finds the image itself
            log.warning("looking ahead for the next image failed", exc_info=True)
            return None
        return rows[0]["id"] if rows else None

    def _skipped(self) -> list[int]:
        """Images the loop does not take now: waiting for a retry, or still being committed."""
        return [*list(self._retry_at), *self.processor.held_by_commit()]

    def _take_commit_failures(self) -> None:
        for image_id, exc in self.processor.committer.take_failures() if self.processor.committer else ():
            row = image_repo.get(self.db, image_id)
            if row is not None:
                self._failed(image_id, row["path"], exc)

    def _failed(self, image_id: int, path: str, exc: BaseException) -> Outcome:
        """What processing an image raised, on this thread or on the commit thread."""
        if isinstance(exc, RetryLater):
            attempts = image_repo.record_attempt(self.db, image_id, str(exc))
            delay = min(300.0, 0.5 * 2 ** min(attempts, 10))  # sharing violations pass; never give up
            self._retry_at[image_id] = time.monotonic() + delay
            log.info("image %d: %s; retrying in %.0f s", image_id, exc, delay)
            return Outcome(image_id, path, "retry", str(exc))
        if is_disk_full(exc):
            # the PC's problem, not the image's: never count it against the file
            self.health.component_failed(exc)
            self._retry_at[image_id] = time.monotonic() + 30.0
            return Outcome(image_id, path, "retry", self.health.problem)
        if not isinstance(exc, Exception):
            raise exc  # KeyboardInterrupt, SystemExit on the commit thread: not the image's fault
        # a bug or a model failure on this one image: retry a few times, then set it aside
        # with the reason, so one bad image can never stall the queue
        log.error("image %d: unexpected failure", image_id, exc_info=exc)
        reason = f"could not be processed ({type(exc).__name__}: {str(exc)[:120]})"
        attempts = image_repo.record_attempt(self.db, image_id, reason)
        if attempts >= self.MAX_UNEXPECTED_FAILURES:
            image_repo.quarantine(self.db, image_id, reason)
            return Outcome(image_id, path, "quarantined", reason)
        self._retry_at[image_id] = time.monotonic() + 2.0 * attempts
        return Outcome(image_id, path, "retry", reason)
