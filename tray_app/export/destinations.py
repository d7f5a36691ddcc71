"""The export destinations by name: a small extension point of name → factory.

`export.destinations` names them; the outbox makes each exporter once, when its first row is
due. A new destination registers a factory here (`register`) and implements `job.Exporter`;
the outbox needs no change.
"""

from __future__ import annotations

from typing import Any, Callable

from .dicom_export import DicomExporter
from .folder import FolderExporter
from .job import Exporter, NeedsAttention
from .opendental_export import OpenDentalExporter

# (the [export] settings (ExportConfig), the Open Dental key provider or None for the OS keyring) → exporter
Factory = Callable[[Any, Callable | None], Exporter]

_FACTORIES: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    _FACTORIES[name] = factory


def names() -> list[str]:
    return sorted(_FACTORIES)


def create(name: str, config, *, keys_provider: Callable | None = None) -> Exporter:
    factory = _FACTORIES.get(name)
    if factory is None:
        raise NeedsAttention(f"export destination {name!r} is unknown to this version")
    return factory(config, keys_provider)


register("opendental", lambda cfg, keys: OpenDentalExporter(cfg.opendental, keys_provider=keys))
register("folder", lambda cfg, keys: FolderExporter(cfg.folder))
register("dicom", lambda cfg, keys: DicomExporter(cfg.dicom))
