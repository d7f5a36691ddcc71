"""A group of practices with Orthanc as the DICOM router in front of a site's bridge
(docs/deployment.md), with a real Orthanc: the site's imaging software pushes a study to
Orthanc, Orthanc's auto-routing script (docs/orthanc/route-to-bridge.lua) forwards it to the
bridge's DICOM receiver, the bridge analyses it, a dentist signs, and the bridge's DICOM
destination stores the presentation states in Orthanc, each referencing its original image."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydicom import dcmread
from pynetdicom import AE

from export.pacs import GSPS, free_port
from orthanc import BINARY, MISSING, Orthanc
from service_helpers import fast_config, home_paths, wait_for
from tray_app.app import Service
from tray_app.config import Config
from tray_app.demo.synth import generate_sample
from tray_app.demo.writers import write_dicom
from tray_app.review.api import ReviewAPI
from tray_app.review.clinicians import add_clinician

pytestmark = pytest.mark.skipif(BINARY is None, reason=MISSING)

ROUTE_SCRIPT = Path(__file__).parents[1] / "docs" / "orthanc" / "route-to-bridge.lua"
PATIENT = dict(patient_id="GRP-4711", patient_name="Routed^Rita", birth_date="19750312")
STUDY_UID = "1.2.826.0.1.3680043.8.498.4711"
PIN = "246813"


def orthanc_config(dicom_port: int, http_port: int, bridge_port: int) -> dict:
    """The router's orthanc.json as docs/deployment.md gives it (ports and paths are the test's)."""
    return {
        "Name": "group-router",
        "DicomAet": "ORTHANC",
        "DicomPort": dicom_port,
        "HttpPort": http_port,
        "DicomCheckCalledAet": True,
        "DicomAlwaysAllowStore": False,  # only the senders listed below may store
        "DicomCheckModalityHost": True,
        "DicomModalities": {
            "site1-sensor": {"AET": "SITE1_SENSOR", "Host": "127.0.0.1", "Port": 104, "AllowStore": True},
            "site1-bridge": {"AET": "BRIDGE_SITE1", "Host": "127.0.0.1", "Port": bridge_port, "AllowStore": True},
        },
        "LuaScripts": [str(ROUTE_SCRIPT)],
        "DentalBridgeRoutes": {"SITE1_SENSOR": "site1-bridge"},
    }


def bridge_settings(bridge_port: int, orthanc_dicom_port: int) -> str:
    """The site bridge's config.toml sections as docs/deployment.md gives them."""
    return f"""
[dicom]
enabled = true
ae_title = "BRIDGE_SITE1"
port = {bridge_port}
bind_address = "127.0.0.1"
allowed_calling_aes = ["ORTHANC"]

[export]
destinations = ["dicom"]

[export.dicom]
host = "127.0.0.1"
port = {orthanc_dicom_port}
called_ae = "ORTHANC"
calling_ae = "BRIDGE_SITE1"
send_gsps = true
send_sc = false
"""


def push(port: int, files, calling: str) -> list[int]:
    """The site's imaging software sending a study to Orthanc by C-STORE."""
    ae = AE(ae_title=calling)
    datasets = [dcmread(f) for f in files]
    for ds in datasets:
        ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="ORTHANC")
    assert assoc.is_established, "Orthanc refused the sensor's association"
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in datasets]
    finally:
        assoc.release()


def waiting(predicate, what: str, details) -> None:
    """wait_for, saying on a timeout what the parts had to say by then."""
    try:
        wait_for(predicate, 60, message=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{details()}") from None


@pytest.fixture
def router(tmp_path):
    ports = {"dicom_port": free_port(), "http_port": free_port(), "bridge_port": free_port()}
    server = Orthanc(tmp_path / "orthanc", orthanc_config(**ports))
    server.ports = ports
    yield server
    server.stop()


def test_study_routed_through_orthanc_comes_back_as_presentation_states(home, tmp_path, router, caplog):
    caplog.set_level(logging.INFO)
    bridge_port, orthanc_port = router.ports["bridge_port"], router.ports["dicom_port"]
    paths = home_paths()
    paths.config_file.write_text(bridge_settings(bridge_port, orthanc_port), encoding="utf-8")
    cfg = Config.load(paths.config_file)
    assert cfg.dicom.ae_title == cfg.export.dicom.calling_ae == "BRIDGE_SITE1" and cfg.export.destinations == ["dicom"]
    cfg.intake = fast_config().intake  # settle quickly; nothing else differs from the documented settings
    svc = Service(cfg, paths)
    svc.start()
    try:
        router.start()
        files, originals = [], set()
        for n, seed in enumerate((11, 12), start=1):
            f = tmp_path / f"bw{n}.dcm"
            originals.add(write_dicom(generate_sample("bitewing", seed), f, study_uid=STUDY_UID, instance_number=n,
                                      **PATIENT))
            files.append(f)

        router.post("/modalities/site1-bridge/echo", {})  # Orthanc's connection test of the bridge answers

        # 1. the sensor pushes to Orthanc; the routing script forwards to the site's bridge
        assert push(orthanc_port, files, "SITE1_SENSOR") == [0, 0]
        waiting(lambda: svc.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 2,
                "the routed images analysed", lambda: f"Orthanc's log:\n{router.log_tail()}")
        [study] = svc.db.query("SELECT id, study_uid FROM studies")
        assert study["study_uid"] == STUDY_UID
        assert {router.origin(i)["RemoteAET"] for i in router.find_instances(Modality="IO")} == {"SITE1_SENSOR"}

        # 2. the dentist signs; the bridge's DICOM destination stores the GSPS in Orthanc
        dentist = add_clinician(svc.db, "Dr Route", "dentist", PIN)
        api = ReviewAPI(svc.db, cfg)
        accepted = [r["id"] for r in svc.db.query("SELECT id FROM findings WHERE study_id=?", (study["id"],))]
        assert accepted, "the stub model finds something on every image"
        api.sign(study["id"], dentist, PIN, accept=accepted)
        svc.exporter.wake()

        def outbox_row():
            return svc.db.one("SELECT state, reason FROM outbox WHERE study_id=?", (study["id"],))

        waiting(lambda: outbox_row()["state"] == "done", "the export to Orthanc",
                lambda: f"outbox: {dict(outbox_row())}\nOrthanc's log:\n{router.log_tail()}")
        states = router.find_instances(Modality="PR")
        assert len(states) == 2
        referenced = set()
        for instance in states:
            tags = router.tags(instance)
            assert tags["SOPClassUID"] == GSPS and tags["StudyInstanceUID"] == STUDY_UID
            assert tags["PatientID"] == PATIENT["patient_id"]
            [series] = tags["ReferencedSeriesSequence"]
            [image] = series["ReferencedImageSequence"]
            referenced.add(image["ReferencedSOPInstanceUID"])
            assert router.origin(instance)["RemoteAET"] == "BRIDGE_SITE1"
        assert referenced == originals
        assert svc.db.one("SELECT status FROM studies WHERE id=?", (study["id"],))["status"] == "exported"

        # 3. a forward that did not arrive is sent again by one REST call (docs/deployment.md); the
        #    bridge recognises what it already has and refuses the presentation states it sent
        [orthanc_study] = router.get("/studies")
        router.post("/modalities/site1-bridge/store",
                    {"Resources": [orthanc_study], "Synchronous": True, "Permissive": True})
        waiting(lambda: svc.db.one("SELECT COUNT(*) FROM images WHERE state='duplicate'")[0] == 2,
                "the resent images recognised as duplicates", router.log_tail)
        assert svc.db.one("SELECT COUNT(*) FROM images WHERE state!='duplicate'")[0] == 2

        # 4. the presentation states are not routed back to the bridge (its AE title is no route):
        #    the routing script queued one send per routed original and nothing more
        lua = [j for j in router.get("/jobs?expand") if j["Content"].get("Description") == "Lua"]
        assert sum(j["Content"]["CountOperations"] for j in lua) == 2
        assert svc.scp.stored == 4  # two routed, two resent
    finally:
        svc.stop()
        router.stop()
    for text in (caplog.text, router.log_tail(10**7)):
        for value in PATIENT.values():
            assert value not in text and value.replace("^", " ") not in text
