"""The quality step in a real service: an image with a cone cut arrives, and its advice is in the
store, the audit, the review queue (which the hub serves to the operatories) and the tray."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from tray_app.app import Service
from tray_app.config import Paths
from tray_app.demo import defects, synth
from tray_app.demo.writers import write_dicom
from tray_app.store import audit, quality
from tray_app.store.studies import queue
from tray_app.ui import client_state, tray_state

from service_helpers import fast_config


def write(sample, image, path, n):
    s = dataclasses.replace(sample, image=image, bits_stored=8)
    write_dicom(s, path, patient_id="Q1", patient_name="DOE^JANE", birth_date="19800101",
                study_uid="1.2.826.0.1.3680043.9.7777.1", instance_number=n)


def test_a_cone_cut_reaches_the_store_the_audit_the_queue_and_the_tray(tmp_path, monkeypatch):
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(tmp_path / "home"))
    paths = Paths.resolve().ensure()
    export = tmp_path / "export"
    export.mkdir()
    s = synth.generate_sample("bitewing", 31, view="right molar")
    clean = synth.to_uint8(s)
    write(s, clean, export / "clean.dcm", 1)
    service = Service(fast_config(export), paths)
    try:
        service.run_once()
        conn = service.db.conn()
        before = tray_state.compute(conn)
        assert before.advice == ()
        notifier = tray_state.Notifier()
        notifier.update(before)
        write(s, defects.cone_cut(clean, np.random.default_rng(31)), export / "cut.dcm", 2)
        service.run_once()
        (study,) = queue(service.db)
        by_name = {im["path"].rsplit("/", 1)[-1]: im for im in study["images"]}
        assert by_name["clean.dcm"]["quality"] == []
        (issue,) = by_name["cut.dcm"]["quality"]
        assert issue["check"] == "cone_cut" and issue["sentence"].startswith("Cone cut on the ")
        assert study["quality_set"] is None  # the same view twice is a retake, not a set missing its left side
        entry = conn.execute("SELECT subject, data FROM audit WHERE event='quality_advice'").fetchone()
        assert entry["subject"] == f"image:{by_name['cut.dcm']['id']}" and "cone_cut" in json.loads(entry["data"])["issues"]
        after = tray_state.compute(conn)
        assert "1 retake advised" in after.tooltip
        (note,) = notifier.update(after)
        assert (note.title, note.message) == ("Retake advised", issue["sentence"])
        assert notifier.update(tray_state.compute(conn)) == []  # said once
        # an operatory PC's tray reads the same advice from the hub's queue
        assert client_state.from_queue([study]).advice == after.advice
    finally:
        service.stop()


def test_retake_advice_is_not_held_back_by_a_notification_just_shown():
    clock = [100.0]
    notifier = tray_state.Notifier(tray_state.RateLimiter(clock=lambda: clock[0]))
    notifier.update(tray_state.TrayState("watching", ""))
    urgent = tray_state.TrayState("urgent", "", urgent_ids=frozenset({1}))
    assert [n.kind for n in notifier.update(urgent)] == ["urgent"]
    clock[0] += 1
    advice = dataclasses.replace(urgent, advice=(("image:7:cone_cut", "Cone cut on the top: …"),
                                                 ("image:8:exposure", "Overexposed: …")))
    (note,) = notifier.update(advice)
    assert note.kind == "retake" and note.message == "Cone cut on the top: … (+1 more: see the review window)"
