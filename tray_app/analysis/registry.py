"""Finds model folders (bundled `models/` and the user's models folder) and picks one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .manifest import Manifest, ManifestError, load_manifest


@dataclass(frozen=True)
class ModelEntry:
    directory: Path
    origin: str  # bundled | user
    manifest: Manifest | None
    error: str = ""


def discover(search_dirs: list[tuple[Path, str]]) -> list[ModelEntry]:
    entries = []
    for root, origin in search_dirs:
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            if not (child / "model.json").exists() and not (child / "model.onnx").exists():
                continue
            try:
                entries.append(ModelEntry(child, origin, load_manifest(child)))
            except ManifestError as exc:
                entries.append(ModelEntry(child, origin, None, str(exc)))
    return entries


def choose(entries: list[ModelEntry], wanted: str = "") -> ModelEntry | None:
    """The named model, else a user model (the practice's own), else the bundled one."""
    usable = [e for e in entries if e.manifest is not None]
    if wanted:
        for e in usable:
            if e.manifest.name == wanted or e.directory.name == wanted:
                return e
        return None
    usable.sort(key=lambda e: (e.origin != "user", e.manifest.name))
    return usable[0] if usable else None
