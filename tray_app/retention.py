"""PHI minimisation: cached pixels and rendered files of exported studies are purged after
the retention period. The signed report snapshot stays: it is the record of what was sent
to the chart (and the database refuses to change it)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import audit
from .store.db import Database

log = logging.getLogger(__name__)


def purge(db: Database, cache_dir: Path, retention_days: int, *, dry_run: bool = False,
          now: datetime | None = None) -> dict:
    cutoff = ((now or datetime.now(timezone.utc)) - timedelta(days=retention_days)).isoformat(timespec="milliseconds")
    rows = db.query(
        "SELECT i.id, i.cache_path FROM images i JOIN studies s ON s.id = i.study_id "
        "WHERE s.status='exported' AND i.cache_path<>'' AND i.updated_at < ?", (cutoff,))
    files = [Path(r["cache_path"]) for r in rows]
    rendered_dir = cache_dir / "exports"
    studies = {r[0] for r in db.query("SELECT id FROM studies WHERE status='exported' AND last_image_at < ?", (cutoff,))}
    rendered = [p for p in rendered_dir.glob("*/*") if p.parent.name.isdigit() and int(p.parent.name) in studies] \
        if rendered_dir.is_dir() else []
    if not dry_run:
        for p in files + rendered:
            p.unlink(missing_ok=True)
        with db.tx() as c:
            c.executemany("UPDATE images SET cache_path='' WHERE id=?", [(r["id"],) for r in rows])
            if rows or rendered:
                audit.append(c, "retention_purge", "", images=len(rows), rendered_files=len(rendered),
                             retention_days=retention_days)
        if rows or rendered:
            log.info("retention: purged %d cached image(s) and %d rendered file(s)", len(rows), len(rendered))
    return {"images": len(rows), "rendered_files": len(rendered), "dry_run": dry_run, "cutoff": cutoff}
