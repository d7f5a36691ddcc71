"""What the tray icon shows on an operatory PC in client mode, from the hub's queue — Qt-free,
like tray_state.py (whose `TrayState`, tooltip and `Notifier` it reuses, so urgent studies on
the hub are announced here the same way).

`HubQueueWatch.state()` asks the hub for its review queue through `hub/client.py` (pinned
certificate, this PC's token) and never raises: a hub that cannot be used becomes the amber
"needs attention" state with a sentence saying why ("Hub not reachable — …"). Blocking (network):
the tray calls it off the GUI thread. No patient names reach the tooltip.
"""

from __future__ import annotations

import logging

from ..hub.client import HubClient, HubError, HubUnavailable, PinMismatch
from .tray_state import TrayState, _plural, tooltip_text

log = logging.getLogger(__name__)

TIMEOUT = 5.0  # the tray polls every few seconds: a dead hub must not pile up requests


def from_queue(studies: list[dict]) -> TrayState:
    """The tray state for the hub's review queue (`ReviewAPI.queue` rows: id, urgent, …)."""
    urgent = frozenset(int(s["id"]) for s in studies if s.get("urgent"))
    details = []
    if urgent:
        details.append(_plural(len(urgent), "urgent study", "urgent studies"))
    if studies:
        details.append(f"{_plural(len(studies), 'study', 'studies')} to review on the hub")
    else:
        details.append("Hub connected: nothing to review")
    # the hub's image-quality advice, keyed as on the hub (tray_state.compute), so it is announced here too
    advice = tuple((f"image:{im['id']}:{i['check']}", i["sentence"]) for s in studies
                   for im in s.get("images", []) for i in im.get("quality") or [])
    advice += tuple((f"study:{s['id']}:set", s["quality_set"]["sentence"]) for s in studies if s.get("quality_set"))
    if advice:
        details.append(_plural(len(advice), "retake") + " advised")
    state = "urgent" if urgent else "review" if studies else "watching"
    alerts = tuple(sorted((int(s["id"]), s["alert"]) for s in studies if s.get("alert") and int(s["id"]) in urgent))
    return TrayState(state, tooltip_text(details), len(studies), urgent, details=tuple(details), alerts=alerts,
                     advice=advice)


def problem_sentence(exc: HubError) -> str:
    """One line for the tray (the tooltip is short; `doctor` says more)."""
    if isinstance(exc, PinMismatch):
        return "Hub not reachable — another PC answers at the hub's address (certificate differs): pair again"
    if isinstance(exc, HubUnavailable):
        return "Hub not reachable — is the front-desk PC on and the app running there?"
    if exc.status == 401:
        return "Hub refused this PC — its pairing was revoked: pair it again"
    return f"Hub not reachable — {exc}"


def from_problem(exc: HubError) -> TrayState:
    sentence = problem_sentence(exc)
    return TrayState("waiting_for_share", tooltip_text([sentence]), details=(sentence,))


class HubQueueWatch:
    """One pinned connection to the hub, kept between polls and made again after a failure."""

    def __init__(self, url: str, fingerprint: str):
        self.url, self.fingerprint = url, fingerprint
        self._client: HubClient | None = None

    def state(self) -> TrayState:
        try:
            if self._client is None:
                self._client = HubClient(self.url, self.fingerprint, timeout=TIMEOUT)
            return from_queue(self._client.queue())
        except HubError as exc:
            log.warning("hub poll failed: %s", type(exc).__name__)
            self.close()
            return from_problem(exc)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
