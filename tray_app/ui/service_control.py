"""Qt-free control of the running `Service` for the tray: pause/resume, export now.

Pause (`Service.set_paused`) stops the supervisor re-arming and reconciling and skips new work:
while paused, folder events record nothing and the analysis worker takes no new image (an image
already being analysed finishes). Resume rescans the folders on a background thread, so files
that arrived meanwhile are picked up without blocking the tray.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def is_paused(service: Any) -> bool:
    return bool(getattr(service, "paused", False))


def set_paused(service: Any, paused: bool) -> None:
    service.set_paused(paused)  # resuming rescans the folders on a thread of the service's own
    log.info("watching %s", "paused" if paused else "resumed")


# -- export now --------------------------------------------------------------------------------------
def export_available() -> bool:
    """True when the export package (outbox + commands) is part of this build."""
    import importlib.util

    try:
        return (importlib.util.find_spec("tray_app.commands.export") is not None
                and importlib.util.find_spec("tray_app.export.outbox") is not None)
    except (ImportError, ValueError):
        return False


def export_now(service: Any) -> str:
    """Sends queued/failed exports now (ignoring back-off) through the running service's outbox;
    a sentence for a notification. Blocking (network): call it off the GUI thread.

    The service's own outbox and database, not a second pair: its exporters are the ones the
    worker uses, and a claimed row is taken by exactly one of the two threads."""
    outbox = service.outbox
    if outbox is None:
        return "This PC reviews through the hub: the hub sends the exports."
    if not outbox.config.destinations:
        return "No export destination is set up yet (Settings → Export, or `dental-bridge config`)."
    results = outbox.drain_once(ignore_backoff=True)
    if not results:
        return "Nothing to export: every signed study has been sent."
    results = [r for r in results if r.get("state") not in ("superseded", "cancelled")]  # unsent by design
    if not results:
        return "Nothing to export: every signed study has been sent."
    done = sum(1 for r in results if r.get("state") == "done")
    bad = len(results) - done
    text = f"Sent {done} of {len(results)} export(s)."
    if bad:
        text += f" {bad} need attention (`dental-bridge export --status`)."
    return text
