"""The commit thread: an analysed image's commit while the model runs on the next image.

Three stages run at once in the service: the preparation thread (`prefetch.py`) readies the
next image, the worker runs the model on this one, and this thread records the one before it.
Recording an image means its findings, the `analyzed` state and the inference audit entry in
one transaction (with its fsync and the audit anchor), the study summary, and the steps after
an image. On the worker's thread that cost ~5 ms of every ~45 ms inference; here it overlaps.

Nothing changes for a crash: an image whose commit has not happened yet is still `decoded`
and is analysed again after a restart. The worker skips images held here (`held`), so it never
runs the model twice on one image while its first result is still being recorded. A failing
commit is handed back to the worker (`take_failures`), which retries or sets the image aside
as it does for a failure on its own thread; the image stays held until then.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Callable

from ..thread_priority import lower_this_thread

log = logging.getLogger(__name__)


class CommitStage:
    """One thread; at most `depth` images waiting behind the one being committed, so the model
    thread waits (and memory stays flat) when commits fall behind — a slow disk, a busy PC."""

    def __init__(self, commit: Callable[[Any], Any], depth: int = 1):
        self._commit = commit
        self._depth = depth
        self._cond = threading.Condition()
        self._queue: deque[tuple[int, Any]] = deque()
        self._held: set[int] = set()  # queued, being committed, or failed and not yet taken
        self._failures: list[tuple[int, BaseException]] = []
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="analysis-commit", daemon=True)
        self._thread.start()

    def submit(self, image_id: int, item: Any) -> None:
        """Hand over an inferred image; waits while `depth` others are queued."""
        with self._cond:
            self._held.add(image_id)
            while len(self._queue) >= self._depth and not self._stopped:
                self._cond.wait()
            if self._stopped:  # never dropped silently: commit it here, on the caller's thread
                inline = True
            else:
                inline = False
                self._queue.append((image_id, item))
                self._cond.notify_all()
        if inline:
            self._run_one(image_id, item)

    def held(self) -> set[int]:
        with self._cond:
            return set(self._held)

    def take_failures(self) -> list[tuple[int, BaseException]]:
        """Commits that raised, for the worker to handle; their images are released with them."""
        with self._cond:
            out, self._failures = self._failures, []
            for image_id, _ in out:
                self._held.discard(image_id)
            return out

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every image handed over is committed (or failed)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Commit what was handed over, then end."""
        self.drain(timeout)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        lower_this_thread()  # the model's thread keeps its core
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if not self._queue:
                    return
                image_id, item = self._queue.popleft()
                self._busy = True
                self._cond.notify_all()
            self._run_one(image_id, item)

    def _run_one(self, image_id: int, item: Any) -> None:
        failed: BaseException | None = None
        try:
            self._commit(item)
        except BaseException as exc:  # the worker handles it as its own (retry, or set aside)
            failed = exc
        with self._cond:
            self._busy = False
            if failed is None:
                self._held.discard(image_id)
            else:
                self._failures.append((image_id, failed))
            self._cond.notify_all()
