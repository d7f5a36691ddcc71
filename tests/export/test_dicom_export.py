"""Results to a PACS by C-STORE through the outbox, against a real pynetdicom Storage SCP:
delivered once, a PACS that is down waits with backoff, an unknown outcome is re-sent as the
same SOP instance, AE-title and status refusals become plain reasons; the doctor's C-ECHO."""

from __future__ import annotations

import pytest
from pydicom import dcmread

from tray_app.export import dicom_results as dr
from tray_app.export.doctor import run_checks
from tray_app.export.job import Job
from tray_app.export.outbox import Outbox
from tray_app.store.reports import Patient, Report
from tray_app.settings.export import DicomDestConfig, ExportConfig, RetryConfig

from .pacs import GSPS, SC, FakePACS, free_port


def dicom_config(port, **kw) -> ExportConfig:
    opts = dict(host="127.0.0.1", port=port, called_ae="PACS", calling_ae="DENTALBRIDGE", connect_timeout=2.0,
                timeout=5.0)
    opts.update(kw)
    return ExportConfig(destinations=["dicom"], dicom=DicomDestConfig(**opts),
                        retry=RetryConfig(backoff_base_seconds=1.0, backoff_max_seconds=8.0, lease_seconds=30.0))


@pytest.fixture
def pacs():
    servers = []

    def make(**kw):
        server = FakePACS(**kw).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


def expected_uids(ws, key, kinds=("gsps",)):
    report = ws.db.one("SELECT snapshot, sha256 FROM reports WHERE study_id=?", (ws.studies[key],))

    snap = Report.from_json(report["snapshot"])
    return {dr.instance_uid(report["sha256"], im["id"], k) for im in snap.images_to_render() for k in kinds}


def parts(ws, key):
    return {r["part"]: dict(r) for r in ws.db.query(
        "SELECT p.* FROM export_parts p JOIN outbox o ON o.id=p.outbox_id WHERE o.study_id=?", (ws.studies[key],))}


def test_signed_study_is_delivered_once_through_the_outbox(workspace, pacs, clock):
    ws = workspace
    server = pacs()
    ws.sign("B", destinations=("dicom",))
    cfg = dicom_config(server.port, send_sc=True)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    want = expected_uids(ws, "B", ("gsps", "sc"))
    assert len(want) == 4 and set(server.instances) == want and len(server.received) == 4
    kinds = sorted(str(ds.SOPClassUID) for ds in server.received)
    assert kinds == sorted([GSPS, GSPS, SC, SC])
    originals = {str(dcmread(row["path"], stop_before_pixels=True).SOPInstanceUID) for row in ws.db.query(
        "SELECT path FROM images WHERE study_id=?", (ws.studies["B"],))}
    referenced = {ds.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID
                  for ds in server.received if ds.SOPClassUID == GSPS}
    assert referenced == originals
    assert {p["state"] for p in parts(ws, "B").values()} == {"done"}
    assert r["summary"]["sent"] and not r["summary"]["not_sent"]
    assert ws.db.one("SELECT status FROM studies WHERE id=?", (ws.studies["B"],))["status"] == "exported"
    # drained again: nothing is due and nothing more is sent
    assert Outbox(ws.db, cfg, clock=clock).drain_once(ignore_backoff=True) == []
    assert len(server.received) == 4


def test_pacs_down_waits_then_delivers_once(workspace, pacs, clock):
    ws = workspace
    port = free_port()
    ws.sign("B", destinations=("dicom",))
    cfg = dicom_config(port)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "failed" and r["next_attempt_at"]
    assert f"127.0.0.1:{port}" in r["reason"] and "AE title PACS" in r["reason"]
    assert "nothing accepts connections on that port" in r["reason"]
    assert Outbox(ws.db, cfg, clock=clock).drain_once() == []  # backing off
    server = pacs(port=port)
    clock.advance(cfg.retry.backoff_max_seconds)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    assert set(server.instances) == expected_uids(ws, "B") and len(server.received) == 2


def test_unknown_outcome_resends_the_same_instance(workspace, pacs, clock):
    ws = workspace
    server = pacs(abort_after=1)  # stores the first object, then drops the connection unanswered
    ws.sign("B", destinations=("dicom",))
    cfg = dicom_config(server.port)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "failed" and "did not confirm" in r["reason"], r["reason"]
    first = str(server.received[0].SOPInstanceUID)
    [unknown] = [p for p in parts(ws, "B").values() if p["state"] == "sending"]
    assert unknown["target"] == first
    clock.advance(cfg.retry.backoff_max_seconds)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    uids = [str(ds.SOPInstanceUID) for ds in server.received]
    assert uids.count(first) == 2 and len(uids) == 3  # re-sent once, the other image once
    assert set(server.instances) == expected_uids(ws, "B") and len(server.instances) == 2  # nothing doubled
    assert parts(ws, "B")[unknown["part"]]["attempts"] == 2


def test_part_left_sending_by_a_crash_is_resent_with_its_uid(workspace, pacs, clock, monkeypatch):
    ws = workspace
    server = pacs()
    ws.sign("B", destinations=("dicom",))

    class Crash(BaseException):
        pass

    def crash(self, *a, **kw):
        raise Crash()  # the process dies after the PACS stored the first object, before our commit

    cfg = dicom_config(server.port)
    monkeypatch.setattr(Job, "done", crash)
    with pytest.raises(Crash):
        Outbox(ws.db, cfg, clock=clock).drain_once()
    monkeypatch.undo()
    assert len(server.instances) == 1
    clock.advance(cfg.retry.lease_seconds + 1)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    assert len(server.received) == 3 and set(server.instances) == expected_uids(ws, "B")


@pytest.mark.parametrize("pacs_kw,cfg_kw,phrase", [
    ({}, {"called_ae": "WRONGAE"}, "does not answer to the AE title 'WRONGAE': set export.dicom.called_ae"),
    ({"allowed_calling": ["MODALITY"]}, {}, "does not accept our AE title 'DENTALBRIDGE'"),
    ({"classes": (SC,)}, {}, "accepts none of the objects we send (presentation states (GSPS)); turn off "
                             "export.dicom.send_gsps"),
])
def test_refusals_need_a_person(workspace, pacs, clock, pacs_kw, cfg_kw, phrase):
    ws = workspace
    server = pacs(**pacs_kw)
    ws.sign("B", destinations=("dicom",))
    [r] = Outbox(ws.db, dicom_config(server.port, **cfg_kw), clock=clock).drain_once()
    assert r["state"] == "needs_attention" and phrase in r["reason"], r["reason"]
    assert server.received == []
    assert ws.db.one("SELECT status FROM studies WHERE id=?", (ws.studies["B"],))["status"] == "export_failed"


@pytest.mark.parametrize("status,state,phrase", [
    (0xA700, "failed", "out of storage space or resources"),
    (0xC000, "failed", "could not process the presentation state"),
    (0x0122, "needs_attention", "does not support presentation states (GSPS) (status 0x0122)"),
    (0xA900, "needs_attention", "does not match the object type"),
    (0x0106, "needs_attention", "refused the presentation state for image"),
    (0x0110, "failed", "could not process"),
    (0xB000, "done", ""),
])
def test_store_status(workspace, pacs, clock, status, state, phrase):
    ws = workspace
    server = pacs(status=status)
    ws.sign("B", destinations=("dicom",))
    [r] = Outbox(ws.db, dicom_config(server.port), clock=clock).drain_once()
    assert r["state"] == state and phrase in r["reason"], r["reason"]
    if state != "done":
        assert len(server.received) == 1  # stopped at the first refusal
        assert {p["state"] for p in parts(ws, "B").values()} == {"pending"}  # certainly not stored: no resend doubt
        assert bool(r["next_attempt_at"]) == (state == "failed")
    else:
        assert r["summary"]["notes"] and len(server.instances) == 2


def test_raster_images_without_sc_send_nothing_and_say_so(workspace, pacs, clock):
    from .test_dicom_results import set_format

    ws = workspace
    server = pacs()
    for row in ws.db.query("SELECT id FROM images WHERE study_id=?", (ws.studies["B"],)):
        set_format(ws.db, row["id"], "png")
    ws.sign("B", destinations=("dicom",))
    [r] = Outbox(ws.db, dicom_config(server.port), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    assert server.received == [] and len(r["summary"]["not_sent"]) == 2
    assert all("came as a PNG file" in why and "send_sc is off" in why for why in r["summary"]["not_sent"].values())
    # with send_sc the annotated pictures go, filed under the study and patient of the report
    ws.sign("A", destinations=("dicom",))
    for row in ws.db.query("SELECT id FROM images WHERE study_id=?", (ws.studies["A"],)):
        set_format(ws.db, row["id"], "tiff")
    [r] = Outbox(ws.db, dicom_config(server.port, send_sc=True), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    assert {str(ds.SOPClassUID) for ds in server.received} == {SC} and len(server.received) == 2
    assert {ds.PatientID for ds in server.received} == {"1001"}


def test_doctor_echo(pacs):
    server = pacs()
    [check] = [c for c in run_checks(dicom_config(server.port)) if c.name == "DICOM destination (PACS)"]
    assert check.ok and "answers the echo" in check.message and server.echoes == 1
    port = free_port()
    [check] = [c for c in run_checks(dicom_config(port)) if c.name == "DICOM destination (PACS)"]
    assert not check.ok and f"127.0.0.1:{port}" in check.message and "nothing accepts connections" in check.message
    [check] = [c for c in run_checks(dicom_config(server.port, called_ae="WRONGAE"))
               if c.name == "DICOM destination (PACS)"]
    assert not check.ok and "'WRONGAE'" in check.message
    gsps_only = pacs(classes=(GSPS,))
    [check] = [c for c in run_checks(dicom_config(gsps_only.port, send_sc=True))
               if c.name == "DICOM destination (PACS)"]
    assert not check.ok and "does not accept secondary capture images" in check.message
    [check] = [c for c in run_checks(dicom_config(server.port, host="")) if c.name == "DICOM destination (PACS)"]
    assert not check.ok and "settings" in check.message


def test_original_on_an_unreachable_share_waits(workspace, pacs, clock, tmp_path):
    ws = workspace
    server = pacs()
    ws.sign("B", destinations=("dicom",))
    with ws.db.tx() as c:
        c.execute("UPDATE images SET path=? WHERE study_id=?", (str(tmp_path / "offline" / "x.dcm"), ws.studies["B"]))
    [r] = Outbox(ws.db, dicom_config(server.port), clock=clock).drain_once()
    assert r["state"] == "failed" and "cannot be reached" in r["reason"] and r["next_attempt_at"]
    assert server.received == []


# -- identity (issue 22, item 12) -------------------------------------------------------------------
def _swap_original(ws, key, tmp_path, **changes):
    """The original of the study's first image replaced, in place, by an instance with the same
    SOPInstanceUID and size but other header values (e.g. re-sent by a hostile peer)."""
    row = ws.db.one("SELECT id, path FROM images WHERE study_id=? ORDER BY id LIMIT 1", (ws.studies[key],))
    ds = dcmread(row["path"])
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    swapped = tmp_path / "swapped.dcm"
    ds.save_as(swapped)
    with ws.db.tx() as c:
        c.execute("UPDATE images SET path=? WHERE id=?", (str(swapped), row["id"]))
    return row["id"]


def test_a_swapped_original_never_puts_another_identity_into_the_pacs(workspace, pacs, clock, tmp_path):
    """Re-sending the signed study's SOPInstanceUID as "Mallory^Eve" made the GSPS for the PACS
    carry PatientName=Mallory^Eve."""
    ws = workspace
    server = pacs()
    ws.sign("B", destinations=("dicom",))
    image_id = _swap_original(ws, "B", tmp_path, PatientName="Mallory^Eve")
    [r] = Outbox(ws.db, dicom_config(server.port, send_sc=True), clock=clock).drain_once()
    assert r["state"] == "needs_attention", r["reason"]
    assert f"image {image_id}'s original DICOM file was replaced after it was analysed" in r["reason"]
    assert server.received == []  # nothing of the study went out, under either name


def test_results_name_only_the_signed_patient(workspace):
    ws = workspace
    row = ws.db.one("SELECT id FROM images WHERE study_id=? ORDER BY id LIMIT 1", (ws.studies["B"],))
    signed = {"id": "C-77", "id_kind": "chartnumber", "name": "Doe^Jane", "birth_date": "19800101"}
    assert dr.read_source(ws.db, row["id"], patient=Patient(**signed)).dataset is not None
    for other, field in (({"name": "Mallory^Eve"}, "patient name"), ({"id": "C-78"}, "patient ID"),
                         ({"birth_date": "1990-01-01"}, "birth date")):
        src = dr.read_source(ws.db, row["id"], patient=Patient(**{**signed, **other}))
        assert src.changed and src.dataset is None and f"({field} differs)" in src.problem


def test_a_redecode_after_the_purge_checks_the_original(workspace, clock, tmp_path):
    """The PDF/review re-decode after a retention purge read whatever file lay at the path."""
    from tray_app.settings.export import FolderConfig
    from tray_app.intake.errors import OriginalChanged
    from tray_app.review.api import image_pixels

    ws = workspace
    ws.sign("B", destinations=("folder",))
    row = ws.db.one("SELECT id, path FROM images WHERE study_id=? ORDER BY id LIMIT 1", (ws.studies["B"],))
    with ws.db.tx() as c:  # what retention does: the cached pixels are gone
        c.execute("UPDATE images SET cache_path='' WHERE study_id=?", (ws.studies["B"],))
    assert image_pixels(ws.db, row["id"]).ndim == 2  # the unchanged original decodes again
    image_id = _swap_original(ws, "B", tmp_path, PatientName="Mallory^Eve")
    with pytest.raises(OriginalChanged, match="replaced after it was analysed"):
        image_pixels(ws.db, image_id)
    (tmp_path / "drop").mkdir()
    cfg = ExportConfig(destinations=["folder"], folder=FolderConfig(path=str(tmp_path / "drop")))
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "needs_attention" and "replaced after it was analysed" in r["reason"]
    assert list((tmp_path / "drop").rglob("*.*")) == []  # nothing written to the chart's drop folder
