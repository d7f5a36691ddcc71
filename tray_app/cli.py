"""`dental-bridge` command line: the product's support, scripting and headless interface.

The parser and `main`; the commands are in `tray_app.commands`, one module per group.
JSON shapes are documented in docs/cli.md and kept stable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection

from . import __version__
from .commands import COMMANDS, module_of
from .logging_setup import ensure_std_streams


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """Every command is listed with its help; `commands` (default: all) get their arguments, which
    loads their modules, so `dental-bridge --help` and a command's start load no other command."""
    p = argparse.ArgumentParser(prog="dental-bridge", description="Dental AI Bridge: local AI findings for radiographs.")
    p.add_argument("--version", action="version", version=f"dental-bridge {__version__}")
    sub = p.add_subparsers(dest="command")
    for name, (_, help_text) in COMMANDS.items():
        parser = sub.add_parser(name, help=help_text)
        if commands is None or name in commands:
            module_of(name).add_arguments(name, parser)
    return p


def main(argv: list[str] | None = None) -> int:
    ensure_std_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0].startswith("--decode-"):   # this program as intake/decoder_child.py's child
        from .intake.decoder_child import CHILD_ARG, child_main

        if argv[0] == CHILD_ARG:
            return child_main(argv[1:])
    # the first word that is not an option names the command (the top level has no option with a value)
    named = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser([named] if named in COMMANDS else []).parse_args(argv)
    if not args.command:  # no command: the app
        args = build_parser(["run"]).parse_args(["run", *argv])
    from .config import ConfigError  # after parsing: `--help` does not load the settings machinery

    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
