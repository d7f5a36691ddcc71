"""The chart link reaches the window in front of the user: a running tray app (or a review
window opened before) receives `review --patient ID` over the real single-instance socket and
opens that patient's newest study; an unknown patient leaves the queue open with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from tray_app.app import Service
from tray_app.config import Config
from tray_app.ui.app_shell import AppShell
from tray_app.ui.chart_link import NO_STUDY_TITLE, follow_requests, open_request
from tray_app.ui.single_instance import SingleInstance, instance_names, review_message


def _study_of(window, chart):
    return next(s["id"] for s in window.queue.studies if s["patient"]["id"] == chart)


def test_open_request_opens_the_patient_or_says_why_not(review_home, make_window):
    w = make_window(review_home)
    first = w.study["id"]
    bruno = _study_of(w, "DEMO002")
    assert bruno != first
    assert open_request(w, {"patient": "demo002"}) == ""
    assert w.study["id"] == bruno
    problem = open_request(w, {"patient": "DEMO999", "id_kind": "chartnumber"})
    assert "No radiographs of the patient with chart number DEMO999" in problem
    assert w.status.currentMessage() == problem
    # nobody else's radiographs stay in front of the user who asked for this patient
    assert w.study is None and w.canvas.pixmap_item is None and w.header.title.text() == NO_STUDY_TITLE
    assert w.findings_panel.table.rowCount() == 0 and w.thumbs.count() == 0 and w.queue.current_study_id() is None
    assert not w.header.sign_btn.isEnabled()
    assert open_request(w, {"patient": "DEMO002"}) == "" and w.study["id"] == bruno  # and back
    assert "does not exist" in open_request(w, {"study": 4242})


def test_a_running_tray_app_opens_the_patient_sent_over_its_socket(review_home, qtbot):
    """What `run_app` wires: the guard's review request opens the shell's review window on it."""
    config = Config.load(review_home.config_file)
    service = Service(config, review_home)
    shell = AppShell(service, review_home, config, open_url=lambda url: None, quit_app=lambda: None, poll_ms=0)
    name = f"DentalAIBridge-test-{uuid.uuid4().hex[:8]}"
    guard = SingleInstance(name, use_mutex=False)
    try:
        assert guard.acquire()
        follow_requests(guard, shell.open_review)
        second = SingleInstance(name, use_mutex=False)
        assert second.acquire(message=review_message({"patient": "DEMO003", "id_kind": None})) is False
        qtbot.waitUntil(lambda: shell.review_window is not None and shell.review_window.study is not None
                        and shell.review_window.study["patient"]["id"] == "DEMO003", timeout=10_000)
        assert shell.review_window.isVisible()
    finally:
        guard.release()
        if shell.review_window is not None:
            shell.review_window.timer.stop()
            shell.review_window.pixels.wait(5000)
        shell.shutdown()


def test_review_patient_is_forwarded_to_the_running_instance(review_home, qtbot):
    """`dental-bridge review --patient ID` while the tray app of that profile runs: the request
    goes over the real local socket and the command exits instead of opening a second window."""
    server_name = instance_names(review_home.data_dir)[0]
    running = SingleInstance(server_name, use_mutex=False)
    received = []
    running.review_requested.connect(received.append)
    assert running.acquire()
    try:
        env = dict(os.environ, DENTAL_BRIDGE_HOME=os.environ["DENTAL_BRIDGE_HOME"], DISPLAY=":0",
                   QT_QPA_PLATFORM="offscreen")
        proc = subprocess.Popen([sys.executable, "-m", "tray_app", "review", "--patient", "DEMO 7", "--id-kind",
                                 "patnum"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        qtbot.waitUntil(lambda: bool(received), timeout=60_000)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()[-2000:]
    finally:
        running.release()
    assert received == [{"patient": "DEMO 7", "id_kind": "patnum"}]


def test_a_garbled_request_only_shows_the_window(qtbot):
    name = f"DentalAIBridge-test-{uuid.uuid4().hex[:8]}"
    first = SingleInstance(name, use_mutex=False)
    try:
        assert first.acquire()
        with qtbot.waitSignal(first.show_requested, timeout=3000):
            assert SingleInstance(name, use_mutex=False).tell(b"review {not json\n")
    finally:
        first.release()
