"""`client join URL CODE [--name NAME] [--fingerprint FP]` and `client status`: this PC as a
client of a review hub (issue 18). Joining pairs with the one-time code shown by
`dental-bridge hub pair`, keeps the token in the OS keyring and the hub's address and
certificate fingerprint in `[client]`.
"""

from __future__ import annotations

import socket
import sys

from ..hub.client import HubClient, HubError, stored_token
from ..hub.join import first_seen_fingerprint, join
from .shared import emit, load_config, load_paths


def cmd_join(args) -> int:
    paths = load_paths()
    config = load_config(paths)
    name = args.name or socket.gethostname()
    try:
        fp = args.fingerprint or first_seen_fingerprint(args.url.strip().rstrip("/"))
        if not args.fingerprint:
            print(f"note: trusting the hub's certificate {fp}; check it matches `dental-bridge hub status` on the hub",
                  file=sys.stderr)
        url, fp = join(args.url, args.code, name, fp)
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config.client.hub_url, config.client.hub_fingerprint = url, fp
    config.save(paths.config_file)
    emit(args, {"hub_url": url, "fingerprint": fp, "name": name},
         lambda r: f"this PC ({r['name']}) now reviews through the hub at {r['hub_url']}")
    return 0


def cmd_status(args) -> int:
    client = load_config(load_paths()).client
    result = {"hub_url": client.hub_url, "fingerprint": client.hub_fingerprint,
              "paired": bool(client.hub_url and stored_token(client.hub_url)), "reachable": False, "studies": None,
              "problem": ""}
    if not result["paired"]:
        result["problem"] = "this PC is not paired with a hub (dental-bridge client join URL CODE)"
    else:
        try:
            with HubClient(client.hub_url, client.hub_fingerprint) as hub:
                result["studies"] = len(hub.queue())
                result["reachable"] = True
        except HubError as exc:
            result["problem"] = str(exc)
    emit(args, result, lambda r: r["problem"] or f"hub {r['hub_url']}: {r['studies']} study(ies) to review")
    return 0 if result["reachable"] else 1


def _dispatch(args) -> int:
    return {"join": cmd_join, "status": cmd_status}[args.client_command](args)


def add_arguments(command: str, p) -> None:
    p.set_defaults(func=_dispatch)
    sub = p.add_subparsers(dest="client_command", required=True)
    s = sub.add_parser("join", help="pair this PC with a hub using the code `dental-bridge hub pair` shows there")
    s.add_argument("url", help="the hub's address, e.g. https://front-desk:8743")
    s.add_argument("code", help="the one-time pairing code")
    s.add_argument("--name", help="this PC's name on the hub (default: its computer name)")
    s.add_argument("--fingerprint", help="the hub's certificate fingerprint (hub status); without it the "
                                         "certificate first seen is trusted")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("status", help="the hub this PC reviews through, and whether it answers")
    s.add_argument("--json", action="store_true")
