"""The procedure write-back switches (issue 19 item 3): off by default, checked, guarded by a PIN."""

from __future__ import annotations

import pytest

from tray_app.config import Config, ConfigError
from tray_app.guarded_settings import changed_guarded, enforce
from tray_app.review.clinicians import add_clinician
from tray_app.store import audit
from tray_app.store.db import Database

SWITCHES = ["export.opendental.write_treatment_plan", "export.opendental.write_existing_conditions"]


def test_procedures_are_off_by_default_and_the_status_is_checked():
    od = Config().export.opendental
    assert (od.write_treatment_plan, od.write_existing_conditions, od.existing_status) == (False, False, "auto")
    cfg = Config()
    cfg.export.destinations = ["opendental"]
    with pytest.raises(ConfigError, match="existing_status must be one of auto, EO, EC, Cn"):
        cfg.set_value("export.opendental.existing_status", "EX")
    cfg.set_value("export.opendental.existing_status", "EC")


def test_turning_procedures_on_needs_a_pin_and_a_hand_edit_is_held_back(home, tmp_path):
    old, new = Config(), Config()
    for key in SWITCHES:
        new.set_value(key, "true")
    assert changed_guarded(old, new) == SWITCHES
    db = Database(tmp_path / "db.sqlite3")
    try:
        enforce(db, old)
        add_clinician(db, "Dr Ada", "dentist", "246813")
        held, problem = enforce(db, new)  # config.toml edited by hand
        assert not held.export.opendental.write_treatment_plan and not held.export.opendental.write_existing_conditions
        assert problem
    finally:
        db.close()


def test_a_record_from_before_these_keys_were_guarded_is_no_hand_edit(home, tmp_path):
    db = Database(tmp_path / "db.sqlite3")
    try:
        with db.tx() as c:  # what an earlier version recorded: without the new keys
            audit.append(c, "guarded_settings_baseline", "settings file",
                         guarded={k: v for k, v in _guarded(Config()).items() if k not in SWITCHES})
        add_clinician(db, "Dr Ada", "dentist", "246813")
        held, problem = enforce(db, Config())
        assert problem == "" and held.export.opendental.write_treatment_plan is False
        edited = Config()
        edited.set_value("export.opendental.write_treatment_plan", "true")
        held, problem = enforce(db, edited)  # turned on by hand after the update: still held back
        assert problem and held.export.opendental.write_treatment_plan is False
    finally:
        db.close()


def _guarded(config):
    from tray_app.guarded_settings import guarded_values

    return guarded_values(config)
