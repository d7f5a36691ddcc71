"""The chart panel under the findings list: what Open Dental charts for the study's patient.

The medical alert comes first and stands out (red, the theme's urgent colours); then allergies,
medications and problems; then what is charted on the teeth in view, and the findings that
contradict the chart. It is read through the review API's `chart_context(study_id)` (the local
store's cache, or a client home's hub) on a thread pool of its own, so opening a study never
waits for Open Dental; a plain sentence stands in while it loads or when it cannot be read.
Nothing of it is logged.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..labels import describe
from . import study_panels, theme
from .widgets import heading_row, panel_layout

LOADING = "Reading the chart from Open Dental…"
SECTIONS = (("allergies", "Allergies"), ("medications", "Medications"), ("problems", "Problems"))


def _load_chart(api, study_id: int) -> dict:
    try:
        return api.chart_context(study_id)
    except Exception as exc:  # the window must keep working whatever happens here; say nothing medical
        return {"state": "error", "message": f"chart context unavailable ({type(exc).__name__})"}


def _list(items) -> str:
    return "".join(f"<li>{escape(str(i))}</li>" for i in items)


def _work(w: dict) -> str:
    what = describe(w["label"]).display if w.get("label") else w["code"]
    extra = ", ".join(x for x in (w["code"] if w.get("label") else "", w.get("surfaces", ""), w.get("date", "")) if x)
    return escape(f"{what} ({extra})" if extra else what)


def tooth_lines(chart: dict) -> list[str]:
    lines = []
    for t in chart.get("teeth", []):
        parts = []
        if t.get("missing"):
            parts.append(f"<b>missing</b> — {escape(t['missing'])}")
        parts += [_work(w) for w in t.get("existing", [])]
        if t.get("planned"):
            parts.append("planned: " + ", ".join(_work(w) for w in t["planned"]))
        lines.append(f"<b>#{escape(t['tooth'])}</b> " + "; ".join(parts))
    return lines


def chart_html(chart: dict) -> str:
    """The panel's body below the alert (rich text; every value escaped)."""
    out = []
    for key, title in SECTIONS:
        items = chart.get(key) or []
        out.append(f"<p style='margin:6px 0 2px 0'><b>{title}</b>"
                   + (f"</p><ul style='margin:0; -qt-list-indent:1'>{_list(items)}</ul>" if items
                      else f" <span style='color:{theme.MUTED}'>— none recorded</span></p>"))
    view = chart.get("teeth_in_view") or []
    lines = tooth_lines(chart)
    out.append(f"<p style='margin:6px 0 2px 0'><b>Charted on the teeth in view</b></p>")
    if lines:
        out.append("<ul style='margin:0; -qt-list-indent:1'>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>")
    else:
        shown = ", ".join(f"#{t}" for t in view) or "none placed"
        out.append(f"<p style='color:{theme.MUTED};margin:0'>nothing charted (teeth in view: {escape(shown)})</p>")
    for note in chart.get("notes") or []:
        out.append(f"<p style='color:{theme.MUTED};margin:2px 0'>{escape(note)}</p>")
    return "".join(out)


def flags_html(chart: dict) -> str:
    flags = chart.get("flags") or []
    if not flags:
        return ""
    items = "".join(f"<li>{escape(describe(f['label']).display)} on #{escape(f['tooth'])}: {escape(f['text'])}</li>"
                    for f in flags)
    head = "1 finding contradicts the chart" if len(flags) == 1 else f"{len(flags)} findings contradict the chart"
    return f"<b>⚠ {head}</b><ul style='margin:0; -qt-list-indent:1'>{items}</ul>"


class ChartPanel(study_panels.StudyPanel):
    def __init__(self, api, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.api, self.scale = api, scale
        self.study_id: int | None = None
        self.chart: dict | None = None
        lay = panel_layout(self, QVBoxLayout, scale, (8, 6, 8, 8), spacing=4)
        head, self.status = heading_row("Chart (Open Dental)")
        lay.addLayout(head)
        self.alert = self._label(f"background:{theme.URGENT_BG}; border:1px solid {theme.URGENT}; border-radius:4px;"
                                 f"padding:{scale.px(6)}px; color:{theme.TEXT}; font-weight:600;")
        self.flags = self._label(f"background:{theme.BANNER_BG}; border:1px solid {theme.BANNER_BORDER};"
                                 f"border-radius:4px; padding:{scale.px(5)}px; color:{theme.BANNER_TEXT};")
        self.state = self._label(f"color:{theme.MUTED};")
        self.body = self._label("")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        inner_lay = panel_layout(inner, QVBoxLayout, scale, (0, 0, 0, 0), spacing=4)
        lay.addWidget(self.alert)  # above the scrolled part: the alert is never scrolled away
        for part in (self.flags, self.state, self.body):
            inner_lay.addWidget(part)
        inner_lay.addStretch(1)
        scroll.setWidget(inner)
        lay.addWidget(scroll, 1)
        self.loader = study_panels.BackgroundLoader(self, lambda study_id: _load_chart(api, study_id),
                                                    self._on_loaded)
        self.pool = self.loader.pool
        self._show_state(LOADING)

    def _label(self, style: str) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setStyleSheet(style)
        label.hide()
        return label

    # -- the review window's calls --------------------------------------------------------------
    def show_study(self, study: dict) -> None:
        """Asked again after each review action (flags follow the findings); the cache makes it cheap."""
        if study["id"] != self.study_id:
            self.study_id, self.chart = study["id"], None
            if not self.isHidden():  # hidden: no Open Dental here; said again only once it answers
                self._show_state(LOADING)
        self.loader.request(study["id"])

    # -- results ----------------------------------------------------------------------------------
    def _on_loaded(self, study_id: int, chart: dict) -> None:
        if study_id != self.study_id:
            return  # an answer for a study no longer open
        self.chart = chart
        # an office without Open Dental (no API keys) has nothing to see here: the panel stays away
        self.setVisible(chart.get("state") != "not_set_up")
        if chart.get("state") != "ok":
            self._show_state(chart.get("message") or "chart context unavailable")
            return
        alerts = chart.get("alerts") or []
        self.alert.setText("⚠ Medical alert<br>" + "<br>".join(escape(a) for a in alerts))
        self.alert.setVisible(bool(alerts))
        self.flags.setText(flags_html(chart))
        self.flags.setVisible(bool(chart.get("flags")))
        self.state.hide()
        self.setMinimumHeight(self.scale.px(230))  # the alert and a few lines below it, beside a full findings list
        self.body.setText(chart_html(chart))
        self.body.show()
        self.status.setText("no medical alert" if not alerts else "")

    def _show_state(self, sentence: str) -> None:
        for part in (self.alert, self.flags, self.body):
            part.hide()
        self.state.setText(escape(sentence))
        self.state.show()
        self.setMinimumHeight(self.scale.px(110))  # a sentence or two
        self.status.setText("")


study_panels.register(ChartPanel)
