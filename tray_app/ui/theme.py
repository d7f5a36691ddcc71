"""Colours, type sizes and the stylesheet of the review window.

A calm dark-neutral viewer (radiographs read best on a dark surround); accents are kept for
what needs attention: the AI banner (amber, prominent but not alarming), urgent studies (red)
and demonstration models (orange). Sizes scale with the window height so the same layout is
readable on a 1366×768 front-desk screen and on a 4K monitor without OS scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

# surfaces
BG = "#1b1d21"          # window
PANEL = "#23262b"       # side panels
PANEL_ALT = "#2a2e34"   # alternating rows / cards
VIEWER = "#0f1012"      # behind the radiograph
BORDER = "#3a3f47"
TEXT = "#e8eaed"
MUTED = "#a3aab4"       # 7:1 on PANEL
ACCENT = "#5cb8c4"      # selection, focus
ACCENT_DIM = "#2f5d63"

# states
URGENT = "#e5484d"
URGENT_BG = "#4a1f22"
BANNER_BG = "#3a3222"
BANNER_BORDER = "#d9a441"
BANNER_TEXT = "#f6e7c8"
DEMO_BG = "#4a2a17"
DEMO_BORDER = "#f08a3c"
DEMO_TEXT = "#ffd9bd"
SIGNED_BG = "#1f3a2c"
SIGNED_BORDER = "#4cb782"
SIGNED_TEXT = "#d3f2e1"

# finding confidence bands: (lower bound, name, colour)
BANDS = ((0.8, "strong", "#ff6b5e"), (0.5, "medium", "#ffb547"), (0.0, "low", "#7cc6f0"))
STATUS_COLORS = {"accepted": "#4cb782", "edited": "#4cb782", "added": "#4cb782", "rejected": "#7a808a",
                 "proposed": TEXT}
STATUS_TEXT = {"new": "New", "in_review": "In review", "signed": "Signed", "exported": "Exported",
               "export_failed": "Export failed"}
STUDY_STATUS_COLORS = {"new": ACCENT, "in_review": "#c7a6ff", "signed": SIGNED_BORDER, "exported": "#8fa3b8",
                       "export_failed": URGENT}


def band(confidence: float) -> tuple[str, str]:
    """(band name, colour) for a confidence."""
    for lower, name, colour in BANDS:
        if confidence >= lower:
            return name, colour
    return BANDS[-1][1], BANDS[-1][2]


@dataclass(frozen=True)
class Scale:
    """Type sizes in pixels for one window size (no OS scaling assumed: DPR handles that)."""

    factor: float

    def px(self, base: float) -> int:
        return max(1, round(base * self.factor))

    @property
    def body(self) -> int:
        return self.px(13)

    @property
    def small(self) -> int:
        return self.px(12)

    @property
    def title(self) -> int:
        return self.px(15)


def scale_for(height: int, device_pixel_ratio: float = 1.0) -> Scale:
    """Type scale for a window/screen height in logical pixels.

    When the OS already scales (device pixel ratio > 1, e.g. 4K at 150 %) logical pixels are
    the right size: 1.0. Unscaled: 1.0 up to 900 px tall, 1.25 at 1440, 1.75 at 2160.
    """
    if device_pixel_ratio >= 1.25 or height <= 900:
        return Scale(1.0)
    if height <= 1440:
        return Scale(round(1.0 + 0.25 * (height - 900) / 540, 2))
    return Scale(round(min(2.2, 1.25 + 0.5 * (height - 1440) / 720), 2))


def stylesheet(s: Scale) -> str:
    return f"""
    QWidget {{ background: {BG}; color: {TEXT}; font-size: {s.body}px; }}
    QMainWindow::separator, QSplitter::handle {{ background: {BORDER}; width: 1px; height: 1px; }}
    QFrame#panel, QWidget#panel {{ background: {PANEL}; }}
    QLabel {{ background: transparent; }}
    QLabel#muted {{ color: {MUTED}; font-size: {s.small}px; }}
    QLabel#heading {{ font-size: {s.title}px; font-weight: 600; }}
    QLabel#sectionTitle {{ color: {MUTED}; font-size: {s.small}px; font-weight: 600; letter-spacing: 0.5px; }}
    QLineEdit, QComboBox, QTextBrowser, QPlainTextEdit, QSpinBox {{
        background: {PANEL_ALT}; border: 1px solid {BORDER}; border-radius: 4px; padding: {s.px(4)}px {s.px(6)}px;
        selection-background-color: {ACCENT_DIM};
    }}
    QLineEdit:focus, QComboBox:focus {{ border-color: {ACCENT}; }}
    QComboBox QAbstractItemView {{ background: {PANEL_ALT}; selection-background-color: {ACCENT_DIM}; }}
    QPushButton, QToolButton {{
        background: {PANEL_ALT}; border: 1px solid {BORDER}; border-radius: 4px;
        padding: {s.px(5)}px {s.px(10)}px; min-height: {s.px(18)}px;
    }}
    QPushButton:hover, QToolButton:hover {{ border-color: {ACCENT}; }}
    QPushButton:checked, QToolButton:checked {{ background: {ACCENT_DIM}; border-color: {ACCENT}; }}
    QPushButton:disabled, QToolButton:disabled {{ color: #6b7079; border-color: #2e3238; }}
    QPushButton#primary {{ background: {ACCENT_DIM}; border-color: {ACCENT}; font-weight: 600; }}
    QPushButton#accept {{ border-color: #3f8f69; }}
    QPushButton#reject {{ border-color: #8a4a4d; }}
    QPushButton#accept:disabled, QPushButton#reject:disabled, QPushButton#primary:disabled {{
        border-color: #2e3238; background: {PANEL_ALT}; color: #6b7079; }}
    QTableWidget, QListWidget {{
        background: {PANEL}; alternate-background-color: {PANEL_ALT}; border: none; gridline-color: {BORDER};
        selection-background-color: {ACCENT_DIM}; selection-color: {TEXT}; outline: 0;
    }}
    QListWidget::item:selected {{ background: {ACCENT_DIM}; border-left: 3px solid {ACCENT}; }}
    QHeaderView::section {{
        background: {PANEL}; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
        padding: {s.px(4)}px {s.px(6)}px; font-size: {s.small}px; font-weight: 600;
    }}
    QSlider::groove:horizontal {{ height: {s.px(4)}px; background: {BORDER}; border-radius: 2px; }}
    QSlider::handle:horizontal {{ background: {ACCENT}; width: {s.px(14)}px; margin: -{s.px(6)}px 0;
                                  border-radius: {s.px(7)}px; }}
    QCheckBox {{ spacing: {s.px(6)}px; }}
    QCheckBox::indicator {{ width: {s.px(14)}px; height: {s.px(14)}px; border: 1px solid {MUTED};
                            border-radius: 3px; background: {PANEL_ALT}; }}
    QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
    QStatusBar {{ background: {PANEL}; color: {MUTED}; font-size: {s.small}px; }}
    QToolTip {{ background: {PANEL_ALT}; color: {TEXT}; border: 1px solid {BORDER}; }}
    QScrollBar:vertical {{ background: {PANEL}; width: {s.px(10)}px; }}
    QScrollBar::handle:vertical {{ background: {BORDER}; border-radius: 4px; min-height: 24px; }}
    QScrollBar:horizontal {{ background: {PANEL}; height: {s.px(10)}px; }}
    QScrollBar::handle:horizontal {{ background: {BORDER}; border-radius: 4px; min-width: 24px; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
    QDialog {{ background: {PANEL}; }}
    """
