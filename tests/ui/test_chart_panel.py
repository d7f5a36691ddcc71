"""Issue 19 item 2: the review window shows a matched patient's medical alert and chart from a real
(loopback) Open Dental, off the GUI thread; Open Dental down or an unmatched patient is a plain state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))

from od_api.medical import seed  # noqa: E402
from od_server import CUST, DEV, FakeOpenDental  # noqa: E402

from tray_app.config import Config  # noqa: E402
from tray_app.teeth import universal_to_fdi  # noqa: E402

ALERT = "Bleeding disorder: consult haematology before extractions"


@pytest.fixture
def od(memory_keyring):
    from tray_app.pms.keys import set_opendental_keys

    set_opendental_keys(DEV, CUST)
    server = FakeOpenDental().start()
    yield server
    server.stop()


def _point_at(paths, od) -> None:
    config = Config.load(paths.config_file)
    config.export.opendental.base_url = od.url
    config.save(paths.config_file)


def _panel(w):
    from tray_app.ui.chart_panel import ChartPanel

    return next(p for p in w.panels if isinstance(p, ChartPanel))


def _study(w, chart_number: str) -> int:
    return next(s["id"] for s in w.queue.studies if s["patient"]["id"] == chart_number)


def test_a_matched_patients_medical_alert_shows_at_the_top_and_a_contradiction_is_flagged(review_home, make_window,
                                                                                        od, qtbot):
    _point_at(review_home, od)
    od.add_patient(41, "Demo", "Alice", "1979-04-12", chart="DEMO001", med_urg_note=ALERT)
    seed(od, 41, allergies=[("Latex", "anaphylaxis", True)], medications=[("Apixaban", "5 mg bid", "")],
         problems=["Atrial fibrillation"], missing=["3"])
    od.add_procedure(41, "D2740", "EO", tooth="14")
    w = make_window(review_home)
    w.queue.select_study(_study(w, "DEMO001"))
    qtbot.waitUntil(lambda: w.study["patient"]["id"] == "DEMO001")
    panel = _panel(w)
    image = w.study["images"][0]["id"]
    fid = w.api.add(image, "restoration", [10, 10, 40, 40], tooth_fdi=universal_to_fdi(3), surfaces="O")
    w.refresh_study()
    qtbot.waitUntil(lambda: panel.chart is not None and bool(panel.chart.get("flags")), timeout=15_000)
    assert panel.alert.isVisible() and ALERT in panel.alert.text()
    assert "Latex" in panel.body.text() and "Apixaban" in panel.body.text() and "Atrial fibrillation" in panel.body.text()
    assert panel.flags.isVisible() and "#3" in panel.flags.text() and "charted missing" in panel.flags.text()
    assert [f["finding_id"] for f in panel.chart["flags"]] == [fid]
    panel.wait()


def test_an_unmatched_patient_or_open_dental_down_is_a_plain_state_and_the_window_works(review_home, make_window,
                                                                                      od, qtbot):
    _point_at(review_home, od)  # DEMO002 is unknown to this Open Dental
    w = make_window(review_home)
    w.queue.select_study(_study(w, "DEMO002"))
    panel = _panel(w)
    qtbot.waitUntil(lambda: panel.chart is not None and panel.chart["state"] == "unmatched", timeout=15_000)
    assert panel.state.isVisible() and "not matched" in panel.state.text() and not panel.alert.isVisible()
    od.stop()
    w.queue.select_study(_study(w, "DEMO003"))
    qtbot.waitUntil(lambda: panel.chart is not None and panel.chart["state"] == "unreachable", timeout=30_000)
    assert "not reachable" in panel.state.text()
    before = w.findings_panel.table.rowCount()
    assert before and w.image_id is not None  # the window still works
    panel.wait()


def test_opening_a_study_never_waits_for_open_dental(review_home, make_window, od, qtbot, monkeypatch):
    import threading

    from tray_app.review.api import ReviewAPI

    release = threading.Event()
    real = ReviewAPI.chart_context

    def slow(self, study_id):
        release.wait(20)
        return real(self, study_id)

    monkeypatch.setattr(ReviewAPI, "chart_context", slow)
    w = make_window(review_home)  # make_window waits for the first image: Open Dental is still "answering"
    panel = _panel(w)
    assert panel.chart is None and "Reading the chart" in panel.state.text()
    release.set()
    qtbot.waitUntil(lambda: panel.chart is not None, timeout=15_000)
    assert panel.chart["state"] == "unreachable"  # keys, but no Open Dental on this PC's Local API port
    panel.wait()


def test_without_open_dental_keys_the_panel_stays_away(review_home, make_window, qtbot):
    """A practice without Open Dental (the demo, a Dentrix office) sees no chart panel at all."""
    w = make_window(review_home)
    panel = next(p for p in w.panels if type(p).__name__ == "ChartPanel")
    qtbot.waitUntil(lambda: panel.chart is not None, timeout=10_000)
    assert panel.chart["state"] == "not_set_up" and panel.isHidden()
    other = next(s["id"] for s in w.queue.studies if s["id"] != w.study["id"])
    w.queue.select_study(other)
    qtbot.waitUntil(lambda: panel.chart is not None and panel.study_id == other, timeout=10_000)
    assert panel.isHidden()
