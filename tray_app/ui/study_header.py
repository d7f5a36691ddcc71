"""What stands above the image: the study's header (patient, chart, DOB, set, status, the
sign-off button) and the banner saying what the findings are (AI proposals, a demonstration
model's, or a signed, read-only report)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from . import theme
from .present import dob, patient_name, when
from .widgets import panel_layout

BANNER_TEXT = "AI-Assisted Preliminary Findings — not a diagnosis"
DEMO_TEXT = "Demonstration model — not for clinical use"


class StudyHeader(QWidget):
    """Patient name (marked when urgent), chart · DOB · set · status, and "Sign off…"."""

    def __init__(self, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.scale = scale
        hl = panel_layout(self, QHBoxLayout, scale, (12, 6, 8, 6))
        self.title = QLabel("Select a study")
        self.title.setObjectName("heading")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("muted")
        self.subtitle.setTextFormat(Qt.TextFormat.RichText)
        tl = QVBoxLayout()
        tl.setSpacing(0)
        tl.addWidget(self.title)
        tl.addWidget(self.subtitle)
        hl.addLayout(tl, 1)
        self.sign_btn = QPushButton("Sign off…")
        self.sign_btn.setObjectName("primary")
        self.sign_btn.setToolTip("Review what will be written and sign with your PIN")
        self.sign_btn.setEnabled(False)
        hl.addWidget(self.sign_btn, 0, Qt.AlignmentFlag.AlignVCenter)

    def show_study(self, study: dict) -> None:
        p = study["patient"]
        urgent = study.get("urgent") or "urgent" in study.get("tags", [])
        mark = (f" <span style='background:{theme.URGENT}; color:white; font-size:{self.scale.small}px;'>"
                f"&nbsp;URGENT&nbsp;</span>") if urgent else ""
        self.title.setText(f"{html.escape(patient_name(p.get('name', '')))}{mark}")
        set_text = (study.get("set") or {}).get("text") or study.get("description") or ""
        self.subtitle.setText(" · ".join(html.escape(x) for x in (
            f"Chart {p.get('id') or '—'}", f"DOB {dob(p.get('birth_date', ''))}", set_text,
            theme.STATUS_TEXT.get(study.get("status", ""), study.get("status", ""))) if x))

    def set_signable(self, signable: bool, signed: bool) -> None:
        self.sign_btn.setEnabled(signable)
        self.sign_btn.setText("Signed" if signed else "Sign off…")


class Banner(QFrame):
    """Permanent AI banner (amber), demonstration warning (orange) or signed notice (green)."""

    def __init__(self, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.scale = scale
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.main = QLabel()
        self.main.setTextFormat(Qt.TextFormat.RichText)
        self.main.setWordWrap(True)
        self.demo = QLabel()
        self.demo.setTextFormat(Qt.TextFormat.RichText)
        self.demo.setWordWrap(True)
        lay.addWidget(self.main)
        lay.addWidget(self.demo)
        self.demo.hide()
        self.main.hide()

    def _style(self, label: QLabel, bg: str, border: str, fg: str) -> None:
        s = self.scale
        label.setStyleSheet(f"background: {bg}; color: {fg}; border-left: {s.px(5)}px solid {border};"
                            f" padding: {s.px(5)}px {s.px(12)}px; font-size: {s.px(14)}px;")

    def show_state(self, study: dict, models: list[str], demonstration: list[str]) -> None:
        """`models`: the models behind the study's findings; `demonstration`: those that are one."""
        signed, hidden, automated = study.get("signed"), study.get("findings_hidden", ""), study.get("automated")
        model_text = ", ".join(models) if models else "no model"
        if hidden and not signed:
            self._style(self.main, theme.PANEL_ALT, theme.MUTED, theme.TEXT)
            self.main.setText(f"<b>{html.escape(hidden[:1].upper() + hidden[1:])}</b> &nbsp;·&nbsp; "
                              f"review the images as usual")
            self.main.show()
            self.demo.hide()
            return
        if signed:
            self._style(self.main, theme.SIGNED_BG, theme.SIGNED_BORDER, theme.SIGNED_TEXT)
            self.main.setText(f"<b>Signed by {html.escape(signed.get('by', ''))} · "
                              f"{html.escape(when(signed.get('at', '')))}</b> &nbsp;·&nbsp; read-only"
                              f" &nbsp;·&nbsp; AI-assisted ({html.escape(model_text)})")
            self.main.setToolTip("This study is signed; its report is frozen and can no longer be changed.")
        else:
            self._style(self.main, theme.BANNER_BG, theme.BANNER_BORDER, theme.BANNER_TEXT)
            self.main.setText(f"<b>{BANNER_TEXT}</b> &nbsp;·&nbsp; Model {html.escape(model_text)}")
            self.main.setToolTip("Findings are proposals from an AI model. A dentist reviews them and signs "
                                 "before anything is written to the chart or sent to the practice management system.")
            if (automated or {}).get("sent"):
                self.main.setText(self.main.text() + f"<br><b>Low-risk findings were sent to the chart unverified "
                                  f"({html.escape(when(automated.get('at', '')))})</b> &nbsp;·&nbsp; your signature "
                                  f"verifies what you accept; the rest is sent as not confirmed")
                self.main.setToolTip("Targeted automation: confident findings of the practice's low-risk labels went "
                                     "to the chart marked \"AI-generated, not yet verified\". Review and sign as "
                                     "usual; the signed note lists what you did not confirm.")
        self.main.show()
        if demonstration:
            self._style(self.demo, theme.DEMO_BG, theme.DEMO_BORDER, theme.DEMO_TEXT)
            self.demo.setText(f"<b>⚠ {DEMO_TEXT}</b> &nbsp;·&nbsp; trained on synthetic images only")
            self.demo.setToolTip(f"{', '.join(demonstration)} is a demonstration model: its boxes say nothing "
                                 f"about this patient. Install the practice's licensed model for clinical use.")
            self.demo.show()
        else:
            self.demo.hide()

    def clear(self) -> None:
        self.main.hide()
        self.demo.hide()

    def text(self) -> str:
        parts = [self.main.text()] if not self.main.isHidden() else []
        if not self.demo.isHidden():
            parts.append(self.demo.text())
        return " ".join(parts)
