"""The export's checks for `dental-bridge doctor` (see tray_app/doctor/): export settings, Open
Dental keys and API, drop folder, PACS, exports that need attention."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Callable

from ..config import Config
from ..doctor import Check, Context, run
from ..store.db import Database
from .outbox import Outbox
from ..settings.export import ExportConfig


def _writable(folder: Path) -> str:
    if not folder.is_dir():
        return f"the folder {folder} does not exist or cannot be reached (check the network share)"
    probe = folder / f".dab-doctor-{uuid.uuid4().hex[:8]}.tmp"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return f"Dental AI Bridge cannot write to {folder} ({exc.strerror or type(exc).__name__}); ask IT for write access"
    return ""


def export_settings(ctx: Context) -> list[Check]:
    config = ctx.config.export
    errors = config.validate()
    return [Check("export settings", not errors, "; ".join(errors) if errors else
                  f"destinations: {', '.join(config.destinations) or 'none (signed reports stay here)'}")]


def opendental(ctx: Context) -> list[Check]:
    """The keys, the connection's security, the API and the image category, each needing the one before."""
    if "opendental" not in ctx.config.export.destinations:
        return []
    # httpx and keyring: heavy, and the settings window imports this module for plain_http_warning
    from ..pms.client import ODClient, ODError
    from ..pms.keys import SecretsError, get_opendental_keys

    od = ctx.config.export.opendental
    checks: list[Check] = []
    try:
        keys = (ctx.keys_provider or get_opendental_keys)()
    except SecretsError as exc:
        keys = None
        checks.append(Check("Open Dental keys", False, str(exc)))
    else:
        checks.append(Check("Open Dental keys", keys is not None, "developer and customer keys are stored" if keys
                            else "the Open Dental API keys are missing: run `dental-bridge secrets set opendental`"))
    plain = od.plain_on_network()
    if plain:
        checks.append(Check("Open Dental connection security", True, plain_http_warning(plain), warning=True))
    if keys is None:
        return checks
    factory = ctx.client_factory or (lambda s, k, urls: ODClient(s, k, base_urls=urls))
    for mode in od.order():
        client = factory(od, keys, [(mode, od.url_for(mode))])
        try:
            cats = client.image_categories()  # a cheap GET that needs the key to work (ReadAll)
        except ODError as exc:
            checks.append(Check(f"Open Dental API ({mode})", False, str(exc)))
            continue
        finally:
            client.close()
        checks.append(Check(f"Open Dental API ({mode})", True, f"reachable at {od.url_for(mode)}; the key "
                            "is accepted"))
        names = {str(c.get("ItemName", "")).strip().casefold() for c in cats or []}
        has = od.doc_category.strip().casefold() in names
        checks.append(Check("Open Dental image category", has, f"'{od.doc_category}' exists" if has else
                            f"Open Dental has no image category named '{od.doc_category}': add it in Setup > "
                            "Definitions > Image Categories or change export.opendental.doc_category"))
        break
    return checks


def drop_folder(ctx: Context) -> list[Check]:
    if "folder" not in ctx.config.export.destinations:
        return []
    f = ctx.config.export.folder
    folder = Path(f.atoz_root if f.layout == "opendental_atoz" else f.path) if (f.atoz_root or f.path) else None
    if folder is None:
        return [Check("drop folder", False, "no drop folder is set: set export.folder.path")]
    problem = _writable(folder)
    return [Check("drop folder", not problem, problem or f"{folder} is writable")]


def pacs(ctx: Context) -> list[Check]:
    config = ctx.config.export
    if "dicom" not in config.destinations:
        return []
    from .dicom_export import echo  # pynetdicom, highdicom: heavy (see opendental above)

    problems = config.dicom.validate()
    ok, message = (False, "not checked until the export.dicom settings are fixed") if problems else \
        echo(config.dicom)
    return [Check("DICOM destination (PACS)", ok, message)]


def needing_attention(ctx: Context) -> list[Check]:
    """One line per export that needs a person (left out without the profile's database)."""
    if ctx.paths is None:
        return []
    db = Database(ctx.paths.database)
    try:
        rows = Outbox(db, ctx.config.export).status()
    finally:
        db.close()
    return [Check(f"export {r['id']} (study {r['study_id']}, {r['destination']})", False, r["reason"])
            for r in rows if r["state"] == "needs_attention"]


CHECKS = (export_settings, opendental, drop_folder, pacs, needing_attention)


def run_checks(config: ExportConfig, *, keys_provider: Callable | None = None,
               client_factory: Callable | None = None) -> list[Check]:
    """The export's checks alone, for export settings not yet saved."""
    return run(CHECKS, Context(Config(export=config), keys_provider=keys_provider, client_factory=client_factory))


def plain_http_warning(urls: list[str]) -> str:
    return (f"{', '.join(urls)} is plain http: the API keys and the radiographs cross the practice network "
            "unencrypted. Where the Open Dental API Service offers https, turn on export.opendental.https "
            "(Settings → Export); the Local API on this computer (localhost) needs nothing")
