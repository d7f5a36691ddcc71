"""The urgent alert at analysis: when a study's summary turns urgent, the dentist is told at once
— in Open Dental (a task on the patient, or a popup: `[export.opendental.next_steps]`) and in the
tray (which reads the alert's text, on the hub and on every client that follows it).

Exactly once per study: the alert is one `study_alerts` row (UNIQUE per study, so the later
images of an FMX and a restart add nothing), written to Open Dental by the outbox's rules — the
row is `sending` and `maybe_written` is committed before the POST, and a row that may have been
written is looked for by its marker (`[DAB:<study>:<db id>:alert]`) in the patient's tasks or
popups before any retry. Open Dental down: retried with the outbox's backoff.

The text says what it is — an AI finding nobody has reviewed — names the finding and the tooth
only (Open Dental attaches it to the patient, the tray shows no patient at all) and starts with
the demonstration-model line when such a model made it; a demonstration model's alert reaches
Open Dental only where `export.allow_demonstration_model` lets its reports through.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Callable

from ..labels import ANATOMY_LABELS, describe
from ..clinical.triage import is_urgent
from ..pms.client import ODClient, ODError
from ..pms.keys import ODKeys, get_opendental_keys
from ..pms.patients import PatientProblem, resolve_patient
from ..pms.formats import od_datetime
from ..pms.tasks import post_patient_task, task_with_marker
from ..review.report import demo_text
from ..store import alerts, audit, meta
from ..store import findings as findings_repo
from ..store import studies as studies_repo
from ..store.db import Database
from .outbox import Outbox, iso, parse_iso

log = logging.getLogger(__name__)

NOT_REVIEWED = "not yet reviewed by a dentist"
MAX_NAMED = 3


def urgent_findings(findings: list[dict], threshold: float) -> list[dict]:
    """The study's live findings that alone make it urgent (triage.is_urgent), most severe first."""
    live = [f for f in findings if f.get("status") not in ("rejected", "withdrawn")
            and f["label"] not in ANATOMY_LABELS]
    hits = [f for f in live if is_urgent([(f["label"], f.get("severity") or 0, f["confidence"])], threshold)]
    return sorted(hits, key=lambda f: -((f.get("severity") or describe(f["label"]).severity) * f["confidence"]))


def alert_text(findings: list[dict], threshold: float, demonstration: list[str] | None = None) -> str:
    """"AI flagged possible periapical radiolucency on #19 — not yet reviewed by a dentist." """
    named = []
    for f in urgent_findings(findings, threshold):
        what = f"possible {describe(f['label']).display.lower()}"
        tooth = f.get("tooth_universal")
        item = f"{what} on #{tooth}" if tooth else what
        if item not in named:
            named.append(item)
    shown = ", ".join(named[:MAX_NAMED]) + (f" and {len(named) - MAX_NAMED} more" if len(named) > MAX_NAMED else "")
    text = f"AI flagged {shown or 'an urgent finding'} — {NOT_REVIEWED}."
    demo = demo_text(list(demonstration or []))
    return f"{demo} {text}" if demo else text


class UrgentAlerts:
    """The `after_image` step that records a study's alert, and the sender that writes it to Open
    Dental (drained by an `OutboxWorker` thread: it has `drain_once` and `next_due_in`)."""

    def __init__(self, db: Database, config, demonstration: Callable[[int], list[str]], *,
                 keys_provider: Callable[[], ODKeys | None] | None = None,
                 client_factory: Callable | None = None, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random, wake: Callable[[], None] | None = None):
        self.db, self.config = db, config  # the root Config: clinical, governance, export
        self.demonstration = demonstration  # study id → its demonstration models
        self.keys_provider = keys_provider or get_opendental_keys
        self.client_factory = client_factory or (lambda s, k: ODClient(s, k, clock=time.monotonic))
        self.wake = wake
        # the outbox's clock, horizon, lease and backoff (with its jitter), one definition of each
        self.timing = Outbox(db, config.export, clock=clock, rng=rng)

    @property
    def settings(self):
        return self.config.export.opendental

    # -- the after_image step ----------------------------------------------------------------
    def after_image(self, outcome) -> None:
        study_id = outcome.study_id
        if outcome.status != "analyzed" or study_id is None or not self.settings.next_steps.alert:
            return
        if self.config.governance.rollout == "silent_pilot" or alerts.exists(self.db, study_id):
            return  # a silent pilot shows no finding to anyone
        row = studies_repo.summary(self.db.conn(), study_id)
        if row is None or not row["urgent"]:
            return
        found = [dict(f) for f in findings_repo.of_study(self.db, study_id)]
        demo = self.demonstration(study_id)
        text = alert_text(found, self.config.clinical.urgent_threshold, demo)
        via, state, reason = self._route(demo)
        with self.db.tx() as c:
            marker = f"[DAB:{study_id}:{meta.database_id(c)[:8]}:alert]"
            if alerts.add(c, study_id, via, text, marker, self.timing.now_iso(), state=state, reason=reason):
                audit.append(c, "urgent_alert", f"study:{study_id}", via=via, state=state, reason=reason)
        if state == "queued" and self.wake is not None:
            self.wake()

    def _route(self, demo: list[str]) -> tuple[str, str, str]:
        """(via, first state, reason): where the alert goes besides the tray."""
        ns = self.settings.next_steps
        via = ns.alert_channel()  # after_image left with the alert turned off
        if via == "none":
            why = (f"no Open Dental task list is set ({ns.TABLE}.task_list_num)" if ns.alert_via == "task"
                   else f"{ns.TABLE}.alert_via is none")
            return "none", "not_sent", f"shown in the tray only: {why}"
        if "opendental" not in self.config.export.destinations:
            return "none", "not_sent", "shown in the tray only: Open Dental is not an export destination"
        if demo and not self.config.export.allow_demonstration_model:
            return via, "not_sent", (f"shown in the tray only: the finding comes from a demonstration model "
                                     f"({', '.join(demo)}), which reaches Open Dental only with "
                                     "export.allow_demonstration_model on")
        return via, "queued", ""

    # -- the sender ----------------------------------------------------------------------------
    def next_due_in(self) -> float | None:
        at = alerts.next_attempt_at(self.db)
        if at is None:
            return None
        when = parse_iso(at)
        return 0.0 if when is None else max(0.0, when - self.timing.clock())

    def drain_once(self, *, limit: int | None = None) -> list[dict]:
        out = []
        for row in alerts.due(self.db, self.timing.now_iso(), self.timing.horizon())[:limit]:
            with self.db.tx() as c:
                claimed = alerts.claim(c, row["id"], self.timing.now_iso(), self.timing.horizon(),
                                       self.timing.lease_until())
            if claimed is not None:
                out.append(self._send(claimed))
        return out

    def _send(self, row: dict) -> dict:
        keys = self.keys_provider()
        if keys is None:
            return self._finish(row, "needs_attention", "the Open Dental API keys are not set up: run "
                                "`dental-bridge secrets set opendental`, then `dental-bridge export --retry`")
        client = self.client_factory(self.settings, keys)
        try:
            ident = studies_repo.identity(self.db, row["study_id"])
            patient = {"id": ident["patient_id"], "id_kind": ident["patient_id_kind"], "name": ident["patient_name"],
                       "birth_date": ident["birth_date"]}
            pat_num = int(resolve_patient(client, patient, require_birth_date=self.settings.require_birth_date)
                          ["PatNum"])
            if row["maybe_written"]:  # an earlier attempt's outcome is unknown: look before writing
                found = self._find(client, row, pat_num)
                if found is not None:
                    return self._finish(row, "done", "found by marker; not written again", remote_id=found)
            alerts.began_write(self.db, row["id"], self.timing.now_iso())
            result = self._post(client, row, pat_num)
            remote = result.get("TaskNum" if row["via"] == "task" else "PopupNum") if isinstance(result, dict) else None
            return self._finish(row, "done", "", remote_id=str(remote or ""))
        except PatientProblem as exc:
            return self._finish(row, "needs_attention", str(exc))
        except ODError as exc:
            state = "failed" if exc.retry else "needs_attention"
            log.warning("urgent alert %s: Open Dental %s", row["id"], exc.status or "unreachable")
            return self._finish(row, state, str(exc), maybe_written=False if exc.written is False else None)
        finally:
            client.close()

    def _post(self, client: ODClient, row: dict, pat_num: int) -> dict:
        text = f"Dental AI Bridge: {row['text']} {row['marker']}"
        ns = self.settings.next_steps
        if row["via"] == "task":
            return post_patient_task(client, task_list_num=ns.task_list_num, user_num=ns.user_num, pat_num=pat_num,
                                     descript=text)
        return client.post_popup({"PatNum": pat_num, "PopupLevel": "Patient", "Description": text})

    def _find(self, client: ODClient, row: dict, pat_num: int) -> str | None:
        if row["via"] == "task":
            return task_with_marker(client, pat_num, row["marker"], since=od_datetime(row["created_at"]))
        return next((str(p.get("PopupNum") or "?") for p in client.popups(pat_num)
                     if row["marker"] in str(p.get("Description") or "")), None)

    def _finish(self, row: dict, state: str, reason: str, *, remote_id: str = "",
                maybe_written: bool | None = None) -> dict:
        next_at = iso(self.timing.clock() + self.timing.backoff(row["attempts"])) if state == "failed" else None
        with self.db.tx() as c:
            alerts.finish(c, row["id"], state, reason, next_at, self.timing.now_iso(), remote_id=remote_id,
                          maybe_written=maybe_written)
            audit.append(c, f"urgent_alert_{state}", f"study:{row['study_id']}", via=row["via"],
                         attempt=row["attempts"], reason=reason, remote_id=remote_id)
        return {"id": row["id"], "study_id": row["study_id"], "state": state, "reason": reason, "remote_id": remote_id}
