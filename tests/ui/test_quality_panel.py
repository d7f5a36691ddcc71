"""The review window's retake advice: the quality panel under the findings says what is wrong with
the image on show (and the set), and the thumbnails mark the images with advice."""

from __future__ import annotations

from tray_app.store import quality
from tray_app.store.db import Database
from tray_app.ui.quality_panel import QualityPanel

CONE = {"check": "cone_cut", "region": "upper left", "measured": 0.12,
        "sentence": "Cone cut on the upper left: part of the sensor was not exposed. Retake before the patient leaves."}
MISSING = {"check": "missing_bitewing", "region": "left molar", "measured": 1.0,
           "sentence": "Bitewing missing: left molar. Take it before the patient leaves."}


def advise(paths, image_id: int, study_id: int, set_issue=None) -> None:
    db = Database(paths.database)
    with db.tx() as c:
        quality.record(c, image_id, study_id, [CONE], set_issue)
    db.close()


def panel_of(w) -> QualityPanel:
    return next(p for p in w.panels if isinstance(p, QualityPanel))


def test_the_panel_shows_the_advice_of_the_image_on_show_and_hides_without_any(review_home, make_window, qtbot):
    w = make_window(review_home)
    panel = panel_of(w)
    assert panel.lines() == [] and not panel.isVisible(), panel.lines()  # nothing advised in this study
    advise(review_home, w.image_id, w.study["id"], MISSING)  # a re-check of an image already checked
    w.poll()
    qtbot.waitUntil(lambda: panel.isVisible(), timeout=5000)
    assert panel.text.text().startswith("⚠ Cone cut on the upper left:")
    assert "Bitewing missing: left molar" in panel.text.text()
    marked = [w.thumbs.item(i).text() for i in range(w.thumbs.count())]
    assert sum(t.endswith("⚠") for t in marked) == 1


def test_another_image_of_the_study_points_to_the_marked_thumbnail(review_home, make_window, qtbot):
    w = make_window(review_home)
    study = next(s for s in w.queue.studies if s["image_count"] > 1)
    w.queue.select_study(study["id"])
    qtbot.waitUntil(lambda: w.study["id"] == study["id"])
    other = next(im["id"] for im in w.study["images"] if im["id"] != w.image_id)
    advise(review_home, other, study["id"])
    w.poll()
    panel = panel_of(w)
    qtbot.waitUntil(lambda: panel.isVisible(), timeout=5000)
    assert panel.text.text().startswith("Also advised for image ")


def test_screenshot_with_advice(review_home, tmp_path):
    """Rendered offscreen to a PNG (looked at by eye when the panel changes)."""
    from tray_app.store.studies import queue
    from tray_app.ui.launch import screenshot

    db = Database(review_home.database)
    study = queue(db)[0]
    db.close()
    advise(review_home, study["images"][0]["id"], study["id"], MISSING)
    out = tmp_path / "quality-panel.png"
    assert screenshot(review_home, study["id"], out) == ""
    assert out.stat().st_size > 10_000
