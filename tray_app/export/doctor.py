"""Set-up checks for exports: one line per check, one plain sentence per failure."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ..settings.export import ExportConfig


@dataclass
class Check:
    name: str
    ok: bool
    message: str
    warning: bool = False  # ok, but something a person should change (shown as WARN)

    def as_dict(self) -> dict:
        return asdict(self)


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


def run_checks(config: ExportConfig, *, keys_provider: Callable | None = None, client_factory: Callable | None = None,
               outbox_rows: list[dict] | None = None) -> list[Check]:
    from .opendental import ODClient, ODError
    from .secrets import SecretsError, get_opendental_keys

    checks: list[Check] = []
    errors = config.validate()
    checks.append(Check("export settings", not errors, "; ".join(errors) if errors else
                        f"destinations: {', '.join(config.destinations) or 'none (signed reports stay here)'}"))
    if "opendental" in config.destinations:
        od = config.opendental
        try:
            keys = (keys_provider or get_opendental_keys)()
        except SecretsError as exc:
            keys = None
            checks.append(Check("Open Dental keys", False, str(exc)))
        else:
            checks.append(Check("Open Dental keys", keys is not None, "developer and customer keys are stored" if keys
                                else "the Open Dental API keys are missing: run `dental-bridge secrets set opendental`"))
        plain = od.plain_on_network()
        if plain:
            checks.append(Check("Open Dental connection security", True, plain_http_warning(plain), warning=True))
        if keys is not None:
            for mode in od.order():
                factory = client_factory or (lambda s, k, urls: ODClient(s, k, base_urls=urls))
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
    if "folder" in config.destinations:
        f = config.folder
        folder = Path(f.atoz_root if f.layout == "opendental_atoz" else f.path) if (f.atoz_root or f.path) else None
        if folder is None:
            checks.append(Check("drop folder", False, "no drop folder is set: set export.folder.path"))
        else:
            problem = _writable(folder)
            checks.append(Check("drop folder", not problem, problem or f"{folder} is writable"))
    if "dicom" in config.destinations:
        from .dicom_export import echo

        problems = config.dicom.validate()
        ok, message = (False, "not checked until the export.dicom settings are fixed") if problems else \
            echo(config.dicom)
        checks.append(Check("DICOM destination (PACS)", ok, message))
    for r in outbox_rows or []:
        if r["state"] == "needs_attention":
            checks.append(Check(f"export {r['id']} (study {r['study_id']}, {r['destination']})", False, r["reason"]))
    return checks


def plain_http_warning(urls: list[str]) -> str:
    return (f"{', '.join(urls)} is plain http: the API keys and the radiographs cross the practice network "
            "unencrypted. Where the Open Dental API Service offers https, turn on export.opendental.https "
            "(Settings → Export); the Local API on this computer (localhost) needs nothing")


def summary(checks: list[Check]) -> bool:
    return all(c.ok for c in checks)

