"""The `dental-bridge` commands, one module per command group.

`tray_app.cli` builds the parser from COMMANDS: every command's name and one-line help is here,
so `dental-bridge --help` loads none of the modules; a command's module (and all it imports)
loads only when that command runs.

A command module has `add_arguments(command, parser)`: it adds the named command's arguments to
its sub-parser and sets `func` (args -> exit code). Adding a command: a line below and that
function in its module. Helpers the commands share are in `shared.py`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# command -> (module in this package, one-line help); the order is the order of `--help`
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "watch folders and analyse (tray + review window; --headless for services only)"),
    "demo": ("demo", "a demo workspace with generated radiographs, analysed by the bundled model"),
    "review": ("run", "open the review window (or render it to a PNG)"),
    "ingest": ("ingest", "process files or folders now; one result per file"),
    "queue": ("ingest", "studies awaiting review, with findings"),
    "config": ("config", "show or change settings"),
    "models": ("models", "installed models: list, check, evaluate DATASET"),
    "clinicians": ("clinicians", "clinicians who review and sign (PINs are stored as scrypt hashes)"),
    "sign": ("sign", "sign a reviewed study (dentists only)"),
    "audit": ("governance", "audit log"),
    "pilot": ("governance", "compare silent-pilot findings with what clinicians recorded"),
    "automation": ("automation", "targeted automation: list unverified automatic exports (or run a pass)"),
    "export": ("export", "send signed reports to the practice-management system"),
    "hub": ("hub", "review hub for the operatory PCs: status, pair, clients, revoke NAME"),
    "worklist": ("worklist", "the DICOM worklist: today's imaging appointments from Open Dental (--refresh reads it now)"),
    "client": ("client", "this PC as a client of a review hub: join URL CODE, status"),
    "secrets": ("secrets", "store API keys in the system keyring"),
    "doctor": ("doctor", "check the set-up: folders, model, disk, keyring, PMS reachability and keys, drop folder"),
    "purge": ("governance", "delete our copies of radiographs (cache, rendered exports, DICOM inbox) "
                            "past the retention period"),
}


def module_of(command: str) -> ModuleType:
    """The module that defines `command` (loaded on first use: see the module docstring)."""
    return importlib.import_module(f"{__name__}.{COMMANDS[command][0]}")
