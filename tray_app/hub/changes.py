"""Change notifications of the hub: `GET /changes?since=VERSION` long-polls.

The version is a short hash of the store's change fingerprint (`store/status.py`, the query the
review window polls). A long-poll returns as soon as it differs from `since`, or after
`LONG_POLL_SECONDS` unchanged. Waiters hold no thread: they wait on an asyncio event; one
watcher task recomputes the fingerprint on the hub's database pool, woken at once by the
store's after-commit hook (every commit of this process: review actions from any client, the
analysis worker, exports) and, while anyone waits, every `CHECK_SECONDS` for commits of other
processes (a `dental-bridge` command on the hub PC) — recomputed only when SQLite's
`data_version` says another connection committed, so an idle hub with open windows runs one
pragma per check, not the fingerprint's table scans.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Awaitable, Callable

from ..store import db as store_db
from ..store.status import change_fingerprint, data_version

LONG_POLL_SECONDS = 25.0
CHECK_SECONDS = 0.25


def version_of(fingerprint: tuple) -> str:
    return hashlib.sha256(repr(fingerprint).encode()).hexdigest()[:16] if fingerprint else ""


class ChangeFeed:
    def __init__(self, db: store_db.Database, run: Callable[..., Awaitable], *, check_seconds: float = CHECK_SECONDS):
        self.db = db
        self._run = run  # runs a blocking function on the hub's database pool
        self.check_seconds = check_seconds
        self.version = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()  # set (and replaced) whenever the version changes
        self._poked = asyncio.Event()  # a commit happened in this process
        self._waiters = 0
        self._task: asyncio.Task | None = None
        self._closed = False
        self._data_versions: dict[int, int] = {}  # pool thread -> last data_version its connection saw

    # -- called on any thread ------------------------------------------------------------------
    def _after_commit(self, _conn) -> None:
        loop = self._loop
        if loop is not None and self._waiters:
            try:
                loop.call_soon_threadsafe(self._poked.set)
            except RuntimeError:  # the loop has closed (the hub stopped)
                pass

    def close(self) -> None:
        """The hub stops: unhook from the store and let every waiting long-poll return now."""
        self._closed = True
        if self._after_commit in store_db.AFTER_COMMIT:
            store_db.AFTER_COMMIT.remove(self._after_commit)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._changed.set)
            except RuntimeError:
                pass

    # -- on the event loop -----------------------------------------------------------------------
    def _bind(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            store_db.AFTER_COMMIT.append(self._after_commit)

    async def _committed_elsewhere(self) -> bool:
        thread, version = await self._run(data_version, self.db)
        changed = self._data_versions.get(thread) != version
        self._data_versions[thread] = version
        return changed

    async def refresh(self) -> str:
        fp = await self._run(change_fingerprint, self.db)
        if fp:  # empty: the store was busy this moment; keep the last known version
            new = version_of(fp)
            if new != self.version:
                self.version = new
                self._changed.set()
                self._changed = asyncio.Event()
        return self.version

    async def _watch(self) -> None:
        try:
            while self._waiters and not self._closed:
                try:
                    await asyncio.wait_for(self._poked.wait(), self.check_seconds)
                except asyncio.TimeoutError:
                    if not await self._committed_elsewhere():
                        continue
                self._poked.clear()
                await self.refresh()
        finally:
            self._task = None

    async def wait(self, since: str | None, timeout: float = LONG_POLL_SECONDS) -> str:
        """The current version; with `since`, not before it differs from `since` or `timeout` passed."""
        self._bind()
        current = await self.refresh()
        if since is None or current != since or self._closed:
            return current
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiters += 1
        try:
            if self._task is None:
                self._task = asyncio.create_task(self._watch())
            while self.version == since and not self._closed:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    break
        finally:
            self._waiters -= 1
        return self.version
