"""`dental-bridge doctor`, the core half: watch folders, model, data folder, disk, keyring.
(The export half — Open Dental reachability, keys, drop folder — is in export/doctor.py.)"""

from __future__ import annotations

import shutil

from .config import Config, Paths
from .export.doctor import Check

MIN_FREE_MB = 500


def core_checks(paths: Paths, config: Config) -> list[Check]:
    from .app import load_configured_model
    from .sources.watch import observer_kind

    checks: list[Check] = []
    if not config.sources:
        checks.append(Check("watch folders", False, "no watch folder is set up: add the imaging export folder in "
                                                    "Settings (or `dental-bridge config add-source PATH`)"))
    for s in config.sources:
        from pathlib import Path

        p = Path(s.path)
        if not p.is_dir():
            checks.append(Check(f"watch folder {s.path}", False, "cannot be reached: check the share is online and "
                                                                 "this Windows user can open it"))
        else:
            try:
                next(iter(p.iterdir()), None)
                checks.append(Check(f"watch folder {s.path}", True, f"readable ({observer_kind(s)} watch)"))
            except OSError as exc:
                checks.append(Check(f"watch folder {s.path}", False, f"cannot be listed ({exc.strerror or exc})"))
    model, problem = load_configured_model(config, paths)
    if model is None:
        checks.append(Check("model", False, problem))
    else:
        m = model.manifest
        demo = " — demonstration only, not for clinical use" if m.is_demonstration else ""
        checks.append(Check("model", True, f"{m.name} {m.version} loads and matches its sha256{demo}"))
    try:
        probe = paths.data_dir / ".doctor-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
        checks.append(Check("data folder", True, f"{paths.data_dir} is writable"))
    except OSError as exc:
        checks.append(Check("data folder", False, f"{paths.data_dir} is not writable ({exc.strerror or exc})"))
    free_mb = shutil.disk_usage(paths.data_dir).free / 2**20
    checks.append(Check("disk space", free_mb >= MIN_FREE_MB,
                        f"{free_mb:,.0f} MB free" + ("" if free_mb >= MIN_FREE_MB else
                                                    f"; free at least {MIN_FREE_MB} MB for images and the database")))
    if config.dicom.enabled:
        ok, message = check_receiver(config.dicom)
        checks.append(Check("DICOM receiver", ok, message))
    checks.append(audit_check(paths))
    import keyring

    backend = keyring.get_keyring()
    usable = "fail" not in type(backend).__module__
    checks.append(Check("keyring", usable, f"{type(backend).__name__} stores the PMS keys" if usable else
                        "no usable keyring: Open Dental keys cannot be stored (Windows uses Credential Manager)"))
    return checks


def audit_check(paths: Paths) -> Check:
    """The audit chain verifies, up to the anchor kept outside the database."""
    from . import audit
    from .store.db import Database

    db = Database(paths.database)
    try:
        r = audit.verify(db.conn())
    finally:
        db.close()
    if not r.ok:
        return Check("audit log", False, f"broken at entry {r.first_bad_seq}: {r.problem}")
    if r.key_store == "file":
        return Check("audit log", True, f"{r.entries} entries intact, but its key is in a file next to the database "
                     "(no OS keyring here): whoever can edit the database can also recompute the log", warning=True)
    return Check("audit log", True, f"{r.entries} entries intact" + (", keyed in the OS keyring" if r.keyed else ""))


def check_receiver(config) -> tuple[bool, str]:
    """Our receiver answers an echo (the service is running), or its port is free to take."""
    from .export.dicom_export import echo
    from .settings.export import DicomDestConfig
    from .sources.dicom_scp import port_free

    where = f"{config.ae_title} on {config.bind_address}:{config.port}"
    if port_free(config.bind_address, config.port):
        return True, f"port {config.port} is free; the receiver listens as {where} while Dental AI Bridge runs"
    host = "127.0.0.1" if config.bind_address == "0.0.0.0" else config.bind_address
    ours = DicomDestConfig(host=host, port=config.port, called_ae=config.ae_title, send_gsps=False, send_sc=False,
                           calling_ae=(config.allowed_calling_aes or ["DENTALBRIDGE"])[0], connect_timeout=3.0,
                           timeout=3.0)
    answered, _ = echo(ours)
    if answered:
        return True, f"receiving as {where}; it answers C-ECHO"
    return False, (f"port {config.port} is taken by another program that does not answer DICOM as "
                   f"{config.ae_title}: choose another port in Settings → DICOM, or stop the other program")
