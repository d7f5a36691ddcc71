"""The priors panel (issue 20): what changed since the prior image, loaded off the GUI thread,
and the comparison window's side by side, flicker, blend and difference views."""

from __future__ import annotations

import os

import numpy as np

from tray_app.store import images as image_repo
from tray_app.store import priors as priors_repo
from tray_app.store.db import Database
from tray_app.ui.comparison_window import MODES, compose
from tray_app.ui.priors_panel import PriorsPanel

CHANGE = {"change": "new", "label": "restoration", "tooth_fdi": 36, "surfaces": "MO", "box": [20, 20, 60, 50]}
BONE = {"tooth_fdi": 36, "surface": "M", "mm": 3.4, "prior_mm": 2.1, "pct_root": None, "prior_pct_root": None,
        "delta_mm": 1.3, "delta_pct": None, "progressing": True}
UNCONFIRMED = {"tooth_fdi": 37, "surface": "D", "mm": 3.5, "prior_mm": 1.1, "pct_root": None, "prior_pct_root": None,
               "delta_mm": 2.4, "delta_pct": None, "progressing": False, "evidence": 0.01, "unconfirmed": True}


def _compare_every_image_with_another(paths) -> None:
    db = Database(paths.database)
    try:
        rows = db.query("SELECT id, study_id FROM images WHERE state='analyzed' ORDER BY id")
        for row, prior in zip(rows, rows[1:] + rows[:1]):
            priors_repo.save(db, row["id"], row["study_id"], _with_date(image_repo.get(db, prior["id"])), view="BW right premolar", registered=True, matrix=[[1, 0, 2], [0, 1, -1]],
                             correlation=0.9, changes=[CHANGE], bone=[BONE, UNCONFIRMED])
    finally:
        db.close()


def _with_date(row):
    d = dict(row)
    d.update(study_date="20250304", first_seen_at="2025-03-04T10:00:00Z")
    return d


def _panel(window) -> PriorsPanel:
    return next(p for p in window.panels if isinstance(p, PriorsPanel))


def test_the_panel_says_what_changed_and_the_window_compares_in_four_views(review_home, make_window, qtbot, tmp_path):
    _compare_every_image_with_another(review_home)
    w = make_window(review_home)
    panel = _panel(w)
    qtbot.waitUntil(lambda: panel.isVisible() and panel.height() > 60, timeout=10_000)
    # the date only beside the heading (with the view too it widened the column or clipped the heading)
    assert panel.status.text() == "2025-03-04" and "BW right premolar" in panel.status.toolTip()
    text = panel.text.text()
    assert "#19: restoration new since the prior image" in text
    assert "#19 mesial: bone level 3.4 mm below the CEJ (was 2.1 mm, +1.3 mm) — progressing" in text
    # the landmarks read 2.4 mm deeper, the pixels between the crests did not darken
    assert "#18 distal: bone level 3.5 mm below the CEJ (was 1.1 mm, +2.4 mm) — not seen in the image, not marked " \
        "progressing" in text
    # three changes wrap to more lines than the column has room for: none is clipped, the text scrolls
    qtbot.waitUntil(lambda: panel.text.height() >= panel.text.heightForWidth(panel.text.width()), timeout=2_000)
    panel.open_btn.click()
    window = panel.window
    qtbot.waitUntil(window.isVisible)
    for i, mode in enumerate(MODES):
        window.group.button(i).click()
        assert window.mode == mode and not window.picture.pixmap().isNull()
    assert window.timer.isActive() is False          # flicker stops when another view is chosen
    window.group.button(1).click()
    assert window.timer.isActive()
    shot = tmp_path / "comparison.png"
    window.group.button(0).click()
    assert window.grab().save(str(shot))
    if os.environ.get("PRIORS_SHOT"):           # to look at: PRIORS_SHOT=/tmp/x.png pytest …
        window.grab().save(os.environ["PRIORS_SHOT"])
        w.grab().save(os.environ["PRIORS_SHOT"].replace(".png", "-panel.png"))
        window.group.button(3).click()
        window.grab().save(os.environ["PRIORS_SHOT"].replace(".png", "-difference.png"))
    window.close()


def test_the_panel_hides_for_an_image_without_a_prior(review_home, make_window, qtbot):
    w = make_window(review_home)
    panel = _panel(w)
    panel.wait()
    qtbot.wait(50)
    assert not panel.isVisible() and panel.data is None


def test_difference_view_cancels_a_change_of_exposure():
    rng = np.random.default_rng(1)
    current = rng.integers(0, 255, (60, 80)).astype(np.uint8)
    darker = (current * 0.6 + 20).astype(np.uint8)             # the same anatomy, another exposure
    seen = np.ones(current.shape, bool)
    diff = compose("Difference", current, darker, seen)
    assert np.abs(diff.astype(int) - 128).max() <= 3
    changed = darker.copy()
    changed[10:20, 10:20] = 0
    assert np.abs(compose("Difference", current, changed, seen)[10:20, 10:20].astype(int) - 128).mean() > 30
    assert compose("Side by side", current, darker, seen).shape == (60, 168)
