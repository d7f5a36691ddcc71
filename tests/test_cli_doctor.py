"""One doctor (issue 17): the parts contribute checks with one contract, run in one order."""

import json

from tray_app.cli import main
from tray_app.commands.doctor import CHECKS
from tray_app.config import Config, Paths
from tray_app.doctor import Check, Context, core, run
from tray_app.export import doctor as export_doctor
from tray_app.export import next_steps_doctor
from tray_app.settings.export import ExportConfig, FolderConfig
from tray_app.worklist import doctor as worklist_doctor


def test_every_part_contributes_its_checks_with_one_contract(home, tmp_path):
    config = Config(export=ExportConfig(destinations=["folder"], folder=FolderConfig(path=str(tmp_path))))
    context = Context(config, Paths.resolve().ensure())
    assert CHECKS == (*core.CHECKS, *export_doctor.CHECKS, *worklist_doctor.CHECKS, *next_steps_doctor.CHECKS)
    per_check = [check(context) for check in CHECKS]
    assert all(isinstance(line, Check) for lines in per_check for line in lines)
    assert [c.name for c in run(CHECKS, context)] == [c.name for lines in per_check for c in lines] == [
        "watch folders", "model", "data folder", "disk space", "audit log", "keyring", "export settings",
        "drop folder"]


def test_doctor_prints_the_core_then_the_export_checks(home, capsys):
    assert main(["doctor", "--json"]) == 1  # no watch folder yet
    names = [c["name"] for c in json.loads(capsys.readouterr().out)["checks"]]
    assert names == ["watch folders", "model", "data folder", "disk space", "audit log", "keyring", "export settings"]
    main(["doctor"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("FAIL  watch folders: no watch folder is set up") and lines[1].startswith("ok    model:")
