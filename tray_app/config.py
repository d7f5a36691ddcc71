"""Settings (TOML in the user config dir) and the folders the app writes to.

`DENTAL_BRIDGE_HOME=DIR` puts config, database, logs, caches and user models under DIR,
so tests, demos and several instances never touch the real profile.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from .export.settings import ExportConfig, ExportConfigError
from .labels import AUTOMATABLE_LABELS
from .sources.dicom_scp import ScpConfig

APP_NAME = "DentalAIBridge"
SOURCE_KINDS = ("auto", "native", "polling")
PATIENT_ID_MEANINGS = ("patnum", "chartnumber")


@dataclass(frozen=True)
class Paths:
    config_file: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path
    user_models_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "bridge.sqlite3"

    @classmethod
    def resolve(cls) -> "Paths":
        home = os.environ.get("DENTAL_BRIDGE_HOME")
        if home:
            root = Path(home).expanduser().resolve()
            return cls(root / "config.toml", root / "data", root / "logs", root / "cache", root / "models")
        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml",
            data,
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            data / "models",
        )

    def ensure(self) -> "Paths":
        for d in (self.config_file.parent, self.data_dir, self.log_dir, self.cache_dir, self.user_models_dir):
            d.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                # patient data: readable by this user only (Windows profile folders already are)
                try:
                    os.chmod(d, 0o700)
                except OSError:
                    pass
        return self


def bundled_models_dir() -> Path:
    """`models/` shipped with the app: beside the package in a checkout, in _MEIPASS when frozen."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "models"
    return Path(__file__).resolve().parent.parent / "models"


@dataclass
class SourceConfig:
    path: str
    kind: str = "auto"  # auto | native | polling
    name_template: str = "{chart}_{last}_{first}_{date:%Y%m%d}_{seq}"
    patient_id: str = "chartnumber"  # what the patient id in files means: patnum | chartnumber
    enabled: bool = True

    def validate(self) -> list[str]:
        errors = []
        if not self.path.strip():
            errors.append("a watch folder needs a path")
        if self.kind not in SOURCE_KINDS:
            errors.append(f"watch folder kind must be one of {', '.join(SOURCE_KINDS)} (got {self.kind!r})")
        if self.patient_id not in PATIENT_ID_MEANINGS:
            errors.append(
                f"patient id meaning must be one of {', '.join(PATIENT_ID_MEANINGS)} (got {self.patient_id!r})"
            )
        return errors


@dataclass
class IntakeConfig:
    settle_seconds: float = 2.0  # size+mtime must hold this long before a file counts as complete
    reconcile_minutes: float = 2.0  # periodic rescan that catches missed events
    supervise_seconds: float = 5.0  # how often dead/vanished watches are checked
    poll_seconds: float = 2.0  # listing interval of polling (network share) watches
    study_window_minutes: float = 30.0  # images of one patient+folder within this gap form one study
    # decompression-bomb bound, all frames counted, sized for a 2-core 8 GB PC: a panoramic is
    # ~4.5 MP, a ceph rarely over 15; an image at this limit peaks at ~270 MB in intake (bench.hostile_rss)
    max_pixels: int = 40_000_000
    # an image within max_pixels takes at most ~4 bytes a pixel (intake.decode.max_dataset_bytes)
    max_file_mb: int = 256


@dataclass
class AnalysisConfig:
    model: str = ""  # model name; empty = the preferred available model
    threads: int = 0  # 0 = fitted to this PC
    # labels a model's manifest leaves off by default (not validated on real radiographs)
    # are reported only when this is on; the demo turns it on for its synthetic images
    unvalidated_labels: bool = False


@dataclass
class ClinicalConfig:
    urgent_threshold: float = 2.4  # triage score (severity x confidence) that raises the urgent alert
    fmx_images: int = 18  # the practice's FMX protocol (14-22)


ROLLOUT_MODES = ("silent_pilot", "assistive", "targeted_automation")


@dataclass
class GovernanceConfig:
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


@dataclass
class Config:
    sources: list[SourceConfig] = field(default_factory=list)
    intake: IntakeConfig = field(default_factory=IntakeConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    clinical: ClinicalConfig = field(default_factory=ClinicalConfig)
    governance: GovernanceConfig = field(default_factory=GovernanceConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    dicom: ScpConfig = field(default_factory=ScpConfig)  # DICOM receiver (C-STORE/C-ECHO)

    # -- persistence -------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> "Config":
        if not path.exists():
            return cls()
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Config":
        try:
            cfg = cls(
                sources=[SourceConfig(**s) for s in raw.get("sources", [])],
                intake=IntakeConfig(**raw.get("intake", {})),
                analysis=AnalysisConfig(**raw.get("analysis", {})),
                clinical=ClinicalConfig(**raw.get("clinical", {})),
                governance=GovernanceConfig(**raw.get("governance", {})),
                export=ExportConfig.from_dict(raw.get("export", {})),
                dicom=ScpConfig(**raw.get("dicom", {})),
            )
        except TypeError as exc:
            raise ConfigError(f"unknown setting in settings file: {exc}") from exc
        except ExportConfigError as exc:
            raise ConfigError(str(exc)) from exc
        errors = cfg.validate()
        if errors:
            raise ConfigError("; ".join(errors))
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(tomli_w.dumps(self.to_dict()), encoding="utf-8")
        os.replace(tmp, path)

    def validate(self) -> list[str]:
        errors = [e for s in self.sources for e in s.validate()]
        if self.intake.settle_seconds < 0.2:
            errors.append("intake.settle_seconds must be at least 0.2")
        if self.analysis.threads < 0:
            errors.append("analysis.threads must be 0 (automatic) or more")
        errors += self.governance.validate()
        errors += self.export.validate()
        errors += self.dicom.validate()
        if not 14 <= self.clinical.fmx_images <= 22:
            errors.append("clinical.fmx_images must be between 14 and 22")
        return errors

    # -- `config set KEY VALUE` -----------------------------------------------------------
    def set_value(self, key: str, value: str) -> None:
        """Set a dotted key such as `intake.settle_seconds` or `export.folder.path`."""
        parts = key.split(".")
        target: Any = self
        for name in parts[:-1]:
            if name == "sources" or not dataclasses.is_dataclass(getattr(target, name, None)):
                raise ConfigError(f"unknown setting {key!r}; known: {', '.join(self.known_keys())} "
                                  "(watch folders: config add-source)")
            target = getattr(target, name)
        name = parts[-1]
        if len(parts) < 2 or not any(f.name == name for f in dataclasses.fields(target)) \
                or dataclasses.is_dataclass(getattr(target, name)):
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(self.known_keys())} "
                              "(watch folders: config add-source)")
        current = getattr(target, name)
        try:
            if isinstance(current, bool):
                parsed: Any = value.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(current, list):
                parsed = [v.strip() for v in value.split(",") if v.strip()]
            else:
                parsed = type(current)(value)
        except ValueError as exc:
            raise ConfigError(f"{key} expects a {type(current).__name__}, got {value!r}") from exc
        setattr(target, name, parsed)
        errors = self.validate()
        if errors:
            setattr(target, name, current)
            raise ConfigError("; ".join(errors))

    def known_keys(self) -> list[str]:
        def walk(obj, prefix):
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                if dataclasses.is_dataclass(value):
                    yield from walk(value, f"{prefix}{f.name}.")
                else:
                    yield f"{prefix}{f.name}"

        return [k for k in walk(self, "") if not k.startswith("sources")]


class ConfigError(Exception):
    """A settings problem, phrased for the person who can fix it."""


def default_threads() -> int:
    # Leave a core for the front-desk user: a 2-core PC gets one inference thread.
    cores = os.cpu_count() or 2
    return max(1, min(4, cores // 2))
