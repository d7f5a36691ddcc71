"""Settings whose change needs a dentist's or admin's PIN: the rollout mode, which findings
may go out unsigned, and where exports go. `config set`, the settings window and any other
writer ask `changed_guarded` and authorise through `review.clinicians.authorize`; the audit
entry names who authorised the change.

This is the one list of guarded keys: add a key here and every writer guards it.
"""

from __future__ import annotations

import copy

from .config import Config
from .review.clinicians import authorised_by, authority_exists, authorize
from .store import audit
from .store.db import Database

GUARDED_KEYS = (
    # how far AI results go without a signature
    "governance.rollout",
    "governance.auto_labels",
    "governance.auto_min_confidence",
    # an urgent alert puts an unreviewed AI finding in Open Dental (a task list makes it a task there)
    "export.opendental.next_steps.alert",
    "export.opendental.next_steps.alert_via",
    "export.opendental.next_steps.task_list_num",
    # which findings are reported at all (diagnoses not validated on real radiographs)
    "analysis.unvalidated_labels",
    # where exports go, and whether a demonstration model's findings may go there
    "export.destinations",
    "export.allow_demonstration_model",
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
    # procedures written into the chart's treatment plan and existing work (issue 19)
    "export.opendental.write_treatment_plan",
    "export.opendental.write_existing_conditions",
    # the review hub opens the app (patient data) to the practice's network
    "hub.enabled",
    "hub.port",
    "hub.bind_address",
    # the worklist answers patients' names and birth dates to whoever reaches its port
    "worklist.bind_address",
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
    keys = changed_guarded(old, new)
    if not keys:
        return None
    return authorised_by(authorize(db, authority, "changing " + ", ".join(keys)))


def needs_authority(db, old: Config, new: Config) -> bool:
    """True when guarded keys changed and a dentist or admin exists who must authorise it."""
    return bool(changed_guarded(old, new)) and authority_exists(db)


# -- the settings file edited by hand -----------------------------------------------------------
# config.toml is a plain file the Windows user can edit: a guarded key changed there, without a
# PIN, must not take effect. Every authorised change records the guarded values in its audit
# entry (`guarded`, written before the file); a loaded file whose guarded values differ from the
# newest authentic record keeps the recorded ones, and the app says so.
HAND_EDITED = ("the settings file changes the rollout mode, automation labels, unvalidated findings, export "
               "destinations or the review hub without a dentist's or admin's PIN; those stay as they were "
               "(make the change in Settings)")


def guarded_values(config: Config) -> dict:
    flat = _flatten(config.to_dict())
    return {k: flat.get(k) for k in GUARDED_KEYS}


def _recorded(db) -> dict | None:
    conn = db.conn()
    for row in audit.guarded_settings_records(conn):
        if audit.authentic(conn, row):
            import json

            return json.loads(row["data"]).get("guarded")
    return None


def _put(config: Config, key: str, value) -> None:
    *parents, name = key.split(".")
    target = config
    for p in parents:
        target = getattr(target, p)
    setattr(target, name, value)


def enforce(db, config: Config) -> tuple[Config, str]:
    """`config` with its guarded keys as last authorised, and the problem to show ("" if none).

    The first time (no record yet: a new install, or the first start of this version) the
    file's values are recorded as they are; so are values changed while no dentist or admin
    existed (nobody could have authorised them)."""
    current = guarded_values(config)
    recorded = _recorded(db)
    if recorded is not None:  # a key guarded since that record was made counts as having had its default
        recorded = {**guarded_values(Config()), **recorded}
    if recorded == current:
        return config, ""
    if recorded is None or not authority_exists(db):
        with db.tx() as c:
            audit.append(c, "guarded_settings_baseline", "settings file", guarded=current)
        return config, ""
    fixed = copy.deepcopy(config)
    for key, value in recorded.items():
        if key in current and value is not None:
            _put(fixed, key, value)
    return fixed, HAND_EDITED


def load(paths) -> tuple[Config, str]:
    """The settings file, with hand-edited guarded keys held back (see `enforce`)."""
    config = Config.load(paths.config_file)
    db = Database(paths.database)
    try:
        return enforce(db, config)
    finally:
        db.close()
