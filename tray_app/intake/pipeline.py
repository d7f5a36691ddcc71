"""One image from `ready` to `analyzed` (or `duplicate` / `quarantined`), crash-safe.

Every step commits its state before the next starts; findings, the `analyzed` state and
the inference audit entry commit in one transaction, so a crash never leaves an image
analysed twice or half-recorded.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from ..analysis.merge import merge_duplicates
from ..analysis.model import Detection, OnnxModel, Outputs
from ..analysis.tooth_mapping import place_findings
from ..clinical import study_summary
from ..clinical.image_type import INTRAORAL, classify
from ..config import Config, Paths, SourceConfig
from ..sources.links import LINK_REASON, inside, is_link
from ..store import images as image_repo
from ..store.db import Database
from ..store.studies import assign_study
from . import image_cache
from .decode import DecodedImage, decode_file
from .after_steps import StepRunner, is_inline
from .commit_stage import CommitStage
from .errors import QuarantineError, RetryLater, is_disk_full
from .patient_fields import patient_of
from .outcome import Outcome, Prepared, Work
from .prefetch import Prefetcher
from .staging import copy_hashed

log = logging.getLogger(__name__)


def _read_error(exc: OSError) -> RetryLater:
    """Reading a file from an export folder failed: a passing condition, retried."""
    if isinstance(exc, PermissionError):
        return RetryLater(f"file is locked by another program ({exc.strerror or exc})")
    if isinstance(exc, FileNotFoundError):
        return RetryLater("file vanished while reading")
    return RetryLater(f"reading the file failed ({exc.strerror or exc})")


class _AlreadyDone(Exception):
    """The row left `ready` while we worked on it (rolled back; the other worker's result stands)."""


@dataclass
class Processor:
    db: Database
    config: Config
    paths: Paths
    model: OnnxModel | None = None
    sources: dict[int, SourceConfig] = field(default_factory=dict)
    on_change: Callable[[str, int], None] | None = None  # UI/tray hook: (event, image_id)
    # steps after an image is analysed (or decoded without a model) and its study summary refreshed,
    # in order: alerts, image-quality advice, …, added by the composition root (app.py). Each gets
    # the Outcome; a failing step is logged and never stops intake.
    after_image: list[Callable[[Outcome], None]] = field(default_factory=list)
    # where steps that may lag run (after_steps.StepRunner, set by app.py); None: all inline
    step_runner: StepRunner | None = None
    # the preparation thread (`prefetch`): the next image's intake and pre-processing meanwhile
    prefetcher: Prefetcher | None = None
    # the commit thread (`process(..., commit_behind=True)`): the analysed commit, summary and
    # steps of this image while the model runs on the next; started on first use
    committer: CommitStage | None = None

    def __post_init__(self) -> None:
        self.staging = self.paths.cache_dir / "staging"
        self.image_cache = self.paths.cache_dir / "images"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.image_cache.mkdir(parents=True, exist_ok=True)
        self._sweep_staging()

    def warm_up(self) -> None:
        """The model's first run and the decoder's first image (plugin imports, first calls) cost
        ~30 ms extra each; the service pays them at start, not with the first patient's image."""
        if self.model is not None:
            self.model.warm_up()
        probe = self.staging / ".warm-up.png"
        try:
            Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).save(probe)
            decode_file(probe, max_pixels=self.config.intake.max_pixels)
        finally:
            probe.unlink(missing_ok=True)

    def _sweep_staging(self, older_than_s: float = 3600.0) -> None:
        """Staged copies left by a crash; young ones may belong to a CLI ingest running now."""
        now = time.time()
        for f in self.staging.iterdir():
            try:
                if now - f.stat().st_mtime > older_than_s:
                    f.unlink()
            except OSError:
                pass

    # -- entry point -----------------------------------------------------------------------
    def process(self, image_id: int, *, commit_behind: bool = False,
                prefetch_next: int | None | bool | Callable[[], int | None] = False) -> Outcome:
        """One image as far as it can go now; uses what the preparation thread made ready. With
        `prefetch_next` (an id, None, or a function asked for one) the preparation thread starts on
        that image once this one is prepared (not meanwhile: the two would compete for the second
        core). With `commit_behind` the result is recorded on the commit thread: the outcome is
        then "committing" and the image stays `decoded` until that is done."""
        prepared = self.prefetcher.take(image_id) if self.prefetcher else None  # re-raises its failure
        if prepared is None:
            prepared = self.prepare(image_id)
        if prefetch_next is not False:
            self.prefetch(prefetch_next() if callable(prefetch_next) else prefetch_next, behind=image_id)
        if prepared.outcome is not None:
            return self._notify(prepared.outcome) if prepared.notify else prepared.outcome
        inferred = self._infer(prepared)
        if not commit_behind:
            return self._commit(inferred)
        if self.committer is None:
            self.committer = CommitStage(self._commit)
        self.committer.submit(image_id, inferred)
        return Outcome(image_id, prepared.work.path, "committing", "", prepared.work.study_id)

    def _commit(self, inferred: tuple) -> Outcome:
        prepared, outputs = inferred  # post-processed here (~0.7 ms): off the model's thread
        unvalidated = self.config.analysis.unvalidated_labels
        found = prepared.model.detections(outputs, unvalidated=unvalidated) if outputs is not None else []
        return self._notify(self._record_analysis(prepared, found), summarised=True)

    def held_by_commit(self) -> set[int]:
        return self.committer.held() if self.committer else set()

    def stop_commit(self, timeout: float = 60.0) -> None:
        if self.committer is not None:
            self.committer.stop(timeout)
            self.committer = None

    def prefetch(self, image_id: int | None, *, behind: int | None = None) -> None:
        """Prepare `image_id` on the preparation thread next (None: nothing; an image prepared and
        not taken is dropped) while `behind` is in the model (see `prefetch_arrived`)."""
        if self.prefetcher is None:
            self.prefetcher = Prefetcher(self.prepare)
        self.prefetcher.want(image_id, behind=behind)

    def prefetch_arrived(self, find: Callable[[int], int | None]) -> None:
        """Images became ready while the model runs on one taken before: prepare `find(that one)`."""
        pre = self.prefetcher
        behind = pre.idle_behind() if pre else None
        if behind is not None and (image_id := find(behind)) is not None:
            pre.want_behind(behind, image_id)

    def next_image_waiting(self) -> bool:
        """The preparation thread holds the model's next image: the model is in a burst."""
        return self.prefetcher is not None and self.prefetcher.held() > 0

    def stop_prefetch(self, timeout: float = 30.0) -> None:
        if self.prefetcher is not None:
            self.prefetcher.stop(timeout)
            self.prefetcher = None

    def prepare(self, image_id: int) -> Prepared:
        """Everything before the model: intake (copy, hash, dedupe, decode, `decoded` committed)
        and the model's pre-processing. Safe on the preparation thread: every state it writes is
        committed before the model sees the image, so a crash here loses nothing."""
        row = image_repo.get(self.db, image_id)
        if row is None:
            return Prepared(image_id, Outcome(image_id, "", "changed", "image row is gone"))
        model = self.model
        if row["state"] == "ready":
            outcome, work, pixels = self._intake(row)
            if outcome.status != "decoded" or model is None:
                return Prepared(image_id, outcome, notify=True)
            return self._plan(row, work, pixels, model)
        if row["state"] == "decoded":
            if model is None:
                return Prepared(image_id, Outcome(image_id, row["path"], "decoded", "waiting for a model",
                                                  row["study_id"]))
            return self._plan(row, Work.of_row(row), None, model)
        return Prepared(image_id, Outcome(image_id, row["path"], row["state"], row["reason"], row["study_id"]))

    def _plan(self, row, work: Work, pixels: np.ndarray | None, model: OnnxModel) -> Prepared:
        m = model.manifest
        kinds = set(m.image_kinds)
        if not (not kinds or work.kind in kinds or (work.kind in INTRAORAL and kinds & INTRAORAL)):
            return Prepared(work.image_id, work=work, model=model,
                            note=f"{m.name} does not analyse {work.kind or 'this kind of'} images")
        if pixels is None:
            try:
                pixels = self._pixels_for(row)
            except QuarantineError as exc:
                image_repo.quarantine(self.db, work.image_id, str(exc), work.sha256)
                return Prepared(work.image_id, Outcome(work.image_id, work.path, "quarantined", str(exc),
                                                       work.study_id), notify=True)
        return Prepared(work.image_id, work=work, model=model, plan=model.plan(pixels, kind=work.kind))

    def _summarise(self, study_id: int) -> None:
        try:
            cc = self.config.clinical
            with self.db.tx():  # inside the analysed image's transaction a savepoint: a failure undoes only this
                study_summary.refresh(self.db, study_id, urgent_threshold=cc.urgent_threshold,
                                      fmx_images=cc.fmx_images)
        except Exception:  # derived data: recomputed at the next change, never blocks intake
            log.exception("study %s: clinical summary failed", study_id)

    def _notify(self, outcome: Outcome, *, summarised: bool = False) -> Outcome:
        if outcome.study_id is not None and outcome.status in ("analyzed", "decoded"):
            if not summarised:
                self._summarise(outcome.study_id)
            for step in self.after_image:
                if self.step_runner is not None and self.step_runner.running and not is_inline(step):
                    self.step_runner.submit(step, outcome)
                    continue
                try:
                    step(outcome)
                except Exception:
                    log.exception("study %s: step %s failed", outcome.study_id, getattr(step, "__name__", step))
        if self.on_change and outcome.status in ("analyzed", "decoded", "duplicate", "quarantined"):
            try:
                self.on_change(outcome.status, outcome.image_id)
            except Exception:  # a UI hook must never stop the pipeline
                log.exception("change hook failed")
        return outcome

    # -- intake ------------------------------------------------------------------------------
    def _intake(self, row) -> tuple[Outcome, Work | None, np.ndarray | None]:
        """Intake of a `ready` row; when it ends `decoded`, also the work and pixels for analysis."""
        result = self._intake_file(row)
        return result if isinstance(result, tuple) else (result, None, None)

    def _intake_file(self, row) -> Outcome | tuple[Outcome, Work, np.ndarray]:
        image_id, path = row["id"], Path(row["path"])
        try:
            st = path.lstat()
        except FileNotFoundError:
            if not path.parent.is_dir():
                raise RetryLater("the export folder is not reachable (share down?)")
            image_repo.quarantine(self.db, image_id, "file was removed from the export folder before it could be read")
            return Outcome(image_id, str(path), "quarantined", "file was removed before it could be read")
        except PermissionError as exc:
            raise RetryLater(f"file is locked ({exc.strerror or exc})") from exc
        except OSError as exc:
            raise RetryLater(f"file cannot be reached ({exc.strerror or exc})") from exc
        source = self.sources.get(row["source_id"]) if row["source_id"] is not None else None
        if is_link(st) or (source is not None and not inside(str(path), source.path)):
            image_repo.quarantine(self.db, image_id, LINK_REASON)
            return Outcome(image_id, str(path), "quarantined", LINK_REASON)
        if (st.st_size, st.st_mtime_ns) != (row["size"], row["mtime_ns"]):
            image_repo.back_to_discovered(self.db, image_id, st.st_size, st.st_mtime_ns)
            return Outcome(image_id, str(path), "changed", "file changed after it looked complete; waiting again")
        limit = self.config.intake.max_file_mb * 1024 * 1024
        if st.st_size > limit:
            reason = f"file is larger than the {self.config.intake.max_file_mb} MB limit ({st.st_size / 2**20:.0f} MB)"
            image_repo.quarantine(self.db, image_id, reason)
            return Outcome(image_id, str(path), "quarantined", reason)

        staged = self.staging / f"{image_id}{path.suffix.lower()[:8]}"
        try:
            sha256 = self._stage(path, staged)
        except QuarantineError as exc:  # grew past the limit, or became a link, after the checks above
            image_repo.quarantine(self.db, image_id, str(exc))
            return Outcome(image_id, str(path), "quarantined", str(exc))
        try:
            with self.db.tx() as c:
                original = image_repo.find_original(c, image_id, sha256)
                if original is not None:
                    image_repo.mark_duplicate(c, image_id, original, sha256, "content")
                    return Outcome(image_id, str(path), "duplicate", f"same content as image {original['id']}",
                                   duplicate_of=original["id"])
            try:
                decoded = decode_file(staged, max_pixels=self.config.intake.max_pixels)
            except QuarantineError as exc:
                image_repo.quarantine(self.db, image_id, str(exc), sha256)
                return Outcome(image_id, str(path), "quarantined", str(exc))
            except MemoryError:
                reason = "image is too large for the memory of this PC"
                image_repo.quarantine(self.db, image_id, reason, sha256)
                return Outcome(image_id, str(path), "quarantined", reason)
            staged.unlink(missing_ok=True)  # decoded: a crash from here on leaves no copy behind
            try:
                return self._record_decoded(row, path, st, sha256, decoded)
            except _AlreadyDone:
                current = image_repo.get(self.db, image_id)
                return Outcome(image_id, str(path), current["state"], current["reason"], current["study_id"])
        finally:
            staged.unlink(missing_ok=True)

    def probe_staging(self, size: int = 1 << 20) -> None:
        """Raise the OSError a staging copy would meet now (disk or quota full). The database
        accepting a row proves little: SQLite reuses free pages where an image copy needs room."""
        probe = self.staging / ".space-probe"
        try:
            with open(probe, "wb") as f:
                f.write(b"\0" * size)
                f.flush()
                os.fsync(f.fileno())
        finally:
            probe.unlink(missing_ok=True)

    def _stage(self, path: Path, staged: Path) -> str:
        """Copy to local staging while hashing: releases the share quickly, and the bytes
        hashed are exactly the bytes decoded. Capped at intake.max_file_mb (QuarantineError)."""
        try:
            return copy_hashed(path, staged, max_bytes=self.config.intake.max_file_mb * 1024 * 1024)[0]
        except OSError as exc:
            if is_disk_full(exc):
                raise  # our disk, not the file: the service reports it and waits
            raise _read_error(exc) from exc

    def _record_decoded(self, row, path: Path, st: os.stat_result, sha256: str,
                        decoded: DecodedImage) -> Outcome | tuple[Outcome, Work, np.ndarray]:
        image_id = row["id"]
        meta = decoded.meta
        meta["file_name"] = path.name
        meta["format"] = decoded.fmt
        meta["frames"] = decoded.frames
        patient = patient_of(self.sources.get(row["source_id"]) if row["source_id"] is not None else None,
                             path, decoded)
        decision = classify(meta, decoded.width, decoded.height, decoded.frames, pixels=decoded.pixels)
        kind = decision.kind
        meta["type"] = decision.as_dict()
        cache_path = image_cache.write(self.image_cache, image_id, decoded.pixels)
        image_time = datetime.fromtimestamp(st.st_mtime, timezone.utc).isoformat(timespec="milliseconds")
        sop_uid = meta.get("sop_uid", "")
        with self.db.tx() as c:
            original = image_repo.find_original(c, image_id, sha256, sop_uid)
            if original is not None:
                image_repo.mark_duplicate(c, image_id, original, sha256, "SOPInstanceUID")
                cache_path.unlink(missing_ok=True)
                return Outcome(image_id, str(path), "duplicate", f"same SOPInstanceUID as image {original['id']}",
                               duplicate_of=original["id"])
            study_id = assign_study(
                c, study_uid=meta.get("study_uid", ""), patient=patient, source_id=row["source_id"],
                folder=str(path.parent), image_time=image_time,
                window_minutes=self.config.intake.study_window_minutes,
                description=meta.get("study_description") or meta.get("series_description", ""),
            )
            if not image_repo.mark_decoded(
                c, image_id, sha256=sha256, sop_uid=sop_uid, study_id=study_id, kind=kind,
                kind_confidence=decision.confidence, kind_rule=decision.rule, width=decoded.width,
                height=decoded.height, meta=meta, cache_path=str(cache_path), fmt=decoded.fmt,
            ):
                raise _AlreadyDone()  # rolls back the study assignment too
        work = Work(image_id, str(path), kind, sha256, study_id, decoded.width, decoded.height,
                    tuple(meta.get("teeth_fdi") or ()))
        return Outcome(image_id, str(path), "decoded", "", study_id), work, decoded.pixels

    # -- analysis ----------------------------------------------------------------------------
    def _pixels_for(self, row) -> np.ndarray:
        try:
            return image_cache.pixels(row, staging_dir=self.staging)
        except OSError as exc:
            if is_disk_full(exc):
                raise  # our disk, not the file: the service reports it and waits
            raise _read_error(exc) from exc

    def _infer(self, prepared: Prepared) -> tuple[Prepared, Outputs | None]:
        """The model alone on a prepared image (the worker's thread: nothing else waits on it)."""
        outputs = prepared.model.run_outputs(prepared.plan) if prepared.plan is not None else None
        prepared.plan = None  # the tensor is not needed past the model: memory stays flat behind it
        return prepared, outputs

    def _record_analysis(self, prepared: Prepared, detections: list[Detection]) -> Outcome:
        """The model's detections placed on teeth, then findings, the `analyzed` state and the
        inference audit entry in one transaction, with the study's summary (in a savepoint: derived
        data that fails alone) so the study never shows the image without it."""
        work, m = prepared.work, prepared.model.manifest
        note = prepared.note
        labels = {l.name: l for l in m.labels}
        placed = place_findings(detections, kind=work.kind, width=work.width, height=work.height,
                                listed_fdi=work.teeth_fdi)
        proposals, placed = merge_duplicates(detections, placed)
        findings = [
            dict(zip(("x1", "y1", "x2", "y2"), d.box), label=d.label, code=labels[d.label].code, confidence=d.score,
                 severity=labels[d.label].severity, tooth_fdi=p.tooth_fdi, tooth_universal=p.tooth_universal,
                 surfaces=p.surfaces, model_name=m.name, model_version=m.version)
            for d, p in zip(proposals, placed)
        ]
        # the audit keeps every raw output and how many were merged
        inference = dict(
            input_sha256=work.sha256, model=m.name, version=m.version, manifest_sha256=m.sha256,
            thresholds={l.name: l.threshold for l in m.labels},
            outputs=[[d.label, round(d.score, 4), [round(v, 1) for v in d.box]] for d in detections], note=note,
            merged_duplicates=len(detections) - len(proposals),
        )
        with self.db.tx():
            instead = image_repo.mark_analyzed(self.db, work.image_id, work.study_id, model_name=m.name,
                                               model_version=m.version, note=note, findings=findings,
                                               inference=inference)
            if instead is None and work.study_id is not None:
                self._summarise(work.study_id)
        if instead is not None:
            return Outcome(work.image_id, work.path, instead, "", work.study_id)
        return Outcome(work.image_id, work.path, "analyzed", note, work.study_id, len(proposals))
