"""`dental-bridge doctor`: set-up checks, one line each, one plain sentence per failure.

The parts contribute their checks: `doctor/core.py` (watch folders, model, data folder, disk,
DICOM receiver, audit log, keyring) and `export/doctor.py` (export settings, Open Dental, drop
folder, PACS, exports needing attention); `tray_app/commands/doctor.py` lists them in the order
printed. A check is a function `(Context) -> list[Check]`: its lines, none when it does not apply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Iterable

from ..config import Config, Paths


@dataclass
class Check:
    name: str
    ok: bool
    message: str
    warning: bool = False  # ok, but something a person should change (shown as WARN)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Context:
    """What the checks look at. Without `paths` the checks of the profile's folders and database
    are left out; tests give keys and an Open Dental client of their own."""
    config: Config
    paths: Paths | None = None
    keys_provider: Callable | None = None
    client_factory: Callable | None = None


CheckFunction = Callable[[Context], list[Check]]


def run(checks: Iterable[CheckFunction], context: Context) -> list[Check]:
    return [line for check in checks for line in check(context)]


def summary(checks: list[Check]) -> bool:
    return all(c.ok for c in checks)
