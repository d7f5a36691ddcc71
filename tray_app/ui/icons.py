"""Tray and window icons from resources/icons (Qt-free: Pillow images for pystray).

`resources_dir()` resolves `resources/` beside the package in a checkout and under
sys._MEIPASS (`_internal/`) in the frozen build. The `review` icon carries the number of
studies waiting, drawn at run time (1-9, then 9+).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .tray_state import STATES


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent.parent / "resources"


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / name


@lru_cache(maxsize=64)
def tray_image(state: str, count: int = 0) -> Image.Image:
    if state not in STATES:
        state = "watching"
    path = icon_path(f"tray-{state}.png")
    try:
        im = Image.open(path).convert("RGBA")
    except OSError:  # resources missing (a broken install): a plain disc still shows the app is running
        im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        ImageDraw.Draw(im).ellipse([2, 2, 62, 62], fill=(38, 140, 152, 255))
    if state == "review" and count > 0:
        im = im.copy()
        d = ImageDraw.Draw(im)
        text = str(count) if count < 10 else "9+"
        size = im.width * 0.30 if len(text) == 1 else im.width * 0.24
        try:
            font = ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1
            font = ImageFont.load_default()
        cx = cy = im.width - im.width * 0.22 - im.width * 0.01
        d.text((cx, cy), text, fill=(255, 255, 255, 255), font=font, anchor="mm")
    return im
