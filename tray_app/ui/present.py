"""Qt-free presentation helpers: names, dates, ages, finding summaries, overlay filters, mount order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..analysis.catalog import LabelStyle, above_floor, default_style
from ..labels import ANATOMY_LABELS, describe
from ..review.report import local_time
from ..clinical.views import FMX_VIEWS, view_of

SURFACE_LETTERS = "MODBLIF"


def patient_name(pn: str) -> str:
    """DICOM PN 'Last^First^Middle' -> 'Last, First Middle'."""
    parts = [p.strip() for p in (pn or "").split("^")]
    if not parts or not parts[0]:
        return "Unknown patient"
    rest = " ".join(p for p in parts[1:3] if p)
    return f"{parts[0]}, {rest}" if rest else parts[0]


def dob(yyyymmdd: str) -> str:
    s = (yyyymmdd or "").strip()
    if len(s) == 8 and s.isdigit():
        return f"{s[:4]}-{s[4:6]}-{s[6:]}"
    return s or "—"


def age(iso: str, now: datetime | None = None) -> str:
    """'just now', '12 min', '3 h', '2 d' since an ISO time."""
    if not iso:
        return ""
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    secs = ((now or datetime.now(timezone.utc)) - t).total_seconds()
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{int(secs // 60)} min"
    if secs < 86400 * 2:
        return f"{int(secs // 3600)} h"
    return f"{int(secs // 86400)} d"


when = local_time  # the one local-time format of the app (the report's)


def label_text(label: str) -> str:
    return describe(label).display


def tooth_text(f: dict) -> str:
    u = f.get("tooth_universal")
    return f"#{u}" if u not in (None, "") else "—"


def all_findings(study: dict) -> list[dict]:
    """Every finding of a study with its image id and the image's place in mount order
    (the number under its thumbnail), ordered by that place, then confidence."""
    out = []
    for index, (im, _view) in enumerate(mount_order(study.get("images", []))):
        for f in sorted(im.get("findings", []), key=lambda f: -f["confidence"]):
            out.append(f | {"image_id": im["id"], "image_index": index})
    return out


def top_findings(study: dict, limit: int = 3, display=label_text) -> str:
    """'Caries ×2 91%, Calculus 45%' — pathology first, anatomy and rejected left out."""
    best: dict[str, tuple[float, int]] = {}
    for f in all_findings(study):
        if f["label"] in ANATOMY_LABELS or f["status"] == "rejected":
            continue
        conf, n = best.get(f["label"], (0.0, 0))
        best[f["label"]] = (max(conf, f["confidence"]), n + 1)
    if not best:
        return "No findings"
    items = sorted(best.items(), key=lambda kv: -kv[1][0])
    parts = [f"{display(label)}{f' ×{n}' if n > 1 else ''} {conf:.0%}" for label, (conf, n) in items[:limit]]
    more = len(items) - limit
    return ", ".join(parts) + (f" +{more}" if more > 0 else "")


def models_of(study: dict) -> list[str]:
    """'name version' of the models behind a study's findings (or its images)."""
    names = [f["model"] for f in all_findings(study) if f.get("model")]
    names += [im["model"] for im in study.get("images", []) if im.get("model")]
    return list(dict.fromkeys(n for n in names if n.strip()))


def image_teeth(im: dict) -> list[int]:
    """FDI teeth seen on an image: the API's list if it gives one, else the placed findings."""
    teeth = im.get("teeth_fdi") or []
    if teeth:
        return [int(t) for t in teeth]
    return [int(f["tooth_fdi"]) for f in im.get("findings", []) if f.get("tooth_fdi")]


def image_view(im: dict) -> str:
    return im.get("view") or view_of(im.get("kind", ""), image_teeth(im), im.get("laterality", ""))


def mount_order(images: list[dict]) -> list[tuple[dict, str]]:
    """Images in FMX mount reading order: maxillary row, bitewings, mandibular row, then the rest.

    Each item is (image, view name or kind). Unplaced images keep arrival order at the end.
    """
    def row(view: str) -> int:
        if view.startswith("PA maxillary"):
            return 0
        if view.startswith("BW"):
            return 1
        if view.startswith("PA mandibular"):
            return 2
        return 3

    keyed = []
    for arrival, im in enumerate(images):
        view = image_view(im)
        key = (row(view), FMX_VIEWS.index(view) if view in FMX_VIEWS else 99, arrival)
        keyed.append((key, im, view or label_text(im.get("kind") or "image")))
    keyed.sort(key=lambda k: k[0])
    return [(im, view) for _, im, view in keyed]


def parse_tooth(text: str) -> int | None:
    """Universal '3' / '#3' / 'A' (or FDI '16' written as 'FDI 16') -> FDI; None when blank."""
    from ..teeth import is_valid_fdi, universal_to_fdi

    t = text.strip().lstrip("#").strip()
    if not t:
        return None
    if t.upper().startswith("FDI"):
        fdi = int(t[3:].strip())
        if not is_valid_fdi(fdi):
            raise ValueError(f"{fdi} is not an FDI tooth number")
        return fdi
    return universal_to_fdi(t)


@dataclass
class OverlaySettings:
    """What the canvas and the findings table show. Hiding never deletes anything."""

    threshold: float | None = None   # one "Min. confidence" for all labels; None: each label's review floor
    opacity: float = 0.9
    show_anatomy: bool = False       # "tooth" boxes
    show_rejected: bool = False      # on the canvas; the table always lists rejected rows, greyed
    hidden_labels: set[str] = field(default_factory=set)
    color_mode: str = "confidence"   # confidence | label
    styles: dict[str, LabelStyle] = field(default_factory=dict)  # the study's labels (analysis/catalog.py)

    def style(self, label: str) -> LabelStyle:
        return self.styles.get(label) or default_style(label)

    def display(self, label: str) -> str:
        return self.style(label).display

    def floor(self, label: str) -> float:
        return self.threshold if self.threshold is not None else self.style(label).floor

    def passes_filters(self, f: dict) -> bool:
        """Label, anatomy and confidence filters (clinician decisions always pass the floor)."""
        if f["label"] in ANATOMY_LABELS and not self.show_anatomy:
            return False
        if f["label"] in self.hidden_labels:
            return False
        return above_floor(f, self.floor(f["label"]))

    def on_canvas(self, f: dict) -> bool:
        return self.passes_filters(f) and (f["status"] != "rejected" or self.show_rejected)
