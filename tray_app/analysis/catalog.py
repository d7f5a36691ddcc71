"""What the app knows about the installed models besides running them: which are for
demonstration only, and one display name, colour and review floor per finding label.

The manifests' labels are the one source of names and colours. A label that no installed
manifest names (a clinician's own label, a model since removed) gets defaults derived from
the label alone, so the review window and every export (rendered images, PDF, DICOM) agree.
A signed report records the styles of its labels and its demonstration models (`report_facts`),
so an export renders from the report alone, the same on every retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from ..config import bundled_models_dir
from ..labels import describe, fallback_color
from ..store.findings import DECIDED
from .manifest import DEFAULT_REVIEW_FLOOR, LabelSpec

# recognised by name too, so reports made before manifests said so are still marked
DEMO_MODEL_NAMES = frozenset({"dental-demo"})


@dataclass(frozen=True)
class LabelStyle:
    display: str
    color: str  # "#rrggbb"
    floor: float = DEFAULT_REVIEW_FLOOR

    @property
    def rgb(self) -> tuple[int, int, int]:
        return hex_rgb(self.color) or (255, 255, 255)


def hex_rgb(color: str) -> tuple[int, int, int] | None:
    text = (color or "").strip().lstrip("#")
    if len(text) != 6:
        return None
    try:
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except ValueError:
        return None


def default_style(label: str) -> LabelStyle:
    """A label no installed manifest describes: the product's name and colour for it."""
    product = describe(label)
    return LabelStyle(product.display, product.color)


def style_of(spec: LabelSpec) -> LabelStyle:
    color = spec.color if hex_rgb(spec.color) else fallback_color(spec.name)
    return LabelStyle(spec.display, color, spec.review_floor)


@dataclass
class ModelFacts:
    """One installed model: is it demonstration-only, and its labels' styles."""

    name: str
    version: str = ""
    demonstration: bool = False
    intended_use: str = ""
    styles: dict[str, LabelStyle] = field(default_factory=dict)

    @property
    def colors(self) -> dict[str, str]:
        return {label: s.color for label, s in self.styles.items()}

    @property
    def labels(self) -> list[str]:
        return list(self.styles)




def above_floor(finding: dict, floor: float) -> bool:
    """Shown by a review floor: a clinician's decision always, a proposal at or above the floor."""
    return finding.get("status") in DECIDED or float(finding.get("confidence") or 0) >= floor - 1e-9


class ModelCatalog:
    """Manifests of the installed models (bundled + user), looked up by 'name version'."""

    def __init__(self, search_dirs: list[tuple[Path, str]] | None):
        self._by_name: dict[str, ModelFacts] = {}
        if search_dirs:
            from . import registry

            try:
                entries = registry.discover(search_dirs)
            except OSError:
                entries = []
            for e in entries:
                m = e.manifest
                if m is None:
                    continue
                facts = ModelFacts(m.name, m.version, m.is_demonstration or m.name in DEMO_MODEL_NAMES,
                                   m.intended_use, {l.name: style_of(l) for l in m.labels})
                self._by_name.setdefault(m.name, facts)
                self._by_name[f"{m.name} {m.version}"] = facts

    @staticmethod
    @lru_cache(maxsize=1)
    def bundled() -> "ModelCatalog":
        """The models shipped with the app: read once (they change only with an update)."""
        return ModelCatalog([(bundled_models_dir(), "bundled")])

    def facts(self, model: str) -> ModelFacts:
        found = self._by_name.get(model) or self._by_name.get(model.split(" ")[0])
        if found:
            return found
        name, _, version = model.partition(" ")
        return ModelFacts(name, version, demonstration=name in DEMO_MODEL_NAMES)

    def labels(self) -> list[str]:
        out: list[str] = []
        for facts in self._by_name.values():
            out += facts.labels
        return list(dict.fromkeys(out))

    def style(self, label: str, models: Iterable[str] = ()) -> LabelStyle:
        """The label's style from the given models' manifests first, then any installed one."""
        for model in models:
            found = self.facts(model).styles.get(label)
            if found:
                return found
        for facts in self._by_name.values():
            if label in facts.styles:
                return facts.styles[label]
        return default_style(label)

    def floor(self, finding: dict) -> float:
        """The review floor of a finding: its label's, from the manifest of the model that made it."""
        return self.style(finding["label"], [finding["model"]] if finding.get("model") else ()).floor

    def demonstration(self, models: Iterable[str]) -> list[str]:
        return [m for m in models if self.facts(m).demonstration]

    def report_facts(self, models: list[str], labels: Iterable[str]) -> dict:
        """What a report snapshot records about its models and labels (see render.py)."""
        return {"demonstration_models": self.demonstration(models),
                "label_styles": {label: {"display": s.display, "color": s.color}
                                 for label in sorted(set(labels)) for s in [self.style(label, models)]}}
