"""DICOM Storage SCP: imaging systems and PACS push images to us (C-STORE), we answer C-ECHO.

Each received instance is written atomically into the home's inbox (temp name, fsync,
rename) before we answer "success" — never success for data not on disk — and the inbox is
an ordinary watched folder, so a pushed image follows exactly the intake path of a file
(dedupe by SOPInstanceUID included). Calling AE titles not on the allowed list are rejected
at association time.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# Storage SOP classes a dental practice sends (dicom-dental.md §1)
STORAGE_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.1.3",    # Digital Intra-Oral X-Ray, For Presentation
    "1.2.840.10008.5.1.4.1.1.1.3.1",  # Digital Intra-Oral X-Ray, For Processing
    "1.2.840.10008.5.1.4.1.1.1.1",    # Digital X-Ray, For Presentation (PX/DX panos and cephs)
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray, For Processing
    "1.2.840.10008.5.1.4.1.1.1",      # CR
    "1.2.840.10008.5.1.4.1.1.7",      # Secondary Capture
    "1.2.840.10008.5.1.4.1.1.2",      # CT (CBCT)
)
TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2",       # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",     # Explicit VR Little Endian
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.5",     # RLE Lossless
)
SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700  # "refused: out of resources" — the sender keeps the image and retries
CANNOT_UNDERSTAND = 0xC000


@dataclass
class ScpConfig:
    enabled: bool = False
    ae_title: str = "DENTALBRIDGE"
    port: int = 11112
    bind_address: str = "127.0.0.1"  # loopback unless the practice opens it on purpose
    allowed_calling_aes: list[str] = field(default_factory=list)  # empty = any

    def validate(self) -> list[str]:
        errors = []
        if not self.enabled:
            return errors  # a receiver that is off does not block the app with half-filled settings
        from ..export.settings import ae_title_problem

        problem = ae_title_problem(self.ae_title)
        if problem:
            errors.append(f"dicom.ae_title {problem}")
        if not 1 <= self.port <= 65535:
            errors.append("dicom.port must be between 1 and 65535")
        for ae in self.allowed_calling_aes:
            problem = ae_title_problem(ae)
            if problem:
                errors.append(f"dicom.allowed_calling_aes entry {ae!r} {problem}")
        return errors


def inbox_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "dicom-inbox"


def _safe_name(uid: str) -> str:
    keep = "".join(ch for ch in uid if ch.isdigit() or ch == ".")
    return keep[:64] or "instance"


class StorageSCP:
    def __init__(self, config: ScpConfig, inbox: Path):
        self.config = config
        self.inbox = Path(inbox)
        self.inbox.mkdir(parents=True, exist_ok=True)
        self._server = None
        self._lock = threading.Lock()
        self.stored = 0

    # -- handlers (pynetdicom calls them on its own threads) ---------------------------------
    def _on_store(self, event) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
            sop = str(getattr(ds, "SOPInstanceUID", "") or "")
        except Exception:
            log.exception("C-STORE: the dataset could not be read")
            return CANNOT_UNDERSTAND
        final = self.inbox / f"{_safe_name(sop)}.dcm"
        tmp = self.inbox / f".{final.name}.{threading.get_ident()}.part"  # hidden: never picked up
        try:
            with open(tmp, "wb") as f:
                # the encoded bytes as received, with a file meta header (PS3.10 file)
                f.write(b"\x00" * 128 + b"DICM")
                from pydicom.filewriter import write_file_meta_info

                write_file_meta_info(f, event.file_meta, enforce_standard=True)
                f.write(event.request.DataSet.getvalue())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except Exception:
            log.exception("C-STORE: could not write the received image")
            try:
                tmp.unlink()
            except OSError:
                pass
            return OUT_OF_RESOURCES
        with self._lock:
            self.stored += 1
        return SUCCESS

    def _on_echo(self, event) -> int:
        return SUCCESS

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        from pynetdicom import AE, evt
        from pynetdicom.sop_class import Verification

        ae = AE(ae_title=self.config.ae_title)
        for uid in STORAGE_CLASSES:
            ae.add_supported_context(uid, list(TRANSFER_SYNTAXES))
        ae.add_supported_context(Verification)
        if self.config.allowed_calling_aes:
            ae.require_calling_aet = [a.strip() for a in self.config.allowed_calling_aes]
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, self._on_echo)]
        self._server = ae.start_server((self.config.bind_address, self.config.port), block=False,
                                       evt_handlers=handlers)
        log.info("DICOM receiver listening as %s on port %d", self.config.ae_title, self.config.port)

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None


def port_free(address: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True
