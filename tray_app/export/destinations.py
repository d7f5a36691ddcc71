"""The export destinations by name: a small extension point of name → factory.

`export.destinations` names them; the outbox makes each exporter once, when its first row is
due. A new destination registers a factory here (`register`) and implements `job.Exporter`;
the outbox needs no change.
"""

from __future__ import annotations

from typing import Any, Callable

from .job import Exporter, NeedsAttention

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


# Each factory imports its exporter when the destination is first used: each brings its own heavy
# client (httpx; pynetdicom and highdicom; PIL and reportlab), which a command that only reads the
# queue (`export --status`) or a practice without that destination never needs.
def _opendental(cfg, keys_provider):
    from .opendental_export import OpenDentalExporter

    return OpenDentalExporter(cfg.opendental, keys_provider=keys_provider)


def _folder(cfg, keys_provider):
    from .folder import FolderExporter

    return FolderExporter(cfg.folder)


def _dicom(cfg, keys_provider):
    from .dicom_export import DicomExporter

    return DicomExporter(cfg.dicom)


register("opendental", _opendental)
register("folder", _folder)
register("dicom", _dicom)
