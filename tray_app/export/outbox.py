"""The export outbox: a durable queue of signed reports to write to each destination.

`ReviewAPI.sign()` inserts one `outbox` row per destination in the transaction that stores
the signature. This module drains them:

    queued ──claim──▶ sending ──▶ done
                        │  ├──▶ failed(reason)            retried with exponential backoff + jitter
                        │  └──▶ needs_attention(reason)   patient not found / mismatch / permission /
                        │                                 missing keys: a person must act, then `retry`
                        └── the process died: the claim's lease runs out and the row is taken again

A row's work is split into parts (each annotated image, the PDF, the chart note, …) recorded
in `export_parts` with their own state and a unique marker `[DAB:{study}:{sha12}:{part}]`.
A part is marked `sending` (committed) *before* its write; a part still `sending` on the next
attempt has an unknown outcome, and the exporter looks for its marker at the destination
before writing it again. So a crash between the remote write and our commit never duplicates.

Only studies with a signed report are ever exported: a row without one goes to
needs_attention without any remote request. The one exception is targeted automation
(automation.py): a row of report_kind 'automated' carries an unsigned, immutable snapshot of
low-risk findings marked "AI-generated, not yet verified"; it is sent only while that rollout
mode is on, and is superseded (not sent) once the study has been signed. Every attempt and result is audited in the
transaction that records it. `clock` and `rng` are injectable, so tests can move time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from datetime import datetime, timezone
from typing import Callable

from ..store import audit
from ..store import images, reports, studies
from ..store import outbox as outbox_store
from ..store.db import Database
from ..store.outbox import NOT_SIGNED
from ..store.reports import Report
from . import destinations
from .job import Exporter, Job, NeedsAttention, NotSent, RetryLater
from ..settings.export import ExportConfig

log = logging.getLogger("tray_app.export.outbox")

RETRYABLE = ("queued", "failed")
AUTOMATION_OFF = ("targeted automation was turned off before this automatic export was sent, so nothing was "
                  "written; the study is exported when a dentist signs it")


def demonstration_refused(models: list[str]) -> str:
    return (f"not written: the findings come from a demonstration model ({', '.join(models)}), which is not for "
            "clinical use. To send them anyway (e.g. to a test patient), turn on \"Export findings of a "
            "demonstration model\" in Settings → Export, then retry the export.")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")


def parse_iso(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


class Outbox:
    def __init__(self, db: Database, config: ExportConfig | None = None, *,
                 exporters: dict[str, Exporter] | None = None, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random, keys_provider: Callable | None = None,
                 automation: bool = False):
        self.db = db
        self.config = config or ExportConfig()
        self.automation = automation  # governance.rollout == "targeted_automation"
        self.clock = clock
        self.rng = rng
        self._exporters = dict(exporters or {})
        self._keys_provider = keys_provider

    # -- time ------------------------------------------------------------------------------
    def now_iso(self) -> str:
        return iso(self.clock())

    def horizon(self) -> str:
        """No schedule we write lies further ahead than this; a later one means the wall clock
        was set back (time sync, BIOS battery, manual change), so the row counts as due."""
        r = self.config.retry
        return iso(self.clock() + max(r.backoff_max_seconds, r.lease_seconds) + 60.0)

    def lease_until(self) -> str:
        return iso(self.clock() + self.config.retry.lease_seconds)

    def backoff(self, attempts: int) -> float:
        r = self.config.retry
        delay = min(r.backoff_max_seconds, r.backoff_base_seconds * 2 ** max(0, attempts - 1))
        return delay / 2 + self.rng() * delay / 2  # "equal jitter": never zero, never all at once

    # -- exporters -------------------------------------------------------------------------
    def exporter(self, destination: str) -> Exporter:
        if destination not in self._exporters:
            self._exporters[destination] = destinations.create(destination, self.config,
                                                               keys_provider=self._keys_provider)
        return self._exporters[destination]

    # -- reads -----------------------------------------------------------------------------
    def due(self, *, ignore_backoff: bool = False) -> list[dict]:
        return outbox_store.due(self.db, self.now_iso(), self.horizon(), ignore_backoff=ignore_backoff)

    def next_due_in(self) -> float | None:
        """Seconds until the next row is due (0 if one is due now), None if nothing waits."""
        t = outbox_store.next_attempt_at(self.db)
        if t is None:
            return None
        at = parse_iso(t)
        return 0.0 if at is None else max(0.0, at - self.clock())

    def status(self) -> list[dict]:
        return outbox_store.status(self.db)

    # -- retry by hand ---------------------------------------------------------------------
    def retry(self, outbox_id: int | None = None, actor: str = "") -> int:
        """Puts needs_attention/failed rows back in the queue now (after a person fixed the cause)."""
        with self.db.tx() as c:
            rows = outbox_store.requeue(c, self.now_iso(), outbox_id)
            for r in rows:
                studies.mark_export_retried(c, r["study_id"])
                audit.append(c, "export_retry", f"outbox:{r['id']}", study=r["study_id"], actor=actor)
        return len(rows)

    # -- draining --------------------------------------------------------------------------
    def _claim(self, row: dict, ignore_backoff: bool) -> dict | None:
        with self.db.tx() as c:
            fresh = outbox_store.claim(c, row["id"], self.now_iso(), self.horizon(), self.lease_until(),
                                       ignore_backoff=ignore_backoff)
            if fresh is None:
                return None  # another worker took it
            audit.append(c, "export_attempt", f"outbox:{row['id']}", study=row["study_id"],
                         destination=row["destination"], attempt=fresh["attempts"],
                         resumed=row["state"] == "sending")
        return fresh

    def drain_once(self, *, ignore_backoff: bool = False, limit: int | None = None) -> list[dict]:
        """Attempts every due row once; returns one result per row attempted."""
        results = []
        for row in self.due(ignore_backoff=ignore_backoff)[:limit]:
            claimed = self._claim(row, ignore_backoff)
            if claimed is not None:
                results.append(self._attempt(claimed))
        return results

    def _attempt(self, row: dict) -> dict:
        # The reason (shown in the export status, audited) may name a patient id or a drop file,
        # which carries the patient's name: the log gets only its kind (`logged`).
        try:
            job = self._job(row)
            summary = self.exporter(row["destination"]).export(job)
        except NotSent as exc:
            return self._finish(row, exc.state, str(exc))
        except NeedsAttention as exc:
            return self._finish(row, "needs_attention", str(exc), logged=exc.logged)
        except RetryLater as exc:
            return self._finish(row, "failed", str(exc), logged=exc.logged or "destination not ready")
        except OSError as exc:
            return self._finish(row, "failed", f"could not write the export ({type(exc).__name__}: "
                                f"{exc.strerror or 'error'})", logged=f"{type(exc).__name__} errno {exc.errno}")
        except Exception as exc:  # a bug must not stop the other exports; it is retried and logged
            # where in the code, without the exception's message (it can carry a file name)
            log.error("export %s failed unexpectedly (%s) at:\n%s", row["id"], type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)).rstrip())
            return self._finish(row, "failed", f"unexpected error ({type(exc).__name__}); the export will be retried",
                                logged=f"unexpected {type(exc).__name__}")
        return self._finish(row, "done", _not_sent_note(summary), summary)

    def check_automated(self, c, study_id: int) -> None:
        """An automated row may only write while its study is unsigned and automation is on."""
        if reports.is_signed(c, study_id):
            raise NotSent("superseded", "signed before the automatic export went out; the signed report is "
                                        "sent instead")
        if not self.automation:
            raise NotSent("cancelled", AUTOMATION_OFF)

    def _job(self, row: dict) -> Job:
        if row.get("report_kind") == "automated":
            self.check_automated(self.db.conn(), row["study_id"])
            report = reports.automated_export(self.db, row["study_id"])
            if report is None:
                raise NeedsAttention("the automatic export record of this study is missing; nothing was written")
        else:
            report = reports.signed(self.db, row["study_id"])
        if report is None:
            raise NeedsAttention(NOT_SIGNED)
        if reports.digest(report["snapshot"]) != report["sha256"]:
            raise NeedsAttention("the report does not match its checksum; it was not exported")
        typed = Report.from_json(report["snapshot"])
        self._check_demonstration(row, typed)
        study = studies.get(self.db, row["study_id"])
        job = Job(self, row, typed, report["sha256"], dict(study) if study else {})
        if row["marker"] != job.base_marker:
            outbox_store.set_marker(self.db, row["id"], job.base_marker)
        return job

    def _check_demonstration(self, row: dict, report: Report) -> None:
        """A demonstration model's findings go to a chart only with `export.allow_demonstration_model`
        on; each export that goes out under it is audited with the models it carries."""
        # imported when a report is sent, as render was before: the model catalogue brings numpy,
        # which `export --status` and `--retry` never need
        from ..review.report import demonstration_models

        models = demonstration_models(report)
        if not models:
            return
        if not self.config.allow_demonstration_model:
            raise NeedsAttention(demonstration_refused(models))
        with self.db.tx() as c:
            audit.append(c, "export_demonstration_model", f"outbox:{row['id']}", study=row["study_id"],
                         destination=row["destination"], models=models,
                         setting="export.allow_demonstration_model")

    def _finish(self, row: dict, state: str, reason: str, summary: dict | None = None, *, logged: str = "") -> dict:
        now = self.clock()
        next_at = iso(now + self.backoff(row["attempts"])) if state == "failed" else None
        remote_ids = outbox_store.done_remote_ids(self.db, row["id"])
        signed = row.get("report_kind", "signed") == "signed"
        with self.db.tx() as c:
            outbox_store.finish(c, row["id"], state, reason, next_at, remote_ids, iso(now))
            if state == "done" and signed and outbox_store.signed_rows_open(c, row["study_id"]) == 0:
                studies.mark_exported(c, row["study_id"])
                images.mark_exported(c, row["study_id"], iso(now))
            elif state == "needs_attention" and signed:
                studies.mark_export_failed(c, row["study_id"])
            audit.append(c, f"export_{state}", f"outbox:{row['id']}", study=row["study_id"],
                         destination=row["destination"], attempt=row["attempts"], reason=reason,
                         next_attempt_at=next_at, remote_ids=remote_ids)
        if state not in ("done", "superseded", "cancelled"):
            log.warning("export %s to %s: %s (%s; the reason is in `dental-bridge export --status`)", row["id"],
                        row["destination"], state, logged or state)
        return {"id": row["id"], "study_id": row["study_id"], "destination": row["destination"], "state": state,
                "reason": reason, "attempts": row["attempts"], "next_attempt_at": next_at, "remote_ids": remote_ids,
                **({"summary": summary} if summary else {})}


def _not_sent_note(summary: dict | None) -> str:
    """A finished row that left something out on purpose says so (e.g. no DICOM original)."""
    skipped = (summary or {}).get("not_sent") or {}
    if not skipped:
        return ""
    first = next(iter(skipped.values()))
    return f"done; {len(skipped)} object(s) not sent: {first}" + (" (and more)" if len(skipped) > 1 else "")


class OutboxWorker:
    """Background thread for the service: drains due rows, sleeps until the next is due.

    `wake()` (e.g. after a signature) makes it look now. `poll_seconds` bounds each sleep so
    rows queued by another process (the CLI) are noticed.
    """

    def __init__(self, outbox: Outbox, *, poll_seconds: float = 30.0):
        self.outbox = outbox
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="export-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.outbox.drain_once()
            except Exception:
                log.exception("export worker pass failed")
            self.passes += 1
            try:
                due = self.outbox.next_due_in()
            except Exception:
                due = None
            wait = self.poll_seconds if due is None else min(self.poll_seconds, max(due, 0.05))
            self._wake.wait(wait)
