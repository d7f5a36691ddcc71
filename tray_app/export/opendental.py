"""What the Open Dental export sends besides JSON: document descriptions and uploads that fit.

The request list of one signed study is in opendental_export.py; the client is tray_app.pms.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Callable

from ..pms.client import ODError

DESCRIPTION_MAX = 255  # document.Description is varchar(255)


def description(text: str, marker: str) -> str:
    room = DESCRIPTION_MAX - len(marker) - 1
    text = text if len(text) <= room else text[: room - 1] + "…"
    return f"{text} {marker}"


@dataclass
class Upload:
    data: bytes
    extension: str
    note: str = ""  # e.g. "downscaled to fit Open Dental's upload limit"


def fit_upload(make: Callable[[float], Upload], limit: int, overhead: int = 2000) -> Upload:
    """Render at full size, else at smaller scales until the base64 body fits the limit."""
    scale = 1.0
    while True:
        up = make(scale)
        if (len(up.data) + 2) // 3 * 4 + overhead <= limit:
            if scale < 1.0:
                up.note = f"downscaled to {scale:.0%} to fit Open Dental's upload limit"
            return up
        if scale < 0.05:
            raise ODError("the image is too large for Open Dental's upload limit even when reduced", retry=False,
                          written=False)
        scale *= 0.7


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
