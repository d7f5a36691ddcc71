"""Notices when the settings file changes under a running app.

`dental-bridge config set|add-source|remove-source` (or a support person editing the file)
writes the file while the tray app or `run --headless` is running; the running service reads
its settings once, at start. The owner of the service asks `changed()` now and then and
rebuilds the service from what it returns. A file that no longer loads is not applied: the
previous settings stay in force and `error` says what is wrong, for the tray and the log.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .config import Config, ConfigError
from .guarded_settings import HAND_EDITED, enforce
from .store.db import Database

log = logging.getLogger(__name__)


class SettingsFile:
    def __init__(self, path: Path, config: Config, database: Path | None = None):
        self.path = Path(path)
        self.database = database  # given: guarded keys changed by hand (no PIN) are refused
        self.config = config
        self.error = ""
        self._stamp = self._read_stamp()

    def _read_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino  # Config.save replaces the file: a new inode

    def accept(self, config: Config) -> None:
        """The app applied `config` itself (settings window, wizard): not a change from outside."""
        self.config = config
        self.error = ""
        self._stamp = self._read_stamp()

    def changed(self) -> Config | None:
        """The new settings when the file changed to something loadable and different."""
        stamp = self._read_stamp()
        if stamp == self._stamp:
            return None
        if stamp is None:  # deleted (Config.save replaces atomically, so never in passing): not "defaults"
            self._stamp = stamp
            self._refuse("the settings file is missing", "deleted or moved", repair=True)
            return None
        try:
            config = Config.load(self.path)  # validates
        except ConfigError as exc:
            self._stamp = stamp
            self._refuse("the settings file has an error", exc, repair=True)
            return None
        except OSError as exc:  # held open by an editor or antivirus: read it again next time
            log.info("settings file changed but cannot be read yet (%s)", exc)
            return None
        self._stamp = stamp
        if self.database is not None and self._hand_edited(config):
            return None
        self.error = ""
        if config.to_dict() == self.config.to_dict():
            return None
        log.info("settings changed outside the app: restarting the service with them")
        self.config = config
        return config

    def _hand_edited(self, config: Config) -> bool:
        db = Database(self.database)
        try:
            problem = enforce(db, config)[1]
        finally:
            db.close()
        if problem:
            self.error = f"{HAND_EDITED.split(';')[0]}; the previous settings stay in force"
            log.error("%s", HAND_EDITED)
        return bool(problem)

    def refuse_applied(self, running: Config) -> None:
        """The new settings loaded but could not start a service: `running` is back in force."""
        self.config = running
        self._refuse("the changed settings could not be applied", "the service did not start with them (see above)")

    def _refuse(self, what: str, why, *, repair: bool = False) -> None:
        # a tray tooltip shows 127 characters on Windows: the reason goes to the log (and `doctor`)
        self.error = f"{what}; the previous settings stay in force" + (" (Settings → Save repairs it)" if repair else "")
        log.error("%s: %s", self.error, why)


def replace_service(old, build, config: Config, previous: Config, *, paused: bool = False):
    """Stop `old`, start `build(config)`. When the new settings cannot make a working service
    (e.g. `Service()` raising), start one from `previous` instead: a bad change never leaves
    the practice without one. Returns (service, the config it runs)."""
    if old is not None:
        old.stop()
    try:
        return _start(build, config, paused), config
    except Exception:
        log.exception("the changed settings could not start the service; going back to the previous ones")
    return _start(build, previous, paused), previous


def _start(build, config: Config, paused: bool):
    service = build(config)
    if paused:
        service.set_paused(True)
    service.start()
    return service
