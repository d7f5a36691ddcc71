"""Settings window and first-run wizard: values round-trip to config.toml (audited), secrets go
to the keyring only, bad values are refused with a message."""

from __future__ import annotations

import tomllib

import pytest
from PySide6.QtWidgets import QWizard

from tray_app.config import Config


def _window(qtbot, paths, config=None, registry=None, **kw):
    from tray_app.ui.settings_window import SettingsWindow

    w = SettingsWindow(paths, config or Config.load(paths.config_file), registry=registry,
                       autostart_supported=True, **kw)
    qtbot.addWidget(w)
    w.show()
    return w


def _audits(db, event="config_changed"):
    return db.query("SELECT subject, data FROM audit WHERE event=? ORDER BY seq", (event,))


def _png(path):
    from PIL import Image

    Image.new("L", (8, 8)).save(path)


def test_round_trip_to_config_toml_with_audit_and_autostart(qtbot, paths, db, registry, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    w = _window(qtbot, paths, registry=registry)
    assert not w.folders_page.folder.isVisible() and w.folders_page.no_folder.isVisible()
    w.folders_page.add_source.click()
    w.folders_page.folder.path.setText(str(share))
    w.folders_page.folder.patient_id.setCurrentIndex(w.folders_page.folder.patient_id.findData("patnum"))
    w.folders_page.folder.template.setText("{patnum}_{date:%Y%m%d}_{seq}")
    w.folders_page.folder.kind.setCurrentIndex(w.folders_page.folder.kind.findData("polling"))
    w.analysis_page.urgent.setValue(2.0)
    w.analysis_page.fmx.setValue(20)
    w.analysis_page.threads.setValue(1)
    w.analysis_page.rollout.setCurrentIndex(w.analysis_page.rollout.findData("silent_pilot"))
    w.analysis_page.retention.setValue(60)
    w.general_page.autostart.setChecked(True)
    saved = []
    w.saved.connect(saved.append)
    assert w.save() is True, w.error.text()

    raw = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
    assert raw["sources"] == [{"path": str(share), "kind": "polling", "name_template": "{patnum}_{date:%Y%m%d}_{seq}",
                               "patient_id": "patnum", "enabled": True}]
    assert raw["clinical"]["urgent_threshold"] == 2.0 and raw["clinical"]["fmx_images"] == 20
    assert raw["analysis"]["threads"] == 1
    assert raw["governance"]["rollout"] == "silent_pilot" and raw["governance"]["retention_days"] == 60
    again = Config.load(paths.config_file)
    assert again.sources[0].patient_id == "patnum" and again.governance.rollout == "silent_pilot"
    assert saved and saved[0].clinical.urgent_threshold == 2.0
    rows = _audits(db)
    assert len(rows) == 1 and rows[0]["subject"] == "settings"
    assert "governance.rollout" in rows[0]["data"] and "sources" in rows[0]["data"]
    assert registry.values.get("DentalAIBridge", "").startswith('"')

    # reopen: the window shows what was saved; turning autostart off removes the value
    w2 = _window(qtbot, paths, registry=registry)
    assert w2.folders_page.folder.path.text() == str(share) and w2.general_page.autostart.isChecked()
    assert w2.analysis_page.urgent.value() == 2.0 and w2.analysis_page.rollout.currentData() == "silent_pilot"
    w2.general_page.autostart.setChecked(False)
    assert w2.save()
    assert "DentalAIBridge" not in registry.values


@pytest.mark.parametrize("edit,message", [
    (lambda w: w.analysis_page.urgent.setValue(7.5), "urgent threshold must be between"),
    (lambda w: w.analysis_page.retention.setValue(0), "retention_days must be at least 1"),
    (lambda w: w.analysis_page.fmx.setValue(25), "fmx_images must be between 14 and 22"),
    (lambda w: (w.folders_page.add_source.click(), w.folders_page.folder.path.setText("//srv/x"),
                w.folders_page.folder.template.setText("no fields here")),
     "has no {fields}"),
    (lambda w: w.folders_page.add_source.click(), "a watch folder has no path"),
])
def test_bad_values_are_refused_with_a_message(qtbot, paths, db, registry, edit, message):
    before = paths.config_file.read_text() if paths.config_file.exists() else None
    w = _window(qtbot, paths, registry=registry)
    edit(w)
    assert w.save() is False
    assert w.error.isVisible() and message in w.error.text() and w.error.text().startswith("Not saved:")
    assert (paths.config_file.read_text() if paths.config_file.exists() else None) == before
    assert _audits(db) == []
    assert w.isVisible()  # stays open for the fix


def test_targeted_automation_and_dicom_fields(qtbot, paths, db, registry):
    w = _window(qtbot, paths, registry=registry)
    assert not w.analysis_page.auto_box.isEnabled()  # assistive: nothing goes out before review
    w.analysis_page.rollout.setCurrentIndex(w.analysis_page.rollout.findData("targeted_automation"))
    assert w.analysis_page.auto_box.isEnabled() and "not yet verified" in w.analysis_page.rollout_help.text()
    for label, box in w.analysis_page.auto_labels.items():
        box.setChecked(label in ("crown", "implant"))
    w.analysis_page.auto_conf.setValue(0.93)
    w.dicom_page.scp_on.setChecked(True)
    w.dicom_page.scp_ae.setText("BRIDGE1")
    w.dicom_page.scp_port.setValue(11113)
    w.dicom_page.scp_bind.setCurrentIndex(w.dicom_page.scp_bind.findData("0.0.0.0"))
    w.dicom_page.scp_allowed.setText("DEXIS; SCHICK ,")
    assert w.save() is True, w.error.text()
    raw = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
    assert raw["governance"]["rollout"] == "targeted_automation"
    assert raw["governance"]["auto_labels"] == ["crown", "implant"] and raw["governance"]["auto_min_confidence"] == 0.93
    assert raw["dicom"] == {"enabled": True, "ae_title": "BRIDGE1", "port": 11113, "bind_address": "0.0.0.0",
                            "allowed_calling_aes": ["DEXIS", "SCHICK"], "max_associations_per_peer": 4}

    w2 = _window(qtbot, paths, registry=registry)
    for box in w2.analysis_page.auto_labels.values():
        box.setChecked(False)
    assert w2.save() is False and "at least one label" in w2.error.text()


def test_pacs_destination_fields_and_echo_test(qtbot, paths, db, registry):
    w = _window(qtbot, paths, registry=registry)
    w.dicom_page.to_pacs.setChecked(True)
    assert w.save() is False and "export.dicom.host" in w.error.text()
    w.dicom_page.pacs_host.setText("127.0.0.1")
    w.dicom_page.pacs_port.setValue(1)  # nothing listens there
    w.dicom_page.pacs_ae.setText("PACS")
    w.dicom_page.pacs_calling.setText("FRONTDESK")
    w.dicom_page.pacs_sc.setChecked(True)
    w.dicom_page.pacs_test.click()
    qtbot.waitUntil(lambda: w.dicom_page.pacs_test_msg.text() not in ("", "Testing…"), timeout=15000)
    assert "nothing accepts connections" in w.dicom_page.pacs_test_msg.text()
    assert w.save() is True, w.error.text()
    raw = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
    assert "dicom" in raw["export"]["destinations"]
    assert raw["export"]["dicom"]["host"] == "127.0.0.1" and raw["export"]["dicom"]["send_sc"] is True
    assert raw["export"]["dicom"]["calling_ae"] == "FRONTDESK"


def test_template_problem_shown_while_typing(qtbot, paths):
    w = _window(qtbot, paths)
    w.folders_page.add_source.click()
    w.folders_page.folder.template.setText("{chart}_{chart}")
    assert "appears twice" in w.folders_page.folder.template_msg.text()


def test_folder_test_lists_what_would_be_read(qtbot, paths, tmp_path):
    share = tmp_path / "xrays"
    (share / "sub").mkdir(parents=True)
    (share / "a.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
    (share / "sub" / "b.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
    _png(share / "A1234_Smith_Jane_20261128_01.png")
    _png(share / "holiday photo.png")
    (share / "Thumbs.db").write_bytes(b"x")
    (share / "~copying.tmp").write_bytes(b"x")
    w = _window(qtbot, paths)
    w.folders_page.add_source.click()
    w.folders_page.folder.path.setText(str(share))
    w.folders_page.folder.test.click()
    qtbot.waitUntil(lambda: w.folders_page.folder.result.text().startswith("Would read"), timeout=5000)
    text = w.folders_page.folder.result.text()
    assert "2 DICOM files" in text and "2 image files" in text
    assert "Ignored 2 other names" in text and "Thumbs.db" in text
    assert "1 image name(s) do not follow the file-name template" in text and "holiday photo.png" in text

    w.folders_page.folder.path.setText(str(tmp_path / "not-there"))
    w.folders_page.folder.test.click()
    qtbot.waitUntil(lambda: "Cannot reach" in w.folders_page.folder.result.text(), timeout=5000)


def test_folder_test_predicts_what_intake_reads(tmp_path):
    """The Test button and intake share one rule: preamble-less DICOM from older exporters and
    GIFs are read, a stray binary is not."""
    from PIL import Image

    from tray_app.intake.decode import decode_file
    from tray_app.intake.errors import QuarantineError
    from tray_app.ui.settings_model import probe_folder
    from samples import write_dicom

    share = tmp_path / "xrays"
    share.mkdir()
    full = write_dicom(share / "full.dcm")
    raw = full.read_bytes()[128 + 4:]  # the same data set without preamble and "DICM"
    (share / "IMG0001.DIC").write_bytes(raw)
    Image.new("L", (64, 48), 90).save(share / "old.gif")
    (share / "blob.bin").write_bytes(b"\x00\x01garbage" * 20)
    probe = probe_folder(str(share))
    assert (probe.dicom, probe.raster, probe.other) == (2, 1, 1)
    read = []
    for f in sorted(share.iterdir()):
        try:
            decode_file(f, max_pixels=10**8)
            read.append(f.name)
        except QuarantineError:
            pass
    assert read == ["IMG0001.DIC", "full.dcm", "old.gif"]


def test_open_dental_keys_go_to_the_keyring_only(qtbot, paths, memory_keyring, registry):
    pytest.importorskip("tray_app.pms.keys")
    from tray_app.settings.export import ExportConfig

    config = Config()
    if not hasattr(config, "export"):
        config.export = ExportConfig()  # as Config carries it once [export] is wired in
    w = _window(qtbot, paths, config=config, registry=registry)
    assert w.has_export and any(w.tabs.tabText(i) == "Export" for i in range(w.tabs.count()))
    w.export_page.to_od.setChecked(True)
    w.export_page.od_dev.setText("DEVKEY123secret")
    w.export_page.od_cust.setText("CUSTKEY456secret")
    assert w.save(), w.error.text()
    from tray_app.pms.keys import CUSTOMER, DEVELOPER, SERVICE

    assert memory_keyring.store[(SERVICE, DEVELOPER)] == "DEVKEY123secret"
    assert memory_keyring.store[(SERVICE, CUSTOMER)] == "CUSTKEY456secret"
    if "export" in Config().to_dict():
        raw = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
        assert raw["export"]["destinations"] == ["opendental"]
    for f in paths.config_file.parent.rglob("*"):
        if f.is_file() and f.suffix in (".toml", ".tmp", ".log", ".json"):
            assert "KEY123secret" not in f.read_text(errors="ignore") and "KEY456secret" not in f.read_text(errors="ignore")

    # one key without the other is refused
    w2 = _window(qtbot, paths, config=config, registry=registry)
    w2.export_page.od_dev.setText("ONLYONE")
    assert not w2.save() and "both Open Dental keys" in w2.error.text()


def test_export_tab_only_when_config_carries_export(qtbot, paths):
    class Bare:  # settings without an [export] table (before the export issue)
        def __init__(self, c):
            self.sources, self.intake, self.analysis = c.sources, c.intake, c.analysis
            self.clinical, self.governance, self.dicom = c.clinical, c.governance, c.dicom

    w = _window(qtbot, paths, config=Bare(Config()))
    assert not w.has_export and all(w.tabs.tabText(i) != "Export" for i in range(w.tabs.count()))
    w2 = _window(qtbot, paths, config=Config())
    assert w2.has_export == hasattr(Config(), "export")


def test_start_at_login_hidden_where_unsupported(qtbot, paths):
    from tray_app.ui.settings_window import SettingsWindow

    w = SettingsWindow(paths, Config(), autostart_supported=False)
    qtbot.addWidget(w)
    w.show()
    assert not w.general_page.autostart.isVisible()


def test_add_clinician(qtbot, paths, db):
    w = _window(qtbot, paths)
    w.clinicians_page.clin_name.setText("Dr. Ada Lopez")
    w.clinicians_page.clin_role.setCurrentIndex(w.clinicians_page.clin_role.findData("dentist"))
    w.clinicians_page.clin_pin.setText("4821")
    w.clinicians_page.clin_pin2.setText("4821")
    assert not w.clinicians_page.add_clinician() and "6 to 12 digits" in w.clinicians_page.clin_msg.text()
    w.clinicians_page.clin_pin.setText("482193")
    w.clinicians_page.clin_pin2.setText("482190")
    assert not w.clinicians_page.add_clinician() and "differ" in w.clinicians_page.clin_msg.text()
    w.clinicians_page.clin_pin2.setText("482193")
    asked = []
    w.ask_authority = lambda reason: asked.append(reason)
    assert w.clinicians_page.add_clinician()  # the first dentist of a new install: nobody to ask
    assert not asked
    assert w.clinicians_page.clinicians.rowCount() == 1 and w.clinicians_page.clinicians.item(0, 2).text() == "Yes"
    row = db.one("SELECT id, name, role, pin_hash FROM clinicians")
    assert row["name"] == "Dr. Ada Lopez" and row["role"] == "dentist" and "482193" not in row["pin_hash"]
    assert _audits(db, "clinician_added")


def test_second_clinician_and_guarded_settings_need_a_dentists_pin(qtbot, paths, db):
    from tray_app.review.clinicians import Authority, add_clinician

    doc = add_clinician(db, "Dr. Ada Lopez", "dentist", "482193")
    w = _window(qtbot, paths)
    w.clinicians_page.clin_name.setText("dr. ada  lopez")  # a copy of the dentist's name
    w.clinicians_page.clin_role.setCurrentIndex(w.clinicians_page.clin_role.findData("dentist"))
    w.clinicians_page.clin_pin.setText("135790")
    w.clinicians_page.clin_pin2.setText("135790")
    w.ask_authority = lambda reason: None  # cancelled
    assert not w.clinicians_page.add_clinician() and "needs a dentist's or admin's PIN" in w.clinicians_page.clin_msg.text()
    w.ask_authority = lambda reason: Authority(doc, "000000")
    assert not w.clinicians_page.add_clinician() and "Wrong PIN" in w.clinicians_page.clin_msg.text()
    w.ask_authority = lambda reason: Authority(doc, "482193")
    assert not w.clinicians_page.add_clinician() and "already exists" in w.clinicians_page.clin_msg.text()
    w.clinicians_page.clin_name.setText("Sam Reyes")
    w.clinicians_page.clin_role.setCurrentIndex(w.clinicians_page.clin_role.findData("hygienist"))
    w.clinicians_page.clin_pin.setText("1357")
    w.clinicians_page.clin_pin2.setText("1357")
    assert w.clinicians_page.add_clinician() and w.clinicians_page.clinicians.rowCount() == 2
    # the rollout mode: refused without the PIN, saved and audited with it
    w.analysis_page.rollout.setCurrentIndex(w.analysis_page.rollout.findData("targeted_automation"))
    asked = []
    w.ask_authority = lambda reason: asked.append(reason)
    assert w.save() is False and "needs a dentist's or admin's PIN" in w.error.text()
    assert "governance.rollout" in asked[0]
    w.ask_authority = lambda reason: Authority(doc, "000000")
    assert w.save() is False and "wrong PIN" in w.error.text()
    assert Config.load(paths.config_file).governance.rollout != "targeted_automation"
    w.ask_authority = lambda reason: Authority(doc, "482193")
    assert w.save() is True, w.error.text()
    assert Config.load(paths.config_file).governance.rollout == "targeted_automation"
    assert "Dr. Ada Lopez" in _audits(db)[-1]["data"]


def test_first_run_wizard(qtbot, paths, db, registry, tmp_path):
    from tray_app.ui.wizard import FirstRunWizard

    share = tmp_path / "export"
    share.mkdir()
    wz = FirstRunWizard(paths, Config(), autostart_supported=True, registry=registry, demonstration_note="demo")
    qtbot.addWidget(wz)
    saved = []
    wz.saved.connect(saved.append)
    wz.show()
    assert wz.currentPage() is wz.welcome_page
    wz.next()
    assert wz.currentPage() is wz.role_page and wz.role_page.watches.isChecked()
    wz.next()
    assert wz.currentPage() is wz.folder_page and not wz.button(QWizard.WizardButton.NextButton).isEnabled()
    wz.folder_page.editor.path.setText(str(share))
    assert wz.button(QWizard.WizardButton.NextButton).isEnabled()
    wz.next()
    wz.patient_page.patnum.setChecked(True)
    wz.next()
    assert wz.currentPage() is wz.clinician_page
    wz.clinician_page.name.setText("Dr. Ada Lopez")
    wz.clinician_page.pin.setText("4821")
    wz.next()
    assert wz.currentPage() is wz.clinician_page and "6 to 12 digits" in wz.clinician_page.msg.text()
    wz.clinician_page.pin.setText("482193")
    wz.clinician_page.pin2.setText("482193")
    wz.next()
    assert wz.currentPage() is wz.done_page and str(share) in wz.done_page.summary.text()
    wz.button(QWizard.WizardButton.FinishButton).click()
    assert saved, wz.done_page.error.text()
    cfg = Config.load(paths.config_file)
    assert [(s.path, s.patient_id) for s in cfg.sources] == [(str(share), "patnum")]
    assert db.one("SELECT role FROM clinicians WHERE name='Dr. Ada Lopez'")["role"] == "dentist"
    assert [r["subject"] for r in _audits(db)] == ["first_run"]
    assert "DentalAIBridge" in registry.values


def test_unvalidated_labels_checkbox_round_trips(qtbot, paths, db, registry):
    w = _window(qtbot, paths, registry=registry)
    assert not w.analysis_page.unvalidated.isChecked()               # off for a practice unless it chooses
    w.analysis_page.unvalidated.setChecked(True)
    assert w.save() is True, w.error.text()
    raw = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
    assert raw["analysis"]["unvalidated_labels"] is True
    assert Config.load(paths.config_file).analysis.unvalidated_labels is True
