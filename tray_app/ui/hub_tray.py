"""The tray's side of the review hub (Qt): on an operatory PC in client mode, the hub's queue
polled off the GUI thread at the tray's cadence; on the hub, "Pair a review PC…" (a dentist's
or admin's PIN, then the one-time code and the certificate fingerprint to compare)."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QVBoxLayout

from ..hub.client import HubClient, HubError
from ..hub.follow import ChangeFollower
from .client_state import HubQueueWatch

log = logging.getLogger(__name__)


class HubPoller(QObject):
    """`poll()` asks the hub on a short-lived thread (one at a time); `polled` delivers the
    TrayState on the main thread."""

    polled = Signal(object)

    def __init__(self, client_config, parent=None):
        super().__init__(parent)
        self.watch = HubQueueWatch(client_config.hub_url, client_config.hub_fingerprint)
        self._busy = threading.Lock()
        self.follower: ChangeFollower | None = None

    def follow(self) -> None:
        """Ask again as soon as the hub changes (an image analysed there, its retake advice with
        it: seconds count while the patient is in the chair); the tray's timer stays as a net.
        The follower has its own connection: a long-poll holds one for up to half a minute."""
        try:
            client = HubClient(self.watch.url, self.watch.fingerprint, retry_seconds=0)
        except HubError as exc:  # the timer's polls say what is wrong
            log.warning("hub follow not started: %s", type(exc).__name__)
            return
        self.follower = ChangeFollower(client, lambda version: self.poll()).start()

    def poll(self) -> None:
        if not self._busy.acquire(blocking=False):
            return  # the previous poll is still waiting for the hub

        def work():
            try:
                self.polled.emit(self.watch.state())
            finally:
                self._busy.release()

        threading.Thread(target=work, name="hub-poll", daemon=True).start()

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop(timeout=0)  # ends when its long-poll returns
        self.watch.close()


def poller_for(client_config, on_state, parent) -> HubPoller | None:
    """In client mode (`[client] hub_url` set) the poller whose states go to `on_state`."""
    if not client_config.hub_url:
        return None
    poller = HubPoller(client_config, parent)
    poller.polled.connect(on_state)
    poller.follow()
    return poller


def fingerprint_html(fp: str) -> str:
    """A fingerprint as two lines of 16 byte pairs: compared by eye, in halves."""
    pairs = fp.split(":")
    return "<code style='font-size:11pt'>" + ":".join(pairs[:16]) + "<br>" + ":".join(pairs[16:]) + "</code>"


class PairingDialog(QDialog):
    """The code a review PC types, and the fingerprint its person compares."""

    def __init__(self, code: str, minutes: int, fingerprint: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Pair a review PC")
        lay = QVBoxLayout(self)
        intro = QLabel("On the review PC, choose “This PC reviews” in the first-run wizard (or run "
                       "<code>dental-bridge client join</code>) and enter this code. It works once, for "
                       f"{minutes} minutes.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.code = QLabel(f"<span style='font-size:28pt; font-family:monospace'><b>{code}</b></span>")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.code)
        check = QLabel("The review PC shows this hub's certificate fingerprint: pair only if it is the same "
                       f"as this one:<br>{fingerprint_html(fingerprint)}")
        check.setWordWrap(True)
        check.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.resize(520, 260)


def pair_review_pc(parent, paths, *, ask=None) -> PairingDialog | None:
    """After a dentist's or admin's PIN, a fresh pairing code in a dialog (shown, not modal);
    None when cancelled or refused (the reason is shown)."""
    from ..hub import pairing
    from ..hub.tls import ensure_certificate, fingerprint
    from ..review.clinicians import ClinicianError, authorised_by, authorize, list_clinicians
    from ..store.db import Database
    from . import authority_dialog

    db = Database(paths.database)
    try:
        authority = (ask or authority_dialog.ask)(parent, list_clinicians(db), "pairing a review PC")
        if authority is None:
            return None
        try:
            who = authorised_by(authorize(db, authority, "pairing a review PC"))
        except ClinicianError as exc:
            QMessageBox.warning(parent, "Pair a review PC", str(exc))
            return None
        code = pairing.new_code(db, authorised_by=who)
    finally:
        db.close()
    dialog = PairingDialog(code, pairing.PAIRING_MINUTES, fingerprint(ensure_certificate(paths.data_dir)), parent)
    dialog.show()
    return dialog
