"""Tray state from the database: table-driven over source, study and outbox states."""

from __future__ import annotations

import pytest

from tray_app.store.db import utcnow
from tray_app.ui import tray_state
from tray_app.ui.tray_state import Notifier, RateLimiter, compute

SHARE = r"\\server\xrays\export"
LOCAL = "C:/export"


def _fill(db, *, sources=(), studies=(), outbox=(), quarantined=0, automated=0):
    now = utcnow()
    with db.tx() as c:
        for i in range(automated):
            sid = c.execute("INSERT INTO studies(group_key, status, first_seen_at, last_image_at) VALUES (?,?,?,?)",
                            (f"a{i}", "new", now, now)).lastrowid
            c.execute("INSERT INTO automated_reports(study_id, decided_at, outcome, snapshot, sha256) "
                      "VALUES (?,?,'exported','{}','x')", (sid, now))
            c.execute("INSERT INTO outbox(study_id, destination, report_kind, state, created_at, updated_at) "
                      "VALUES (?,'folder','automated',?,?,?)", (sid, "done" if i else "superseded", now, now))
        for path, status in sources:
            c.execute("INSERT INTO sources(path, status, updated_at) VALUES (?,?,?)", (path, status, now))
        for i, (status, urgent) in enumerate(studies):
            c.execute("INSERT INTO studies(group_key, status, urgent, first_seen_at, last_image_at) VALUES (?,?,?,?,?)",
                      (f"g{i}", status, urgent, now, now))
        for i, state in enumerate(outbox):
            sid = c.execute("INSERT INTO studies(group_key, status, first_seen_at, last_image_at) VALUES (?,?,?,?)",
                            (f"x{i}", "signed", now, now)).lastrowid
            c.execute("INSERT INTO outbox(study_id, destination, state, created_at, updated_at) VALUES (?,?,?,?,?)",
                      (sid, "opendental", state, now, now))
        for i in range(quarantined):
            c.execute("INSERT INTO images(path, state, discovered_at, updated_at) VALUES (?,?,?,?)",
                      (f"/q{i}", "quarantined", now, now))


CASES = [
    # id, fill, compute kwargs, expected state, tooltip fragments
    ("idle", dict(sources=[(SHARE, "watching")]), {}, "watching", ["Watching 1 folder"]),
    ("no sources", {}, dict(source_paths=[]), "waiting_for_share", ["No watch folder set up"]),
    ("share down", dict(sources=[(SHARE, "waiting_for_folder"), (LOCAL, "watching")]), {},
     "waiting_for_share", [f"Waiting for {SHARE}"]),
    ("two shares down", dict(sources=[(SHARE, "waiting_for_folder"), (LOCAL, "waiting_for_folder")]), {},
     "waiting_for_share", ["Waiting for 2 folders"]),
    ("removed source ignored", dict(sources=[(SHARE, "waiting_for_folder"), (LOCAL, "watching")]),
     dict(source_paths=[LOCAL]), "watching", ["Watching 1 folder"]),
    ("to review", dict(sources=[(SHARE, "watching")], studies=[("new", 0), ("in_review", 0), ("signed", 0)]), {},
     "review", ["2 studies to review"]),
    ("one to review", dict(sources=[(SHARE, "watching")], studies=[("new", 0)]), {}, "review", ["1 study to review"]),
    ("urgent", dict(sources=[(SHARE, "watching")], studies=[("new", 1), ("new", 0)]), {},
     "urgent", ["1 urgent study", "2 studies to review"]),
    ("urgent already signed", dict(sources=[(SHARE, "watching")], studies=[("signed", 1)]), {}, "watching", []),
    ("export failed", dict(sources=[(SHARE, "watching")], outbox=["failed", "done"]), {},
     "export_failing", ["1 export failing"]),
    ("export needs attention", dict(sources=[(SHARE, "watching")], outbox=["needs_attention", "queued"]), {},
     "export_failing", ["1 export failing"]),
    ("urgent beats export", dict(sources=[(SHARE, "watching")], studies=[("new", 1)], outbox=["failed"]), {},
     "urgent", ["1 urgent study", "1 export failing"]),
    ("export beats share", dict(sources=[(SHARE, "waiting_for_folder")], outbox=["failed"]), {},
     "export_failing", ["Waiting for", "export failing"]),
    ("paused", dict(sources=[(SHARE, "watching")]), dict(paused=True), "paused", ["Paused"]),
    ("paused beats review", dict(sources=[(SHARE, "watching")], studies=[("new", 0)]), dict(paused=True),
     "paused", ["Paused", "1 study to review"]),
    ("share beats paused", dict(sources=[(SHARE, "waiting_for_folder")]), dict(paused=True),
     "waiting_for_share", ["Paused", "Waiting for"]),
    ("silent pilot shows no findings", dict(sources=[(SHARE, "watching")], studies=[("new", 1), ("new", 0)]),
     dict(rollout="silent_pilot"), "watching", ["Silent pilot"]),
    ("pc problem first", dict(sources=[(SHARE, "watching")], studies=[("new", 0)]),
     dict(problem="the DICOM receiver cannot listen on port 104 (Address in use)"), "waiting_for_share",
     ["Dental AI Bridge — The DICOM receiver cannot listen", "1 study to review"]),
    ("receiver listening", dict(sources=[(SHARE, "watching")]), dict(receiver="DICOM :11112"), "watching",
     ["Watching 1 folder", "DICOM :11112"]),
    ("unverified auto-exports", dict(sources=[(SHARE, "watching")], studies=[("new", 0)], automated=3),
     dict(rollout="targeted_automation"), "review", ["2 unverified auto-exports"]),  # one was never sent
]


@pytest.mark.parametrize("name,fill,kw,expected,fragments", CASES, ids=[c[0] for c in CASES])
def test_state_and_tooltip(db, name, fill, kw, expected, fragments):
    _fill(db, **fill)
    if "source_paths" not in kw and fill.get("sources"):
        kw = {**kw, "source_paths": [p for p, _ in fill["sources"]]}
    st = compute(db.conn(), **kw)
    assert st.state == expected
    assert st.state in tray_state.STATES
    assert st.tooltip.startswith("Dental AI Bridge — ")
    for frag in fragments:
        assert frag in st.tooltip, st.tooltip
    assert len(st.tooltip) <= tray_state.TOOLTIP_MAX
    if name == "silent pilot shows no findings":
        assert st.to_review == 0 and st.urgent == 0 and "urgent" not in st.tooltip


def test_tooltip_never_exceeds_the_windows_limit(db):
    long = "\\\\" + "s" * 150 + "\\share"
    _fill(db, sources=[(long, "waiting_for_folder")], studies=[("new", 1)] * 3, outbox=["failed"] * 2)
    st = compute(db.conn(), paused=True)
    assert len(st.tooltip) <= tray_state.TOOLTIP_MAX and st.tooltip.endswith("…")


def test_tooltip_names_no_patient(db):
    now = utcnow()
    with db.tx() as c:
        c.execute("INSERT INTO studies(group_key, status, urgent, patient_name, patient_id, first_seen_at, last_image_at)"
                  " VALUES ('g','new',1,'Smith^Jane','A1234',?,?)", (now, now))
    st = compute(db.conn(), source_paths=[SHARE])
    notes = Notifier(RateLimiter(clock=lambda: 0.0)).update(st)
    text = st.tooltip + " ".join(n.title + n.message for n in notes)
    assert "Smith" not in text and "A1234" not in text


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _state(urgent=(), failed=(), waiting=(), quarantined=0):
    return tray_state.TrayState("watching", "", urgent_ids=frozenset(urgent), failed_exports=frozenset(failed),
                                waiting_sources=tuple(waiting), quarantined=quarantined)


def test_notifications_on_new_urgent_and_failures_rate_limited():
    clock = Clock()
    n = Notifier(RateLimiter(clock=clock, gap=20.0))
    assert n.update(_state()) == []
    notes = n.update(_state(urgent=[1]))
    assert [x.kind for x in notes] == ["urgent"]
    clock.t += 5
    # a failing export 5 s later waits for the gap, then comes out
    assert n.update(_state(urgent=[1], failed=[7])) == []
    clock.t += 30
    assert [x.kind for x in n.update(_state(urgent=[1], failed=[7]))] == ["export_failed"]
    # another urgent study within the per-kind window is not announced again yet
    clock.t += 30
    assert n.update(_state(urgent=[1, 2], failed=[7])) == []
    clock.t += 120
    notes = n.update(_state(urgent=[1, 2], failed=[7]))
    assert [x.kind for x in notes] == ["urgent"] and "2 studies are flagged urgent" in notes[0].message


def test_pending_notification_dropped_when_resolved():
    clock = Clock()
    n = Notifier(RateLimiter(clock=clock, gap=20.0))
    n.update(_state())
    n.update(_state(urgent=[1]))
    clock.t += 1
    assert n.update(_state(urgent=[1], waiting=["//s/x"])) == []  # in the gap
    clock.t += 60
    assert n.update(_state(urgent=[1])) == []  # the share came back: nothing to say


def test_startup_announces_waiting_urgent_but_not_old_folder_status():
    n = Notifier(RateLimiter(clock=Clock()))
    notes = n.update(_state(urgent=[3], waiting=["//s/x"], quarantined=4))
    assert [x.kind for x in notes] == ["urgent"]
