"""The DICOM Modality Worklist from Open Dental's schedule (issue 19 item 1), with DCMTK's
`findscu -W` as the imaging software, against a running service and the loopback Open Dental."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
from datetime import date, timedelta

import pytest
from pydicom import dcmread

from od_api.appointments import add_appointment
from od_api.providers import add_provider
from od_server import FakeOpenDental
from service_helpers import fast_config, home_paths, wait_for
from tray_app.app import Service
from tray_app.config import SourceConfig
from tray_app.settings.export import OpenDentalConfig
from tray_app.settings.worklist import WorklistConfig

from .pacs import free_port

TODAY = date.today()
TOMORROW = TODAY + timedelta(days=1)
SPS = "ScheduledProcedureStepSequence[0]"
NAMES = ("Doe", "Jane", "Smith", "John", "Roe", "Müller", "José")


def _at(day: date, hhmm: str) -> str:
    return f"{day.isoformat()} {hhmm}:00"


def _patient(server, pat_num, last, first, birth, chart, gender):
    server.add_patient(pat_num, last, first, birth, chart)
    server.state.patients[pat_num].update(Gender=gender, MiddleI="")


def _procedure(server, pat_num, apt, code, descript, status="TP"):
    row = server.add_procedure(pat_num, code, status, apt_num=apt["AptNum"], date=apt["AptDateTime"][:10])
    row["descript"] = descript


@pytest.fixture
def schedule():
    """Today: bitewings for Jane Doe (chart C-501), a pano for John Smith (no chart number), a
    cleaning only for Ann Roe, a broken FMX appointment; tomorrow a periapical for José Müller;
    in three days a pano for Jane Doe (outside a one-day-ahead window)."""
    server = FakeOpenDental().start()
    add_provider(server, 1, "DOC1", "Albert", "Brian")
    add_provider(server, 2, "DOC2", "Chen", "Lee")
    _patient(server, 501, "Doe", "Jane", "1980-01-02", "C-501", "Female")
    _patient(server, 502, "Smith", "John", "1975-06-30", "", "Male")
    _patient(server, 503, "Roe", "Ann", "1990-03-04", "C-503", "Female")
    _patient(server, 504, "Poe", "Ed", "1960-01-01", "C-504", "Male")
    _patient(server, 505, "Müller", "José", "2001-12-24", "C-505", "Unknown")
    apts = {}
    apts["doe"] = add_appointment(server, 501, _at(TODAY, "09:00"), prov_num=1)
    _procedure(server, 501, apts["doe"], "D0274", "bitewings - four radiographic images")
    _procedure(server, 501, apts["doe"], "D1110", "prophylaxis - adult")
    apts["smith"] = add_appointment(server, 502, _at(TODAY, "10:30"), prov_num=2)
    _procedure(server, 502, apts["smith"], "D0330", "panoramic radiographic image")
    apts["roe"] = add_appointment(server, 503, _at(TODAY, "11:00"))
    _procedure(server, 503, apts["roe"], "D1110", "prophylaxis - adult")
    apts["poe"] = add_appointment(server, 504, _at(TODAY, "13:00"), status="Broken")
    _procedure(server, 504, apts["poe"], "D0210", "intraoral - comprehensive series")
    apts["muller"] = add_appointment(server, 505, _at(TOMORROW, "08:15"))
    _procedure(server, 505, apts["muller"], "D0220", "intraoral - periapical first radiographic image")
    apts["later"] = add_appointment(server, 501, _at(TODAY + timedelta(days=3), "09:00"))
    _procedure(server, 501, apts["later"], "D0330", "panoramic radiographic image")
    server.apts = apts
    yield server
    server.stop()


def _service(server, export_dir, *, id_kind="patnum", days_ahead=1, port=None, allowed=("SENSOR1",)):
    cfg = fast_config()
    cfg.sources = [SourceConfig(path=str(export_dir), patient_id=id_kind)]
    cfg.export.opendental = OpenDentalConfig(base_url=server.url, timeout=3.0, connect_timeout=0.5)
    cfg.worklist = WorklistConfig(enabled=True, ae_title="DABWORKLIST", port=port or free_port(),
                                  allowed_calling_aes=list(allowed), days_ahead=days_ahead, refresh_seconds=30)
    s = Service(cfg, home_paths())
    s.start()
    return s


@pytest.fixture
def running(schedule, home, export_dir, od_keys):
    services = []

    def start(**kw):
        s = _service(schedule, export_dir, **kw)
        services.append(s)
        wait_for(lambda: s.worklist.refresher.reads >= 1, 30, message="the first schedule read")
        return s

    yield start
    for s in services:
        s.stop()


def _dcmtk_findscu() -> str:
    """DCMTK's findscu. pynetdicom installs a console script of the same name, with other arguments,
    next to the interpreter: a developer whose PATH starts with the venv would run that one."""
    venv_bin = os.path.realpath(os.path.dirname(sys.executable))
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and os.path.realpath(p) != venv_bin)
    return shutil.which("findscu", path=path) or "findscu"


def findscu(port, tmp_path, *keys, calling="SENSOR1", day=TODAY):
    """`findscu -W` with the query shape an intra-oral sensor sends; the responses as datasets."""
    out = tmp_path / f"rsp{len(list(tmp_path.glob('rsp_*')))}"
    out = tmp_path / f"rsp_{out.name}"
    out.mkdir()
    base = [f"{SPS}.ScheduledStationAETitle={calling}", f"{SPS}.ScheduledProcedureStepStartTime",
            f"{SPS}.Modality", f"{SPS}.ScheduledPerformingPhysicianName", f"{SPS}.ScheduledProcedureStepDescription",
            f"{SPS}.ScheduledProtocolCodeSequence", f"{SPS}.ScheduledProcedureStepID", "PatientName", "PatientID",
            "PatientBirthDate", "PatientSex", "AccessionNumber", "RequestedProcedureDescription",
            "RequestedProcedureID", "StudyInstanceUID"]
    given = {k.split("=")[0] for k in keys}
    if day is not None:
        base.append(f"{SPS}.ScheduledProcedureStepStartDate={day.strftime('%Y%m%d')}")
    args = [k for k in base if k.split("=")[0] not in given] + list(keys)
    cmd = [_dcmtk_findscu(), "-W", "-aet", calling, "-aec", "DABWORKLIST", "-X", "-od", str(out), "127.0.0.1", str(port)]
    for k in args:
        cmd += ["-k", k]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    found = [dcmread(p) for p in sorted(out.glob("rsp*.dcm"))]
    found.sort(key=lambda d: (str(d.ScheduledProcedureStepSequence[0].get("ScheduledProcedureStepStartDate", "")),
                              str(d.ScheduledProcedureStepSequence[0].get("ScheduledProcedureStepStartTime", ""))))
    return found, proc


def test_findscu_lists_todays_imaging_appointments_with_the_patnum(running, schedule, tmp_path):
    s = running(id_kind="patnum")
    port = s.config.worklist.port
    found, proc = findscu(port, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [(str(d.PatientID), str(d.PatientName)) for d in found] == [("501", "Doe^Jane"), ("502", "Smith^John")]
    doe, smith = found
    step = doe.ScheduledProcedureStepSequence[0]
    assert (doe.PatientBirthDate, doe.PatientSex, step.Modality) == ("19800102", "F", "IO")
    assert str(step.ScheduledProcedureStepStartDate) == TODAY.strftime("%Y%m%d")
    assert str(step.ScheduledProcedureStepStartTime).startswith("0900")
    assert str(step.ScheduledPerformingPhysicianName) == "Albert^Brian"
    assert [c.CodeValue for c in step.ScheduledProtocolCodeSequence] == ["D0274"]  # the cleaning is no image
    assert step.ScheduledProtocolCodeSequence[0].CodingSchemeDesignator == "CDT"
    assert doe.AccessionNumber == f"OD{schedule.apts['doe']['AptNum']}"
    assert "D0274" in doe.RequestedProcedureDescription and step.ScheduledStationAETitle == "SENSOR1"
    assert (smith.PatientSex, smith.ScheduledProcedureStepSequence[0].Modality) == ("M", "PX")
    assert str(smith.ScheduledProcedureStepSequence[0].ScheduledPerformingPhysicianName) == "Chen^Lee"
    # the same appointment keeps its StudyInstanceUID from one answer to the next
    again, _ = findscu(port, tmp_path)
    assert [d.StudyInstanceUID for d in again] == [d.StudyInstanceUID for d in found]

    # a query by patient id narrows it; so do a name with wildcards and a modality
    by_id, _ = findscu(port, tmp_path, "PatientID=502")
    assert [str(d.PatientName) for d in by_id] == ["Smith^John"]
    by_name, _ = findscu(port, tmp_path, "PatientName=doe*")
    assert [str(d.PatientID) for d in by_name] == ["501"]
    pano, _ = findscu(port, tmp_path, f"{SPS}.Modality=PX")
    assert [str(d.PatientID) for d in pano] == ["502"]
    by_accession, _ = findscu(port, tmp_path, f"AccessionNumber={doe.AccessionNumber}")
    assert [str(d.PatientID) for d in by_accession] == ["501"]
    assert findscu(port, tmp_path, "PatientID=503")[0] == []  # a cleaning-only appointment is not listed
    assert findscu(port, tmp_path, "PatientID=504")[0] == []  # a broken appointment is not listed

    # date ranges: today and tomorrow; from tomorrow on; up to today; the window ends tomorrow
    both = f"{TODAY:%Y%m%d}-{TOMORROW:%Y%m%d}"
    ranged, _ = findscu(port, tmp_path, f"{SPS}.ScheduledProcedureStepStartDate={both}")
    assert [str(d.PatientID) for d in ranged] == ["501", "502", "505"]
    muller = ranged[2]
    assert (str(muller.PatientName), muller.PatientSex) == ("Müller^José", "")
    assert muller.SpecificCharacterSet == "ISO_IR 100"
    later, _ = findscu(port, tmp_path, f"{SPS}.ScheduledProcedureStepStartDate={TOMORROW:%Y%m%d}-")
    assert [str(d.PatientID) for d in later] == ["505"]  # the pano in three days is outside the window
    upto, _ = findscu(port, tmp_path, f"{SPS}.ScheduledProcedureStepStartDate=-{TODAY:%Y%m%d}")
    assert [str(d.PatientID) for d in upto] == ["501", "502"]
    morning, _ = findscu(port, tmp_path, f"{SPS}.ScheduledProcedureStepStartTime=-1000")
    assert [str(d.PatientID) for d in morning] == ["501"]


def test_chart_numbers_when_the_watch_folders_read_chart_numbers(running, tmp_path):
    s = running(id_kind="chartnumber")
    port = s.config.worklist.port
    found, _ = findscu(port, tmp_path, day=None)
    # John Smith has no chart number in Open Dental: no id to give, so he is left out
    assert sorted(str(d.PatientID) for d in found) == ["C-501", "C-505"]
    narrowed, _ = findscu(port, tmp_path, "PatientID=C-505", day=None)
    assert [str(d.PatientName) for d in narrowed] == ["Müller^José"]


def test_open_dental_down_answers_from_the_copy_and_says_it_is_stale(running, schedule, tmp_path, capsys):
    from tray_app.cli import main
    from tray_app.ui.tray_state import compute

    s = running(id_kind="patnum")
    assert s.problem == ""
    assert compute(s.db.conn(), problem=s.problem, source_paths=[str(p.path) for p in s.config.sources]).state \
        == "watching"
    schedule.stop()  # Open Dental closed
    reads = s.worklist.refresher.reads
    s.worklist.refresher.refresh_now()
    wait_for(lambda: s.worklist.refresher.reads > reads, 30, message="a failed read")
    found, proc = findscu(s.config.worklist.port, tmp_path)
    assert proc.returncode == 0 and [str(d.PatientID) for d in found] == ["501", "502"]
    assert "Open Dental not reachable" in s.problem and "old" in s.problem
    state = compute(s.db.conn(), problem=s.problem, source_paths=[str(p.path) for p in s.config.sources])
    assert state.state == "waiting_for_share" and "Worklist: Open Dental not reachable" in state.tooltip
    # the CLI and doctor say the same, with the reason
    s.config.save(home_paths().config_file)
    assert main(["worklist", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["stale"] and "last read failed" in out["freshness"] and len(out["items"]) == 2
    from tray_app.doctor import Context
    from tray_app.worklist.doctor import cache, schedule as schedule_check

    [check] = cache(Context(s.config, home_paths()))
    assert not check.ok and "answering from the schedule read" in check.message
    [reach] = schedule_check(Context(s.config, home_paths()))
    assert not reach.ok and "cannot be read" in reach.message


def test_patient_names_never_reach_the_log(running, tmp_path, caplog):
    caplog.set_level(logging.INFO)  # the level the service logs at (logging_setup.py)
    s = running(id_kind="chartnumber")
    found, _ = findscu(s.config.worklist.port, tmp_path, "PatientName=Doe*", day=None)
    assert len(found) == 1
    wait_for(lambda: "worklist C-FIND from" in caplog.text, 10, message="the C-FIND log line")
    text = caplog.text + (home_paths().log_dir / "dental-bridge.log").read_text(errors="replace") \
        if (home_paths().log_dir / "dental-bridge.log").exists() else caplog.text
    assert not [n for n in NAMES if n in text]
    assert "C-501" not in text and "19800102" not in text and "1980-01-02" not in text
    assert "keys with values: PatientName" in caplog.text  # which keys, never their values


def test_a_stranger_is_refused_and_a_taken_port_does_not_stop_the_service(running, schedule, tmp_path, home,
                                                                            export_dir):
    s = running(id_kind="patnum")
    found, proc = findscu(s.config.worklist.port, tmp_path, calling="STRANGER")
    assert found == [] and proc.returncode != 0
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        other = _service(schedule, export_dir, port=squatter.getsockname()[1])
        try:
            assert "worklist cannot listen on port" in other.problem and not other.worklist.scp.running
            assert other.worker.is_alive()  # the rest of the service runs on
        finally:
            other.stop()


def test_watch_folders_that_disagree_list_nothing_and_say_why(running, tmp_path, export_dir):
    s = running(id_kind="patnum")
    s.config.sources.append(SourceConfig(path=str(tmp_path / "other"), patient_id="chartnumber"))
    found, _ = findscu(s.config.worklist.port, tmp_path)
    assert found == []
    assert "watch folders disagree" in s.problem


def test_the_cli_reads_and_lists_todays_worklist(schedule, home, export_dir, od_keys, capsys):
    import json

    from tray_app.cli import main

    cfg = fast_config()
    cfg.sources = [SourceConfig(path=str(export_dir), patient_id="patnum")]
    cfg.export.opendental = OpenDentalConfig(base_url=schedule.url, timeout=3.0, connect_timeout=0.5)
    cfg.worklist = WorklistConfig(enabled=True)
    cfg.save(home_paths().config_file)
    assert main(["worklist", "--json"]) == 0  # nothing read yet: an empty, stale list
    out = json.loads(capsys.readouterr().out)
    assert out["items"] == [] and out["stale"] and out["age_seconds"] is None
    assert main(["worklist", "--refresh", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert not out["stale"] and out["patient_id_kind"] == "patnum"
    assert [(i["time"], i["modality"], i["patient_id"], i["birth_date"], i["provider"]) for i in out["items"]] == [
        ("09:00", "IO", "501", "19800102", "Albert^Brian"), ("10:30", "PX", "502", "19750630", "Chen^Lee")]
    assert main(["worklist"]) == 0
    text = capsys.readouterr().out
    assert "09:00  IO  501" in text and "Doe, Jane" in text and "D0274" in text
    schedule.stop()
    assert main(["worklist", "--refresh"]) == 1  # Open Dental closed: the copy, and why
    text = capsys.readouterr().out
    assert text.startswith("STALE: answering from the schedule read") and "cannot be reached" in text
    assert "09:00  IO  501" in text
