"""`dental-bridge ingest PATH...`: the same intake path as a watched file, run now."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from ..sources.filters import is_ignored
from ..sources.links import is_link_path, walk
from ..sources.readiness import can_open_exclusively
from ..store import findings as findings_repo
from ..store import images as image_repo
from .errors import RetryLater
from .pipeline import Outcome


def _files(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            for dirpath, _dirnames, names in walk(str(p)):
                for name in sorted(names):
                    f = Path(dirpath) / name
                    if not is_ignored(str(f), str(p)) and not is_link_path(str(f)):
                        yield f
        else:
            yield p


def _source_for(service, path: Path) -> int | None:
    resolved = str(path)
    for sid, src in service.sources:
        root = os.path.abspath(src.path)
        if resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep):
            return sid
    return None


def ingest_paths(service, paths: list[Path]) -> Iterator[Outcome]:
    db = service.db
    for f in _files(paths):
        path = str(f.absolute())
        try:
            st = os.stat(path)
        except OSError:
            yield Outcome(0, path, "missing", "no such file")
            continue
        existing = image_repo.find_version(db, path, st.st_size, st.st_mtime_ns)
        if existing is not None and existing["state"] not in image_repo.PENDING_STATES:
            yield Outcome(existing["id"], path, existing["state"], existing["reason"] or "already processed",
                          existing["study_id"], findings_repo.count_for_image(db, existing["id"]),
                          existing["duplicate_of"])
            continue
        if existing is None:
            image_id = image_repo.discover(db, path, _source_for(service, f), st.st_size, st.st_mtime_ns)
            if image_id is None:  # a pending row for an older version of this path
                image_id = image_repo.pending_for_path(db, path)
        else:
            image_id = existing["id"]
        if image_repo.get(db, image_id)["state"] == "discovered":
            if not can_open_exclusively(path):
                yield Outcome(image_id, path, "retry", "file is in use by another program; the service will retry")
                continue
            image_repo.mark_ready(db, image_id, st.st_size, st.st_mtime_ns)
        try:
            yield service.processor.process(image_id)
        except RetryLater as exc:
            image_repo.record_attempt(db, image_id, str(exc))
            yield Outcome(image_id, path, "retry", f"{exc}; the service will retry")
