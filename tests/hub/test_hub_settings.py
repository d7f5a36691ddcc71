"""Issue 18: the `[hub]` settings — off by default, checked, and guarded by a PIN."""

from __future__ import annotations

import pytest

from tray_app.config import Config, ConfigError, Paths
from tray_app.guarded_settings import changed_guarded, enforce
from tray_app.review.clinicians import add_clinician
from tray_app.store.db import Database


def test_the_hub_is_off_by_default_and_a_service_without_it_opens_no_port(home):
    from tray_app.app import Service

    assert Config().hub.enabled is False
    service = Service(Config(), Paths.resolve())
    try:
        assert service.hub is None
    finally:
        service.db.close()


def test_hub_settings_are_checked():
    cfg = Config()
    cfg.set_value("hub.enabled", "true")
    with pytest.raises(ConfigError, match="hub.port"):
        cfg.set_value("hub.port", "70000")
    with pytest.raises(ConfigError, match="hub.bind_address"):
        cfg.set_value("hub.bind_address", "front-desk")
    assert Config.from_dict({"hub": {"enabled": True, "port": 9443, "bind_address": "192.168.1.20"}}).hub.port == 9443


def test_opening_the_hub_needs_a_pin_and_a_hand_edit_is_held_back(home, tmp_path):
    old, new = Config(), Config()
    new.set_value("hub.enabled", "true")
    new.set_value("hub.bind_address", "192.168.1.20")
    assert changed_guarded(old, new) == ["hub.enabled", "hub.bind_address"]

    db = Database(tmp_path / "db.sqlite3")
    try:
        enforce(db, old)  # the baseline: hub off
        add_clinician(db, "Dr Ada", "dentist", "246813")
        held, problem = enforce(db, new)  # config.toml edited by hand to turn it on
        assert held.hub.enabled is False and held.hub.bind_address == "0.0.0.0" and "review hub" in problem
    finally:
        db.close()
