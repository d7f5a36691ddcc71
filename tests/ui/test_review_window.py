"""The review window end to end on a real ingested home (offscreen Qt)."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tray_app.review.api import ReviewAPI
from tray_app.store.db import Database
from tray_app.ui.study_header import BANNER_TEXT, DEMO_TEXT
from ui_home import DENTIST, HYGIENIST, set_demonstration


def db_status(paths, finding_id):
    db = Database(paths.database)
    try:
        return db.one("SELECT status FROM findings WHERE id=?", (finding_id,))["status"]
    finally:
        db.close()


def api_for(paths):
    return ReviewAPI(Database(paths.database))


def press(window, key, modifier=Qt.KeyboardModifier.NoModifier):
    from PySide6.QtTest import QTest

    window.activateWindow()
    target = QApplication.focusWidget() or window.findings_panel.table
    QTest.keyClick(target, key, modifier)
    QApplication.processEvents()


def test_queue_lists_studies_in_triage_order(review_home, make_window):
    w = make_window(review_home)
    expected = [s["id"] for s in api_for(review_home).queue()]
    assert len(expected) == 3
    assert w.queue.visible_study_ids() == expected
    # the most urgent study is opened first and marked
    assert w.study["id"] == expected[0]
    assert "URGENT" in w.title.text()


def test_filter_by_name_chart_tag_and_status(review_home, make_window):
    w = make_window(review_home)
    by_chart = {s["patient"]["id"]: s["id"] for s in w.queue.studies}
    w.queue.filter_edit.setText("carla")
    assert w.queue.visible_study_ids() == [by_chart["DEMO003"]]
    w.queue.filter_edit.setText("DEMO002")
    assert w.queue.visible_study_ids() == [by_chart["DEMO002"]]
    w.queue.filter_edit.setText("urgent")
    assert w.queue.visible_study_ids() == [by_chart["DEMO001"]]
    w.queue.filter_edit.setText("panoramic")
    assert w.queue.visible_study_ids() == [by_chart["DEMO003"]]
    w.queue.filter_edit.setText("")
    assert len(w.queue.visible_study_ids()) == 3
    w.queue.status_combo.setCurrentText("Signed")
    assert w.queue.visible_study_ids() == []
    assert "0 of 3" in w.queue.count_label.text()


def test_selecting_a_study_shows_its_images_and_findings(review_home, make_window, qtbot):
    w = make_window(review_home)
    bruno = next(s for s in w.queue.studies if s["patient"]["id"] == "DEMO002")
    w.queue.select_study(bruno["id"])
    assert w.study["id"] == bruno["id"]
    qtbot.waitUntil(lambda: w.canvas.pixmap_item is not None and w.canvas.image_id == bruno["images"][0]["id"])
    im = bruno["images"][0]
    assert w.canvas.pixels.shape == (im["height"], im["width"]) and w.canvas.pixels.dtype == np.uint8
    assert w.thumbs.count() == 1
    pathology = [f for f in im["findings"] if f["label"] != "tooth"]
    teeth = [f for f in im["findings"] if f["label"] == "tooth"]
    assert pathology and teeth
    assert sorted(w.findings_panel.visible_finding_ids()) == sorted(f["id"] for f in pathology)
    # anatomy boxes are hidden by default and shown by the toggle
    assert sorted(w.canvas.visible_finding_ids()) == sorted(f["id"] for f in pathology)
    w.findings_panel.controls.anatomy.setChecked(True)
    assert set(f["id"] for f in teeth) <= set(w.canvas.visible_finding_ids())
    # a two-image study shows both thumbnails
    alice = next(s for s in w.queue.studies if s["patient"]["id"] == "DEMO001")
    w.queue.select_study(alice["id"])
    assert w.thumbs.count() == 2
    # a per-label toggle hides that label on the canvas and in the table
    w.findings_panel.controls.label_checks["caries"].setChecked(False)
    shown = {f["id"]: f for f in w.findings if f["id"] in w.canvas.visible_finding_ids()}
    assert shown and all(f["label"] != "caries" for f in shown.values())


def test_threshold_slider_hides_low_findings_without_deleting(review_home, make_window):
    w = make_window(review_home)
    before = len(w.findings)
    low = [f for f in w.findings if f["label"] != "tooth" and f["confidence"] < 0.6]
    assert low, "the stub model reports findings below 60 %"
    w.findings_panel.controls.threshold.setValue(60)
    table_ids = set(w.findings_panel.visible_finding_ids())
    assert table_ids and not (table_ids & {f["id"] for f in low})
    by_id = {f["id"]: f for f in w.findings}
    assert all(by_id[i]["confidence"] >= 0.6 for i in w.canvas.visible_finding_ids())
    assert "hidden by filters" in w.findings_panel.summary.text()
    # nothing was deleted
    assert len(w.api.study(w.study["id"])["images"][0]["findings"]) + len(w.api.study(w.study["id"])["images"][1]["findings"]) == before
    w.findings_panel.controls.threshold.setValue(0)
    assert set(w.findings_panel.visible_finding_ids()) >= {f["id"] for f in low}


def test_keyboard_accept_reject_undo_go_through_the_api(review_home, make_window, qtbot):
    w = make_window(review_home)
    w.findings_panel.table.setFocus()
    ids = w.findings_panel.visible_finding_ids()
    assert w.findings_panel.current_finding_id() == ids[0]
    press(w, Qt.Key.Key_Down)
    assert w.findings_panel.current_finding_id() == ids[1]
    press(w, Qt.Key.Key_Up)
    first = w.findings_panel.current_finding_id()
    assert first == ids[0]
    press(w, Qt.Key.Key_A)
    assert db_status(review_home, first) == "accepted"
    second = w.findings_panel.current_finding_id()
    assert second != first  # moved on to the next finding to review
    press(w, Qt.Key.Key_R)
    assert db_status(review_home, second) == "rejected"
    assert w.findings_panel.current_finding_id() not in (first, second)
    # the table shows the new statuses
    rows = {w.findings_panel.table.item(r, 0).data(Qt.ItemDataRole.UserRole): w.findings_panel.table.item(r, 4).text()
            for r in range(w.findings_panel.table.rowCount())}
    assert rows[first] == "Accepted" and rows[second] == "Rejected"
    assert w.study["status"] == "in_review"
    press(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db_status(review_home, second) == "proposed"
    assert db_status(review_home, first) == "accepted"
    press(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db_status(review_home, first) == "proposed"


def test_edit_changes_label_tooth_and_note(review_home, make_window):
    w = make_window(review_home)
    f = w.findings_panel.current_finding()
    w.ask_finding_details = lambda finding, title: {"label": "calculus", "tooth_fdi": 16, "surfaces": "",
                                                    "note": "checked clinically"}
    press(w, Qt.Key.Key_E)
    db = Database(review_home.database)
    row = db.one("SELECT * FROM findings WHERE id=?", (f["id"],))
    db.close()
    assert (row["label"], row["tooth_fdi"], row["tooth_universal"], row["note"], row["status"]) == \
        ("calculus", 16, "3", "checked clinically", "edited")


def _drag(view, start: QPoint, end: QPoint) -> None:
    vp = view.viewport()
    for kind, pos, buttons in ((QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton),
                               (QEvent.Type.MouseMove, (start + end) / 2, Qt.MouseButton.LeftButton),
                               (QEvent.Type.MouseMove, end, Qt.MouseButton.LeftButton),
                               (QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)):
        p = QPointF(pos)
        ev = QMouseEvent(kind, p, vp.mapToGlobal(p), Qt.MouseButton.LeftButton, buttons,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)


def test_drawing_a_box_adds_a_finding(review_home, make_window):
    w = make_window(review_home)
    image_id = w.canvas.image_id
    asked = []
    w.ask_finding_details = lambda finding, title: asked.append(title) or {
        "label": "periapical_radiolucency", "tooth_fdi": None, "surfaces": "", "note": "drawn"}
    press(w, Qt.Key.Key_D)
    assert w.canvas.draw_mode
    h, wd = w.canvas.pixels.shape
    a = w.canvas.mapFromScene(QPointF(wd * 0.2, h * 0.3))
    b = w.canvas.mapFromScene(QPointF(wd * 0.4, h * 0.6))
    _drag(w.canvas, a, b)
    assert asked == ["Add finding"]
    assert not w.canvas.draw_mode  # one box per press of D
    db = Database(review_home.database)
    rows = db.query("SELECT * FROM findings WHERE source='clinician'")
    db.close()
    assert len(rows) == 1
    r = rows[0]
    assert r["image_id"] == image_id and r["label"] == "periapical_radiolucency" and r["status"] == "added"
    assert r["x1"] == pytest.approx(wd * 0.2, abs=3) and r["y2"] == pytest.approx(h * 0.6, abs=3)
    assert r["id"] in w.findings_panel.visible_finding_ids() and r["id"] in w.canvas.visible_finding_ids()
    assert w.findings_panel.current_finding_id() == r["id"]
    press(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db_status(review_home, r["id"]) == "withdrawn"  # undo of an add withdraws it (kept for the audit)
    assert r["id"] not in w.findings_panel.visible_finding_ids() and r["id"] not in w.canvas.boxes


def test_banner_on_unsigned_results_and_demonstration_warning(review_home, make_window):
    w = make_window(review_home)
    text = w.banner.text()
    assert BANNER_TEXT in text and "stub 1.0.0" in text
    assert DEMO_TEXT not in text and w.banner.demo.isHidden()
    set_demonstration(review_home.user_models_dir)
    w2 = make_window(review_home)
    assert BANNER_TEXT in w2.banner.text() and DEMO_TEXT in w2.banner.text()
    assert not w2.banner.demo.isHidden()
    for sid in w2.queue.visible_study_ids():  # every study's view carries both
        w2.queue.select_study(sid)
        assert BANNER_TEXT in w2.banner.text() and DEMO_TEXT in w2.banner.text()


def test_sign_off_wrong_pin_role_then_right_pin_makes_study_read_only(review_home, make_window, qtbot):
    w = make_window(review_home)
    study_id = w.study["id"]
    first = w.findings_panel.current_finding_id()
    press(w, Qt.Key.Key_A)
    dlg = w.open_sign_dialog()
    assert dlg is not None and dlg.isVisible()
    preview = dlg.browser.toPlainText()
    assert "CHART NOTE" in preview and "CDT CODES" in preview and "DESTINATION" in preview
    assert re.search(r"Image \d \(id \d+\)", preview) and dlg.preview["note"].splitlines()[0] in preview
    assert dlg.pin.echoMode() == dlg.pin.EchoMode.Password
    # a hygienist cannot sign
    dlg.clinician.setCurrentIndex(dlg.clinician.findText(HYGIENIST[0], Qt.MatchFlag.MatchStartsWith))
    dlg.pin.setText(HYGIENIST[2])
    assert not dlg.sign_btn.isEnabled() and "only a dentist can sign" in dlg.message.text()
    dlg.clinician.setCurrentIndex(dlg.clinician.findText(DENTIST[0], Qt.MatchFlag.MatchStartsWith))
    dlg.pin.setText("0000")
    assert dlg.sign_btn.isEnabled()
    dlg.sign_btn.click()
    assert "wrong PIN" in dlg.message.text() and dlg.isVisible()
    assert w.api.study(study_id)["signed"] is None
    dlg.pin.setText(DENTIST[2])
    dlg.sign_btn.click()
    assert not dlg.isVisible()
    signed = w.api.study(study_id)
    assert signed["signed"]["by"] == DENTIST[0] and signed["status"] == "signed"
    # read-only: buttons disabled, banner says who signed, keys change nothing
    assert w.read_only()
    fp = w.findings_panel
    assert not any(b.isEnabled() for b in (fp.accept_btn, fp.reject_btn, fp.edit_btn, fp.draw_btn, fp.undo_btn))
    assert not w.sign_btn.isEnabled()
    assert f"Signed by {DENTIST[0]}" in w.banner.text()
    other = next(i for i in fp.visible_finding_ids() if i != first)
    fp.select_finding(other)
    press(w, Qt.Key.Key_R)
    assert db_status(review_home, other) == "proposed"
    press(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db_status(review_home, first) == "accepted"
    # it leaves the "To review" list but is there under "Signed"
    assert study_id not in w.queue.visible_study_ids()
    w.queue.status_combo.setCurrentText("Signed")
    assert w.queue.visible_study_ids() == [study_id]


def test_poll_refreshes_only_when_the_store_changed(review_home, make_window, monkeypatch):
    w = make_window(review_home)
    calls = []
    real = w.api.queue
    monkeypatch.setattr(w.api, "queue", lambda **kw: calls.append(1) or real(**kw))
    w.poll()
    w.poll()
    assert calls == []  # nothing changed: no queue query, no rebuild
    # another workstation accepts a finding
    other = api_for(review_home)
    fid = w.findings_panel.visible_finding_ids()[1]
    other.accept(fid, actor="front desk")
    other.db.close()
    w.poll()
    assert len(calls) == 1
    row = next(r for r in range(w.findings_panel.table.rowCount())
               if w.findings_panel.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == fid)
    assert w.findings_panel.table.item(row, 4).text() == "Accepted"
    w.poll()
    assert len(calls) == 1


def test_pixels_load_off_the_gui_thread(review_home, make_window, monkeypatch):
    import tray_app.review.api as review_api

    threads = []
    real = review_api.image_pixels
    monkeypatch.setattr(review_api, "image_pixels", lambda db, image_id: threads.append(threading.current_thread())
                        or real(db, image_id))
    w = make_window(review_home)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert w.canvas.pixmap_item is not None


def test_window_level_invert_rotate_and_zoom(review_home, make_window):
    w = make_window(review_home)
    c = w.canvas
    img0 = c.pixmap_item.pixmap().toImage()
    c.preset("Contrast")
    assert (c.window_width, c.window_level) == (170, 128)
    # right-drag widens the window and moves the level
    vp = c.viewport()
    start = QPointF(100, 100)
    for kind, pos, btns in ((QEvent.Type.MouseButtonPress, start, Qt.MouseButton.RightButton),
                            (QEvent.Type.MouseMove, QPointF(140, 120), Qt.MouseButton.RightButton),
                            (QEvent.Type.MouseButtonRelease, QPointF(140, 120), Qt.MouseButton.NoButton)):
        QApplication.sendEvent(vp, QMouseEvent(kind, pos, vp.mapToGlobal(pos), Qt.MouseButton.RightButton, btns,
                                               Qt.KeyboardModifier.NoModifier))
    assert c.window_width == pytest.approx(210) and c.window_level == pytest.approx(138)
    c.set_invert(True)
    assert c.pixmap_item.pixmap().toImage() != img0
    z = c.zoom
    c.zoom_by(2.0)
    assert c.zoom == pytest.approx(2 * z)
    c.actual_size()
    assert c.zoom == 1.0
    c.rotate_90()
    assert c.rotation == 90
    c.fit()
    assert c.zoom < 1.0 or c.fit_mode


def test_screenshot_renders_png(review_home, tmp_path):
    from PIL import Image

    from tray_app.ui.launch import screenshot

    out = tmp_path / "shot.png"
    screenshot(review_home, 1, out, size=(1366, 768))
    im = Image.open(out)
    assert im.size == (1366, 768)
    assert np.asarray(im.convert("L")).std() > 10  # not a blank window


def test_queue_cards_show_patient_set_tags_and_status(review_home, make_window):
    w = make_window(review_home)
    from PySide6.QtWidgets import QLabel

    texts = {}
    for i in range(w.queue.list.count()):
        item = w.queue.list.item(i)
        card = w.queue.list.itemWidget(item)
        texts[item.data(Qt.ItemDataRole.UserRole)] = " ".join(l.text() for l in card.findChildren(QLabel))
    by_chart = {s["patient"]["id"]: s["id"] for s in w.queue.studies}
    alice = texts[by_chart["DEMO001"]]
    assert "Demo, Alice" in alice and "DEMO001" in alice and "1979-04-12" in alice
    assert "2BW complete (2 images)" in alice and "2 img" in alice and "URGENT" in alice
    assert "Caries" in alice and "New" in alice
    assert "URGENT" not in texts[by_chart["DEMO003"]]


def test_n_moves_to_the_next_study(review_home, make_window):
    w = make_window(review_home)
    order = w.queue.visible_study_ids()
    assert w.study["id"] == order[0]
    press(w, Qt.Key.Key_N)
    assert w.study["id"] == order[1]
    press(w, Qt.Key.Key_N)
    assert w.study["id"] == order[2]


def test_finding_dialog_reads_universal_tooth_and_checks_surfaces(qtbot):
    from tray_app.ui.finding_dialog import FindingDialog

    dlg = FindingDialog(["tooth", "caries", "calculus"], {"label": "caries", "tooth_universal": "3"})
    qtbot.addWidget(dlg)
    assert dlg.label.count() == 2  # anatomy is not offered
    assert dlg.values() == {"label": "caries", "tooth_fdi": 16, "surfaces": "", "note": ""}
    dlg.surfaces.setText("mx")
    dlg._check()
    assert "Surfaces" in dlg.error.text() and dlg.result() == 0
    dlg.surfaces.setText("mo")
    dlg.tooth.setText("#40")
    dlg._check()
    assert "Universal" in dlg.error.text() or "tooth" in dlg.error.text().lower()
    dlg.tooth.setText("A")
    dlg._check()
    assert dlg.result() == 1 and dlg.values()["tooth_fdi"] == 55 and dlg.values()["surfaces"] == "MO"


def test_a_newly_ingested_study_appears_on_the_next_poll(review_home, make_window, tmp_path):
    from tray_app.app import Service
    from tray_app.config import Config
    from tray_app.demo import workspace
    from tray_app.intake.ingest import ingest_paths

    w = make_window(review_home)
    before = set(w.queue.visible_study_ids())
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    workspace._write("periapical", "png", 8, None, 4242, incoming, ("NEW777", "Newcomer", "Nia", "20000101", []),
                     1, None)
    service = Service(Config(), review_home)
    service.load_model()
    outcomes = list(ingest_paths(service, [incoming]))
    service.db.close()
    assert [o.status for o in outcomes] == ["analyzed"]
    w.poll()
    after = w.queue.visible_study_ids()
    assert len(after) == len(before) + 1
    new = next(s for s in w.queue.studies if s["id"] not in before)
    assert new["patient"]["id"] == "NEW777"
    assert w.study["id"] in before  # the open study stays open


def test_typing_in_the_filter_box_does_not_trigger_review_keys(review_home, make_window, qtbot):
    w = make_window(review_home)
    fid = w.findings_panel.current_finding_id()
    w.activateWindow()
    w.queue.filter_edit.setFocus()
    qtbot.keyClicks(w.queue.filter_edit, "ar")  # 'a' and 'r' are Accept/Reject elsewhere
    assert w.queue.filter_edit.text() == "ar"
    assert db_status(review_home, fid) == "proposed"


def test_a_review_action_rebuilds_only_the_card_that_changed(review_home, make_window, qtbot):
    """Cards cost ~2 ms each and the queue reloads after every action: untouched studies keep
    their card, the reviewed one shows its new status, a new triage order rebuilds the list."""
    from PySide6.QtWidgets import QLabel

    w = make_window(review_home)

    def cards():
        return {w.queue.list.item(i).data(Qt.ItemDataRole.UserRole): w.queue.list.itemWidget(w.queue.list.item(i))
                for i in range(w.queue.list.count())}

    before = cards()
    opened = w.study["id"]
    w.findings_panel.table.setFocus()
    press(w, Qt.Key.Key_A)
    after = cards()
    assert [sid for sid in before if after[sid] is before[sid]] == [sid for sid in before if sid != opened]
    assert after[opened].status_label.text() == "In review"
    assert list(after) == w.queue.visible_study_ids() == [s["id"] for s in w.queue.studies]

    reordered = list(reversed(w.queue.studies))
    w.queue.set_studies(reordered)
    assert w.queue.visible_study_ids() == [s["id"] for s in reordered]
    assert all(cards()[sid] is not after[sid] for sid in after)
    assert w.queue.current_study_id() == opened
    texts = " ".join(l.text() for l in cards()[reordered[0]["id"]].findChildren(QLabel))
    assert reordered[0]["patient"]["name"].split("^")[0] in texts


def test_loading_many_images_keeps_a_bounded_number_of_connections(review_home, make_window, qtbot):
    """Pixels load on Qt's threads, where Python's thread-local state does not outlive a job:
    each load once opened (and kept) one more SQLite connection — hundreds a day."""
    w = make_window(review_home)
    ids = [r[0] for r in w.db_handle.query("SELECT id FROM images WHERE state NOT IN ('duplicate','quarantined')")]
    w.pixels._size = 1  # no cache hits: every request is a load on the pool
    for i in range(60):
        w.pixels.request(ids[i % len(ids)])
        # not pixels.wait(): QThreadPool.waitForDone ends the pool's threads, and whether the next
        # ones reuse a thread id (and so the connection) varied from run to run
        qtbot.waitUntil(lambda: not w.pixels._pending, timeout=10_000)
    # the GUI thread, the pixel pool, and the study panels' own pools (chart context, priors, …)
    panel_threads = sum(p.pool.maxThreadCount() for p in w.panels if hasattr(p, "pool"))
    assert w.db_handle.connection_count() <= 1 + w.pixels.pool.maxThreadCount() + panel_threads


def test_cards_rebuilt_while_the_window_shows_get_their_full_height(review_home, make_window):
    """After a review action reorders the queue, every card is built again: measured before it
    sat in the list (without the window's style sheet) its last line was cut off."""
    w = make_window(review_home)
    w.show()
    QApplication.processEvents()
    w.queue.set_studies(list(reversed(w.queue.studies)))
    QApplication.processEvents()
    for i in range(w.queue.list.count()):
        item = w.queue.list.item(i)
        card = w.queue.list.itemWidget(item)
        assert item.sizeHint().height() >= card.heightForWidth(card.width()) > 0
