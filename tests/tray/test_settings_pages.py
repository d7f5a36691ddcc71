"""The settings window as one page per tab (issue 17): each page loads the settings it shows
and saves them back, the window only composes pages, and the first-run wizard shares the
folder editor and its template hint."""

from __future__ import annotations

from tray_app.config import Config, SourceConfig
from tray_app.settings.export import ExportConfig
from tray_app.ui.settings.common import Page
from tray_app.ui.settings.folder_editor import TEMPLATE_HELP, FolderEditor


def _practice() -> Config:
    """Settings with a value other than the default in every field a page shows."""
    c = Config(sources=[SourceConfig(path="//srv/xrays", kind="polling", patient_id="patnum",
                                     name_template="{patnum}_{seq}", enabled=False), SourceConfig(path="/local")])
    c.clinical.urgent_threshold, c.clinical.fmx_images = 1.7, 20
    c.analysis.threads, c.analysis.unvalidated_labels = 1, True
    c.governance.rollout, c.governance.retention_days = "targeted_automation", 90
    c.governance.auto_labels, c.governance.auto_min_confidence = ["crown", "implant"], 0.95
    c.export.destinations, c.export.allow_demonstration_model = ["opendental", "folder", "dicom"], True
    od = c.export.opendental
    od.mode, od.server, od.https, od.doc_category = "service", "odserver", True, "X-Rays"
    ns = od.next_steps
    ns.alert, ns.alert_via, ns.task_list_num, ns.user_num, ns.follow_up = False, "popup", 74, 3, True
    c.export.folder.path, c.export.folder.layout, c.export.folder.atoz_root = "//srv/drop", "opendental_atoz", "//a"
    d = c.export.dicom
    d.host, d.port, d.called_ae, d.calling_ae, d.send_gsps, d.send_sc = "pacs", 4242, "ORTHANC", "FRONT", False, True
    r = c.dicom
    r.enabled, r.ae_title, r.port, r.bind_address, r.allowed_calling_aes = True, "BRIDGE1", 11113, "0.0.0.0", ["DEXIS"]
    return c


def test_every_tab_is_a_page_that_loads_and_saves_its_own_settings(qtbot, paths):
    from tray_app.ui.settings_window import SettingsWindow

    w = SettingsWindow(paths, Config(), autostart_supported=False)
    qtbot.addWidget(w)
    assert [p.title for p in w.pages] == [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert all(isinstance(p, Page) for p in w.pages)
    practice = _practice()
    for page in w.pages:
        page.load(practice)
    blank = Config()
    for page in w.pages:
        page.save(blank)
    assert blank.to_dict() == practice.to_dict()
    assert w.problems(blank) == []


def test_a_page_reports_what_only_it_can_see(qtbot, paths):
    from tray_app.ui.settings_window import SettingsWindow

    w = SettingsWindow(paths, Config(), autostart_supported=False)
    qtbot.addWidget(w)
    w.export_page.od_dev.setText("DEV")
    assert w.export_page.check(w.collect()) == ["enter both Open Dental keys (developer and customer), or neither"]
    w.folders_page.add_source.click()
    problems = w.problems(w.collect())
    assert problems[0] == "a watch folder has no path: enter one or remove it"
    assert problems[-1].startswith("enter both Open Dental keys")


def test_destinations_keep_one_order_whichever_page_turns_them_on():
    ex = ExportConfig(destinations=["dicom"])
    ex.use("folder", True)
    ex.use("opendental", True)
    assert ex.destinations == ["opendental", "folder", "dicom"]
    ex.use("folder", False)
    ex.use("dicom", True)
    assert ex.destinations == ["opendental", "dicom"]


def test_the_wizard_shares_the_folder_editor_and_the_template_hint(qtbot, paths):
    from tray_app.ui.wizard import FirstRunWizard

    wz = FirstRunWizard(paths, Config(), autostart_supported=False)
    qtbot.addWidget(wz)
    editor = wz.folder_page.editor
    assert type(editor) is FolderEditor
    assert not editor.template.isVisibleTo(wz) and not editor.patient_id.isVisibleTo(wz)
    page = wz.patient_page
    example = page.help.text()
    assert example.startswith(TEMPLATE_HELP) and "Example:" in example
    page.template.setText("{chart}_{chart}")
    assert "appears twice" in page.help.text() and not page.validatePage()
    page.template.setText("{chart}_{seq}")
    assert page.help.text() == example and page.validatePage()  # the example comes back with a good template
