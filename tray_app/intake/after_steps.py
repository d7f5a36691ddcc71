"""The `after_image` steps that may lag behind the model, run on a thread of their own.

Retake advice and the priors comparison take tens of milliseconds per image. On the model's thread
they would hold the next inference, so the service hands them to this thread; during a burst they
also wait (up to `hold`) for the model to get through it. The advice still reaches the tray within
about a second. A step that must not be lost (the urgent alert's row) says
`inline = True` and runs right after the image's commit, on the thread that commits it. Without
a runner (CLI `ingest`, `run --once`) every step runs inline, so what the command reports is
complete.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from ..thread_priority import lower_this_thread

log = logging.getLogger(__name__)

Step = Callable[[object], None]


def is_inline(step: Step) -> bool:
    return bool(getattr(step, "inline", False))


class StepRunner:
    """One thread, steps in arrival order; an unbounded queue of (step, outcome) pairs, which are small.

    While `model_busy()` says the model has the next image waiting (a burst: an FMX, a backlog), a
    step waits up to `hold` seconds after it was handed over: on a 2-core PC its work beside the model
    slowed every inference of the burst by ~5 %. Held steps run once the model is through the burst
    or the hold is up, so retake advice is at most `hold` later and still reaches the tray in time."""

    POLL = 0.02  # how often a held step looks whether the model is through

    def __init__(self, name: str = "after-image", *, model_busy: Callable[[], bool] | None = None,
                 hold: float = 1.0):
        self.model_busy, self.hold = model_busy, hold
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._pending = 0  # submitted and not yet run
        self._done = threading.Condition()

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        """Not started (`run --once`, a test driving the service by hand): the steps run inline."""
        return self._thread.is_alive()

    def submit(self, step: Step, outcome) -> None:
        with self._done:
            self._pending += 1
        self._queue.put((step, outcome, time.monotonic()))

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted step ran (tests, shutdown)."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        lower_this_thread()  # the model's thread keeps its core
        while True:
            item = self._queue.get()
            if item is None:
                return
            step, outcome, handed_over = item
            self._wait_for_the_model(handed_over)
            try:
                step(outcome)
            except Exception:  # a failing step is logged and stops nothing, as on the model's thread
                log.exception("study %s: step %s failed", getattr(outcome, "study_id", "?"),
                              getattr(step, "__name__", step))
            finally:
                with self._done:
                    self._pending -= 1
                    self._done.notify_all()


    def _wait_for_the_model(self, handed_over: float) -> None:
        try:
            while self.model_busy is not None and time.monotonic() < handed_over + self.hold and self.model_busy():
                time.sleep(self.POLL)
        except Exception:  # the hold is only a courtesy to the model: run the step
            log.debug("model_busy failed", exc_info=True)


def inline(step: Step) -> Step:
    """Mark a step that must run right after the image's commit, on the thread that commits it."""

    def run(outcome) -> None:
        step(outcome)

    run.inline = True  # type: ignore[attr-defined]
    run.__name__ = getattr(step, "__name__", "step")
    return run
