"""`[analysis]` (which model, how many threads, unvalidated labels) and `[clinical]` (triage, FMX)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .schema import Table


@dataclass
class AnalysisConfig(Table):
    TABLE = "analysis"

    model: str = ""  # model name; empty = the preferred available model
    threads: int = 0  # 0 = fitted to this PC
    # labels a model's manifest leaves off by default (not validated on real radiographs)
    # are reported only when this is on; the demo turns it on for its synthetic images
    unvalidated_labels: bool = False

    def validate(self) -> list[str]:
        return ["analysis.threads must be 0 (automatic) or more"] if self.threads < 0 else []


def default_threads() -> int:
    # Leave a core for the front-desk user: a 2-core PC gets one inference thread.
    cores = os.cpu_count() or 2
    return max(1, min(4, cores // 2))


@dataclass
class ClinicalConfig(Table):
    TABLE = "clinical"

    urgent_threshold: float = 2.4  # triage score (severity x confidence) that raises the urgent alert
    fmx_images: int = 18  # the practice's FMX protocol (14-22)

    def validate(self) -> list[str]:
        return [] if 14 <= self.fmx_images <= 22 else ["clinical.fmx_images must be between 14 and 22"]
