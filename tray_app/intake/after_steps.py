"""The `after_image` steps that may lag behind the model, run on a thread of their own.

Retake advice and the priors comparison take tens of milliseconds per image. On the model's thread
they would hold the next inference, so the service hands them to this thread. The advice still
reaches the tray within a second. A step that must not be lost (the urgent alert's row) says
`inline = True` and runs right after the image's commit, on the thread that commits it. Without
a runner (CLI `ingest`, `run --once`) every step runs inline, so what the command reports is
complete.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

from ..thread_priority import lower_this_thread

log = logging.getLogger(__name__)

Step = Callable[[object], None]


def is_inline(step: Step) -> bool:
    return bool(getattr(step, "inline", False))


class StepRunner:
    """One thread, steps in arrival order; an unbounded queue of (step, outcome) pairs, which are small."""

    def __init__(self, name: str = "after-image"):
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
        self._queue.put((step, outcome))

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
            step, outcome = item
            try:
                step(outcome)
            except Exception:  # a failing step is logged and stops nothing, as on the model's thread
                log.exception("study %s: step %s failed", getattr(outcome, "study_id", "?"),
                              getattr(step, "__name__", step))
            finally:
                with self._done:
                    self._pending -= 1
                    self._done.notify_all()


def inline(step: Step) -> Step:
    """Mark a step that must run right after the image's commit, on the thread that commits it."""

    def run(outcome) -> None:
        step(outcome)

    run.inline = True  # type: ignore[attr-defined]
    run.__name__ = getattr(step, "__name__", "step")
    return run
