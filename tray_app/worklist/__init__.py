"""The DICOM Modality Worklist from Open Dental's schedule (issue 19): the imaging software asks
us (C-FIND) for today's imaging appointments and fills in the patient instead of the assistant
typing it.

`refresh.py` keeps a copy of the schedule in the store (`store/worklist.py`), `dataset.py` turns
an appointment into a worklist item and matches queries, `identity.py` says which patient id to
give, `scp.py` answers, `doctor.py` checks it. `Worklist` is what the service starts and stops.
Export layer: it reads Open Dental (`pms/`), the CDT imaging codes (`clinical/cdt.py`) and what
patient ids mean (`review/patient.py`).
"""

from __future__ import annotations

import logging

from ..config import Config
from ..store import worklist as repo
from ..store.db import Database

log = logging.getLogger(__name__)


class Worklist:
    """The refresher thread and the SCP. Neither ever stops the service: a port that cannot be
    taken or an Open Dental that cannot be read is a `problem` the tray shows."""

    def __init__(self, config: Config, db: Database, *, client_factory=None):
        from .refresh import Refresher
        from .scp import WorklistSCP

        self.config, self.db = config, db
        self.refresher = Refresher(db, config, client_factory=client_factory)
        self.scp = WorklistSCP(db, config)
        self.port_problem = ""

    def start(self) -> None:
        self.refresher.start()
        try:
            self.scp.start()
        except OSError as exc:
            self.port_problem = (f"the worklist cannot listen on port {self.config.worklist.port} "
                                 f"({exc.strerror or exc}): choose another worklist.port or stop the other program")
            log.error(self.port_problem)

    def stop(self) -> None:
        self.scp.stop()
        self.refresher.stop()

    @property
    def problem(self) -> str:
        """What the tray should say about the worklist ('' when it answers from a fresh schedule)."""
        from .identity import id_kind
        from .refresh import freshness

        if self.port_problem:
            return self.port_problem
        _, identity_problem = id_kind(self.config)
        if identity_problem:
            return "worklist lists nothing: " + identity_problem
        try:
            state = repo.refresh_state(self.db)
        except Exception:  # noqa: BLE001 — the tray must not fail over the worklist
            return ""
        if not state.attempted_at:
            return ""  # the first read is under way (the service just started)
        return freshness(state, self.config).sentence
