"""Steps that may lag (retake advice, priors) wait behind the model while it has the next image of
a burst waiting, for at most their hold, and then run in order."""

from __future__ import annotations

import threading
import time

from tray_app.intake.after_steps import StepRunner


def _runner(busy, hold):
    ran: list[str] = []
    runner = StepRunner(model_busy=busy, hold=hold)
    runner.start()
    return runner, ran


def test_a_step_waits_while_the_model_has_the_next_image_and_runs_once_it_is_through():
    in_burst = threading.Event()
    in_burst.set()
    runner, ran = _runner(in_burst.is_set, hold=60.0)
    try:
        runner.submit(lambda o: ran.append(o), "advice for image 1")
        runner.submit(lambda o: ran.append(o), "advice for image 2")
        time.sleep(0.3)  # time enough to run both, were they not held
        held = list(ran)
        in_burst.clear()  # the burst's last image is in the model
        assert runner.drain(30)
        assert held == [] and ran == ["advice for image 1", "advice for image 2"]
    finally:
        runner.stop()


def test_a_step_runs_when_its_hold_is_up_even_if_the_burst_goes_on():
    runner, ran = _runner(lambda: True, hold=0.1)
    try:
        runner.submit(lambda o: ran.append(o), "advice")
        assert runner.drain(30) and ran == ["advice"]
    finally:
        runner.stop()


def test_a_failing_busy_check_never_holds_a_step_back():
    def broken():
        raise RuntimeError("prefetcher gone")

    runner, ran = _runner(broken, hold=60.0)
    try:
        runner.submit(lambda o: ran.append(o), "advice")
        assert runner.drain(30) and ran == ["advice"]
    finally:
        runner.stop()
