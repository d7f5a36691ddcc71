"""The check `dental-bridge doctor` runs on an operatory PC in client mode: the hub answers,
its certificate is the pinned one, and it still accepts this PC's token."""

from __future__ import annotations

from ..doctor import Check, Context
from .client import HubClient, HubError, HubUnavailable, PinMismatch, stored_token

NAME = "review hub"


def hub_connection(ctx: Context) -> list[Check]:
    client = ctx.config.client
    if not client.hub_url:
        return []
    if not stored_token(client.hub_url):
        return [Check(NAME, False, f"this PC is not paired with the hub at {client.hub_url}: show a pairing code "
                                   "on the hub (tray → Pair a review PC…) and run the first-run wizard or "
                                   "dental-bridge client join")]
    try:
        with HubClient(client.hub_url, client.hub_fingerprint, timeout=5.0) as hub:
            studies = len(hub.queue())
    except PinMismatch as exc:
        return [Check(NAME, False, f"{exc}. If the hub PC was replaced, pair this PC again")]
    except HubUnavailable as exc:
        return [Check(NAME, False, f"{exc}: is the hub PC on, and the app running there?")]
    except HubError as exc:
        if exc.status == 401:
            return [Check(NAME, False, "the hub no longer accepts this PC (its pairing was revoked): pair it again")]
        return [Check(NAME, False, str(exc))]
    return [Check(NAME, True, f"{client.hub_url} answers with the pinned certificate; "
                              f"{studies} study(ies) to review")]


CHECKS = (hub_connection,)
