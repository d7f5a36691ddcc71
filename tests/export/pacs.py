"""A real DICOM Storage SCP (pynetdicom) standing in for a practice's PACS in export tests.

It accepts GSPS and Secondary Capture storage (or the classes given) and Verification, on
127.0.0.1 and a free port, and keeps what it receives: `received` lists every C-STORE in
order, `instances` holds the stored ones by SOPInstanceUID (a resend of the same UID replaces
the instance, as an archive does). `status` is the C-STORE answer; `abort_after` makes it
store that many instances and then abort the association before answering the last one, so
the sender never learns the outcome.
"""

from __future__ import annotations

import socket
import threading

GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
SC = "1.2.840.10008.5.1.4.1.1.7"
VERIFICATION = "1.2.840.10008.1.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakePACS:
    def __init__(self, *, ae_title: str = "PACS", port: int | None = None, classes=(GSPS, SC),
                 allowed_calling: list[str] | None = None, status: int = 0x0000, abort_after: int | None = None):
        self.ae_title = ae_title
        self.port = port or free_port()
        self.classes = classes
        self.allowed_calling = allowed_calling
        self.status = status
        self.abort_after = abort_after
        self.received: list = []
        self.instances: dict[str, object] = {}
        self.echoes = 0
        self._lock = threading.Lock()
        self._server = None

    def _on_store(self, event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        with self._lock:
            self.received.append(ds)
            if self.status == 0x0000 or 0xB000 <= self.status <= 0xBFFF:
                self.instances[str(ds.SOPInstanceUID)] = ds
            abort = self.abort_after is not None and len(self.instances) >= self.abort_after
            if abort:
                self.abort_after = None  # once
        if abort:
            event.assoc.abort()  # stored, but the sender never hears so
        return self.status

    def _on_echo(self, event):
        with self._lock:
            self.echoes += 1
        return 0x0000

    def start(self) -> "FakePACS":
        from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
        from pynetdicom import AE, evt

        ae = AE(ae_title=self.ae_title)
        ae.require_called_aet = True
        if self.allowed_calling:
            ae.require_calling_aet = list(self.allowed_calling)
        for uid in self.classes:
            ae.add_supported_context(uid, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        ae.add_supported_context(VERIFICATION)
        self._server = ae.start_server(("127.0.0.1", self.port), block=False,
                                       evt_handlers=[(evt.EVT_C_STORE, self._on_store),
                                                     (evt.EVT_C_ECHO, self._on_echo)])
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
