"""The preparation thread: the next image's intake and pre-processing while the model runs.

The analysis worker runs the model on one image at a time (onnxruntime's intra-op threads do
the work); reading, hashing, decoding, committing `decoded` and letterboxing the next image
happen here meanwhile, so on a 2-core PC the model rarely waits. It holds at most one image
(being prepared or prepared and not yet taken), so memory stays flat however long the queue.
Everything it writes is committed before the model sees the image: a crash here loses
nothing, the image is simply prepared again (or read from its pixel cache) after a restart.
"""

from __future__ import annotations

import logging
import threading

from ..thread_priority import lower_this_thread
from typing import Any, Callable

log = logging.getLogger(__name__)


class Prefetcher:
    def __init__(self, prepare: Callable[[int], Any]):
        self._prepare = prepare
        self._cond = threading.Condition()
        self._wanted: int | None = None
        self._busy: int | None = None  # being prepared now
        self._ready: tuple[int, Any, BaseException | None] | None = None  # prepared, not taken yet
        self._behind: int | None = None  # the caller's image, once prepared: it is in the model now
        self._stopped = False
        self.high_water = 0  # most images held at once (tests and the bench read it)
        self.prepared = 0  # images prepared here
        self._thread = threading.Thread(target=self._loop, name="analysis-prepare", daemon=True)
        self._thread.start()

    def held(self) -> int:
        return (self._busy is not None) + (self._ready is not None)

    def want(self, image_id: int | None, *, behind: int | None = None) -> None:
        """Prepare `image_id` next; `behind`: the caller's own image, prepared and going to the
        model (see `want_behind`). A prepared image nobody took is dropped (it stays `decoded`
        and is read from its cache later)."""
        with self._cond:
            self._behind = behind
            if self._ready is not None and self._ready[0] != image_id:
                self._ready = None
            already = image_id in (self._busy, self._ready[0] if self._ready else None)
            self._wanted = None if already else image_id
            self._cond.notify_all()

    def want_behind(self, behind: int, image_id: int) -> bool:
        """Prepare `image_id` if the caller's model is still on `behind` and nothing else is asked
        for or held: work that became ready after the caller looked. Checked under the lock that
        `take` holds, so an image is never prepared here while the caller prepares it itself."""
        with self._cond:
            if self._stopped or self._behind != behind or image_id == behind or not self._idle():
                return False
            self._wanted = image_id
            self._cond.notify_all()
            return True

    def idle_behind(self) -> int | None:
        """The caller's image in the model, when nothing is asked for or held here (else None)."""
        with self._cond:
            return self._behind if self._idle() else None

    def _idle(self) -> bool:
        return not self.held() and self._wanted is None

    def take(self, image_id: int):
        """What was prepared for `image_id` (waiting while it is being prepared), re-raising what
        preparing it raised; None when it was not prepared here (the caller prepares it)."""
        with self._cond:
            self._behind = None  # the caller prepares or analyses `image_id` now: no look-ahead until `want`
            if self._wanted == image_id:
                self._wanted = None  # not started: the caller does it now, never both
            while self._busy == image_id:
                self._cond.wait()
            if self._ready is None or self._ready[0] != image_id:
                return None
            _, prepared, error = self._ready
            self._ready = None
            self._cond.notify_all()
        if error is not None:
            raise error
        return prepared

    def stop(self, timeout: float = 30.0) -> None:
        """End after the image being prepared (its committed states stand)."""
        with self._cond:
            self._stopped = True
            self._ready = None
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        lower_this_thread()  # the model's thread keeps its core
        while True:
            with self._cond:
                while not self._stopped and (self._wanted is None or self._ready is not None):
                    self._cond.wait()
                if self._stopped:
                    return
                image_id, self._wanted, self._busy = self._wanted, None, self._wanted
                self.high_water = max(self.high_water, self.held())
            prepared, error = None, None
            try:
                prepared = self._prepare(image_id)
            except BaseException as exc:  # the worker meets it when it takes the image, as if inline
                error = exc
            with self._cond:
                self._busy = None
                self.prepared += 1
                if not self._stopped:
                    self._ready = (image_id, prepared, error)
                    self.high_water = max(self.high_water, self.held())
                self._cond.notify_all()
