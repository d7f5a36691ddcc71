"""Sign-off confirms treatment codes (issue 19 item 3): nothing is ticked for the dentist, a changed
code counts as confirmed, a malformed one stops the signature, and only ticked codes are frozen."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tray_app.store.db import Database
from tray_app.store.reports import Report
from ui_home import DENTIST


def _report(paths, study_id):
    db = Database(paths.database)
    try:
        return Report.from_json(db.one("SELECT snapshot FROM reports WHERE study_id=?", (study_id,))["snapshot"])
    finally:
        db.close()


def test_the_dentist_ticks_or_changes_each_code_and_only_those_are_signed(review_home, make_window):
    w = make_window(review_home)
    sid, image = w.study["id"], w.study["images"][0]["id"]
    caries = w.api.add(image, "caries", (10, 10, 40, 40), tooth_fdi=36, surfaces="MO")
    pa = w.api.add(image, "periapical_radiolucency", (50, 50, 80, 80), tooth_fdi=11)
    dlg = w.open_sign_dialog()
    rows = {fid: (tick, code) for fid, tick, code in dlg.codes.rows}
    assert {caries, pa} <= set(rows) and dlg.codes.isVisibleTo(dlg)
    assert not any(tick.isChecked() for tick, _ in rows.values())  # nothing confirmed for the dentist
    assert rows[caries][1].text() == "D2392" and rows[pa][1].text() == ""  # no single code for an endo evaluation
    assert "#19 MO caries" in rows[caries][0].text()
    heading = dlg.codes.findChildren(type(dlg.message))[0].text()
    assert "charting them as planned treatment is off" in heading  # Open Dental procedures are off by default
    rows[pa][1].setText("X33")
    rows[pa][1].textEdited.emit("X33")  # as typed: a changed code is a confirmed one
    assert rows[pa][0].isChecked()
    dlg.clinician.setCurrentIndex(dlg.clinician.findText(DENTIST[0], Qt.MatchFlag.MatchStartsWith))
    dlg.pin.setText(DENTIST[2])
    dlg.sign_btn.click()
    assert "X33 is not a CDT code" in dlg.message.text() and dlg.isVisible()
    rows[pa][1].setText("D3330")
    rows[caries][0].setChecked(True)
    dlg.sign_btn.click()
    assert not dlg.isVisible(), dlg.message.text()
    assert _report(review_home, sid).confirmed_codes == [{"finding_id": caries, "code": "D2392"},
                                                         {"finding_id": pa, "code": "D3330"}]
