"""Watching export folders: native or quiet polling observers (`poller.py`), start-up and
reconcile scans, and a supervisor that re-arms a watch whose folder vanished (share dropped,
PC resumed) and moves a Windows share whose native watch does not deliver to polling
(`native_check.py`).

Watch events are only hints: a scan at start-up and every few minutes finds whatever the
events missed, and discovery is idempotent (path + size + mtime), so a file is recorded
once however many events or scans report it. Source folders are only ever read.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..config import SourceConfig
from ..store import images as image_repo
from ..store import sources as source_repo
from ..store.db import Database
from ..thread_priority import lower_this_thread
from .filters import is_ignored
from .links import inside, is_link, walk
from .native_check import CHECK_SECONDS, GRACE_SECONDS, DeliveryCheck, ListingHandler
from .poller import QuietPollingObserver

log = logging.getLogger(__name__)

_REMOTE_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afpfs", "davfs", "fuse.rclone"}


def is_network_path(path: str) -> bool:
    if path.startswith(("\\\\", "//")):
        return True
    if sys.platform == "win32":
        import ctypes

        drive = os.path.splitdrive(os.path.abspath(path))[0]
        if drive:
            DRIVE_REMOTE = 4
            return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == DRIVE_REMOTE
        return False
    try:
        real = os.path.realpath(path)
        best, fstype = "", ""
        with open("/proc/mounts", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and (real == parts[1] or real.startswith(parts[1].rstrip("/") + "/")):
                    if len(parts[1]) > len(best):
                        best, fstype = parts[1], parts[2]
        return fstype in _REMOTE_FS
    except OSError:
        return False


def observer_kind(source: SourceConfig) -> str:
    """A share on Windows gets ReadDirectoryChangesW, checked by a slow listing (it works on most
    SMB servers); elsewhere a network file system reports no remote changes: polling."""
    if source.kind in ("native", "polling"):
        return source.kind
    return "polling" if is_network_path(source.path) and sys.platform != "win32" else "native"


def checked_share(source: SourceConfig) -> bool:
    """A native watch that must prove it delivers: one the settings did not ask for by name, on a share."""
    return source.kind == "auto" and is_network_path(source.path)


class Discovery:
    """Turns paths into `discovered` rows; de-bounces the flood of events one write causes.

    A watcher's events go through `offer_soon` to the `discovery` thread, which records what
    arrived meanwhile in one transaction: 40 files renamed in at once cost 40 commits (with
    their fsync and audit anchor) on the watcher's thread before, spread over half a second
    in which the first images waited for the write lock. Scans and callers that need the
    answer use `offer`."""

    def __init__(self, db: Database, wake: threading.Event):
        self.db = db
        self.wake = wake
        self._recent: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        # paths that arrived by rename: the writer finished before moving them into place
        self.renamed_in: set[str] = set()
        self.paused = False  # the tray's Pause: record nothing; the rescan on resume catches up
        self.on_error: Callable[[BaseException], None] | None = None  # e.g. our disk is full
        self.roots: dict[int, str] = {}  # source id -> its folder: what is offered must stay inside
        self._soon: list[tuple[str, int | None, str | None, bool]] = []
        self._soon_cond = threading.Condition()
        self._recorder: threading.Thread | None = None
        self._stopping = False

    def offer(self, path: str, source_id: int | None, *, root: str | None = None, renamed: bool = False) -> bool:
        """`root`: the watched folder `path` was found under (its hidden sub-folders are skipped)."""
        return bool(self._record([(path, source_id, root, renamed)]))

    def offer_soon(self, path: str, source_id: int | None, *, root: str | None = None, renamed: bool = False) -> None:
        """`offer` on the discovery thread, together with whatever else arrives meanwhile."""
        with self._soon_cond:
            if self._stopping:
                return  # the service is closing its database: the next start-up scan finds the file
            self._soon.append((path, source_id, root, renamed))
            if self._recorder is None or not self._recorder.is_alive():
                self._recorder = threading.Thread(target=self._record_soon, name="discovery", daemon=True)
                self._recorder.start()
            self._soon_cond.notify()

    def _record_soon(self) -> None:
        lower_this_thread()  # the model's thread keeps its core
        while True:
            with self._soon_cond:
                if not self._soon_cond.wait_for(lambda: self._soon or self._stopping, timeout=60.0) \
                        or not self._soon:
                    self._recorder = None  # idle a minute (the next event starts one again), or stopping
                    return
                batch, self._soon = self._soon, []
            try:
                self._record(batch)
            except Exception:  # on_error was told; the watcher's next event or scan tries again
                log.warning("recording %d new file(s) failed", len(batch), exc_info=True)

    def stop(self, timeout: float = 10.0) -> None:
        """Record what was handed over, then end the discovery thread: the service closes the
        database next, and closing a connection another thread is using crashes the process."""
        with self._soon_cond:
            self._stopping = True
            recorder = self._recorder
            self._soon_cond.notify_all()
        if recorder is not None and recorder is not threading.current_thread():
            recorder.join(timeout)

    def _record(self, offers: list[tuple[str, int | None, str | None, bool]]) -> int:
        """New versions among `offers`, recorded in one transaction; how many were new."""
        versions = [v for v in (self._new_version(*o) for o in offers) if v is not None]
        if not versions:
            return 0
        try:
            new_ids = image_repo.discover_many(self.db, versions)
        except Exception as exc:
            self._not_recorded([path for path, *_ in versions], exc)
            raise
        # new files, or pending ones whose size or mtime moved (e.g. the writer closed it): readiness looks now
        self.wake.set()
        return sum(1 for i in new_ids if i is not None)

    def _not_recorded(self, paths: list[str], exc: BaseException) -> None:
        with self._lock:
            for path in paths:
                self._recent.pop(path, None)  # the next event or scan must try again
        if self.on_error:
            self.on_error(exc)

    def _new_version(self, path: str, source_id: int | None, root: str | None,
                     renamed: bool) -> tuple[str, int | None, int, int] | None:
        if self.paused:
            return None
        if is_ignored(path, root):
            return None
        if renamed:
            with self._lock:
                if len(self.renamed_in) > 10_000:
                    self.renamed_in.clear()
                self.renamed_in.add(path)
        try:
            st = os.lstat(path)  # a link is never followed: it could lead anywhere on the PC or network
        except OSError:
            return None
        if is_link(st) or not stat.S_ISREG(st.st_mode):
            return None
        key = (st.st_size, st.st_mtime_ns)
        with self._lock:
            if self._recent.get(path) == key:
                return None
            if len(self._recent) > 50_000:
                self._recent.clear()
            self._recent[path] = key
        try:
            if image_repo.is_known_version(self.db, path, st.st_size, st.st_mtime_ns):
                return None  # plain read first: a reconcile of a big folder must not take write locks
        except Exception as exc:
            self._not_recorded([path], exc)
            raise
        watched = self.roots.get(source_id) if source_id is not None else None
        if watched is not None and not inside(path, watched):
            return None  # reached through a linked folder (checked only for new versions: cheap scans)
        return path, source_id, st.st_size, st.st_mtime_ns

    def scan(self, folder: str, source_id: int | None, *, root: str | None = None) -> int:
        """Offer every file under `folder`, a watched folder or (`root` given) a folder inside one."""
        found = 0
        root = root or folder
        for dirpath, _dirnames, filenames in walk(folder, onerror=lambda e: log.warning("scan: %s", e.strerror)):
            for name in filenames:
                if self.offer(os.path.join(dirpath, name), source_id, root=root):
                    found += 1
        return found


class _Handler(FileSystemEventHandler):
    def __init__(self, on_path: Callable[..., None], on_dir: Callable[[str], None],
                 check: DeliveryCheck | None = None):
        self.on_path = on_path
        self.on_dir = on_dir
        self.check = check  # this is a native watch whose delivery is being checked

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        path = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
        if self.check is not None:
            self.check.native(path)
        try:
            if event.is_directory:
                if event.event_type in ("created", "moved"):
                    self.on_dir(path)  # files copied in with a folder may predate its watch
            else:
                self.on_path(path, renamed=event.event_type == "moved")
        except Exception:
            log.exception("handling a folder event failed")


@dataclass
class SourceWatch:
    source: SourceConfig
    source_id: int
    observer: object | None = None
    identity: tuple[int, int] | None = None
    status: str = "starting"
    detail: str = ""
    kind: str = field(default="")
    check: DeliveryCheck | None = None  # native watch of a share, with the listing that checks it
    checker: object | None = None
    native_failed: bool = False  # its native watch did not deliver: polled from then on


class Watcher:
    """All configured folders, plus the supervisor thread that keeps them armed."""

    def __init__(self, db: Database, discovery: Discovery, sources: list[tuple[int, SourceConfig]], *,
                 reconcile_seconds: float = 120.0, supervise_seconds: float = 5.0, poll_seconds: float = 2.0,
                 on_status: Callable[[int, str, str], None] | None = None,
                 checked: Callable[[SourceConfig], bool] = checked_share, native_observer: Callable = Observer):
        self.db = db
        self.discovery = discovery
        self.watches = [SourceWatch(s, sid) for sid, s in sources]
        discovery.roots.update({sid: s.path for sid, s in sources})
        self.reconcile_seconds = reconcile_seconds
        self.supervise_seconds = supervise_seconds
        self.poll_seconds = poll_seconds
        self.on_status = on_status
        self.checked = checked
        self.native_observer = native_observer
        self.check_seconds = CHECK_SECONDS
        self.check_grace = GRACE_SECONDS
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.paused = False

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        for w in self.watches:
            self._arm(w)
        self._thread = threading.Thread(target=self._supervise, name="watch-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        for w in self.watches:
            self._disarm(w)
        self.discovery.stop()  # after the observers: no event comes in behind it

    def scan_all(self) -> int:
        return sum(self.discovery.scan(w.source.path, w.source_id) for w in self.watches if w.status == "watching")

    # -- one watch ----------------------------------------------------------------------
    def _set_status(self, w: SourceWatch, status: str, detail: str = "") -> None:
        if (w.status, w.detail) == (status, detail):
            return
        w.status, w.detail = status, detail
        source_repo.set_status(self.db, w.source_id, status, detail)
        log.info("source %d: %s %s", w.source_id, status, detail)
        if self.on_status:
            self.on_status(w.source_id, status, detail)

    def _arm(self, w: SourceWatch) -> None:
        path = w.source.path
        try:
            st = os.stat(path)
            if not os.path.isdir(path):
                raise NotADirectoryError(path)
        except OSError:
            self._set_status(w, "waiting_for_folder", "the folder is not reachable; checking again shortly")
            return
        w.kind = "polling" if w.native_failed else observer_kind(w.source)
        observer = self._polling() if w.kind == "polling" else self.native_observer()
        check = DeliveryCheck(self.check_grace) if w.kind == "native" and self.checked(w.source) else None
        offer = lambda p, renamed=False: self.discovery.offer_soon(p, w.source_id, root=path, renamed=renamed)  # noqa: E731
        scan = lambda d: self.discovery.scan(d, w.source_id, root=path)  # noqa: E731
        handler = _Handler(offer, scan, check)
        try:
            observer.schedule(handler, path, recursive=True)
            observer.start()
        except OSError as exc:
            # e.g. inotify watch limit: fall back to polling rather than not watching at all
            log.warning("native watch failed for source %d (%s); polling instead", w.source_id, exc)
            observer, check, handler.check = self._polling(), None, None
            w.kind = "polling"
            observer.schedule(handler, path, recursive=True)
            observer.start()
        w.check, w.checker = check, None
        if check is not None:
            w.checker = QuietPollingObserver(slow=self.check_seconds, fast=self.check_seconds)
            w.checker.schedule(ListingHandler(check, _Handler(offer, scan)), path, recursive=True)
            w.checker.start()
        w.observer = observer
        w.identity = (st.st_dev, st.st_ino)
        self._set_status(w, "watching", w.kind)
        # files already there (or written while we were not watching) give no events
        self.discovery.scan(path, w.source_id)

    def _polling(self) -> QuietPollingObserver:
        return QuietPollingObserver(slow=self.poll_seconds)

    def _disarm(self, w: SourceWatch) -> None:
        for obs in (w.observer, w.checker):
            if obs is None:
                continue
            try:
                obs.stop()
                obs.join(timeout=5)
            except Exception:
                log.debug("observer stop failed", exc_info=True)
        w.observer = w.checker = w.check = None

    def _healthy(self, w: SourceWatch) -> bool:
        try:
            st = os.stat(w.source.path)
        except OSError:
            return False
        if (st.st_dev, st.st_ino) != w.identity:
            return False  # folder deleted and created again: the old watch points at nothing
        for obs in (w.observer, w.checker) if w.checker is not None else (w.observer,):
            if obs is None or not obs.is_alive() or not all(e.is_alive() for e in list(getattr(obs, "emitters", ()))):
                return False
        return True

    def _supervise(self) -> None:
        last_reconcile = time.monotonic()
        while not self._stop.wait(self.supervise_seconds):
            try:
                if self.paused:
                    continue
                for w in self.watches:
                    if w.check is not None and w.check.missed():
                        log.warning("source %d: the share's change notifications did not report %s; polling it "
                                    "from now on", w.source_id, w.check.missed()[0])
                        self._disarm(w)
                        w.native_failed = True
                    if w.observer is not None and not self._healthy(w):
                        log.warning("source %d lost its watch; re-arming when the folder is back", w.source_id)
                        self._disarm(w)
                        self._set_status(w, "waiting_for_folder", "the folder went away; checking again shortly")
                    if w.observer is None:
                        self._arm(w)
                if time.monotonic() - last_reconcile >= self.reconcile_seconds:
                    last_reconcile = time.monotonic()
                    found = self.scan_all()
                    if found:
                        log.info("reconcile scan found %d file(s) the watch missed", found)
            except Exception:
                log.exception("watch supervisor pass failed; continuing")
