"""Qt-free parts of the settings window and the first-run wizard.

- `probe_folder(path, template)`: what the app would read from a watch folder (the "Test"
  button): DICOM and raster files, names it ignores, raster names that do not follow the
  file-name template, or why the folder cannot be read. Bounded in files and time, because a
  share can be large and slow.
- `check(config)`: every problem with a settings object, phrased for the person who can fix it
  (Config.validate plus the file-name templates and ranges the window offers).
- `save(paths, old, new, actor)`: writes config.toml and audits `config_changed` with the keys
  that changed, in one transaction.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import PATIENT_ID_MEANINGS, ROLLOUT_MODES, Config, ConfigError, SourceConfig
from ..guarded_settings import authorize_change, guarded_values
from ..intake.decode import HEAD_BYTES, file_kind
from ..intake.naming import TemplateError, parse_name, validate_template
from ..labels import AUTOMATABLE_LABELS, describe
from ..sources.filters import is_ignored
from ..store import audit
from ..store.db import Database

PATIENT_ID_TEXT = {
    "chartnumber": "Chart number (the practice's own patient number)",
    "patnum": "PatNum (Open Dental's internal patient number)",
}
ROLLOUT_TEXT = {
    "assistive": "Assistive: findings are shown for review; a dentist signs before anything is exported",
    "silent_pilot": "Silent pilot: images are analysed and recorded, findings are never shown or exported",
    "targeted_automation": "Targeted automation: as assistive, and confident findings of the low-risk labels "
                           "ticked below are exported before review, marked \"AI-generated, not yet verified\"; "
                           "the dentist's signature later verifies or corrects them",
}
# labels a practice may let go out before review
AUTOMATABLE_TEXT = {name: describe(name).plural for name in AUTOMATABLE_LABELS}
URGENT_RANGE = (0.5, 3.0)  # triage score = severity (0-3) x confidence


@dataclass
class FolderProbe:
    path: str
    ok: bool
    message: str
    dicom: int = 0
    raster: int = 0
    other: int = 0
    ignored: list[str] = field(default_factory=list)
    ignored_count: int = 0
    template_mismatch: list[str] = field(default_factory=list)
    unreadable: int = 0
    truncated: bool = False

    def summary(self) -> str:
        if not self.ok:
            return self.message
        parts = [f"{self.dicom} DICOM file{'s' if self.dicom != 1 else ''}",
                 f"{self.raster} image file{'s' if self.raster != 1 else ''} (PNG/JPEG/TIFF/BMP)"]
        text = "Would read " + " and ".join(parts) + ("" if not self.truncated else " (first part of the folder)")
        text += "."
        if self.ignored_count:
            sample = ", ".join(self.ignored[:4])
            text += f" Ignored {self.ignored_count} other name{'s' if self.ignored_count != 1 else ''}" \
                    f" (e.g. {sample})."
        if self.other:
            text += f" {self.other} file{'s are' if self.other != 1 else ' is'} neither DICOM nor an image."
        if self.template_mismatch:
            text += (f" {len(self.template_mismatch)} image name(s) do not follow the file-name template,"
                     f" e.g. {self.template_mismatch[0]}: those images get no patient.")
        if self.unreadable:
            text += f" {self.unreadable} file(s) could not be opened right now."
        if self.dicom + self.raster == 0:
            text += " Nothing to read yet: new exports will be picked up as they arrive."
        return text


def _sniff(path: str) -> str:
    """'dicom' | 'raster' | 'other' | 'unreadable', by intake's own rule."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return "unreadable"
    kind = file_kind(head, Path(path).suffix)
    return "dicom" if kind == "dicom_raw" else kind


def probe_folder(path: str, template: str | None = None, *, max_files: int = 2000,
                 max_seconds: float = 8.0) -> FolderProbe:
    path = (path or "").strip()
    if not path:
        return FolderProbe(path, False, "Enter a folder first.")
    if not os.path.exists(path):
        hint = " Check that the server is on and the share name is right." if path.startswith(("\\\\", "//")) else ""
        return FolderProbe(path, False, f"Cannot reach {path}: the folder does not exist or is not reachable now.{hint}")
    if not os.path.isdir(path):
        return FolderProbe(path, False, f"{path} is a file, not a folder.")
    try:
        os.listdir(path)
    except PermissionError:
        return FolderProbe(path, False, f"No permission to read {path}: ask whoever manages the share to give "
                                        "this Windows user read access.")
    except OSError as exc:
        return FolderProbe(path, False, f"Cannot read {path} ({exc.strerror or exc}).")
    tpl_ok = True
    if template:
        try:
            validate_template(template)
        except TemplateError:
            tpl_ok = False
    probe = FolderProbe(path, True, "")
    seen, deadline = 0, time.monotonic() + max_seconds
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            full = os.path.join(dirpath, name)
            seen += 1
            if seen > max_files or time.monotonic() > deadline:
                probe.truncated = True
                return probe
            if is_ignored(full, path):
                probe.ignored_count += 1
                if len(probe.ignored) < 10:
                    probe.ignored.append(name)
                continue
            kind = _sniff(full)
            if kind == "dicom":
                probe.dicom += 1
            elif kind == "raster":
                probe.raster += 1
                if template and tpl_ok and parse_name(Path(name).stem, template) is None:
                    if len(probe.template_mismatch) < 10:
                        probe.template_mismatch.append(name)
            elif kind == "unreadable":
                probe.unreadable += 1
            else:
                probe.other += 1
    return probe


def check(config: Config) -> list[str]:
    errors = list(config.validate())
    paths = [s.path.strip() for s in config.sources]
    for i, s in enumerate(config.sources):
        try:
            validate_template(s.name_template)
        except TemplateError as exc:
            errors.append(f"file-name template of {s.path or 'the new folder'}: {exc}")
        if s.path.strip() and paths.index(s.path.strip()) != i:
            errors.append(f"{s.path} is listed twice")
        if s.patient_id not in PATIENT_ID_MEANINGS:
            errors.append(f"patient id meaning of {s.path}: choose chart number or PatNum")
    lo, hi = URGENT_RANGE
    if not lo <= config.clinical.urgent_threshold <= hi:
        errors.append(f"the urgent threshold must be between {lo} and {hi}")
    if config.governance.rollout not in ROLLOUT_MODES:
        errors.append("choose a rollout mode")
    return list(dict.fromkeys(errors))


def changed_keys(old: Config, new: Config) -> list[str]:
    a, b = old.to_dict(), new.to_dict()
    out = []
    for section in sorted(set(a) | set(b)):
        va, vb = a.get(section), b.get(section)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += [f"{section}.{k}" for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)]
        elif va != vb:
            out.append(section)
    return out


def save(paths, old: Config, new: Config, *, actor: str = "", via: str = "settings", authority=None) -> list[str]:
    """Validates, checks the authority for guarded keys (guarded_settings), writes config.toml
    and audits. Returns the changed keys; raises ConfigError or ClinicianError (nothing written)."""
    errors = check(new)
    if errors:
        raise ConfigError("; ".join(errors))
    keys = changed_keys(old, new)
    db = Database(paths.database)
    try:
        who = authorize_change(db, old, new, authority)  # the PIN first: a wrong one writes nothing
        # recorded before the file is written: a running app that sees the file finds it authorised
        with db.tx() as c:
            audit.append(c, "config_changed", via, keys=keys, sources=len(new.sources), by=actor,
                         guarded=guarded_values(new), **({"authorised_by": who} if who else {}))
        new.save(paths.config_file)
    finally:
        db.close()
    return keys


def clone(config: Config) -> Config:
    return copy.deepcopy(config)


def new_source(path: str = "") -> SourceConfig:
    return SourceConfig(path=path)


def os_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return ""

