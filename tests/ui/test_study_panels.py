"""Panels under the findings list plug in through ui/study_panels.py and follow the open study."""

from __future__ import annotations

from tray_app.ui import study_panels


class Recorder(study_panels.StudyPanel):
    def __init__(self, api, scale):
        super().__init__()
        self.studies, self.images = [], []

    def show_study(self, study):
        self.studies.append(study["id"])

    def show_image(self, image_id):
        self.images.append(image_id)


def test_a_registered_panel_sits_beside_the_findings_and_follows_study_and_image(review_home, make_window,
                                                                                  monkeypatch, qtbot):
    monkeypatch.setattr(study_panels, "_FACTORIES", [Recorder])
    monkeypatch.setattr(study_panels, "PANEL_MODULES", ())   # the product's own panels are not under test here
    w = make_window(review_home)
    (panel,) = w.panels
    assert panel.isVisible() and panel.window() is w
    assert panel.studies[-1] == w.study["id"] and panel.images[-1] == w.image_id
    other = next(s["id"] for s in w.queue.studies if s["id"] != w.study["id"])
    w.queue.select_study(other)
    qtbot.waitUntil(lambda: w.study["id"] == other)
    assert panel.studies[-1] == other and panel.images[-1] == w.image_id
