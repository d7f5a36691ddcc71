"""The parser and the command modules (issue 17): `--help` loads no command, a command loads
only its own module, and every listed command has its arguments and a function."""

import json
import subprocess
import sys

from tray_app.cli import build_parser
from tray_app.commands import COMMANDS


def _loaded_after(*argv: str, env_home) -> tuple[int, list[str]]:
    code = ("import json, sys, contextlib, io\n"
            "from tray_app.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        rc = main({list(argv)!r})\n"
            "    except SystemExit as exc:\n"
            "        rc = exc.code\n"
            "print(json.dumps([rc, sorted(m for m in sys.modules if m.startswith('tray_app'))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"DENTAL_BRIDGE_HOME": str(env_home), "PATH": ""})
    assert out.returncode == 0, out.stderr
    return tuple(json.loads(out.stdout.splitlines()[-1]))


def test_help_loads_no_command_and_no_settings(tmp_path):
    rc, loaded = _loaded_after("--help", env_home=tmp_path)
    assert rc == 0
    assert set(loaded) == {"tray_app", "tray_app.cli", "tray_app.commands", "tray_app.logging_setup"}


def test_a_command_loads_its_own_module_only(tmp_path):
    rc, loaded = _loaded_after("config", "show", "--json", env_home=tmp_path)
    assert rc == 0
    assert [m for m in loaded if m.startswith("tray_app.commands.")] == ["tray_app.commands.config",
                                                                       "tray_app.commands.shared"]


def test_every_command_has_its_arguments_and_a_function():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == list(COMMANDS)
    for name, p in sub.choices.items():
        assert p.get_default("func") is not None, name
    args = parser.parse_args(["sign", "3", "--clinician", "1", "--accept", "all"])
    assert (args.study, args.clinician, args.accept, args.func.__module__) == (3, 1, "all", "tray_app.commands.sign")


def test_the_service_loads_no_generator_and_no_dicom_library():
    """`run` (the app at login all day) does not carry the demo's generator or pydicom: the
    service decodes DICOM only when a DICOM file arrives (about 25 MiB of resident memory)."""
    code = ("import sys\n"
            "from tray_app.commands import module_of\n"
            "from tray_app.app import Service\n"
            "module_of('run')\n"
            "print(sorted(m for m in ('pydicom', 'tray_app.demo.synth', 'tray_app.demo.workspace') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout
