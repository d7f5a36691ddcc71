"""Settings (TOML in the user config dir) and the folders the app writes to.

`DENTAL_BRIDGE_HOME=DIR` puts config, database, logs, caches and user models under DIR,
so tests, demos and several instances never touch the real profile.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import platformdirs
import tomli_w

# the tables live in tray_app.settings; these names are what the rest of the app imports from here
from .settings.analysis import AnalysisConfig, ClinicalConfig, default_threads  # noqa: F401
from .settings.dicom import ScpConfig
from .settings.client import ClientConfig
from .settings.hub import HubConfig
from .settings.export import ExportConfig
from .settings.governance import AUTOMATABLE_LABELS, ROLLOUT_MODES, GovernanceConfig  # noqa: F401
from .settings.quality import QualityConfig
from .settings.intake import PATIENT_ID_MEANINGS, SOURCE_KINDS, IntakeConfig, SourceConfig  # noqa: F401
from .settings.schema import SettingsError, Table, read
from .settings.worklist import WorklistConfig

log = logging.getLogger(__name__)

APP_NAME = "DentalAIBridge"


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
            return cls.under(Path(home).expanduser().resolve())
        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml",
            data,
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            data / "models",
        )

    @classmethod
    def under(cls, root: Path) -> "Paths":
        """The layout of a DENTAL_BRIDGE_HOME (tests, the demo)."""
        return cls(root / "config.toml", root / "data", root / "logs", root / "cache", root / "models")

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


def default_demo_home() -> Path:
    """Where `demo` keeps its workspace without DENTAL_BRIDGE_HOME: apart from the practice's profile."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "demo"


def bundled_models_dir() -> Path:
    """`models/` shipped with the app: beside the package in a checkout, in _MEIPASS when frozen."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "models"
    return Path(__file__).resolve().parent.parent / "models"


@dataclass
class Config(Table):
    """The whole settings file. Keys and TOML layout are the file format: keep them stable."""

    sources: list[SourceConfig] = field(default_factory=list)
    intake: IntakeConfig = field(default_factory=IntakeConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    clinical: ClinicalConfig = field(default_factory=ClinicalConfig)
    governance: GovernanceConfig = field(default_factory=GovernanceConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    dicom: ScpConfig = field(default_factory=ScpConfig)  # DICOM receiver (C-STORE/C-ECHO)
    hub: HubConfig = field(default_factory=HubConfig)  # review hub for the operatories (LAN, TLS)
    client: ClientConfig = field(default_factory=ClientConfig)  # the hub this PC reviews through
    worklist: WorklistConfig = field(default_factory=WorklistConfig)  # DICOM worklist from the schedule
    quality: QualityConfig = field(default_factory=QualityConfig)  # image-quality checks and retake advice
    # keys of the loaded file that no table knows (a misspelling, a newer version's key): ignored
    unknown_settings: ClassVar[tuple[str, ...]] = ()

    # -- persistence -------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> "Config":
        """The settings file; unknown keys in it are named in the log and `unknown_settings`
        (a hand edit with a typo must not stop the practice's service), every other problem
        raises ConfigError."""
        if not path.exists():
            return cls()
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
        config, unknown = read(cls, raw, strict=False)
        for problem in unknown:
            log.warning("settings file %s: %s; it is ignored", path, problem)
        config.unknown_settings = tuple(unknown)
        return config

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(tomli_w.dumps(self.to_dict()), encoding="utf-8")
        os.replace(tmp, path)

    def validate(self) -> list[str]:
        errors = [e for s in self.sources for e in s.validate()]
        for table in (self.intake, self.analysis, self.governance, self.export, self.dicom, self.clinical, self.hub, self.client,
                      self.worklist, self.quality):
            errors += table.validate()
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


ConfigError = SettingsError  # one error type for every settings table
