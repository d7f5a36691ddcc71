"""DICOM Storage SCP: imaging systems and PACS push images to us (C-STORE), we answer C-ECHO.

Each received instance is written atomically into the home's inbox (hidden temp name, fsync,
then linked to its final name, which never replaces a file) before we answer "success" —
never success for data not on disk — and the inbox is an ordinary watched folder, so a pushed
image follows exactly the intake path of a file (dedupe by SOPInstanceUID included). Calling
AE titles not on the allowed list are rejected at association time.

A LAN peer is not trusted (issue 22): instances arrive in a temporary file, not in memory
(pynetdicom's chunked receive), an association that sends more than the instance size limit
is aborted mid-transfer, free space is checked before an instance is accepted, each peer
address may hold only a few associations, and the file name comes from a hash of the
SOPInstanceUID plus a unique suffix (a UID missing or invalid is refused). The peer's address
and calling AE title are logged; nothing of the patient is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import threading
import uuid
from pathlib import Path

from ..settings.dicom import ScpConfig
from .filters import is_ignored

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
DOES_NOT_MATCH = 0xA900  # "data set does not match SOP class": a required attribute is missing or invalid
CANNOT_UNDERSTAND = 0xC000
MIN_FREE_BYTES = 512 << 20  # left free on the inbox's disk after an instance (the database needs room too)


def inbox_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "dicom-inbox"


def instance_name(uid: str) -> str:
    """A file name for a received instance: a hash of its UID (a UID's characters never make a
    hidden, reserved or shared name) plus a unique suffix, so two instances never share a file."""
    digest = hashlib.sha256(uid.encode("ascii", "replace")).hexdigest()[:20]
    return f"{digest}-{uuid.uuid4().hex[:12]}.dcm"


def uid_problem(uid: str) -> str:
    """Why a SOPInstanceUID cannot be accepted ('' when it can): PS3.5 §9.1, digits and dots,
    at most 64 characters, no empty component and no leading zero."""
    from pydicom.uid import UID

    if not uid:
        return "it has no SOP Instance UID"
    if not UID(uid).is_valid:
        return "its SOP Instance UID is not a valid UID"
    return ""


def describe_peer(assoc) -> str:
    """The peer's address and calling AE title, for the log (nothing of the patient)."""
    requestor = getattr(assoc, "requestor", None)
    return (f"{getattr(requestor, 'address', '?')} (calling AE "
            f"{str(getattr(requestor, 'ae_title', '') or '').strip() or '?'})")


def limit_per_peer(assoc, limit: int, setting: str) -> None:
    """Refuse (transient, local limit exceeded) a peer address already holding `limit` associations
    (EVT_REQUESTED of any of our DICOM servers)."""
    address = assoc.requestor.address
    held = [a for a in assoc.ae.active_associations
            if a is not assoc and a.is_acceptor and getattr(a.requestor, "address", None) == address]
    if len(held) >= limit:
        log.warning("DICOM association from %s refused: it already holds %d (%s)", describe_peer(assoc), len(held),
                    setting)
        assoc.acse.send_reject(0x02, 0x03, 0x02)
        assoc.kill()


class ListeningServer:
    """A pynetdicom server of ours (receiver, worklist) listening as its settings table says."""

    _server = None

    def _listen(self, ae, config, handlers: list, what: str) -> None:
        """Start listening (raises OSError when the port cannot be taken)."""
        if config.allowed_calling_aes:
            ae.require_calling_aet = [a.strip() for a in config.allowed_calling_aes]
        self._server = ae.start_server((config.bind_address, config.port), block=False, evt_handlers=handlers)
        log.info("%s listening as %s on port %d", what, config.ae_title, config.port)

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None


class StorageSCP(ListeningServer):
    def __init__(self, config: ScpConfig, inbox: Path, *, max_instance_bytes: int = 256 << 20):
        self.config = config
        self.inbox = Path(inbox)
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.max_instance_bytes = max_instance_bytes  # intake.max_file_mb: intake would refuse more
        self._lock = threading.Lock()
        self._received: dict[int, int] = {}  # association id -> bytes since its last instance
        self.stored = 0

    # -- handlers (pynetdicom calls them on its own threads) ---------------------------------
    def _on_requested(self, event) -> None:
        limit_per_peer(event.assoc, self.config.max_associations_per_peer, "dicom.max_associations_per_peer")

    def _on_accepted(self, event) -> None:
        log.info("DICOM association from %s accepted", describe_peer(event.assoc))

    def _on_rejected(self, event) -> None:
        log.warning("DICOM association from %s rejected (calling AE not allowed, or busy)", describe_peer(event.assoc))

    def _on_data(self, event) -> None:
        """Counts what a peer sends; an instance growing past the limit aborts the association
        before it reaches the disk limit or anything else."""
        key = id(event.assoc)
        with self._lock:
            total = self._received.get(key, 0) + len(event.data)
            self._received[key] = total
        if total > self.max_instance_bytes + (1 << 20) and not getattr(event.assoc, "_dab_aborted", False):
            event.assoc._dab_aborted = True
            log.warning("DICOM association from %s aborted: an instance larger than %d MB (intake.max_file_mb)",
                        describe_peer(event.assoc), self.max_instance_bytes >> 20)
            event.assoc.abort(block=False)

    def _on_closed(self, event) -> None:
        with self._lock:
            self._received.pop(id(event.assoc), None)
        # a transfer cut off mid-instance leaves pynetdicom's temporary file behind: remove it
        message = getattr(getattr(event.assoc, "dimse", None), "message", None)
        partial = getattr(message, "_data_set_file", None)
        if partial is not None:
            try:
                partial.close()
                os.unlink(partial.name)
            except OSError:
                pass

    def _on_store(self, event) -> int:
        with self._lock:
            self._received[id(event.assoc)] = 0
        peer = describe_peer(event.assoc)
        try:
            received = Path(event.dataset_path)
            size = received.stat().st_size
            problem = self._instance_problem(received, size, str(event.request.AffectedSOPInstanceUID or ""))
        except Exception as exc:  # pynetdicom/pydicom meeting hostile bytes can raise anything
            log.warning("C-STORE from %s refused: the data set could not be read (%s)", peer, type(exc).__name__)
            return CANNOT_UNDERSTAND
        if problem:
            log.warning("C-STORE from %s refused: %s", peer, problem[1])
            return problem[0]
        final = self.inbox / instance_name(str(event.request.AffectedSOPInstanceUID))
        tmp = self.inbox / f".{final.name}.part"  # hidden: never picked up
        try:
            with open(received, "rb") as src, open(tmp, "wb") as f:
                shutil.copyfileobj(src, f, 1 << 20)
                f.flush()
                os.fsync(f.fileno())
            _publish(tmp, final)
        except Exception as exc:
            log.warning("C-STORE from %s: could not write the received image (%s)", peer, type(exc).__name__)
            try:
                tmp.unlink()
            except OSError:
                pass
            return OUT_OF_RESOURCES
        with self._lock:
            self.stored += 1
        log.info("C-STORE from %s stored as %s", peer, final.name)
        return SUCCESS

    def _instance_problem(self, received: Path, size: int, affected_uid: str) -> tuple[int, str] | None:
        """(status, reason) when an instance cannot be accepted; None when intake will read it."""
        from pydicom import dcmread

        if size > self.max_instance_bytes:
            return OUT_OF_RESOURCES, f"the instance is larger than {self.max_instance_bytes >> 20} MB"
        free = shutil.disk_usage(self.inbox).free
        if free < size + MIN_FREE_BYTES:
            return OUT_OF_RESOURCES, f"the disk is nearly full ({free >> 20} MB free); the sender should retry"
        ds = dcmread(received, defer_size=1024, force=True)  # header only: large values stay on disk
        sop = str(ds.get("SOPInstanceUID", "") or "")
        problem = uid_problem(sop)
        if problem:
            return DOES_NOT_MATCH, problem
        if sop != affected_uid:
            return DOES_NOT_MATCH, "its SOP Instance UID differs from the one in the request"
        if "PixelData" not in ds or not ds.get("Rows") or not ds.get("Columns"):
            return DOES_NOT_MATCH, "it holds no image (no pixel data or size)"
        if is_ignored(str(self.inbox / instance_name(sop))):
            return OUT_OF_RESOURCES, "the inbox folder is one intake skips (a hidden folder on its path)"
        return None

    def _on_echo(self, event) -> int:
        with self._lock:
            self._received[id(event.assoc)] = 0
        return SUCCESS

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        from pynetdicom import AE, _config, evt
        from pynetdicom.sop_class import Verification

        # instances are received into a temporary file, not memory (process-wide; only the
        # receiver takes C-STORE requests in this process)
        _config.STORE_RECV_CHUNKED_DATASET = True
        ae = AE(ae_title=self.config.ae_title)
        for uid in STORAGE_CLASSES:
            ae.add_supported_context(uid, list(TRANSFER_SYNTAXES))
        ae.add_supported_context(Verification)
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, self._on_echo),
                    (evt.EVT_REQUESTED, self._on_requested), (evt.EVT_ACCEPTED, self._on_accepted),
                    (evt.EVT_REJECTED, self._on_rejected), (evt.EVT_DATA_RECV, self._on_data),
                    (evt.EVT_CONN_CLOSE, self._on_closed)]
        self._listen(ae, self.config, handlers, "DICOM receiver")


def _publish(tmp: Path, final: Path) -> None:
    """Give the written file its final name without ever replacing an existing file."""
    if sys.platform == "win32":
        os.rename(tmp, final)  # refuses an existing target on Windows
        return
    os.link(tmp, final)  # refuses an existing target
    os.unlink(tmp)


def port_free(address: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True
