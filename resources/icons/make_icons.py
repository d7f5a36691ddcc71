"""Draws the app and tray icons with Pillow: `python resources/icons/make_icons.py`.

Outputs (committed, small): `app.png` (256 px), `app.ico` (16-256 px, used by the exe and the
installer) and `tray-<state>.png` (64 px) for the tray states watching, paused,
waiting_for_share, export_failing, review and urgent. A white tooth on a coloured disc; the
state colour is the disc, and a badge in the lower right corner says what needs attention
(the review count is drawn onto the `review` icon at run time by tray_app/ui/icons.py).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SS = 4  # supersampling factor for smooth edges

TEAL = (38, 140, 152, 255)
GREY = (120, 126, 134, 255)
AMBER = (214, 150, 40, 255)
RED = (205, 52, 58, 255)
WHITE = (255, 255, 255, 255)
INK = (30, 32, 36, 255)

# state -> (disc colour, badge) ; badge: None | "pause" | "wait" | "bang" | "cross" | "dot"
STATES = {
    "watching": (TEAL, None),
    "paused": (GREY, "pause"),
    "waiting_for_share": (AMBER, "wait"),
    "export_failing": (TEAL, "cross"),
    "review": (TEAL, "dot"),
    "urgent": (RED, "bang"),
}


def _tooth(d: ImageDraw.ImageDraw, s: int, cx: float, cy: float, fill) -> None:
    """A molar: rounded crown with two roots, centred on (cx, cy), height ~0.56 s."""
    w, h = 0.46 * s, 0.30 * s
    top = cy - 0.28 * s
    d.rounded_rectangle([cx - w / 2, top, cx + w / 2, top + h], radius=0.12 * s, fill=fill)
    # cusps: two bumps on top
    d.ellipse([cx - w / 2, top - 0.05 * s, cx - 0.01 * s, top + 0.14 * s], fill=fill)
    d.ellipse([cx + 0.01 * s, top - 0.05 * s, cx + w / 2, top + 0.14 * s], fill=fill)
    # roots
    rb = top + h - 0.04 * s
    d.polygon([(cx - w / 2 + 0.02 * s, rb), (cx - 0.03 * s, rb), (cx - 0.10 * s, cy + 0.30 * s),
               (cx - 0.17 * s, cy + 0.30 * s)], fill=fill)
    d.polygon([(cx + 0.03 * s, rb), (cx + w / 2 - 0.02 * s, rb), (cx + 0.17 * s, cy + 0.30 * s),
               (cx + 0.10 * s, cy + 0.30 * s)], fill=fill)


def _badge(d: ImageDraw.ImageDraw, s: int, kind: str) -> None:
    r = 0.22 * s
    cx, cy = s - r - 0.01 * s, s - r - 0.01 * s
    colour = {"pause": INK, "wait": INK, "bang": WHITE, "cross": RED, "dot": (70, 150, 255, 255)}[kind]
    ring = WHITE if kind != "bang" else RED
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ring)
    r2 = r * 0.80
    d.ellipse([cx - r2, cy - r2, cx + r2, cy + r2], fill=colour)
    fg = WHITE if kind != "bang" else RED
    if kind == "pause":
        bw, bh = 0.10 * r, 0.45 * r
        for dx in (-0.22 * r, 0.22 * r):
            d.rectangle([cx + dx - bw, cy - bh, cx + dx + bw, cy + bh], fill=fg)
    elif kind == "wait":
        for dx in (-0.42 * r, 0, 0.42 * r):
            e = 0.13 * r
            d.ellipse([cx + dx - e, cy - e, cx + dx + e, cy + e], fill=fg)
    elif kind == "cross":
        w = 0.12 * r
        a = 0.42 * r
        d.line([(cx - a, cy - a), (cx + a, cy + a)], fill=WHITE, width=int(2 * w))
        d.line([(cx - a, cy + a), (cx + a, cy - a)], fill=WHITE, width=int(2 * w))
    elif kind == "bang":
        bw = 0.13 * r
        d.rounded_rectangle([cx - bw, cy - 0.55 * r, cx + bw, cy + 0.15 * r], radius=bw, fill=fg)
        d.ellipse([cx - bw, cy + 0.30 * r, cx + bw, cy + 0.30 * r + 2 * bw], fill=fg)


def draw(size: int, colour, badge: str | None) -> Image.Image:
    s = size * SS
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    m = 0.03 * s
    d.ellipse([m, m, s - m, s - m], fill=colour)
    _tooth(d, s, s / 2, s / 2 + 0.02 * s, WHITE)
    if badge:
        _badge(d, s, badge)
    return im.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    for state, (colour, badge) in STATES.items():
        draw(64, colour, badge).save(HERE / f"tray-{state}.png", optimize=True)
    app = draw(256, TEAL, None)
    app.save(HERE / "app.png", optimize=True)
    app.save(HERE / "app.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    print(f"wrote {len(STATES)} tray icons, app.png and app.ico to {HERE}")


if __name__ == "__main__":
    main()
