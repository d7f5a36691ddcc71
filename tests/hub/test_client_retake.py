"""An operatory PC's tray hears the hub's retake advice as it is recorded: the client's tray
follows the hub's changes (no timer poll in this test), and the advice comes with the queue."""

from __future__ import annotations

import dataclasses

import numpy as np

from tray_app.demo import defects, synth
from tray_app.demo.writers import write_dicom
from tray_app.hub.client import HubClient

from .test_client_mode import client_shell  # noqa: F401 — the fixture


def test_the_client_tray_announces_the_hubs_retake_advice(hub, export_dir, capsys, qtbot, client_shell):  # noqa: F811
    with HubClient(hub.url, hub.fingerprint, token="") as c:
        c.pair(hub.pairing_code(capsys), "Operatory 2")
    shell = client_shell(hub.url, hub.fingerprint)  # poll_ms=0: only the hub's change feed makes it poll again
    qtbot.waitUntil(lambda: shell.state is not None, timeout=15000)
    before = dict(shell.state.advice)  # the fixture's plain test images may carry advice of their own
    s = synth.generate_sample("periapical", 33)
    cut = dataclasses.replace(s, image=defects.cone_cut(synth.to_uint8(s), np.random.default_rng(33)), bits_stored=8)
    write_dicom(cut, export_dir / "cut.dcm", patient_id="R9", patient_name="ROE^RITA", birth_date="19700101")
    qtbot.waitUntil(lambda: any(t == "Retake advised" for t, _ in shell.tray.notifications), timeout=60000)
    (message,) = [m for t, m in shell.tray.notifications if t == "Retake advised"]
    assert "Cone cut on the " in message and "ROE" not in message
    new = {k: v for k, v in shell.state.advice if k not in before}
    assert any(v.startswith("Cone cut on the ") for v in new.values())

