"""`[governance]`: how far AI results go without a dentist's signature, and retention."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..labels import AUTOMATABLE_LABELS
from .schema import Table

ROLLOUT_MODES = ("silent_pilot", "assistive", "targeted_automation")


@dataclass
class GovernanceConfig(Table):
    TABLE = "governance"

    # silent_pilot: analyse and store, never show findings or export them;
    # assistive: review and a dentist's signature before any PMS write;
    # targeted_automation: as assistive, and confident findings of the low-risk `auto_labels`
    # are exported unsigned, marked "AI-generated, not yet verified", until a dentist signs
    rollout: str = "assistive"
    retention_days: int = 30  # cached images and rendered files of exported studies are purged after this
    auto_labels: list[str] = field(default_factory=lambda: list(AUTOMATABLE_LABELS))
    auto_min_confidence: float = 0.90
    auto_settle_seconds: float = 300.0  # a study goes out once no image has arrived for this long

    @property
    def automated(self) -> bool:
        return self.rollout == "targeted_automation"

    def validate(self) -> list[str]:
        errors = []
        if self.rollout not in ROLLOUT_MODES:
            errors.append(f"governance.rollout must be one of {', '.join(ROLLOUT_MODES)}")
        if self.retention_days < 1:
            errors.append("governance.retention_days must be at least 1")
        other = [x for x in self.auto_labels if x not in AUTOMATABLE_LABELS]
        if other:
            errors.append(f"governance.auto_labels may only name existing dental work "
                          f"({', '.join(AUTOMATABLE_LABELS)}); {', '.join(other)} always needs a dentist's "
                          "signature")
        if not 0.5 <= self.auto_min_confidence <= 1.0:
            errors.append("governance.auto_min_confidence must be between 0.5 and 1.0")
        if self.auto_settle_seconds < 10:
            errors.append("governance.auto_settle_seconds must be at least 10")
        if self.rollout == "targeted_automation" and not self.auto_labels:
            errors.append("targeted automation needs at least one label in governance.auto_labels")
        return errors
