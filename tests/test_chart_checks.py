"""The rules that flag a finding contradicting Open Dental's chart, and the CDT codes behind them."""

from __future__ import annotations

from tray_app import labels
from tray_app.clinical.chart_checks import contradictions
from tray_app.pms.chart import OK, ChartContext, ChartedWork, ToothChart
from tray_app.teeth import universal_to_fdi


def chart(*teeth: ToothChart) -> ChartContext:
    return ChartContext(OK, teeth=teeth)


def finding(fid: int, label: str, tooth: int, status: str = "proposed") -> dict:
    return {"id": fid, "label": label, "tooth_fdi": universal_to_fdi(tooth), "status": status}


def work(code: str, status: str = "EO", date: str = "2025-01-15") -> ChartedWork:
    return ChartedWork(code, status, labels.label_of_code(code) or "", date)


def test_cdt_codes_map_to_the_label_vocabulary():
    assert [labels.label_of_code(c) for c in ("D2391", "D2740", "D3330", "D6010", "D6065", "D1110", "D6100", "X")] \
        == ["restoration", "crown", "root_canal", "implant", "implant", None, None, None]
    assert labels.removes_tooth("D7140") and labels.removes_tooth("D7240") and not labels.removes_tooth("D2740")
    assert {label for _, _, label in labels.CHARTED_WORK_CODES} <= labels.DENTAL_WORK_LABELS


def test_work_or_decay_on_a_tooth_charted_missing_is_flagged():
    c = chart(ToothChart("3", missing="charted missing"), ToothChart("30", missing="extracted 2023-01-10 (D7140)"))
    flags = contradictions([finding(1, "restoration", 3), finding(2, "crown", 30), finding(3, "caries", 30),
                            finding(4, "calculus", 3), finding(5, "restoration", 4)], c)
    assert [(f.finding_id, f.tooth) for f in flags] == [(1, "3"), (2, "30"), (3, "30")]
    assert "charted missing" in flags[0].text and "extracted 2023-01-10" in flags[1].text


def test_a_crown_on_an_implant_where_the_tooth_was_extracted_is_not_flagged():
    c = chart(ToothChart("30", missing="extracted 2023-01-10 (D7140)", existing=(work("D6010"), work("D6065"))))
    assert contradictions([finding(1, "crown", 30), finding(2, "implant", 30)], c) == []


def test_a_missing_tooth_where_the_chart_has_work_is_flagged():
    c = chart(ToothChart("14", existing=(work("D2740", date="2025-06-01"),)), ToothChart("15"))
    flags = contradictions([finding(1, labels.MISSING_TOOTH, 14), finding(2, labels.MISSING_TOOTH, 15)], c)
    assert [f.finding_id for f in flags] == [1] and "crown (D2740, 2025-06-01)" in flags[0].text


def test_an_implant_where_the_chart_has_a_natural_tooth_with_work_is_flagged():
    c = chart(ToothChart("19", existing=(work("D3330", "C"),)), ToothChart("20", existing=(work("D6058"),)),
              ToothChart("21", missing="charted missing"))
    flags = contradictions([finding(1, "implant", 19), finding(2, "implant", 20), finding(3, "implant", 21)], c)
    assert [f.finding_id for f in flags] == [1] and "root canal filling" in flags[0].text


def test_rejected_findings_and_findings_without_a_tooth_are_not_checked():
    c = chart(ToothChart("3", missing="charted missing"))
    assert contradictions([finding(1, "restoration", 3, "rejected"),
                           {"id": 2, "label": "restoration", "tooth_fdi": None, "status": "proposed"}], c) == []
