"""DICOM push: a modality sends C-ECHO and C-STOREs to the receiver; every instance lands in
the queue once; a disallowed calling AE title is rejected."""

import os
import shutil
import socket
import subprocess

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from samples import write_dicom
from service_helpers import fast_config, home_paths, wait_for
from tray_app.app import Service
from tray_app.settings.dicom import ScpConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiving_service(home, tmp_path):
    cfg = fast_config()
    cfg.dicom = ScpConfig(enabled=True, ae_title="DENTALBRIDGE", port=_free_port(), allowed_calling_aes=["SENSOR1"])
    s = Service(cfg, home_paths())
    s.start()
    yield s
    s.stop()


def _send(port, files, calling="SENSOR1"):
    ae = AE(ae_title=calling)
    datasets = [dcmread(f) for f in files]
    for ds in datasets:
        ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", port, ae_title="DENTALBRIDGE")
    if not assoc.is_established:
        return None
    try:
        statuses = [assoc.send_c_echo().Status] + [assoc.send_c_store(ds).Status for ds in datasets]
    finally:
        assoc.release()
    return statuses


def test_pushed_images_are_queued_once_and_strangers_rejected(receiving_service, tmp_path):
    s = receiving_service
    port = s.config.dicom.port
    io = write_dicom(tmp_path / "io.dcm", seed=3, teeth=[14, 15, 16, 44, 45, 46])
    jpeg_lossless = get_testdata_file("SC_rgb_jpeg_gdcm.dcm", download=False)  # JPEG Lossless SV1
    assert _send(port, [io, jpeg_lossless]) == [0, 0, 0]
    wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 2, 30,
             message="both pushed images analysed")
    assert _send(port, [io]) == [0, 0]  # the modality resends: accepted, and recorded as a duplicate
    wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='duplicate'")[0] == 1, 30,
             message="the resend recognised")
    assert s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 2
    assert _send(port, [io], calling="STRANGER") is None  # association rejected
    assert s.scp.stored == 3


@pytest.mark.skipif(shutil.which("storescu") is None, reason="DCMTK storescu not installed")
def test_dcmtk_storescu_and_echoscu(receiving_service, tmp_path):
    s = receiving_service
    port = str(s.config.dicom.port)
    f = write_dicom(tmp_path / "dcmtk.dcm", seed=8)
    echo = subprocess.run(["echoscu", "-aet", "SENSOR1", "-aec", "DENTALBRIDGE", "127.0.0.1", port],
                          capture_output=True, text=True, timeout=30)
    assert echo.returncode == 0, echo.stderr
    store = subprocess.run(["storescu", "-aet", "SENSOR1", "-aec", "DENTALBRIDGE", "127.0.0.1", port, str(f)],
                           capture_output=True, text=True, timeout=30)
    assert store.returncode == 0, store.stderr
    wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 1, 30,
             message="the DCMTK-sent image analysed")
    refused = subprocess.run(["echoscu", "-aet", "STRANGER", "-aec", "DENTALBRIDGE", "127.0.0.1", port],
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0


def test_killing_the_receiver_mid_transfer_loses_and_doubles_nothing(home, tmp_path):
    """The sender only gets "success" for what is on disk; after a kill -9, a restart and a
    resend of everything, each instance is analysed exactly once."""
    import os
    import signal
    import sys

    from service_helpers import starts_logged, wait_started
    from tray_app.store import Database

    paths = home_paths()
    cfg = fast_config()
    port = _free_port()
    cfg.dicom = ScpConfig(enabled=True, ae_title="DENTALBRIDGE", port=port, allowed_calling_aes=["SENSOR1"])
    cfg.save(paths.config_file)
    files = [write_dicom(tmp_path / f"s{i}.dcm", seed=i, shape=(400, 600)) for i in range(12)]
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    log_file = paths.log_dir / "dental-bridge.log"

    def start():
        before = starts_logged(log_file)
        err = tmp_path / f"service-{before}.err"
        with open(err, "wb") as stderr:
            proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_started(log_file, before, proc)
        except AssertionError as exc:  # say why: the service's own last words
            raise AssertionError(f"{exc}\n{err.read_text(errors='replace')[-3000:]}") from None
        wait_for(lambda: "DICOM receiver listening" in log_file.read_text(errors="replace"), 30,
                 message="the receiver to listen")
        return proc

    proc = start()
    ae = AE(ae_title="SENSOR1")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.1.3", "1.2.840.10008.1.2.1")
    acknowledged = set()
    assoc = ae.associate("127.0.0.1", port, ae_title="DENTALBRIDGE")
    assert assoc.is_established
    for i, f in enumerate(files):
        if i == 5:
            proc.send_signal(signal.SIGKILL)  # mid-transfer
            proc.wait(timeout=10)
        try:
            status = assoc.send_c_store(dcmread(f)) if assoc.is_established else None
        except RuntimeError:  # the kill's abort arrived between the check and the send
            status = None
        if status is not None and getattr(status, "Status", None) == 0:
            acknowledged.add(i)
    if assoc.is_established:
        assoc.release()
    assert acknowledged == set(range(5))  # no success for anything sent after the kill

    proc = start()
    try:
        assert _send(port, files)[1:] == [0] * len(files)  # the modality resends the whole study
        db = Database(paths.database)
        wait_for(lambda: db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 12, 60,
                 message="all 12 instances analysed")
        sops = db.query("SELECT sop_uid, COUNT(*) n FROM images WHERE state='analyzed' GROUP BY sop_uid")
        assert len(sops) == 12 and {r["n"] for r in sops} == {1}
        db.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_doctor_checks_the_receiver_port(receiving_service):
    from tray_app.doctor.core import check_receiver, core_checks

    cfg = receiving_service.config.dicom
    ok, message = check_receiver(cfg)
    assert ok and "answers C-ECHO" in message  # our own running receiver holds the port
    [check] = [c for c in core_checks(home_paths(), receiving_service.config) if c.name == "DICOM receiver"]
    assert check.ok

    with socket.socket() as squatter:  # another program on a port, not speaking DICOM
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = ScpConfig(enabled=True, port=squatter.getsockname()[1])
        ok, message = check_receiver(taken)
        assert not ok and "taken by another program" in message and "Settings → DICOM" in message
    free = ScpConfig(enabled=True, port=_free_port())
    ok, message = check_receiver(free)
    assert ok and "is free" in message


def test_receiver_that_cannot_listen_is_a_tray_problem(home, tmp_path):
    from tray_app.ui.tray_state import compute

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        cfg = fast_config()
        cfg.dicom = ScpConfig(enabled=True, port=squatter.getsockname()[1])
        s = Service(cfg, home_paths())
        s.start()
        try:
            assert f"port {cfg.dicom.port}" in s.problem and not s.scp.running
            state = compute(s.db.conn(), problem=s.problem)
            assert state.state == "waiting_for_share" and "cannot listen" in state.tooltip
        finally:
            s.stop()


def test_receiver_settings_are_checked_only_when_it_is_on():
    assert ScpConfig(enabled=False, ae_title="", port=0).validate() == []
    errors = ScpConfig(enabled=True, ae_title="BAD\\AE", port=70000, allowed_calling_aes=["x" * 17]).validate()
    assert len(errors) == 3 and "no backslash" in errors[0] and "65535" in errors[1] and "1 to 16" in errors[2]


def test_a_receiver_problem_outlives_the_next_image(home, export_dir):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        cfg = fast_config(export_dir)
        cfg.dicom = ScpConfig(enabled=True, port=squatter.getsockname()[1])
        s = Service(cfg, home_paths())
        s.start()
        try:
            write_dicom(export_dir / "a.dcm", patient_id="P1")
            wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 1, 30,
                     message="the image analysed")
            assert "cannot listen" in s.problem  # an analysed image does not clear the port problem
        finally:
            s.stop()


# -- a hostile peer (issue 22, items 10-11) -------------------------------------------------------
def _dataset(tmp_path, sop_uid, seed=1, shape=None, **kw):
    f = write_dicom(tmp_path / f"odd{seed}.dcm", seed=seed, shape=shape, **kw)
    ds = dcmread(f)
    if sop_uid is not None:
        ds.SOPInstanceUID = sop_uid
        ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    return ds


def _store_all(port, datasets, calling="SENSOR1"):
    ae = AE(ae_title=calling)
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.1.3", "1.2.840.10008.1.2.1")
    assoc = ae.associate("127.0.0.1", port, ae_title="DENTALBRIDGE")
    assert assoc.is_established
    try:
        out = []
        for ds in datasets:
            status = assoc.send_c_store(ds) if assoc.is_established else None
            out.append(getattr(status, "Status", None) if status else None)
        return out
    finally:
        if assoc.is_established:
            assoc.release()


def _inbox(s):
    return sorted(p.name for p in s.scp.inbox.iterdir())


def test_odd_uids_are_refused_and_nothing_is_overwritten(receiving_service, tmp_path, caplog):
    """'XYZ' and 'ABC' both became instance.dcm (the second overwrote the first, both got
    success); '...' and 'ABC.DEF' became hidden names intake never reads — all answered success."""
    import logging

    s = receiving_service
    caplog.set_level(logging.INFO, logger="tray_app.sources.dicom_scp")
    odd = [_dataset(tmp_path, uid, seed=i) for i, uid in enumerate(["XYZ", "ABC", "...", "ABC.DEF", "1.2.03"])]
    assert _store_all(s.config.dicom.port, odd) == [0xA900] * 5
    assert _inbox(s) == []
    good = _dataset(tmp_path, "1.2.826.0.1.3680043.8.498.1", seed=7)
    assert _store_all(s.config.dicom.port, [good, good]) == [0, 0]  # a resend is its own file
    names = _inbox(s)
    assert len(names) == 2 and all(n.endswith(".dcm") and not n.startswith(".") for n in names)
    assert len({n.split("-")[0] for n in names}) == 1  # named from the UID's hash, unique suffix
    wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state IN ('analyzed','duplicate')")[0] == 2, 30,
             message="both copies read by intake")
    assert s.db.one("SELECT COUNT(*) FROM images WHERE state='duplicate'")[0] == 1
    log_text = caplog.text
    assert "127.0.0.1" in log_text and "SENSOR1" in log_text and "SOP Instance UID is not a valid UID" in log_text
    assert "Doe" not in log_text and "Jane" not in log_text  # no patient data in the log


def test_an_oversize_instance_is_cut_off_and_the_receiver_goes_on(home, tmp_path, monkeypatch):
    """A 300 MiB instance took the receiver to 672 MiB; nothing capped it."""
    import tempfile

    receiving = tmp_path / "receiving"  # where pynetdicom puts instances while they arrive
    receiving.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(receiving))
    cfg = fast_config(max_file_mb=1)
    cfg.dicom = ScpConfig(enabled=True, port=_free_port(), allowed_calling_aes=["SENSOR1"])
    s = Service(cfg, home_paths())
    s.start()
    try:
        big = _dataset(tmp_path, None, seed=2, shape=(1200, 1000))  # 2.4 MB of pixels
        assert _store_all(cfg.dicom.port, [big]) == [None]  # aborted mid-transfer: no success
        assert _inbox(s) == []
        wait_for(lambda: not os.listdir(receiving), 10, message="the partial temporary file removed")
        small = _dataset(tmp_path, None, seed=3)
        assert _store_all(cfg.dicom.port, [small]) == [0]  # the next sender is served
        assert len(_inbox(s)) == 1
    finally:
        s.stop()


def test_a_nearly_full_disk_refuses_with_out_of_resources(receiving_service, tmp_path, monkeypatch):
    from collections import namedtuple

    from tray_app.sources import dicom_scp

    real_usage = dicom_scp.shutil.disk_usage
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(dicom_scp.shutil, "disk_usage", lambda p: usage(10 << 30, (10 << 30) - (100 << 20), 100 << 20))
    s = receiving_service
    assert _store_all(s.config.dicom.port, [_dataset(tmp_path, None, seed=4)]) == [0xA700]  # sender keeps it, retries
    assert _inbox(s) == []
    monkeypatch.setattr(dicom_scp.shutil, "disk_usage", real_usage)
    assert _store_all(s.config.dicom.port, [_dataset(tmp_path, None, seed=4)]) == [0]


def test_one_peer_cannot_hold_every_association(receiving_service):
    """Ten held associations locked everyone else out."""
    s = receiving_service
    ae = AE(ae_title="SENSOR1")
    ae.add_requested_context(Verification)
    held = [ae.associate("127.0.0.1", s.config.dicom.port, ae_title="DENTALBRIDGE") for _ in range(4)]
    try:
        assert all(a.is_established for a in held)
        extra = ae.associate("127.0.0.1", s.config.dicom.port, ae_title="DENTALBRIDGE")
        assert extra.is_rejected and not extra.is_established
        held[0].release()
        wait_for(lambda: _echo_ok(ae, s.config.dicom.port), 10, message="a freed slot is usable again")
    finally:
        for a in held:
            if a.is_established:
                a.release()


def _echo_ok(ae, port) -> bool:
    assoc = ae.associate("127.0.0.1", port, ae_title="DENTALBRIDGE")
    if not assoc.is_established:
        return False
    try:
        return assoc.send_c_echo().Status == 0
    finally:
        assoc.release()
