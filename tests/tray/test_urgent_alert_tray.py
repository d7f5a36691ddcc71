"""The tray tells the urgent alert's text (issue 19 item 4a) — on the hub from its database, on a
client from the hub's queue — through the existing notifier; at start-up only the count."""

from __future__ import annotations

from tray_app.store import alerts
from tray_app.store.db import utcnow
from tray_app.ui.client_state import from_queue
from tray_app.ui.tray_state import Notifier, RateLimiter, TrayState, compute

TEXT = "AI flagged possible periapical radiolucency on #19 — not yet reviewed by a dentist."


def _study(db, urgent=1, alert=""):
    now = utcnow()
    with db.tx() as c:
        sid = c.execute("INSERT INTO studies(group_key, status, urgent, patient_name, first_seen_at, last_image_at) "
                        "VALUES (?,?,?,?,?,?)", (f"g{now}", "new", urgent, "Doe^Jane", now, now)).lastrowid
        if alert:
            alerts.add(c, sid, "task", alert, f"[DAB:{sid}:x:alert]", now)
    return sid


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def test_hub_tray_announces_a_new_urgent_study_with_its_alert_text(db):
    clock = Clock()
    notes = Notifier(RateLimiter(clock=clock, gap=0.0))
    assert notes.update(compute(db.conn())) == []  # started with nothing urgent
    sid = _study(db, alert=TEXT)
    state = compute(db.conn())
    assert state.alerts == ((sid, TEXT),)
    (note,) = notes.update(state)
    assert note.kind == "urgent" and note.message == f"{TEXT} Open the review window."
    assert "Doe" not in note.message and "Jane" not in note.message
    clock.t += 1000
    assert notes.update(compute(db.conn())) == []  # once: the same study is not announced again


def test_startup_reminds_of_the_count_not_each_alert(db):
    _study(db, alert=TEXT)
    (note,) = Notifier(RateLimiter(clock=Clock())).update(compute(db.conn()))
    assert note.message.startswith("1 study is flagged urgent")


def test_client_tray_takes_the_alert_text_from_the_hubs_queue():
    queue = [{"id": 4, "urgent": True, "alert": TEXT}, {"id": 5, "urgent": False, "alert": ""}]
    state = from_queue(queue)
    assert state.alerts == ((4, TEXT),)
    notes = Notifier(RateLimiter(clock=Clock(), gap=0.0))
    notes.update(TrayState("watching", ""))
    (note,) = notes.update(state)
    assert note.message.startswith(TEXT)
