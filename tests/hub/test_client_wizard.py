"""Issue 18: the first-run wizard's "This PC reviews" path pairs with a real hub on loopback,
and the hub's tray shows a pairing code only after a dentist's PIN. Both screens are rendered
offscreen to PNGs (in the test's temporary folder)."""

from __future__ import annotations

from PySide6.QtWidgets import QWizard

from tray_app.config import Config, Paths
from tray_app.hub import pairing
from tray_app.hub.client import HubClient, stored_token
from tray_app.review.clinicians import Authority
from tray_app.settings.hub import HubConfig

from .conftest import PIN


def test_the_wizards_review_path_pairs_with_the_hub_and_skips_the_folder(hub, capsys, qtbot, tmp_path):
    from tray_app.ui.wizard import FirstRunWizard

    paths = Paths.under(tmp_path / "operatory").ensure()
    wz = FirstRunWizard(paths, Config(), autostart_supported=False)
    qtbot.addWidget(wz)
    saved = []
    wz.saved.connect(saved.append)
    wz.resize(720, 540)
    wz.show()
    wz.next()
    assert wz.currentPage() is wz.role_page
    wz.role_page.reviews.setChecked(True)
    wz.next()
    page = wz.client_page
    assert wz.currentPage() is page
    page.url.setText(hub.url)
    page.code.setText(hub.pairing_code(capsys).lower())
    page.name.setText("Operatory 4")
    assert not wz.button(QWizard.WizardButton.NextButton).isEnabled()  # the fingerprint is not compared yet
    page.connect_button.click()
    qtbot.waitUntil(lambda: page.same.isEnabled(), timeout=15000)
    assert hub.fingerprint.replace(":", "") in page.fingerprint.text().replace(":", "").replace("<br>", "")
    page.same.setChecked(True)
    assert wz.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.wait(100)  # the layout makes room for the two lines of the fingerprint
    wz.grab().save(str(tmp_path / "wizard-client.png"))
    wz.next()
    assert wz.currentPage() is wz.done_page, page.msg.text()
    assert hub.url in wz.done_page.summary.text()
    wz.button(QWizard.WizardButton.FinishButton).click()
    assert saved, wz.done_page.error.text()

    cfg = Config.load(paths.config_file)
    assert (cfg.client.hub_url, cfg.client.hub_fingerprint) == (hub.url, hub.fingerprint)
    assert cfg.sources == []  # no folder page was shown, no folder is watched
    assert stored_token(hub.url)
    assert [c["name"] for c in pairing.clients(hub.db)] == ["Operatory 4"]
    with HubClient(cfg.client.hub_url, cfg.client.hub_fingerprint) as c:
        assert c.queue()  # the token the wizard kept works


def test_a_used_code_is_refused_on_the_wizards_page(hub, capsys, qtbot, tmp_path):
    from tray_app.ui.wizard_client import ClientPage

    page = ClientPage()
    qtbot.addWidget(page)
    code = hub.pairing_code(capsys)
    with HubClient(hub.url, hub.fingerprint, token="") as c:
        c.pair(code, "Operatory 5")
    page.url.setText(hub.url)
    page.fetch_fingerprint()
    qtbot.waitUntil(lambda: page.same.isEnabled(), timeout=15000)
    page.code.setText(code)
    assert not page.validatePage() and "Not paired" in page.msg.text()


def test_the_wizard_says_when_no_hub_answers(qtbot):
    from tray_app.ui.wizard_client import ClientPage

    from .conftest import free_port

    page = ClientPage()
    qtbot.addWidget(page)
    page.url.setText("http://front-desk:8743")
    page.fetch_fingerprint()
    assert "https://" in page.msg.text() and not page.same.isEnabled()
    page.url.setText(f"https://127.0.0.1:{free_port()}")
    page.fetch_fingerprint()
    qtbot.waitUntil(lambda: "cannot be reached" in page.msg.text(), timeout=15000)
    assert not page.same.isEnabled() and page.connect_button.isEnabled()


def test_pair_a_review_pc_in_the_hubs_tray_needs_a_dentists_pin(hub, capsys, qtbot, tmp_path):
    from tray_app.ui.app_shell import AppShell

    config = Config(hub=HubConfig(enabled=True, port=hub.port, bind_address="127.0.0.1"))
    shell = AppShell(None, hub.paths, config, quit_app=lambda: None, poll_ms=0)
    shell.start(start_service=False, first_run=False)
    try:
        sep = shell.tray.pystray.Menu.SEPARATOR
        assert "Pair a review PC…" in [i.text for i in shell.tray.icon.menu.items if i is not sep]
        asked = []
        assert shell.pair_client(ask=lambda parent, clinicians, reason: asked.append(clinicians) or None) is None
        assert asked and [c["name"] for c in asked[0] if c["can_authorise"]] == ["Dr Ada"]
        assert not hub.db.query("SELECT * FROM hub_pairing_codes")  # cancelled: no code was made

        dialog = shell.pair_client(ask=lambda *a: Authority(hub.dentist, PIN))
        qtbot.addWidget(dialog)
        texts = "".join(w.text() for w in dialog.findChildren(type(dialog.code))).replace("<br>", "").replace(":", "")
        assert dialog.isVisible() and hub.fingerprint.replace(":", "") in texts
        dialog.grab().save(str(tmp_path / "pairing-dialog.png"))
        code = dialog.code.text().split("<b>")[1].split("</b>")[0]
        with HubClient(hub.url, hub.fingerprint, token="") as c:
            c.pair(code, "Operatory 6")  # the code shown works
        assert hub.audit("hub_pairing_code")[-1]["data"]["authorised_by"] == f"clinician:{hub.dentist} Dr Ada"
    finally:
        shell.shutdown()
