"""What the tray icon shows, computed from the database — Qt-free, so it is tested as a table.

`compute(conn, paused=..., source_paths=..., rollout=...)` reads a few cheap counts
(`store/status.py`) and returns a `TrayState`: one icon state, a tooltip (Windows truncates tray
tooltips at 127 characters), the counts, and the ids the notifier compares between polls.
`Notifier` turns the change between two states into notifications, rate-limited per kind.

Icon states, most important first (one icon, the tooltip lists everything):
urgent > export_failing > waiting_for_share > paused > review > watching. A problem of the PC
the service reports (disk full, the DICOM port taken, a worklist answering from a stale copy of
the schedule) shows as waiting_for_share, the amber
"needs attention" icon, with its sentence first in the tooltip.
A silent pilot never shows findings, so it never reports urgent findings or studies to review.
No names or paths of patients appear here: tooltips and notifications may be seen by anyone
passing the front desk.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..store import alerts as alerts_store
from ..store import quality, status

STATES = ("watching", "paused", "waiting_for_share", "export_failing", "review", "urgent")
TOOLTIP_MAX = 127


@dataclass(frozen=True)
class TrayState:
    state: str
    tooltip: str
    to_review: int = 0
    urgent_ids: frozenset[int] = frozenset()
    waiting_sources: tuple[str, ...] = ()
    failed_exports: frozenset[int] = frozenset()
    quarantined: int = 0
    paused: bool = False
    no_sources: bool = False
    details: tuple[str, ...] = ()
    # (study id, its urgent alert's text: export/urgent_alert.py) — the notification says what was flagged
    alerts: tuple[tuple[int, str], ...] = ()
    advice: tuple[tuple[str, str], ...] = ()  # (key, sentence) of retake advice on studies to review

    @property
    def urgent(self) -> int:
        return len(self.urgent_ids)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def compute(conn: sqlite3.Connection, *, paused: bool = False, source_paths: Iterable[str] | None = None,
            rollout: str = "assistive", problem: str = "", receiver: str = "", analysing: bool = True) -> TrayState:
    """The tray state from the database. `source_paths`: the configured (enabled) watch folders;
    rows of folders removed from the settings are ignored. None = every row in `sources`.
    `problem`: the service's current PC problem; `receiver`: e.g. "DICOM :11112" when listening;
    `analysing`: a model is loaded (without one, waiting images are no progress)."""
    wanted = None if source_paths is None else set(source_paths)
    sources = [(p, s) for p, s in status.source_statuses(conn) if wanted is None or p in wanted]
    no_sources = (not sources) if wanted is None else not wanted
    waiting = tuple(sorted(p for p, s in sources if s == "waiting_for_folder"))

    silent = rollout == "silent_pilot"
    to_review, urgent_ids = 0, frozenset()
    if not silent:
        to_review = status.studies_to_review(conn)
        urgent_ids = status.urgent_study_ids(conn)
    failed = status.failing_export_ids(conn)
    quarantined = status.quarantined_images(conn)
    unverified = status.unverified_auto_exports(conn) if rollout == "targeted_automation" else 0
    advice = tuple(quality.open_advice(conn))  # image quality is no finding: shown in a silent pilot too

    if urgent_ids:
        state = "urgent"
    elif failed:
        state = "export_failing"
    elif waiting or no_sources or problem:
        state = "waiting_for_share"
    elif paused:
        state = "paused"
    elif to_review:
        state = "review"
    else:
        state = "watching"

    details: list[str] = [problem[:1].upper() + problem[1:]] if problem else []
    if paused:
        details.append("Paused")
    if no_sources:
        details.append("No watch folder set up: open Settings")
    elif waiting:
        if len(waiting) == 1:
            details.append(f"Waiting for {waiting[0]}")
        else:
            details.append(f"Waiting for {len(waiting)} folders")
    done, total = status.analysis_progress(conn) if analysing and not paused else (0, 0)
    if total:  # a big model takes seconds per image: say how far an FMX or a backlog is
        details.append(f"Analysing {min(done + 1, total)} of {total}")
    if urgent_ids:
        details.append(f"{_plural(len(urgent_ids), 'urgent study', 'urgent studies')}")
    if to_review:
        details.append(f"{_plural(to_review, 'study', 'studies')} to review")
    if failed:
        details.append(f"{_plural(len(failed), 'export')} failing")
    if advice:
        details.append(f"{_plural(len(advice), 'retake')} advised")
    if unverified:
        details.append(f"{unverified} unverified auto-export{'s' if unverified != 1 else ''}")
    if silent:
        details.append("Silent pilot")
    if not details or (len(details) == 1 and silent):
        details.insert(0, f"Watching {_plural(len(sources), 'folder')}")
    if receiver:
        details.append(receiver)
    tooltip = tooltip_text(details)
    return TrayState(state, tooltip, to_review, urgent_ids, waiting, failed, quarantined, paused, no_sources,
                     tuple(details), tuple(sorted(alerts_store.texts(conn, urgent_ids).items())), advice)


def tooltip_text(details: list[str]) -> str:
    text = "Dental AI Bridge — " + " · ".join(details)
    if len(text) > TOOLTIP_MAX:
        text = text[: TOOLTIP_MAX - 1].rstrip() + "…"
    return text


# -- notifications ------------------------------------------------------------------------------
def _urgent_message(state: TrayState, new_ids: frozenset[int], started: bool) -> str:
    """A study flagged urgent while running: its alert's text (the AI finding, not yet reviewed); at
    start-up, or before the alert is recorded, how many wait."""
    n = len(state.urgent_ids)
    texts = dict(state.alerts)
    said = [texts[i] for i in sorted(new_ids) if i in texts] if started else []
    if not said:
        return (f"{_plural(n, 'study is', 'studies are')} flagged urgent. Open the review window to see "
                f"{'it' if n == 1 else 'them'}.")
    others = f" ({_plural(n - 1, 'other urgent study', 'other urgent studies')} waiting.)" if n > 1 else ""
    return f"{said[-1]}{others} Open the review window."



@dataclass(frozen=True)
class Notification:
    kind: str  # urgent | retake | export_failed | waiting | quarantined
    title: str
    message: str


@dataclass
class RateLimiter:
    """At most one notification per kind per `per_kind` seconds, and none closer than `gap`
    seconds to the previous one (a burst becomes one message, not a wall of toasts). Retake
    advice waits for no gap: it matters while the patient is still in the chair."""

    per_kind: dict[str, float] = field(default_factory=lambda: {"urgent": 120.0, "export_failed": 900.0,
                                                                 "waiting": 900.0, "quarantined": 900.0,
                                                                 "retake": 0.0})
    immediate: tuple[str, ...] = ("retake",)
    gap: float = 20.0
    clock: Callable[[], float] = time.monotonic
    _last_kind: dict[str, float] = field(default_factory=dict)
    _last_any: float | None = None

    def allow(self, kind: str) -> bool:
        now = self.clock()
        if self._last_any is not None and now - self._last_any < self.gap and kind not in self.immediate:
            return False
        last = self._last_kind.get(kind)
        if last is not None and now - last < self.per_kind.get(kind, 600.0):
            return False
        self._last_kind[kind] = now
        self._last_any = now
        return True


class Notifier:
    """Compares consecutive states; returns the notifications to show now. Something noticed
    while rate-limited is not lost: it stays pending and is announced when allowed."""

    def __init__(self, limiter: RateLimiter | None = None):
        self.limiter = limiter or RateLimiter()
        self._prev: TrayState | None = None
        self._pending: dict[str, Notification] = {}

    def update(self, state: TrayState) -> list[Notification]:
        prev, self._prev = self._prev, state
        started = prev is not None
        if prev is None:
            # at start-up, urgent studies and failing exports waiting from before are worth a
            # message; folder status and quarantines are yesterday's news
            prev = TrayState("watching", "", waiting_sources=state.waiting_sources, quarantined=state.quarantined,
                             advice=state.advice)
        new_urgent = state.urgent_ids - prev.urgent_ids
        if new_urgent:
            self._pending["urgent"] = Notification("urgent", "Urgent finding", _urgent_message(state, new_urgent,
                                                                                              started))
        seen = {key for key, _ in prev.advice}
        new_advice = [sentence for key, sentence in state.advice if key not in seen]
        if new_advice:
            more = f" (+{len(new_advice) - 1} more: see the review window)" if len(new_advice) > 1 else ""
            self._pending["retake"] = Notification("retake", "Retake advised", new_advice[0] + more)
        new_failed = state.failed_exports - prev.failed_exports
        if new_failed:
            self._pending["export_failed"] = Notification(
                "export_failed", "Export failing",
                f"{_plural(len(state.failed_exports), 'report')} could not be sent to the practice system. "
                "Open the review window or run `dental-bridge doctor`.")
        new_waiting = set(state.waiting_sources) - set(prev.waiting_sources)
        if new_waiting:
            self._pending["waiting"] = Notification(
                "waiting", "Watch folder not reachable",
                f"{sorted(new_waiting)[0]} cannot be reached; files are picked up when it is back.")
        if state.quarantined > prev.quarantined:
            self._pending["quarantined"] = Notification(
                "quarantined", "Image set aside",
                f"{_plural(state.quarantined - prev.quarantined, 'image')} could not be read. "
                "The review window lists the reason.")
        # drop what has resolved itself meanwhile
        if not state.urgent_ids:
            self._pending.pop("urgent", None)
        if not state.failed_exports:
            self._pending.pop("export_failed", None)
        if not state.waiting_sources:
            self._pending.pop("waiting", None)
        out = []
        for kind in ("urgent", "retake", "export_failed", "waiting", "quarantined"):
            note = self._pending.get(kind)
            if note is not None and self.limiter.allow(kind):
                out.append(self._pending.pop(kind))
        return out
