"""`[[sources]]` (the watch folders) and `[intake]` (when a file counts as complete, limits)."""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Table

SOURCE_KINDS = ("auto", "native", "polling")
PATIENT_ID_MEANINGS = ("patnum", "chartnumber")


@dataclass
class SourceConfig(Table):
    TABLE = "sources"

    path: str = ""
    kind: str = "auto"  # auto | native | polling
    name_template: str = "{chart}_{last}_{first}_{date:%Y%m%d}_{seq}"
    patient_id: str = "chartnumber"  # what the patient id in files means: patnum | chartnumber
    enabled: bool = True

    def validate(self) -> list[str]:
        errors = []
        if not self.path.strip():
            errors.append("a watch folder needs a path")
        if self.kind not in SOURCE_KINDS:
            errors.append(f"watch folder kind must be one of {', '.join(SOURCE_KINDS)} (got {self.kind!r})")
        if self.patient_id not in PATIENT_ID_MEANINGS:
            errors.append(
                f"patient id meaning must be one of {', '.join(PATIENT_ID_MEANINGS)} (got {self.patient_id!r})"
            )
        return errors


@dataclass
class IntakeConfig(Table):
    TABLE = "intake"

    settle_seconds: float = 2.0  # size+mtime must hold this long before a file counts as complete
    reconcile_minutes: float = 2.0  # periodic rescan that catches missed events
    supervise_seconds: float = 5.0  # how often dead/vanished watches are checked
    poll_seconds: float = 2.0  # longest interval of polling (network share) watches; 0.25 s after a change
    study_window_minutes: float = 30.0  # images of one patient+folder within this gap form one study
    # decompression-bomb bound, all frames counted, sized for a 2-core 8 GB PC: a panoramic is
    # ~4.5 MP, a ceph rarely over 15; an image at this limit peaks at ~270 MB in intake (bench.hostile_rss)
    max_pixels: int = 40_000_000
    # an image within max_pixels takes at most ~4 bytes a pixel (intake.decode.max_dataset_bytes)
    max_file_mb: int = 256

    def validate(self) -> list[str]:
        return ["intake.settle_seconds must be at least 0.2"] if self.settle_seconds < 0.2 else []
