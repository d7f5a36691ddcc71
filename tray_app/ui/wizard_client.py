"""The first-run wizard's choice of role and its "This PC reviews" page.

"This PC watches the imaging folder" continues with the folder pages; "This PC reviews; the hub
is …" asks for the hub's address and the pairing code shown on the hub (tray → Pair a review
PC…), shows the fingerprint of the certificate the hub presents for the person to compare with
the one the hub shows, and pairs through hub/join.py — the same as `dental-bridge client join`.
The fingerprint is fetched on a thread; the pairing happens when Next is pressed on this page
(the hub has just answered then).
"""

from __future__ import annotations

import socket
import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout,
                               QWizardPage)

from ..hub.client import HubError
from .hub_tray import fingerprint_html
from .settings.common import ERROR_STYLE


class RolePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("What does this PC do?")
        lay = QVBoxLayout(self)
        self.watches = QRadioButton("This PC watches the imaging folder")
        self.reviews = QRadioButton("This PC reviews; the hub is another PC of the practice")
        self.watches.setChecked(True)
        # radio buttons do not wrap: each choice's explanation is a label of its own
        for button, text in ((self.watches, "Usually the front desk: it analyses the radiographs the imaging "
                                            "software exports and sends the signed reports. Other PCs can "
                                            "review through it."),
                             (self.reviews, "An operatory PC: findings are reviewed and signed here; the hub "
                                            "watches, analyses and exports. You need the hub's address and a "
                                            "pairing code shown on the hub.")):
            lay.addWidget(button)
            note = QLabel(text)
            note.setWordWrap(True)
            note.setContentsMargins(24, 0, 0, 12)
            lay.addWidget(note)
        lay.addStretch(1)


class ClientPage(QWizardPage):
    fetched = Signal(str, str, str)  # address, fingerprint, problem — from the fingerprint thread

    def __init__(self):
        super().__init__()
        self.fetched.connect(self._show_fetched)
        self.setTitle("The hub this PC reviews through")
        self.setSubTitle("On the hub, choose “Pair a review PC…” in the Dental AI Bridge tray menu (a dentist's "
                         "PIN): it shows a pairing code and a fingerprint.")
        form = QFormLayout(self)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://front-desk:8743")
        self.connect_button = QPushButton("Show the hub's fingerprint")
        self.connect_button.clicked.connect(self.fetch_fingerprint)
        self.fingerprint = QLabel("")
        self.fingerprint.setTextFormat(Qt.TextFormat.RichText)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.same = QCheckBox("It is the same fingerprint as the one the hub shows")
        self.same.setEnabled(False)
        self.code = QLineEdit()
        self.code.setPlaceholderText("XXXX-XXXX")
        self.name = QLineEdit(socket.gethostname())
        self.msg = QLabel("")
        self.msg.setWordWrap(True)
        self.msg.setStyleSheet(ERROR_STYLE)
        form.addRow("Hub address", self.url)
        form.addRow("", self.connect_button)
        form.addRow("Fingerprint", self.fingerprint)
        form.addRow("", self.same)
        form.addRow("Pairing code", self.code)
        form.addRow("This PC's name", self.name)
        form.addRow("", self.msg)
        self.seen = ("", "")  # (address, fingerprint) last shown
        for w in (self.url, self.code, self.name):
            w.textChanged.connect(self.completeChanged)
        self.url.textChanged.connect(self._address_changed)
        self.same.toggled.connect(self.completeChanged)
        self.paired: tuple[str, str] | None = None

    def _address_changed(self) -> None:
        self.same.setChecked(False)
        self.same.setEnabled(False)
        self.fingerprint.setText("")

    def fetch_fingerprint(self) -> None:
        """Asks the PC at the address for its certificate on a thread (an address nobody answers
        takes seconds to give up on; the wizard stays responsive); `fetched` shows the result."""
        from ..hub.join import clean_url, first_seen_fingerprint

        try:
            url = clean_url(self.url.text())
        except HubError as exc:
            return self._show_fetched(self.url.text(), "", str(exc))
        self.connect_button.setEnabled(False)
        self.msg.setText("")
        self.fingerprint.setText("Connecting…")

        def work():
            try:
                self.fetched.emit(url, first_seen_fingerprint(url, timeout=5.0), "")
            except HubError as exc:
                self.fetched.emit(url, "", str(exc))

        threading.Thread(target=work, name="hub-fingerprint", daemon=True).start()

    def _show_fetched(self, url: str, fp: str, problem: str) -> None:
        self.connect_button.setEnabled(True)
        if url != self.url.text().strip().rstrip("/"):
            return  # the address changed meanwhile: this answer is about another PC
        self.seen = (url, fp) if fp else ("", "")
        self.fingerprint.setText(fingerprint_html(fp) if fp else "")
        self.same.setEnabled(bool(fp))
        self.msg.setText(problem[:1].upper() + problem[1:])

    def isComplete(self) -> bool:
        return bool(self.url.text().strip() and self.code.text().strip() and self.name.text().strip()
                    and self.same.isChecked())

    def validatePage(self) -> bool:
        """Pairs with the hub whose fingerprint the person compared (a different certificate is
        refused before the code is sent)."""
        from ..hub.join import join

        try:
            self.paired = join(self.seen[0], self.code.text(), self.name.text(), self.seen[1])
        except HubError as exc:
            self.msg.setText(f"Not paired: {exc}")
            return False
        return True
