"""One running app per user and data folder: a second launch asks the first to show itself.

- A local server (named pipe on Windows, a socket elsewhere) named after the user and the data
  folder; a second launch connects, sends one line, and exits: `show`, or `review {json}` for
  `dental-bridge review --study N | --patient ID [--id-kind K]` (the running app opens its review
  window there: `review_requested`, a dict with the keys study, patient, id_kind).
- On Windows also a named mutex, "DentalAIBridge.SingleInstance" for the normal profile (the
  installer's `AppMutex`, so setup and uninstall wait while the app runs). It settles the race
  of two launches in the same instant (a Run entry and a double click at login): only the
  process that created the mutex serves. A `DENTAL_BRIDGE_HOME` (demo, tests) gets its own
  names, so a demo can run beside the practice's app.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import sys
import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

MUTEX_NAME = "DentalAIBridge.SingleInstance"
SHOW = b"show\n"
REVIEW = b"review "
MAX_LINE = 4096


def review_message(request: dict | None) -> bytes:
    """The line that asks a running instance to open its review window on `request` (or just show it)."""
    request = {k: v for k, v in (request or {}).items() if v is not None}
    return REVIEW + json.dumps(request).encode("utf-8") + b"\n" if request else SHOW


def instance_names(data_dir) -> tuple[str, str]:
    """(server name, Windows mutex name) for one data folder."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001
        user = "user"
    user = "".join(ch for ch in user if ch.isalnum()) or "user"
    if os.environ.get("DENTAL_BRIDGE_HOME"):
        tag = hashlib.sha1(str(data_dir).encode("utf-8")).hexdigest()[:10]
        return f"DentalAIBridge-{user}-{tag}", f"{MUTEX_NAME}.{tag}"
    return f"DentalAIBridge-{user}", MUTEX_NAME


class _WinMutex:
    ERROR_ALREADY_EXISTS = 183

    def __init__(self, name: str):
        import ctypes
        from ctypes import wintypes

        self._k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        self._k32.CreateMutexW.restype = wintypes.HANDLE
        self._k32.CreateMutexW.argtypes = [ctypes.c_void_p, wintypes.BOOL, wintypes.LPCWSTR]
        self.handle = self._k32.CreateMutexW(None, False, name)
        self.existed = ctypes.get_last_error() == self.ERROR_ALREADY_EXISTS
        if not self.handle:
            raise OSError(ctypes.get_last_error(), f"CreateMutexW({name}) failed")

    def close(self) -> None:
        if self.handle:
            self._k32.CloseHandle(self.handle)
            self.handle = None


class SingleInstance(QObject):
    """`acquire()` → True: this process is the first (it now serves `show_requested`);
    False: another one runs and was asked to show itself."""

    show_requested = Signal()
    review_requested = Signal(dict)

    def __init__(self, server_name: str, mutex_name: str | None = None, parent=None, *,
                 use_mutex: bool | None = None):
        super().__init__(parent)
        self.server_name = server_name
        self.mutex_name = mutex_name or MUTEX_NAME
        self.use_mutex = (sys.platform == "win32") if use_mutex is None else use_mutex
        self.server: QLocalServer | None = None
        self._mutex = None

    def acquire(self, connect_timeout_ms: int = 500, message: bytes = SHOW) -> bool:
        if self.use_mutex:
            try:
                self._mutex = _WinMutex(self.mutex_name)
            except OSError:
                log.warning("single-instance mutex unavailable; using the local server only", exc_info=True)
                self._mutex = None
            if self._mutex is not None and self._mutex.existed:
                self._mutex.close()
                self._mutex = None
                # the first one may still be starting: give it a moment to listen
                deadline = time.monotonic() + 5.0
                while not self.tell(message) and time.monotonic() < deadline:
                    time.sleep(0.2)
                return False
        elif self.tell(message, connect_timeout_ms):
            return False
        return self._listen()

    def tell(self, message: bytes = SHOW, timeout_ms: int = 500) -> bool:
        """Sends `message` to the instance serving this name; False when none answers."""
        sock = QLocalSocket()
        sock.connectToServer(self.server_name)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(message)
        sock.flush()
        sock.waitForBytesWritten(timeout_ms)
        sock.disconnectFromServer()
        if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            sock.waitForDisconnected(timeout_ms)
        log.info("another Dental AI Bridge is running; asked it to show its window")
        return True

    def _listen(self) -> bool:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.server_name):
            # a socket file left by a process that crashed (Unix): nobody answered above
            QLocalServer.removeServer(self.server_name)
            if not server.listen(self.server_name):
                log.warning("single-instance server could not listen: %s", server.errorString())
                return True  # run anyway: refusing to start would be worse than a rare double
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def _on_connection(self) -> None:
        # the client writes one short line and disconnects: read it here, no per-socket slots
        while self.server is not None and self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            data = b""
            while b"\n" not in data and len(data) < MAX_LINE and (sock.bytesAvailable() or sock.waitForReadyRead(500)):
                data += bytes(sock.readAll())
            sock.abort()
            sock.deleteLater()
            self._dispatch(data.split(b"\n", 1)[0].strip())

    def _dispatch(self, line: bytes) -> None:
        if line.startswith(REVIEW.strip()):
            try:
                request = json.loads(line[len(REVIEW):].decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                request = None
            if isinstance(request, dict):
                self.review_requested.emit(request)
                return
            log.warning("single-instance: an unreadable review request; showing the window")
            self.show_requested.emit()
        elif line.startswith(b"show"):
            self.show_requested.emit()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server.deleteLater()
            self.server = None
        if self._mutex is not None:
            self._mutex.close()
            self._mutex = None


def instance_guard(paths) -> "SingleInstance":
    """The guard of one profile (its data folder)."""
    server, mutex = instance_names(paths.data_dir)
    return SingleInstance(server, mutex)
