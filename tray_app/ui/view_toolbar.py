"""The display toolbar over the image: fit, 1:1, zoom, rotate, flip, invert, window/level presets,
reset, and a read-out of window, level, zoom, rotation and flip. It only steers the canvas."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from . import theme
from .canvas import PRESETS, ImageCanvas
from .widgets import panel_layout


class ViewToolbar(QWidget):
    def __init__(self, canvas: ImageCanvas, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.canvas = canvas
        lay = panel_layout(self, QHBoxLayout, scale, (8, 4, 8, 4), spacing=4)

        def tool(text, tip, slot, checkable=False):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(checkable)
            (b.toggled if checkable else b.clicked).connect(slot)
            lay.addWidget(b)
            return b

        tool("Fit", "Fit the image to the window (F)", lambda: canvas.fit())
        tool("1:1", "One image pixel per screen pixel", lambda: canvas.actual_size())
        tool("−", "Zoom out (mouse wheel)", lambda: canvas.zoom_by(1 / 1.25))
        tool("+", "Zoom in (mouse wheel)", lambda: canvas.zoom_by(1.25))
        lay.addSpacing(scale.px(8))
        tool("⟳ 90°", "Rotate 90° clockwise", lambda: canvas.rotate_90())
        tool("Flip", "Flip left–right", lambda: canvas.toggle_flip())
        self.invert_btn = tool("Invert", "Invert grey levels (I)", lambda on: canvas.set_invert(on), True)
        lay.addSpacing(scale.px(8))
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.setToolTip("Window/level preset; right-drag on the image to adjust")
        self.preset_combo.textActivated.connect(lambda name: canvas.preset(name))
        lay.addWidget(self.preset_combo)
        tool("Reset", "Reset window/level, rotation, flip and zoom", self.reset)
        lay.addStretch(1)
        self.wl_label = QLabel("")
        self.wl_label.setObjectName("muted")
        lay.addWidget(self.wl_label)
        canvas.view_changed.connect(self.show_view)

    def reset(self) -> None:
        self.invert_btn.setChecked(False)
        self.preset_combo.setCurrentText("Default")
        self.canvas.reset_view()

    def show_view(self) -> None:
        c = self.canvas
        self.wl_label.setText(f"W {c.window_width:.0f}  L {c.window_level:.0f}  ·  {c.zoom * 100:.0f}%"
                              + (f"  ·  {c.rotation}°" if c.rotation else "") + ("  ·  flipped" if c.flip_h else ""))
