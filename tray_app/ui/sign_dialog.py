"""Sign-off: who signs (PIN), and exactly what will be written where."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTextBrowser, QVBoxLayout)

from ..labels import describe
from . import theme
from .code_confirm import CodeConfirmList
from .present import dob, mount_order, patient_name


def preview_html(study: dict, preview: dict) -> str:
    """The chart note, images, CDT codes and destinations as they will be written."""
    by_id = {im["id"]: (i, im, view) for i, (im, view) in enumerate(mount_order(study.get("images", [])))}
    images = []
    for image_id in preview.get("images", []):
        index, im, where = by_id.get(image_id, (None, {}, ""))
        images.append(f"<li>Image {index + 1 if index is not None else '?'} (id {image_id}) — "
                      f"{html.escape(im.get('kind') or 'image')}{' · ' + html.escape(where) if where else ''}</li>")
    codes = []
    for c in preview.get("codes", []):
        if isinstance(c, dict):
            code = c.get("code") or "(no code)"
            teeth = f" — teeth {', '.join('#' + str(t).lstrip('#') for t in c['teeth'])}" if c.get("teeth") else ""
            codes.append(f"<li><b>{html.escape(code)}</b> {html.escape(c.get('reason', ''))}{html.escape(teeth)}</li>")
        else:
            codes.append(f"<li>{html.escape(str(c))}</li>")
    existing = "".join(f"<li>#{html.escape(str(e['tooth_universal']))} {html.escape(describe(e['label']).display)} — "
                       f"<b>{html.escape(e['code'])}</b></li>" for e in preview.get("existing", []))
    dests = "".join(f"<li>{html.escape(d)}</li>" for d in preview.get("destinations", [])) or "<li>none</li>"
    p = study.get("patient", {})
    muted = theme.MUTED
    return (
        f"<p><b>{html.escape(patient_name(p.get('name', '')))}</b> · {html.escape(p.get('id', ''))} · "
        f"DOB {dob(p.get('birth_date', ''))}</p>"
        f"<h4 style='color:{muted}'>CHART NOTE</h4>"
        f"<pre style='white-space: pre-wrap; font-family: monospace;'>{html.escape(preview.get('note', ''))}</pre>"
        f"<h4 style='color:{muted}'>IMAGES ({len(preview.get('images', []))})</h4><ul>{''.join(images) or '<li>none</li>'}</ul>"
        f"<h4 style='color:{muted}'>CDT CODES</h4><ul>{''.join(codes) or '<li>none</li>'}</ul>"
        + (f"<h4 style='color:{muted}'>EXISTING WORK CHARTED IN OPEN DENTAL (unless already charted)</h4>"
           f"<ul>{existing}</ul>" if existing else "") +
        f"<p><i>{html.escape((preview.get('follow_up') or {}).get('text', ''))}</i></p>"  # read-only (follow_up.py)
        f"<h4 style='color:{muted}'>DESTINATION</h4><ul>{dests}</ul>"
    )


def unreviewed_text(study: dict, shown) -> str:
    """What is still open, in the terms of what the reviewer sees: the proposals shown, and those
    hidden (under the confidence floor or filtered out), which stay out of the report as well."""
    open_ = [f for im in study.get("images", []) for f in im.get("findings", [])
             if f["label"] != "tooth" and f["status"] == "proposed"]
    seen = sum(1 for f in open_ if shown(f))
    hidden = len(open_) - seen
    parts = []
    if seen:
        parts.append(f"{seen} proposed finding{'s' if seen != 1 else ''} shown {'have' if seen != 1 else 'has'} "
                     "not been reviewed.")
    if hidden:
        parts.append(f"{hidden} more {'are' if hidden != 1 else 'is'} hidden (under the minimum confidence or "
                     "filtered out).")
    if parts:
        parts.append("Only accepted, edited and added findings go into the report.")
    return " ".join(parts)


class SignDialog(QDialog):
    signed = Signal(dict)

    def __init__(self, api, study: dict, scale: theme.Scale, parent=None, shown=None):
        """`shown(finding)`: what the review window shows (its filters); the dialog speaks of those."""
        super().__init__(parent)
        from ..review.api import ReviewError

        self._ReviewError = ReviewError
        self.api = api
        self.study = study
        self.setWindowTitle("Sign off study")
        self.setMinimumWidth(scale.px(560))
        lay = QVBoxLayout(self)
        lay.setSpacing(scale.px(8))
        head = QLabel("Review what will be written, then sign with your PIN.")
        head.setObjectName("heading")
        lay.addWidget(head)
        self.preview = api.preview_export(study["id"])
        self.unreviewed = QLabel(unreviewed_text(study, shown or (lambda f: True)))
        self.unreviewed.setWordWrap(True)
        self.unreviewed.setStyleSheet(f"color: {theme.BANNER_TEXT};")
        self.unreviewed.setVisible(bool(self.unreviewed.text()))
        lay.addWidget(self.unreviewed)
        self.warnings = QLabel("<br>".join(f"⚠ {w}" for w in self.preview.get("warnings", [])))
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.warnings.setStyleSheet(f"color: {theme.BANNER_TEXT};")
        self.warnings.setVisible(bool(self.preview.get("warnings")))
        lay.addWidget(self.warnings)
        self.browser = QTextBrowser()
        self.browser.setHtml(preview_html(study, self.preview))
        self.browser.setMinimumHeight(scale.px(260))
        lay.addWidget(self.browser, 1)
        self.codes = CodeConfirmList(self.preview.get("confirm", []), scale,
                                     charted=bool(self.preview.get("plans_treatment")))
        lay.addWidget(self.codes)
        form = QFormLayout()
        self.clinician = QComboBox()
        self.clinicians = api.clinicians()
        for c in self.clinicians:
            role = c["role"] + ("" if c["can_sign"] else " — cannot sign")
            self.clinician.addItem(f"{c['name']} ({role})", c["id"])
        first_signer = next((i for i, c in enumerate(self.clinicians) if c["can_sign"]), 0)
        self.clinician.setCurrentIndex(first_signer)
        self.clinician.currentIndexChanged.connect(self._update)
        form.addRow("Clinician", self.clinician)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("PIN")
        self.pin.setMaxLength(64)  # a dentist may use a passphrase
        self.pin.returnPressed.connect(self.try_sign)
        self.pin.textChanged.connect(self._update)
        form.addRow("PIN", self.pin)
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.URGENT}; font-weight: 600;")
        lay.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.reject)
        self.sign_btn = QPushButton("Sign")
        self.sign_btn.setObjectName("primary")
        self.sign_btn.setDefault(True)
        self.sign_btn.clicked.connect(self.try_sign)
        row.addWidget(self.cancel_btn)
        row.addWidget(self.sign_btn)
        lay.addLayout(row)
        if not self.clinicians:
            self.message.setText("No clinicians are set up yet; a dentist must be added before studies can be signed.")
        self._update()
        self.pin.setFocus(Qt.FocusReason.OtherFocusReason)

    def selected(self) -> dict | None:
        cid = self.clinician.currentData()
        return next((c for c in self.clinicians if c["id"] == cid), None)

    def _update(self, *_) -> None:
        c = self.selected()
        can = bool(c and c["can_sign"])
        self.sign_btn.setEnabled(can and bool(self.pin.text()))
        if c and not c["can_sign"]:
            self.message.setText(f"{c['name']} is a {c['role']}; only a dentist can sign.")
        elif self.message.text().endswith("only a dentist can sign."):
            self.message.setText("")

    def try_sign(self) -> bool:
        c = self.selected()
        if c is None:
            return False
        if self.codes.problem():
            self.message.setText(self.codes.problem())
            return False
        try:
            result = self.api.sign(self.study["id"], c["id"], self.pin.text(), codes=self.codes.codes())
        except self._ReviewError as exc:
            self.message.setText(str(exc))
            self.pin.clear()
            self.pin.setFocus(Qt.FocusReason.OtherFocusReason)
            return False
        self.signed.emit(result)
        self.accept()
        return True
