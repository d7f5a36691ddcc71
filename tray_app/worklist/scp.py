"""The Modality Worklist SCP (pynetdicom): C-FIND on "Modality Worklist Information Model – FIND"
and C-ECHO, answered from the copy of the schedule in the store — never from Open Dental, so an
answer takes milliseconds and Open Dental being down changes only how old the answer is.

As the DICOM receiver (sources/dicom_scp.py): calling AE titles not on the allowed list are
rejected at association time, each peer address may hold only a few associations, and the log
names the peer and how many items were answered, never a patient or a query's values.
"""

from __future__ import annotations

import logging
import time

from ..config import Config
from ..sources.dicom_scp import ListeningServer, describe_peer, limit_per_peer
from ..store import meta
from ..store import worklist as repo
from ..store.db import Database
from .dataset import SPS, item_dataset, matches, response
from .identity import id_kind, patient_id

log = logging.getLogger(__name__)

PENDING = 0xFF00
SUCCESS = 0x0000
CANCELLED = 0xFE00
UNABLE_TO_PROCESS = 0xC000


def answer(db: Database, config: Config, query, *, calling_ae: str = "") -> tuple[list, str]:
    """(the matching worklist items, '' or why nothing can be answered) for one C-FIND identifier."""
    kind, problem = id_kind(config)
    if problem:
        return [], problem
    salt = meta.database_id(db.conn())
    found, no_id = [], 0
    for item in repo.items(db):
        pid = patient_id(item, kind)
        if not pid:
            no_id += 1  # a chart-number practice's patient without a chart number: no id to give
            continue
        ds = item_dataset(item, pid, uid_salt=salt, station_ae=calling_ae)
        if matches(query, ds):
            found.append(response(query, ds))
    if no_id:
        log.info("worklist: %d item(s) left out: the patient has no chart number in Open Dental", no_id)
    return found, ""


class WorklistSCP(ListeningServer):
    def __init__(self, db: Database, config: Config):
        self.db, self.config = db, config

    def _on_requested(self, event) -> None:
        limit_per_peer(event.assoc, self.config.worklist.max_associations_per_peer,
                       "worklist.max_associations_per_peer")

    def _on_rejected(self, event) -> None:
        log.warning("worklist association from %s rejected (calling AE not allowed, or busy)",
                    describe_peer(event.assoc))

    def _on_echo(self, event) -> int:
        return SUCCESS

    def _on_find(self, event):
        started = time.monotonic()
        peer = describe_peer(event.assoc)
        try:
            query = event.identifier
            asked = sorted({e.keyword for e in query if e.value not in (None, "")} |
                           {e.keyword for s in query.get(SPS) or [] for e in s if e.value not in (None, "")})
            calling = str(event.assoc.requestor.ae_title or "").strip()
            found, problem = answer(self.db, self.config, query, calling_ae=calling)
        except Exception as exc:  # a query we cannot read must not end the server
            log.warning("worklist C-FIND from %s failed (%s)", peer, type(exc).__name__)
            yield UNABLE_TO_PROCESS, None
            return
        if problem:
            log.warning("worklist C-FIND from %s answered with nothing: %s", peer, problem)
        for ds in found:
            if event.is_cancelled:
                yield CANCELLED, None
                return
            yield PENDING, ds
        log.info("worklist C-FIND from %s (keys with values: %s): %d item(s) in %.0f ms", peer,
                 ", ".join(k for k in asked if k != "SpecificCharacterSet") or "none", len(found),
                 (time.monotonic() - started) * 1000)
        yield SUCCESS, None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen; raises OSError when the port cannot be taken."""
        from pynetdicom import AE, evt
        from pynetdicom.sop_class import ModalityWorklistInformationFind, Verification

        # pynetdicom logs every C-FIND query's values at INFO ("Find SCP Request Identifier"): a
        # patient's name or id typed at the sensor would land in the log file
        logging.getLogger("pynetdicom.service_class").setLevel(logging.WARNING)
        cfg = self.config.worklist
        ae = AE(ae_title=cfg.ae_title)
        ae.add_supported_context(ModalityWorklistInformationFind)
        ae.add_supported_context(Verification)
        handlers = [(evt.EVT_C_FIND, self._on_find), (evt.EVT_C_ECHO, self._on_echo),
                    (evt.EVT_REQUESTED, self._on_requested), (evt.EVT_REJECTED, self._on_rejected)]
        self._listen(ae, cfg, handlers, "worklist")

