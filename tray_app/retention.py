"""PHI minimisation: after the retention period the copies of radiographs we hold are deleted.

What goes, for every study whose newest image is older than the period and that has no
export still waiting (queued, failed, needs attention — those keep their pixels until the
export is done or cancelled): the cached pixels, the rendered export files, and the copies
the DICOM receiver wrote into the inbox. That covers exported studies and the ones never
exported: silent pilot, never signed, signed with no destination. Inbox files no image still
needs (quarantined or duplicate instances, names intake never read) go after the same
period. The analysis worker runs this hourly when idle (`AnalysisWorker.housekeeping`);
`dental-bridge purge` too.

What stays: the database rows (findings for the pilot report, the audit log) and the signed
report snapshot, the record of what was sent to the chart (the database refuses to change it).
The imaging software's own export folders are the practice's and are never touched.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .store import audit
from .store import images as image_repo
from .store import studies as studies_repo
from .store.db import Database

log = logging.getLogger(__name__)

WAITING_EXPORT = ("queued", "sending", "failed", "needs_attention")
PENDING_IMAGE = ("discovered", "ready", "decoded")


def purge(db: Database, cache_dir: Path, retention_days: int, *, inbox_dir: Path | None = None,
          dry_run: bool = False, now: datetime | None = None) -> dict:
    when = now or datetime.now(timezone.utc)
    cutoff = (when - timedelta(days=retention_days)).isoformat(timespec="milliseconds")
    studies = studies_repo.quiet_without_waiting_export(db, cutoff, WAITING_EXPORT)
    rows = [r for r in image_repo.cached_before(db, cutoff) if r["study_id"] in studies]
    files = [Path(r["cache_path"]) for r in rows]
    rendered_dir = cache_dir / "exports"
    rendered = [p for p in rendered_dir.glob("*/*") if p.parent.name.isdigit() and int(p.parent.name) in studies] \
        if rendered_dir.is_dir() else []
    inbox = _inbox_files(db, inbox_dir, studies, cutoff) if inbox_dir else []
    if not dry_run:
        for p in files + rendered + inbox:
            try:
                p.unlink(missing_ok=True)
            except OSError as exc:  # held by a viewer or antivirus: the next hourly pass tries again
                log.warning("retention: a file could not be deleted yet (%s)", type(exc).__name__)
        with db.tx() as c:
            image_repo.forget_caches(c, [r["id"] for r in rows])
            if rows or rendered or inbox:
                by_status: dict[str, int] = {}
                for sid in {r["study_id"] for r in rows}:
                    by_status[studies[sid]] = by_status.get(studies[sid], 0) + 1
                audit.append(c, "retention_purge", "", images=len(rows), rendered_files=len(rendered),
                             inbox_files=len(inbox), studies_by_status=by_status, retention_days=retention_days)
        if rows or rendered or inbox:
            log.info("retention: purged %d cached image(s), %d rendered file(s), %d DICOM inbox file(s)",
                     len(rows), len(rendered), len(inbox))
    return {"images": len(rows), "rendered_files": len(rendered), "inbox_files": len(inbox), "dry_run": dry_run,
            "cutoff": cutoff}


def _inbox_files(db: Database, inbox_dir: Path, studies: dict, cutoff: str) -> list[Path]:
    """Inbox files older than the period that no image still needs (one waiting for intake, or
    of a study whose export still waits)."""
    inbox_dir = Path(inbox_dir)
    if not inbox_dir.is_dir():
        return []
    keep = set()
    prefix = str(inbox_dir)
    for r in image_repo.under_folder(db, prefix):
        if r["state"] in PENDING_IMAGE or (r["study_id"] is not None and r["study_id"] not in studies
                                          and r["state"] not in ("quarantined", "duplicate")):
            keep.add(Path(r["path"]))
    limit = datetime.fromisoformat(cutoff).timestamp()
    out = []
    for p in inbox_dir.iterdir():  # hidden names too: an interrupted receive, a name intake skips
        try:
            if p.is_file() and not p.is_symlink() and p not in keep and p.stat().st_mtime < limit:
                out.append(p)
        except OSError:
            continue
    return out
