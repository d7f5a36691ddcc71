"""The tray hears of new retake advice within half a second, not at its next 3 s state poll."""

from __future__ import annotations

from tray_app.store import quality
from tray_app.ui.advice_bell import AdviceBell

ISSUE = {"check": "exposure", "region": "", "measured": 0.4, "sentence": "Overexposed: …"}


def test_the_bell_rings_when_advice_is_recorded_and_again_for_a_recheck(db, qtbot):
    rings = []
    bell = AdviceBell(db.conn, lambda: rings.append(1), interval_ms=20).start()
    qtbot.wait(100)
    assert rings == []  # what was there at start is the tray's first poll's business
    with db.tx() as c:
        c.execute("INSERT INTO images(path, state, discovered_at, updated_at) VALUES ('x', 'decoded', '', '')")
        quality.record(c, 1, None, [ISSUE], None)
    qtbot.waitUntil(lambda: len(rings) == 1, timeout=2000)
    with db.tx() as c:
        quality.record(c, 1, None, [ISSUE], None)  # the same image checked again: a new row id
    qtbot.waitUntil(lambda: len(rings) == 2, timeout=2000)
    bell.timer.stop()
