"""`worklist [--refresh] [--json]`: what the DICOM worklist answers for today, from its copy of
Open Dental's schedule, and how old that copy is. `--refresh` reads the schedule first.

JSON: `{"enabled", "patient_id_kind", "problem", "stale", "age_seconds", "freshness", "items": [{"time",
"modality", "patient_id", "patient_name", "birth_date", "sex", "accession", "procedures", "provider"}]}`."""

from __future__ import annotations

from datetime import date

from .shared import emit, load_config, load_paths, open_database


def _today_query():
    from pydicom.dataset import Dataset

    from ..worklist.dataset import SPS

    query, step = Dataset(), Dataset()
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber",
                    "RequestedProcedureDescription"):
        setattr(query, keyword, "")
    step.ScheduledProcedureStepStartDate = date.today().strftime("%Y%m%d")
    for keyword in ("ScheduledProcedureStepStartTime", "Modality", "ScheduledPerformingPhysicianName"):
        setattr(step, keyword, "")
    setattr(query, SPS, [step])
    return query


def cmd_worklist(args) -> int:
    from ..store import worklist as repo
    from ..worklist.identity import id_kind
    from ..worklist.refresh import freshness, refresh
    from ..worklist.scp import answer

    paths = load_paths()
    config = load_config(paths)
    with open_database(paths) as db:
        error = ""
        if args.refresh:
            _, error = refresh(db, config)
        found, problem = answer(db, config, _today_query())
        fresh = freshness(repo.refresh_state(db), config)
    kind, _ = id_kind(config)
    items = [{"time": f"{str(d.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime)[:2]}:"
                      f"{str(d.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime)[2:4]}",
              "modality": d.ScheduledProcedureStepSequence[0].Modality, "patient_id": str(d.PatientID),
              "patient_name": str(d.PatientName), "birth_date": str(d.PatientBirthDate), "sex": str(d.PatientSex),
              "accession": str(d.AccessionNumber), "procedures": str(d.RequestedProcedureDescription),
              "provider": str(d.ScheduledProcedureStepSequence[0].ScheduledPerformingPhysicianName)} for d in found]
    result = {"enabled": config.worklist.enabled, "patient_id_kind": kind, "problem": problem or error,
              "stale": fresh.stale, "age_seconds": fresh.age_seconds, "freshness": fresh.detail, "items": items}
    emit(args, result, _format)
    return 1 if problem or error else 0


def _format(result: dict) -> str:
    lines = [] if result["enabled"] else ["the worklist is off (dental-bridge config set worklist.enabled true)"]
    lines.append(("STALE: " if result["stale"] else "") + result["freshness"])
    if result["problem"]:
        lines.append(f"problem: {result['problem']}")
    if not result["items"]:
        lines.append("no imaging appointment today")
    for i in result["items"]:
        lines.append(f"{i['time']}  {i['modality']:<2}  {i['patient_id']:<10} {i['patient_name'].replace('^', ', ', 1)}"
                     f"  {i['birth_date']} {i['sex'] or '-'}  {i['accession']}  {i['procedures']}"
                     + (f"  ({i['provider'].replace('^', ', ', 1)})" if i["provider"] else ""))
    return "\n".join(lines)


def add_arguments(command: str, p) -> None:
    p.add_argument("--refresh", action="store_true", help="read today's schedule from Open Dental first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_worklist)
