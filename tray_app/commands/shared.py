"""What the commands share: the profile (paths, settings, database, review API), their output
(`--json` or text for people) and PINs."""

from __future__ import annotations

import getpass
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..config import Config, Paths, default_demo_home
from ..guarded_settings import load as load_guarded
from ..review.clinicians import Authority
from ..store.db import Database


def load_paths() -> Paths:
    return Paths.resolve().ensure()


def demo_instead(paths: Paths) -> Path | None:
    """The demo's workspace, when the practice's profile has no study yet and `demo` has left
    some: what a newcomer who just ran `demo` means by `review` or `queue` (the demo keeps its own
    folder)."""
    from ..store import studies

    if os.environ.get("DENTAL_BRIDGE_HOME"):
        return None  # a profile chosen on purpose
    home = default_demo_home()
    demo_db = Paths.under(home).database
    if not demo_db.is_file():
        return None
    with open_database(paths) as db:
        if studies.any_study(db):
            return None
    db = Database(demo_db)
    try:
        return home if studies.any_study(db) else None
    finally:
        db.close()


def practice_or_demo(paths: Paths, doing: str, *, allowed: bool = True) -> tuple[Paths, Config]:
    """(paths, config) of the practice's profile or, while it has no study and the demo left some
    (`demo_instead`), of the demo's workspace, said on stderr (`doing`: "opening", "listing"). A
    chart link (`allowed` False) and a client home are the practice's, never the demo's."""
    config = load_config(paths)
    demo = demo_instead(paths) if allowed and not config.client.hub_url else None
    if demo is None:
        return paths, config
    os.environ["DENTAL_BRIDGE_HOME"] = str(demo)
    paths = load_paths()
    print(f"The practice has no studies yet: {doing} the demo workspace ({demo}), generated radiographs "
          "of made-up patients. The practice's own studies appear here once its radiographs arrive.",
          file=sys.stderr)
    return paths, load_config(paths)


def load_config(paths: Paths) -> Config:
    """The settings file; guarded keys changed in it by hand (without a PIN) are held back."""
    config, problem = load_guarded(paths)
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    return config


@contextmanager
def open_database(paths: Paths | None = None) -> Iterator[Database]:
    db = Database((paths or load_paths()).database)
    try:
        yield db
    finally:
        db.close()


def review_api(db: Database, paths: Paths):
    """The review API over the installed models (bundled and the user's); on a client home
    (`[client] hub_url`, set by `client join`) the hub's, so queue, review and sign act there."""
    # heavy (numpy, pydicom, the renderers): loaded only by the commands that open studies
    from ..analysis.catalog import ModelCatalog
    from ..app import model_search_dirs
    from ..review.api import ReviewAPI

    config = load_config(paths)
    catalog = ModelCatalog(model_search_dirs(paths))
    if config.client.hub_url:
        from ..hub.remote_api import RemoteReviewAPI

        return RemoteReviewAPI.for_config(config, catalog)
    return ReviewAPI(db, config, catalog)


def emit(args, result, render: Callable) -> None:
    """`--json` prints the result as documented in docs/cli.md; otherwise render(result) for people."""
    if args.json:
        print_json(result)
    else:
        print(render(result))


def print_json(obj) -> None:
    text = json.dumps(obj, ensure_ascii=False, default=str)
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(obj, default=str)  # a code-page pipe (Windows): \u escapes keep every name intact
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def read_pin(args, prompt: str = "PIN: ") -> str:
    """A PIN from the terminal, or with --pin-stdin the next line of standard input (so an
    authorising PIN and a new PIN can both be piped, one per line, in the order asked)."""
    if not args.pin_stdin:
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def authority(args) -> Authority | None:
    """--as-clinician ID: the dentist or admin who authorises this change (their PIN is read first)."""
    cid = getattr(args, "as_clinician", None)
    return None if cid is None else Authority(cid, read_pin(args, f"PIN of clinician {cid} (authorising): "))


def add_authority_args(p) -> None:
    p.add_argument("--as-clinician", type=int, metavar="ID",
                   help="the dentist or admin authorising the change (rollout, export destinations, clinicians)")
    p.add_argument("--pin-stdin", action="store_true",
                   help="read PINs from standard input, one per line: the authorising PIN first, then a new PIN")
