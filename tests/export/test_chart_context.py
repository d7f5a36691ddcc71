"""Issue 19 item 2: a matched patient's chart context from the loopback Open Dental, its plain
states, the contradiction flags at review, and that none of it is ever logged."""

from __future__ import annotations

import logging

import pytest

from tray_app.config import Config
from tray_app.pms.chart import NOT_SET_UP, OK, UNMATCHED, UNREACHABLE, load_chart
from tray_app.pms.keys import ODKeys
from tray_app.review.api import ReviewAPI
from tray_app.settings.export import OpenDentalConfig
from tray_app.teeth import universal_to_fdi

from .od_server import CUST, DEV
from .od_api.medical import seed

JANE = {"id": "1001", "id_kind": "patnum", "name": "Doe^Jane", "birth_date": "19800101"}
ALERT = "Latex anaphylaxis; INR checked before any surgery"
SECRET_WORDS = ("Latex anaphylaxis", "Warfarin", "Penicillin", "Hypertension", "Doe", "Jane", "hives")


def keys():
    return ODKeys(DEV, CUST)


def _chart_patient(od_server):
    od_server.add_patient(1001, "Doe", "Jane", "1980-01-01", med_urg_note=ALERT)
    seed(od_server, 1001, medical="Heart murmur", problems=["Hypertension", ("Asthma", "Resolved")],
         allergies=[("Penicillin", "hives", True), ("Codeine", "nausea", False)],
         medications=[("Warfarin", "5 mg daily", ""), ("Amoxicillin", "", "2020-02-01")], missing=["3"])
    od_server.add_procedure(1001, "D2740", "EO", tooth="14", date="2025-06-01")      # crown
    od_server.add_procedure(1001, "D3330", "C", tooth="19", date="2024-03-02")      # root canal
    od_server.add_procedure(1001, "D7140", "C", tooth="30", date="2023-01-10")      # extraction
    od_server.add_procedure(1001, "D2391", "TP", tooth="18", surf="O")               # planned
    od_server.add_procedure(1001, "D2392", "D", tooth="20", surf="MO")               # deleted: ignored


def test_a_matched_patients_alerts_problems_allergies_medications_and_teeth(od_server):
    _chart_patient(od_server)
    chart = load_chart(OpenDentalConfig(base_url=od_server.url), JANE, keys_provider=keys)
    assert chart.state == OK
    assert chart.alerts == (ALERT, "Heart murmur")
    assert chart.problems == ("Hypertension",)  # resolved ones are history
    assert chart.allergies == ("Penicillin — hives",)  # inactive ones are not shown
    assert chart.medications == ("Warfarin — 5 mg daily",)  # stopped in 2020
    assert chart.tooth("3").missing == "charted missing"
    assert chart.tooth("30").missing.startswith("extracted 2023-01-10")
    assert [(w.label, w.code) for w in chart.tooth("14").existing] == [("crown", "D2740")]
    assert chart.tooth("19").has("root_canal")
    assert [w.code for w in chart.tooth("18").planned] == ["D2391"]
    assert chart.tooth("20") is None
    paths = {r["path"] for r in od_server.state.requests}
    assert {"/allergies", "/diseases", "/medicationpats", "/toothinitials", "/procedurelogs",
            "/patientnotes/1001"} <= paths
    assert not od_server.writes()  # read-only


def test_before_24_2_3_only_extractions_count_as_missing(od_server):
    _chart_patient(od_server)
    od_server.version = (24, 1, 0)
    chart = load_chart(OpenDentalConfig(base_url=od_server.url), JANE, keys_provider=keys)
    assert chart.state == OK and chart.tooth("3") is None and chart.tooth("30").missing
    assert any("24.2.3" in n for n in chart.notes)


def test_not_set_up_unreachable_and_unmatched_are_plain_states(od_server):
    od_server.add_patient(1001, "Doe", "Jane", "1975-05-05")  # another birth date: not this patient
    settings = OpenDentalConfig(base_url=od_server.url)
    assert load_chart(settings, JANE, keys_provider=lambda: None).state == NOT_SET_UP
    unmatched = load_chart(settings, JANE, keys_provider=keys)
    assert unmatched.state == UNMATCHED and "birth date" in unmatched.message
    down = OpenDentalConfig(base_url="http://127.0.0.1:9/api/v1/", connect_timeout=0.5)
    gone = load_chart(down, JANE, keys_provider=keys)
    assert gone.state == UNREACHABLE and gone.message.startswith("Open Dental not reachable")


@pytest.fixture
def review(workspace, od_server, od_keys):
    config = Config()
    config.export.opendental.base_url = od_server.url
    return ReviewAPI(workspace.db, config)


def test_a_restoration_on_a_tooth_charted_missing_is_flagged_at_review(review, workspace, od_server):
    _chart_patient(od_server)
    study_id = workspace.studies["A"]
    image = review.study(study_id)["images"][0]["id"]
    fid = review.add(image, "restoration", [10, 10, 40, 40], tooth_fdi=universal_to_fdi(3), surfaces="O")
    ok = review.add(image, "crown", [50, 10, 80, 40], tooth_fdi=universal_to_fdi(14))
    ctx = review.chart_context(study_id)
    assert ctx["state"] == OK and ctx["alerts"][0] == ALERT
    assert [(f["finding_id"], f["tooth"]) for f in ctx["flags"]] == [(fid, "3")]
    assert "charted missing" in ctx["flags"][0]["text"] and ok not in {f["finding_id"] for f in ctx["flags"]}
    assert {"3", "14"} <= set(ctx["teeth_in_view"]) and {t["tooth"] for t in ctx["teeth"]} <= set(ctx["teeth_in_view"])
    review.reject(fid)  # a rejected finding is no longer a question
    assert review.chart_context(study_id)["flags"] == []


def test_the_chart_is_read_once_per_study_and_open_dental_down_is_a_state(review, workspace, od_server):
    _chart_patient(od_server)
    study_id = workspace.studies["A"]
    review.chart_context(study_id)
    review.chart_context(study_id)
    assert sum(r["path"] == "/allergies" for r in od_server.state.requests) == 1  # cached in memory
    other = workspace.studies["D"]  # patient 4004: unknown to Open Dental
    assert review.chart_context(other)["state"] == UNMATCHED
    od_server.stop()
    fresh = ReviewAPI(workspace.db, review.config)
    assert fresh.chart_context(study_id)["state"] == UNREACHABLE


def test_medical_context_is_never_logged(review, workspace, od_server, caplog, capfd):
    _chart_patient(od_server)
    study_id = workspace.studies["A"]
    caplog.set_level(logging.DEBUG)
    ctx = review.chart_context(study_id)
    assert ctx["alerts"] and ctx["medications"]
    od_server.fail("500", "GET /allergies")  # a failure path too: its sentence names nothing medical
    failed = ReviewAPI(workspace.db, review.config).chart_context(study_id)
    assert failed["state"] == UNREACHABLE
    out, err = capfd.readouterr()
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records) + out + err
    assert not [w for w in SECRET_WORDS if w in logged]
    assert not [w for w in SECRET_WORDS if w in failed["message"]]
    rows = workspace.db.query("SELECT data FROM audit")
    assert not [w for w in SECRET_WORDS for r in rows if w in r["data"]]
