"""`secrets set opendental [--stdin]`: stores the developer and customer keys in the OS keyring
(prompts without echo; `--stdin` reads two lines)."""

from __future__ import annotations

import getpass
import sys

from ..pms.keys import SecretsError, set_opendental_keys


def cmd_secrets(args) -> int:
    if args.stdin:
        dev = sys.stdin.readline().strip()
        cust = sys.stdin.readline().strip()
    else:
        dev = getpass.getpass("Open Dental developer key: ")
        cust = getpass.getpass("Open Dental customer key: ")
    try:
        set_opendental_keys(dev, cust)
    except SecretsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("Open Dental keys stored in the system keyring")
    return 0


def add_arguments(command: str, p) -> None:
    se_sub = p.add_subparsers(dest="action", required=True)
    od = se_sub.add_parser("set", help="set opendental: the Open Dental developer and customer keys")
    od.add_argument("what", choices=["opendental"])
    od.add_argument("--stdin", action="store_true", help="read the developer key, then the customer key, one per line")
    p.set_defaults(func=cmd_secrets)
