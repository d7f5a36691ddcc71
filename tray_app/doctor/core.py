"""The core's checks for `dental-bridge doctor`: watch folders, model, data folder, disk, DICOM
receiver, audit log, keyring. (The export's are in export/doctor.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import keyring

from ..store import audit
from ..app import load_configured_model
from ..config import Config, Paths
from ..export.dicom_export import echo
from ..settings.export import DicomDestConfig
from ..sources.dicom_scp import port_free
from ..sources.watch import observer_kind
from ..store.db import Database
from . import Check, Context, run

MIN_FREE_MB = 500


def watch_folders(ctx: Context) -> list[Check]:
    sources = ctx.config.sources
    if not sources:
        return [Check("watch folders", False, "no watch folder is set up: add the imaging export folder in "
                                              "Settings (or `dental-bridge config add-source PATH`)")]
    checks = []
    for s in sources:
        p = Path(s.path)
        if not p.is_dir():
            checks.append(Check(f"watch folder {s.path}", False, "cannot be reached: check the share is online and "
                                                                 "this Windows user can open it"))
            continue
        try:
            next(iter(p.iterdir()), None)
            checks.append(Check(f"watch folder {s.path}", True, f"readable ({observer_kind(s)} watch)"))
        except OSError as exc:
            checks.append(Check(f"watch folder {s.path}", False, f"cannot be listed ({exc.strerror or exc})"))
    return checks


def model(ctx: Context) -> list[Check]:
    loaded, problem = load_configured_model(ctx.config, ctx.paths)
    if loaded is None:
        return [Check("model", False, problem)]
    m = loaded.manifest
    demo = " — demonstration only, not for clinical use" if m.is_demonstration else ""
    return [Check("model", True, f"{m.name} {m.version} loads and matches its sha256{demo}")]


def data_folder(ctx: Context) -> list[Check]:
    data_dir = ctx.paths.data_dir
    try:
        probe = data_dir / ".doctor-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
        return [Check("data folder", True, f"{data_dir} is writable")]
    except OSError as exc:
        return [Check("data folder", False, f"{data_dir} is not writable ({exc.strerror or exc})")]


def disk_space(ctx: Context) -> list[Check]:
    free_mb = shutil.disk_usage(ctx.paths.data_dir).free / 2**20
    return [Check("disk space", free_mb >= MIN_FREE_MB,
                  f"{free_mb:,.0f} MB free" + ("" if free_mb >= MIN_FREE_MB else
                                              f"; free at least {MIN_FREE_MB} MB for images and the database"))]


def dicom_receiver(ctx: Context) -> list[Check]:
    if not ctx.config.dicom.enabled:
        return []
    ok, message = check_receiver(ctx.config.dicom)
    return [Check("DICOM receiver", ok, message)]


def worklist_port(ctx: Context) -> list[Check]:
    """The worklist's port, checked as the receiver's (tray_app/worklist/doctor.py checks the rest)."""
    if not ctx.config.worklist.enabled:
        return []
    ok, message = check_receiver(ctx.config.worklist, what="worklist", change="worklist.port")
    return [Check("worklist port", ok, message)]


def audit_log(ctx: Context) -> list[Check]:
    """The audit chain verifies, up to the anchor kept outside the database."""
    db = Database(ctx.paths.database)
    try:
        r = audit.verify(db.conn())
    finally:
        db.close()
    if not r.ok:
        return [Check("audit log", False, f"broken at entry {r.first_bad_seq}: {r.problem}")]
    if r.key_store == "file":
        return [Check("audit log", True, f"{r.entries} entries intact, but its key is in a file next to the database "
                      "(no OS keyring here): whoever can edit the database can also recompute the log", warning=True)]
    return [Check("audit log", True, f"{r.entries} entries intact" + (", keyed in the OS keyring" if r.keyed else ""))]


def keyring_store(ctx: Context) -> list[Check]:
    backend = keyring.get_keyring()
    usable = "fail" not in type(backend).__module__
    return [Check("keyring", usable, f"{type(backend).__name__} stores the PMS keys" if usable else
                  "no usable keyring: Open Dental keys cannot be stored (Windows uses Credential Manager)")]


CHECKS = (watch_folders, model, data_folder, disk_space, dicom_receiver, worklist_port, audit_log, keyring_store)


def core_checks(paths: Paths, config: Config) -> list[Check]:
    """The core's checks alone."""
    return run(CHECKS, Context(config, paths))


def check_receiver(config, *, what: str = "receiver", change: str = "Settings → DICOM") -> tuple[bool, str]:
    """Our DICOM server (receiver or worklist) answers an echo (the service is running), or its port is free."""
    where = f"{config.ae_title} on {config.bind_address}:{config.port}"
    if port_free(config.bind_address, config.port):
        return True, f"port {config.port} is free; the {what} listens as {where} while Dental AI Bridge runs"
    host = "127.0.0.1" if config.bind_address == "0.0.0.0" else config.bind_address
    ours = DicomDestConfig(host=host, port=config.port, called_ae=config.ae_title, send_gsps=False, send_sc=False,
                           calling_ae=(config.allowed_calling_aes or ["DENTALBRIDGE"])[0], connect_timeout=3.0,
                           timeout=3.0)
    answered, _ = echo(ours)
    if answered:
        return True, f"{'receiving' if what == 'receiver' else 'listening'} as {where}; it answers C-ECHO"
    return False, (f"port {config.port} is taken by another program that does not answer DICOM as "
                   f"{config.ae_title}: choose another port in {change}, or stop the other program")
