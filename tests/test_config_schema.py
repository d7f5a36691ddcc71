"""One settings schema (issue 17): every table is read by one mechanism, unknown keys are
reported the same way in every table, a hand-edited file with a typo still loads (with a
warning), wrong types get a message instead of a crash, and the file format is unchanged."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
import tomli_w

from tray_app.config import Config, ConfigError
from tray_app.settings.export import ExportConfig, ExportConfigError
from tray_app.settings_file import SettingsFile

PACKAGE = Path(__file__).resolve().parents[1] / "tray_app"

# every key of the settings file as the previous version wrote it: existing files must keep loading
FILE_KEYS = {
    "intake": ["settle_seconds", "reconcile_minutes", "supervise_seconds", "poll_seconds", "study_window_minutes",
               "max_pixels", "max_file_mb"],
    "analysis": ["model", "threads", "unvalidated_labels"],
    "clinical": ["urgent_threshold", "fmx_images"],
    "governance": ["rollout", "retention_days", "auto_labels", "auto_min_confidence", "auto_settle_seconds"],
    "export": ["destinations", "allow_demonstration_model", "opendental", "folder", "dicom", "retry"],
    "dicom": ["enabled", "ae_title", "port", "bind_address", "allowed_calling_aes", "max_associations_per_peer"],
    "hub": ["enabled", "port", "bind_address"],
    "client": ["hub_url", "hub_fingerprint"],
    "worklist": ["enabled", "ae_title", "port", "bind_address", "allowed_calling_aes", "max_associations_per_peer",
                 "days_ahead", "refresh_seconds"],
    "quality": ["enabled", "exposure_clipped", "cone_cut_area", "blur_sharpness", "apex_margin_mm",
                "apex_root_continuity", "contact_overlap_mm", "contact_brightness", "orientation_confidence",
                "missing_bitewing"],
}


@pytest.mark.parametrize("raw, message", [
    ({"intake": {"setle_seconds": 3}}, "unknown setting intake.setle_seconds (did you mean intake.settle_seconds?)"),
    ({"sources": [{"path": "x", "patientid": "patnum"}]},
     "unknown setting sources.patientid (did you mean sources.patient_id?)"),
    ({"governance": {"rollout_mode": "assistive"}}, "unknown setting governance.rollout_mode (did you mean "),
    ({"export": {"opendental": {"colour": "red"}}}, "unknown setting export.opendental.colour ([export.opendental] "
                                                    "knows mode, server,"),
    ({"export": {"pacs": {"host": "x"}}}, "unknown setting export.pacs ([export] knows destinations,"),
    ({"dicom": {"ae": "X"}}, "unknown setting dicom.ae ("),
    ({"sound": {"on": True}}, "unknown setting sound (the settings file knows sources, intake, analysis"),
])
def test_unknown_keys_are_refused_the_same_way_in_every_table(raw, message):
    with pytest.raises(ConfigError) as refused:
        Config.from_dict(raw)
    assert message in str(refused.value)


def test_export_table_on_its_own_names_keys_the_same_way():
    with pytest.raises(ExportConfigError, match=r"unknown setting export\.retry\.lease_secs \(did you mean "
                                                r"export\.retry\.lease_seconds\?\)"):
        ExportConfig.from_dict({"retry": {"lease_secs": 30}})
    assert ExportConfigError is ConfigError  # one error type for every table


def test_a_hand_edited_file_with_a_typo_still_loads_and_says_what_it_ignored(tmp_path, caplog):
    f = tmp_path / "config.toml"
    f.write_text('[[sources]]\npath = "//srv/x"\n\n[intake]\nsettle_seconds = 3\nsetle_seconds = 9\n\n'
                 '[clinical]\nfmx_images = 20\n\n[sound]\nbeep = true\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="tray_app.config"):
        cfg = Config.load(f)
    assert cfg.sources[0].path == "//srv/x" and cfg.intake.settle_seconds == 3.0 and cfg.clinical.fmx_images == 20
    assert cfg.unknown_settings == (
        "unknown setting intake.setle_seconds (did you mean intake.settle_seconds?)",
        "unknown setting sound (the settings file knows sources, intake, analysis, clinical, governance, export, "
        "dicom, hub, client, worklist, quality)")
    assert "intake.setle_seconds" in caplog.text and "ignored" in caplog.text
    assert Config().unknown_settings == ()  # a fresh object carries none


def test_a_running_app_applies_a_file_edited_with_a_typo(tmp_path):
    f = tmp_path / "config.toml"
    Config().save(f)
    watcher = SettingsFile(f, Config.load(f))
    f.write_text('[clinical]\nfmx_images = 20\nfmx_imgs = 21\n', encoding="utf-8")
    changed = watcher.changed()
    assert changed is not None and changed.clinical.fmx_images == 20 and watcher.error == ""


@pytest.mark.parametrize("raw, message", [
    ({"intake": {"settle_seconds": "two"}}, "intake.settle_seconds must be a number (got 'two')"),
    ({"analysis": {"threads": 1.5}}, "analysis.threads must be a whole number (got 1.5)"),
    ({"analysis": {"unvalidated_labels": "yes"}}, "analysis.unvalidated_labels must be true or false (got 'yes')"),
    ({"export": {"opendental": {"server": 192}}}, "export.opendental.server must be text in quotes (got 192)"),
    ({"export": {"destinations": "folder"}}, "export.destinations must be a list in square brackets"),
    ({"governance": {"auto_labels": ["crown", 3]}}, "governance.auto_labels must be text in quotes (got 3)"),
    ({"sources": {"path": "x"}}, "sources must be a list in square brackets"),
    ({"intake": 5}, "[intake] must be a table of settings (got 5)"),
])
def test_a_value_of_the_wrong_type_is_named_not_a_crash(tmp_path, raw, message):
    f = tmp_path / "config.toml"
    f.write_text(tomli_w.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        Config.load(f)
    assert message in str(refused.value)


def test_numbers_are_read_as_their_field_type_and_problems_come_together():
    cfg = Config.from_dict({"intake": {"settle_seconds": 3}, "dicom": {"port": 104.0}})
    assert isinstance(cfg.intake.settle_seconds, float) and cfg.dicom.port == 104 and isinstance(cfg.dicom.port, int)
    with pytest.raises(ConfigError) as refused:
        Config.from_dict({"intake": {"settle_seconds": "x"}, "clinical": {"fmx_images": 30}})
    assert "intake.settle_seconds must be a number" in str(refused.value)
    assert "clinical.fmx_images must be between 14 and 22" in str(refused.value)


def test_the_file_format_is_unchanged(tmp_path):
    raw = Config().to_dict()
    assert {k: list(v) for k, v in raw.items() if k != "sources"} == FILE_KEYS
    f = tmp_path / "config.toml"
    full = Config.from_dict({"sources": [{"path": "//srv/x", "kind": "polling"}],
                             "export": {"destinations": ["folder"], "folder": {"path": "//srv/drop"}}})
    full.save(f)
    again = Config.load(f)
    assert again == full and again.unknown_settings == ()
    assert Config.from_dict(again.to_dict()) == full


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_settings_sit_in_the_leaf_layer():
    """Settings import nothing from the features that use them (only the label vocabulary, a leaf
    too); those import their types from here."""
    for path in (PACKAGE / "settings").glob("*.py"):
        inside = [i for i in _imports(path) if i.startswith((".", "tray_app")) and i != "..labels"]
        assert all(i.startswith(".") and not i.startswith("..") for i in inside), (path, inside)
    config_imports = _imports(PACKAGE / "config.py")
    assert not [i for i in config_imports if i.startswith((".export", ".sources", ".store", ".review"))]
    assert not (PACKAGE / "export" / "settings.py").exists()
    assert "class ScpConfig" not in (PACKAGE / "sources" / "dicom_scp.py").read_text(encoding="utf-8")


def test_config_set_after_a_whole_number_in_the_file(tmp_path):
    """`settle_seconds = 3` in the file is read as the float it is, so `config set` takes 2.5 afterwards."""
    f = tmp_path / "config.toml"
    f.write_text("[intake]\nsettle_seconds = 3\n", encoding="utf-8")
    cfg = Config.load(f)
    cfg.set_value("intake.settle_seconds", "2.5")
    assert cfg.intake.settle_seconds == 2.5
