"""Export settings, keyring secrets, doctor and the CLI commands."""

from __future__ import annotations

import io
import json
import sys

import pytest
import tomli_w
import tomllib

from tray_app.pms import keys as secrets
from tray_app.cli import build_parser
from tray_app.settings.export import ExportConfig, ExportConfigError, OpenDentalConfig

from .conftest import od_config
from .od_server import CUST, DEV


def test_defaults_urls_and_toml_round_trip():
    cfg = ExportConfig()
    assert cfg.validate() == [] and cfg.destinations == []
    od = OpenDentalConfig()
    assert od.url_for("local") == "http://localhost:30222/api/v1/"
    assert OpenDentalConfig(mode="service", server="odserver").url_for("service") == "http://odserver:30223/api/v1/"
    assert od.url_for("remote") == "https://api.opendental.com/api/v1/"
    assert od.doc_category == "Radiographs" and od.popup_for_urgent is False
    cfg = ExportConfig.from_dict({"destinations": ["opendental", "folder"],
                                  "opendental": {"mode": "local", "fallback": ["remote"]},
                                  "folder": {"path": "\\\\server\\drop"}})
    assert cfg.opendental.order() == ["local", "remote"]
    text = tomli_w.dumps({"export": cfg.to_dict()})
    assert ExportConfig.from_dict(tomllib.loads(text)["export"]) == cfg


@pytest.mark.parametrize("raw,message", [
    ({"destinations": ["dentrix"]}, "may only name opendental, folder"),
    ({"destinations": ["opendental"], "opendental": {"mode": "cloud"}}, "mode must be one of"),
    ({"destinations": ["opendental"], "opendental": {"mode": "service"}}, "must name the Open Dental API Service"),
    ({"destinations": ["folder"]}, "must name the drop folder"),
    ({"destinations": ["folder"], "folder": {"layout": "opendental_atoz"}}, "atoz_root"),
    ({"opendental": {"colour": "red"}}, "unknown setting"),
    ({"destinations": ["opendental"], "opendental": {"image_format": "tiff"}}, "image_format"),
])
def test_validation_messages(raw, message):
    with pytest.raises(ExportConfigError, match=message):
        ExportConfig.from_dict(raw)


def test_keys_live_in_the_keyring_only(memory_keyring):
    assert secrets.get_opendental_keys() is None
    secrets.set_opendental_keys(DEV, CUST)
    keys = secrets.get_opendental_keys()
    assert keys.authorization() == f"ODFHIR {DEV}/{CUST}"
    assert DEV not in repr(keys) and CUST not in str(keys)
    assert memory_keyring.store[("DentalAIBridge/opendental", "DeveloperKey")] == DEV
    with pytest.raises(secrets.SecretsError):
        secrets.set_opendental_keys("has space", CUST)


def _main(argv):
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_cli_secrets_doctor_and_export(template, home, tmp_path, od_server, monkeypatch, capsys, memory_keyring):
    import shutil

    from tray_app.config import Paths

    paths = Paths.resolve().ensure()
    shutil.copy(template["db"], paths.database)
    from tray_app.audit_seal import seal_file

    shutil.copy(seal_file(template["db"]), seal_file(paths.database))  # the audit key travels with it
    drop = tmp_path / "drop"
    drop.mkdir()
    export = od_config(od_server).to_dict() | {"destinations": ["opendental", "folder"]}
    export["folder"] = {"path": str(drop)}
    watched = tmp_path / "watched"
    watched.mkdir()
    paths.config_file.write_text(tomli_w.dumps({"export": export, "sources": [{"path": str(watched)}]}),
                                 encoding="utf-8")

    assert _main(["doctor", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["ok"] and any("secrets set opendental" in c["message"] for c in out["checks"])

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{DEV}\n{CUST}\n"))
    assert _main(["secrets", "set", "opendental", "--stdin"]) == 0
    assert DEV not in capsys.readouterr().out
    assert _main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["Open Dental API (local)"]["ok"] and checks["drop folder"]["ok"]
    assert checks["model"]["ok"] and checks["keyring"]["ok"] and checks[f"watch folder {watched}"]["ok"]
    assert checks["Open Dental image category"]["ok"]

    from tray_app.review.api import ReviewAPI
    from tray_app.store.db import Database

    db = Database(paths.database)
    study = template["studies"]["A"]

    class Api(ReviewAPI):
        def destinations(self):
            return ["opendental", "folder"]

    Api(db).sign(study, 1, "246813")
    db.close()
    assert _main(["export", "--once", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert sorted((r["destination"], r["state"]) for r in results) == [("folder", "done"), ("opendental", "done")]
    assert len(od_server.writes()) == 4 and len(list(drop.iterdir())) == 4
    assert _main(["export", "--status", "--json"]) == 0
    assert {r["state"] for r in json.loads(capsys.readouterr().out)["outbox"]} == {"done"}


def test_doctor_reports_unwritable_and_unreachable(tmp_path, od_keys):
    from tray_app.export.doctor import run_checks
    from tray_app.settings.export import FolderConfig

    cfg = ExportConfig(destinations=["opendental", "folder"],
                       opendental=OpenDentalConfig(base_url="http://127.0.0.1:9/api/v1/", connect_timeout=0.3),
                       folder=FolderConfig(path=str(tmp_path / "missing")))
    checks = {c.name: c for c in run_checks(cfg)}
    assert not checks["Open Dental API (local)"].ok and "cannot be reached" in checks["Open Dental API (local)"].message
    assert not checks["drop folder"].ok and "does not exist" in checks["drop folder"].message


def test_doctor_reports_a_broken_settings_file_as_a_failed_check(home, capsys):
    from tray_app.cli import main
    from tray_app.config import Paths

    paths = Paths.resolve().ensure()
    paths.config_file.write_text('[export]\ndestinations = ["opendental"]\n[export.opendental]\nmode = "cloud"\n',
                                 encoding="utf-8")
    assert main(["doctor", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["ok"] and [c["name"] for c in out["checks"]] == ["settings file"]
    assert "export.opendental.mode must be one of local, service, remote (got 'cloud')" in out["checks"][0]["message"]
    assert main(["export", "--status"]) == 2
    assert "export.opendental.mode must be one of" in capsys.readouterr().err
