"""The sign-off's treatment codes: the dentist ticks, or changes, the code of each accepted
pathology finding; only ticked codes go into the signed report and may be charted
(review/codes.py). Nothing is ticked for the dentist."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ..clinical.cdt import CODE
from ..labels import describe
from . import theme


class CodeConfirmList(QWidget):
    def __init__(self, offered: list[dict], scale: theme.Scale, parent=None, *, charted: bool = False):
        """`charted`: confirmed codes become planned procedures in Open Dental (else they stay in the report)."""
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        where = ("only ticked codes are charted in Open Dental as planned treatment" if charted else
                 "ticked codes are kept in the signed report (charting them as planned treatment is off)")
        head = QLabel(f"<span style='color:{theme.MUTED}'><b>TREATMENT CODES</b> — tick each code you confirm; "
                      f"{where}</span>")
        head.setWordWrap(True)
        lay.addWidget(head)
        grid = QGridLayout()
        grid.setHorizontalSpacing(scale.px(8))
        lay.addLayout(grid)
        self.rows: list[tuple[int, QCheckBox, QLineEdit]] = []
        for i, f in enumerate(offered):
            where = f"#{f['tooth_universal']} {f.get('surfaces') or ''}".strip()
            tick = QCheckBox(f"{where} {describe(f['label']).display.lower()}")
            code = QLineEdit(f.get("code") or "")
            code.setPlaceholderText("D code")
            code.setMaxLength(5)
            code.setFixedWidth(scale.px(72))
            code.textEdited.connect(lambda text, t=tick: t.setChecked(bool(text.strip())))  # a changed code is confirmed
            reason = QLabel(f.get("reason") or "")
            reason.setStyleSheet(f"color: {theme.MUTED};")
            reason.setWordWrap(True)
            grid.addWidget(tick, i, 0)
            grid.addWidget(code, i, 1)
            grid.addWidget(reason, i, 2)
            self.rows.append((int(f["finding_id"]), tick, code))
        self.setVisible(bool(offered))

    def codes(self) -> dict[int, str]:
        """{finding id: code} of the ticked rows."""
        return {fid: code.text().strip().upper() for fid, tick, code in self.rows if tick.isChecked()}

    def problem(self) -> str:
        bad = [c for c in self.codes().values() if not CODE.match(c)]
        return (f"{bad[0] or 'An empty code'} is not a CDT code (a D and four digits, e.g. D2392): correct it or "
                "untick it") if bad else ""
