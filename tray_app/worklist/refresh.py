"""The worklist's copy of the schedule: read from Open Dental every `refresh_seconds` (and on
demand) into the store, so the worklist answers from the copy, also while Open Dental is down.

`freshness()` says how old the copy is and whether it can be trusted; the tray, `doctor` and
`dental-bridge worklist` show that sentence. Nothing of a patient is logged.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from ..clinical.cdt import imaging_modality
from ..config import Config
from ..pms.schedule import ScheduledImaging, read_imaging_schedule
from ..store import worklist as repo
from ..store.db import Database, utcnow

log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0  # after a failed read, try again sooner than the usual refresh


def window(config: Config, today: date | None = None) -> tuple[date, date]:
    first = today or date.today()
    return first, first + timedelta(days=config.worklist.days_ahead)


def _pn(last: str, first: str, middle: str = "") -> str:
    parts = [p.replace("^", " ").replace("\\", " ").strip() for p in (last, first, middle)]
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts)


def to_items(visits: list[ScheduledImaging]) -> list[repo.Item]:
    """One item per appointment and modality (a pano and bitewings at one visit are two steps)."""
    items = []
    for v in visits:
        for modality in dict.fromkeys(m for m, _, _ in v.procedures):
            items.append(repo.Item(
                apt_num=v.apt_num, modality=modality, pat_num=v.pat_num, chart_number=v.chart_number,
                patient_name=_pn(v.last, v.first, v.middle), birth_date=v.birth_date.replace("-", ""), sex=v.sex,
                start=v.start, procedures=tuple((c, d) for m, c, d in v.procedures if m == modality),
                provider=_pn(v.provider_last, v.provider_first)))
    return items


def default_client(config: Config):
    """An Open Dental client from `[export.opendental]` and the keys in the keyring (raises ODError)."""
    from ..pms.client import ODClient, ODError
    from ..pms.keys import SecretsError, get_opendental_keys

    try:
        keys = get_opendental_keys()
    except SecretsError as exc:
        raise ODError(str(exc), retry=True, written=False) from exc
    if keys is None:
        raise ODError("the Open Dental API keys are missing: run `dental-bridge secrets set opendental`",
                      retry=False, written=False)
    return ODClient(config.export.opendental, keys)


def refresh(db: Database, config: Config, *, client_factory: Callable | None = None,
            today: date | None = None) -> tuple[bool, str]:
    """Read the window's imaging appointments into the copy. (ok, error sentence); never raises."""
    from ..pms.client import ODError

    first, last = window(config, today)
    started = time.monotonic()
    try:
        client = (client_factory or default_client)(config)
        try:
            visits, skipped = read_imaging_schedule(client, first, last, imaging_modality)
        finally:
            client.close()
    except ODError as exc:
        # the client words its errors for the export ("…; the export will be tried again"): keep the cause
        error = re.split(r"[;,] the export ", str(exc))[0]
    except Exception as exc:  # an answer we cannot read must not end the refresher
        log.exception("worklist: reading the schedule failed")
        error = f"Open Dental's schedule could not be read ({type(exc).__name__})"
    else:
        items = to_items(visits)
        repo.replace(db, items, first_day=first.isoformat(), last_day=last.isoformat(), now=utcnow(),
                     skipped=skipped)
        log.info("worklist: schedule read, %d imaging item(s) for %s..%s in %.1f s", len(items), first, last,
                 time.monotonic() - started)
        return True, ""
    repo.record_failure(db, now=utcnow(), error=error)
    log.warning("worklist: the schedule could not be read; answering from the last copy (%s)", error)
    return False, error


@dataclass(frozen=True)
class Freshness:
    stale: bool
    age_seconds: float | None  # None = never read
    sentence: str  # short, for the tray ('' when fresh)
    detail: str  # for doctor and the CLI: the age and the last error


def _age_words(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def freshness(state: repo.RefreshState, config: Config, *, now: datetime | None = None,
              today: date | None = None) -> Freshness:
    """Stale when the last read failed, the copy is older than three refresh periods (the
    refresher is not running), or it does not cover today."""
    now = now or datetime.now(timezone.utc)
    if not state.refreshed_at:
        why = state.error or "not read yet"
        return Freshness(True, None, "Worklist: no schedule from Open Dental yet",
                         f"the schedule has not been read from Open Dental yet ({why})")
    age = max(0.0, (now - datetime.fromisoformat(state.refreshed_at)).total_seconds())
    words = _age_words(age)
    covers_today = state.first_day <= (today or date.today()).isoformat() <= state.last_day
    if state.error:
        return Freshness(True, age, f"Worklist: Open Dental not reachable, schedule {words} old",
                         f"answering from the schedule read {words} ago; the last read failed: {state.error}")
    if not covers_today:
        return Freshness(True, age, "Worklist: today's schedule not read yet",
                         f"the copy of the schedule ({state.first_day}..{state.last_day}) does not cover today")
    if age > 3 * config.worklist.refresh_seconds:
        return Freshness(True, age, f"Worklist: schedule {words} old",
                         f"the schedule was last read {words} ago (it is read every "
                         f"{config.worklist.refresh_seconds} s while Dental AI Bridge runs)")
    return Freshness(False, age, "", f"the schedule was read {words} ago")


class Refresher:
    """The `worklist-refresh` thread: a read at start, then every refresh_seconds; `refresh_now()` wakes it."""

    def __init__(self, db: Database, config: Config, *, client_factory: Callable | None = None):
        self.db, self.config, self.client_factory = db, config, client_factory
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reads = 0  # finished attempts (tests wait on it)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="worklist-refresh", daemon=True)
        self._thread.start()

    def refresh_now(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)  # a read in flight ends at the client's timeout; the thread is a daemon

    def _loop(self) -> None:
        while not self._stop.is_set():
            ok, _ = refresh(self.db, self.config, client_factory=self.client_factory)
            self.reads += 1
            self._wake.wait(self.config.worklist.refresh_seconds if ok else
                            min(RETRY_SECONDS, self.config.worklist.refresh_seconds))
            self._wake.clear()
