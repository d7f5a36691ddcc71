"""Settings whose change needs a dentist's or admin's PIN: the rollout mode, which findings
may go out unsigned, and where exports go. `config set`, the settings window and any other
writer ask `changed_guarded` and authorise through `review.clinicians.authorize`; the audit
entry names who authorised the change.

This is the one list of guarded keys: add a key here and every writer guards it.
"""

from __future__ import annotations

from .config import Config

GUARDED_KEYS = (
    # how far AI results go without a signature
    "governance.rollout",
    "governance.auto_labels",
    "governance.auto_min_confidence",
    # where exports go
    "export.destinations",
    "export.opendental.mode",
    "export.opendental.server",
    "export.opendental.base_url",
    "export.opendental.fallback",
    "export.opendental.https",
    "export.opendental.ca_file",
    "export.folder.path",
    "export.folder.layout",
    "export.folder.atoz_root",
    "export.dicom.host",
    "export.dicom.port",
    "export.dicom.called_ae",
)


def is_guarded(key: str) -> bool:
    return key in GUARDED_KEYS


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= _flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def changed_guarded(old: Config, new: Config) -> list[str]:
    a, b = _flatten(old.to_dict()), _flatten(new.to_dict())
    return [k for k in GUARDED_KEYS if a.get(k) != b.get(k)]


def authorize_change(db, old: Config, new: Config, authority) -> str | None:
    """Who authorised a change of guarded keys ("" / None when none changed); raises
    review.clinicians.ClinicianError when the change needs a PIN that was not given or is wrong."""
    from .review.clinicians import authorised_by, authorize

    keys = changed_guarded(old, new)
    if not keys:
        return None
    return authorised_by(authorize(db, authority, "changing " + ", ".join(keys)))


def needs_authority(db, old: Config, new: Config) -> bool:
    """True when guarded keys changed and a dentist or admin exists who must authorise it."""
    from .review.clinicians import authority_exists

    return bool(changed_guarded(old, new)) and authority_exists(db)
