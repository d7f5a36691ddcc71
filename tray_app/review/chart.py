"""Chart context at review: what Open Dental charts for a study's patient, read once per study
and kept in this process's memory for a while (never in the database: medical data should not
sit in another table), with the study's findings that contradict it.

Never logged: the texts are medical data (pms/chart.py).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from ..clinical.chart_checks import contradictions
from ..pms.chart import OK, ChartContext, load_chart
from ..settings.export import OpenDentalConfig
from ..teeth import fdi_to_universal

KEEP_SECONDS = 600.0     # a chart read is reused for ten minutes (the review of one study)
RETRY_SECONDS = 30.0     # Open Dental down or not set up: asked again after half a minute


class ChartCache:
    """study id → (read at, its patient, ChartContext); one read at a time per study."""

    def __init__(self, settings: Callable[[], OpenDentalConfig], *, loader=load_chart,
                 clock: Callable[[], float] = time.monotonic):
        self.settings, self.loader, self.clock = settings, loader, clock
        self._items: dict[int, tuple[float, tuple, ChartContext]] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, study_id: int, patient: dict) -> ChartContext:
        key = tuple(sorted(patient.items()))
        with self._lock:
            study_lock = self._locks.setdefault(study_id, threading.Lock())
        with study_lock:
            found = self._items.get(study_id)
            if found and found[1] == key and self.clock() - found[0] < (
                    KEEP_SECONDS if found[2].state == OK else RETRY_SECONDS):
                return found[2]
            chart = self.loader(self.settings(), patient)
            with self._lock:
                now = self.clock()  # forget what has expired, so the cache never grows with the days
                self._items = {k: v for k, v in self._items.items() if now - v[0] < KEEP_SECONDS}
                self._items[study_id] = (now, key, chart)
            return chart


def teeth_in_view(study: dict) -> list[str]:
    """The Universal numbers of the teeth the study's images show (its findings' teeth)."""
    found = {int(f["tooth_fdi"]) for im in study["images"] for f in im["findings"] if f.get("tooth_fdi")}
    teeth = []
    for fdi in found:
        try:
            teeth.append(str(fdi_to_universal(fdi)))
        except ValueError:
            continue
    return sorted(teeth, key=lambda t: (not t.isdigit(), t.zfill(2)))


def context(study: dict, chart: ChartContext) -> dict:
    """What the review window's chart panel shows for the study (JSON-ready)."""
    findings = [f for im in study["images"] for f in im["findings"]]
    view = teeth_in_view(study)
    out = chart.to_dict()
    out["teeth"] = [t for t in out["teeth"] if t["tooth"] in view]
    out["teeth_in_view"] = view
    out["flags"] = [flag.to_dict() for flag in contradictions(findings, chart)]
    return out
