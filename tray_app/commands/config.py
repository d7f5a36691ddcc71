"""`config show | set | add-source | remove-source`: the settings file, changed from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import tomli_w

from ..store import audit
from ..config import ConfigError, SourceConfig
from ..guarded_settings import guarded_values, is_guarded
from ..intake.naming import TemplateError, validate_template
from ..review.clinicians import ClinicianError, authorised_by, authorize
from .shared import add_authority_args, authority, load_config, load_paths, open_database, print_json


def cmd_config(args) -> int:
    paths = load_paths()
    try:
        config = load_config(paths)
        if args.action == "show":
            if args.json:
                print_json({"file": str(paths.config_file), "config": config.to_dict()})
            else:
                print(f"# {paths.config_file}")
                print(tomli_w.dumps(config.to_dict()))
            return 0
        who = None
        if args.action == "set":
            if is_guarded(args.key):
                with open_database(paths) as db:  # the PIN first: a wrong one changes nothing
                    who = authorised_by(authorize(db, authority(args), f"changing {args.key}"))
            config.set_value(args.key, args.value)
        elif args.action == "add-source":
            source = SourceConfig(path=args.path, kind=args.kind, patient_id=args.patient_id)
            if args.template:
                source.name_template = args.template
            validate_template(source.name_template)
            if any(s.path == source.path for s in config.sources):
                raise ConfigError(f"{source.path} is already a watch folder")
            config.sources.append(source)
            errors = config.validate()
            if errors:
                raise ConfigError("; ".join(errors))
            if not Path(args.path).is_dir():
                print(f"note: {args.path} is not reachable right now; it will be watched once it is.", file=sys.stderr)
        elif args.action == "remove-source":
            before = len(config.sources)
            config.sources = [s for s in config.sources if s.path != args.path]
            if len(config.sources) == before:
                raise ConfigError(f"{args.path} is not a watch folder")
        _audit_config_change(paths, args, who, config)  # first: a running app then finds the change authorised
        config.save(paths.config_file)
        print(f"saved {paths.config_file}")
        return 0
    except (ConfigError, TemplateError, ClinicianError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _audit_config_change(paths, args, authorised_by: str | None, config) -> None:
    detail = {"set": {"key": getattr(args, "key", None), "value": getattr(args, "value", None)},
              "add-source": {"kind": getattr(args, "kind", None), "patient_id": getattr(args, "patient_id", None)},
              "remove-source": {}}.get(args.action, {})
    if authorised_by:
        detail["authorised_by"] = authorised_by
    detail["guarded"] = guarded_values(config)
    with open_database(paths) as db:
        with db.tx() as c:
            audit.append(c, "config_changed", args.action, **detail)


def add_arguments(command: str, cfg) -> None:
    cfg_sub = cfg.add_subparsers(dest="action", required=True)
    show = cfg_sub.add_parser("show")
    show.add_argument("--json", action="store_true")
    s = cfg_sub.add_parser("set", help="e.g. intake.settle_seconds 3")
    s.add_argument("key")
    s.add_argument("value")
    add_authority_args(s)
    add = cfg_sub.add_parser("add-source", help="watch a folder (UNC paths welcome)")
    add.add_argument("path")
    add.add_argument("--kind", default="auto", choices=["auto", "native", "polling"])
    add.add_argument("--template", help="file-name template for non-DICOM files, e.g. {chart}_{last}_{first}_{date:%%Y%%m%%d}_{seq}")
    add.add_argument("--patient-id", default="chartnumber", choices=["patnum", "chartnumber"],
                     help="what the patient id in these files means in the PMS")
    rm = cfg_sub.add_parser("remove-source")
    rm.add_argument("path")
    cfg.set_defaults(func=cmd_config)
