"""Pixel loading for the review window, off the GUI thread.

Pixels are loaded in a QRunnable on a small thread pool of its own and delivered to the GUI
thread with a queued signal, so a slow decode never freezes the window. They come from the
review API's `pixels(image_id)`: the local store's cache, or a client home's hub.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from typing import Callable

log = logging.getLogger(__name__)


class _PixelSignals(QObject):
    loaded = Signal(int, object)       # image id, uint8 2-D array
    failed = Signal(int, str)          # image id, reason


class _PixelJob(QRunnable):
    def __init__(self, load: Callable[[int], np.ndarray], image_id: int, signals: _PixelSignals):
        super().__init__()
        self.load, self.image_id, self.signals = load, image_id, signals
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            pixels = to_uint8(np.asarray(self.load(self.image_id)))
        except Exception as exc:  # any decode problem becomes a sentence on the canvas
            log.warning("image %d could not be loaded: %s", self.image_id, type(exc).__name__)
            self.signals.failed.emit(self.image_id, str(exc) or type(exc).__name__)
            return
        self.signals.loaded.emit(self.image_id, pixels)


def to_uint8(a: np.ndarray) -> np.ndarray:
    if a.ndim == 3:
        a = a[..., :3].mean(axis=2) if a.shape[2] >= 3 else a[..., 0]
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    lo, hi = float(a.min()), float(a.max())
    scale = 255.0 / (hi - lo) if hi > lo else 1.0
    return np.ascontiguousarray(((a.astype(np.float32) - lo) * scale).clip(0, 255).astype(np.uint8))


class PixelLoader(QObject):
    """Loads display pixels on the thread pool; keeps a small LRU of recent images."""

    loaded = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, load: Callable[[int], np.ndarray], parent: QObject | None = None, cache_size: int = 24):
        super().__init__(parent)
        self.load = load
        # our own pool whose threads never expire: each new Qt thread would open (and, being
        # foreign to Python, never visibly end) one more database connection
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.pool.setExpiryTimeout(-1)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._pending: set[int] = set()
        self._size = cache_size
        self._signals = _PixelSignals(self)
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)

    def cached(self, image_id: int) -> np.ndarray | None:
        a = self._cache.get(image_id)
        if a is not None:
            self._cache.move_to_end(image_id)
        return a

    def request(self, image_id: int) -> None:
        """Deliver `loaded(image_id, pixels)` soon: from the cache at once, else after a background load."""
        a = self.cached(image_id)
        if a is not None:
            self.loaded.emit(image_id, a)
            return
        if image_id in self._pending:
            return
        self._pending.add(image_id)
        self.pool.start(_PixelJob(self.load, image_id, self._signals))

    def _on_loaded(self, image_id: int, pixels: np.ndarray) -> None:
        self._pending.discard(image_id)
        self._cache[image_id] = pixels
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)
        self.loaded.emit(image_id, pixels)

    def _on_failed(self, image_id: int, reason: str) -> None:
        self._pending.discard(image_id)
        self.failed.emit(image_id, reason)

    def wait(self, msecs: int = 10_000) -> bool:
        return self.pool.waitForDone(msecs)
