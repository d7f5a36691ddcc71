"""DICOM results built for a signed study: the GSPS is valid DICOM read back with pydicom,
references the original image, keeps every graphic inside the image; the Secondary Capture
carries the study; UIDs and bytes are the same on every build. Plus the [export.dicom] settings."""

from __future__ import annotations

import io
from dataclasses import replace
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread

from tray_app.export import dicom_results as dr
from tray_app.export.render import finding_text
from tray_app.store.reports import Report, Signer
from tray_app.settings.export import DicomDestConfig, ExportConfig, ExportConfigError


def signed(ws, key="B"):
    ws.sign(key, destinations=())
    report = ws.db.one("SELECT snapshot, sha256 FROM reports WHERE study_id=?", (ws.studies[key],))
    return Report.from_json(report["snapshot"]), report["sha256"]


def read_back(ds):
    return dcmread(io.BytesIO(dr.encode(ds)))


def points(graphic) -> np.ndarray:
    return np.asarray(graphic.GraphicData, dtype=float).reshape(-1, 2)


def all_objects(gsps, seq: str) -> list:
    return [obj for ann in gsps.GraphicAnnotationSequence for obj in getattr(ann, seq, [])]


def test_gsps_for_a_signed_study_is_valid_and_references_the_original(workspace):
    ws = workspace
    snap, sha = signed(ws)
    images = snap.images_to_render()
    assert len(images) == 2 and snap.findings
    for im in images:
        src = dr.read_source(ws.db, im["id"])
        assert src.can_gsps, src.problem or src.gsps_problem
        original = dcmread(src.path, stop_before_pixels=True)
        gsps = read_back(dr.build_gsps(snap, im, src, report_sha256=sha))

        assert gsps.SOPClassUID == dr.GSPS_CLASS and gsps.Modality == "PR"
        assert gsps.file_meta.MediaStorageSOPClassUID == dr.GSPS_CLASS
        [series] = gsps.ReferencedSeriesSequence
        [ref] = series.ReferencedImageSequence
        assert ref.ReferencedSOPInstanceUID == original.SOPInstanceUID
        assert ref.ReferencedSOPClassUID == original.SOPClassUID
        assert series.SeriesInstanceUID == original.SeriesInstanceUID
        assert gsps.StudyInstanceUID == original.StudyInstanceUID and gsps.PatientID == original.PatientID
        assert gsps.SeriesInstanceUID != original.SeriesInstanceUID
        assert gsps.SOPInstanceUID == dr.instance_uid(sha, im["id"], "gsps")
        for ann in gsps.GraphicAnnotationSequence:
            assert [r.ReferencedSOPInstanceUID for r in ann.ReferencedImageSequence] == [original.SOPInstanceUID]

        cols, rows = int(original.Columns), int(original.Rows)
        graphics = all_objects(gsps, "GraphicObjectSequence")
        texts = all_objects(gsps, "TextObjectSequence")
        mine = [f for f in snap.findings if f["image_id"] == im["id"]]
        assert len(graphics) == len(mine) > 0  # one rectangle per finding
        for g in graphics:
            p = points(g)
            assert g.GraphicType == "POLYLINE" and g.GraphicAnnotationUnits == "PIXEL" and len(p) == 5
            assert (p[0] == p[-1]).all()  # closed
            assert (p[:, 0] >= 0).all() and (p[:, 0] <= cols).all(), p
            assert (p[:, 1] >= 0).all() and (p[:, 1] <= rows).all(), p
        by_group = {g.GraphicGroupID: points(g) for g in graphics}
        for f, gid in zip(mine, sorted(by_group)):
            x1, y1, x2, y2 = dr.clip_box(f, cols, rows)
            assert by_group[gid][:4].tolist() == [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]
        for t in texts:
            for corner in ("BoundingBoxTopLeftHandCorner", "BoundingBoxBottomRightHandCorner", "AnchorPoint"):
                if corner in t:
                    x, y = t[corner].value
                    assert 0 <= x <= cols and 0 <= y <= rows
        labels = sorted(t.UnformattedTextValue for t in texts if "GraphicGroupID" in t)
        assert labels == sorted(finding_text(f) for f in mine)
        banner = [t.UnformattedTextValue for t in texts if "GraphicGroupID" not in t]
        assert banner[0] == "AI-Assisted Preliminary Findings - signed by Dr X, " + banner[0].rsplit(", ", 1)[1]
        assert gsps.ContentLabel == "AI_FINDINGS" and str(gsps.ContentCreatorName) == "Dr X^"
        assert gsps.ContentDescription.startswith("AI-Assisted Preliminary Findings - signed by Dr X")
        assert len(gsps.ContentDescription) <= 64
        assert gsps.Manufacturer == "Dental AI Bridge"
        layers = {layer.GraphicLayer for layer in gsps.GraphicLayerSequence}
        assert {a.GraphicLayer for a in gsps.GraphicAnnotationSequence} <= layers
        # the original has no window: the presentation state brings one from its pixel values
        [voi] = gsps.SoftcopyVOILUTSequence
        assert float(voi.WindowWidth) > 0 and gsps.PresentationLUTShape == "IDENTITY"


def test_builds_are_deterministic_per_report_image_and_kind(workspace):
    ws = workspace
    snap, sha = signed(ws)
    im = snap.images_to_render()[0]
    src = dr.read_source(ws.db, im["id"])
    first = dr.encode(dr.build_gsps(snap, im, src, report_sha256=sha))
    assert dr.encode(dr.build_gsps(snap, im, src, report_sha256=sha)) == first  # a resend is the same instance
    other = dr.build_gsps(snap, im, src, report_sha256="0" * 64)
    assert other.SOPInstanceUID != dcmread(io.BytesIO(first)).SOPInstanceUID
    uids = {dr.instance_uid(sha, i, k) for i in (1, 2) for k in ("gsps", "sc")}
    assert len(uids) == 4 and all(len(u) <= 64 for u in uids)
    assert dr.series_uid(sha, "gsps") != dr.series_uid(sha, "sc") == dr.series_uid(sha, "sc")


def test_boxes_outside_the_image_are_clipped(workspace):
    ws = workspace
    snap, sha = signed(ws)
    im = snap.images_to_render()[0]
    src = dr.read_source(ws.db, im["id"])
    cols, rows = src.width, src.height
    wild = [{"id": 901, "image_id": im["id"], "label": "caries", "x1": -40.0, "y1": -3.5, "x2": cols + 50.0,
             "y2": rows * 2.0, "confidence": 0.9, "source": "model"},
            {"id": 902, "image_id": im["id"], "label": "calculus", "x1": cols - 1.0, "y1": rows - 1.0,
             "x2": cols - 30.0, "y2": rows - 20.0, "confidence": 0.7, "source": "model"}]
    gsps = read_back(dr.build_gsps(replace(snap, findings=wild), im, src, report_sha256=sha))
    graphics = all_objects(gsps, "GraphicObjectSequence")
    assert len(graphics) == 2
    assert points(graphics[0])[:4].tolist() == [[0, 0], [cols, 0], [cols, rows], [0, rows]]
    assert points(graphics[1])[:4].tolist() == [[cols - 30, rows - 20], [cols - 1, rows - 20],
                                                [cols - 1, rows - 1], [cols - 30, rows - 1]]


@pytest.mark.skipif(shutil.which("dcmpschk") is None, reason="DCMTK dcmpschk not installed")
def test_dcmtk_checks_the_presentation_state(workspace, tmp_path):
    ws = workspace
    snap, sha = signed(ws)
    im = snap.images_to_render()[0]
    out = tmp_path / "gsps.dcm"
    out.write_bytes(dr.encode(dr.build_gsps(snap, im, dr.read_source(ws.db, im["id"]), report_sha256=sha)))
    check = subprocess.run(["dcmpschk", str(out)], capture_output=True, text=True, timeout=60)
    assert "Test passed" in check.stdout + check.stderr, check.stdout + check.stderr


def test_unsigned_automated_snapshot_and_non_ascii_signer(workspace):
    ws = workspace
    snap, sha = signed(ws)
    im = snap.images_to_render()[0]
    src = dr.read_source(ws.db, im["id"])
    auto = replace(snap, signer=None, signed_at=None, label="AI-generated, not yet verified",
                   automated={"at": "2026-11-29T10:00:00.000+00:00", "verified": False})
    gsps = read_back(dr.build_gsps(auto, im, src, report_sha256=sha))
    assert gsps.ContentLabel == "AI_UNVERIFIED" and str(gsps.ContentCreatorName) == "AI (unverified)^"
    assert gsps.ContentDescription.startswith("AI-generated, not yet verified")
    assert gsps.PresentationCreationDate == dr._when(auto).strftime("%Y%m%d")
    sc = read_back(dr.build_sc(auto, im, Image.new("RGB", (64, 48)), src, report_sha256=sha, study={}))
    assert sc.ImageComments.startswith("AI-generated, not yet verified")

    zoe = replace(snap, signer=Signer(1, "Dr Zoë Łukasz", "dentist"))
    gsps = read_back(dr.build_gsps(zoe, im, src, report_sha256=sha))
    assert gsps.SpecificCharacterSet == "ISO_IR 192" and str(gsps.ContentCreatorName) == "Dr Zoë Łukasz^"
    assert str(gsps.PatientName) == "Doe^Jane"


def test_secondary_capture_from_dicom_and_from_a_raster_image(workspace):
    ws = workspace
    snap, sha = signed(ws)
    im = snap.images_to_render()[0]
    src = dr.read_source(ws.db, im["id"])
    original = dcmread(src.path, stop_before_pixels=True)
    picture = Image.new("RGB", (120, 90), (200, 10, 10))
    sc = read_back(dr.build_sc(snap, im, picture, src, report_sha256=sha, study=dict(ws.db.one(
        "SELECT * FROM studies WHERE id=?", (ws.studies["B"],)))))
    assert sc.SOPClassUID == dr.SC_CLASS and sc.SOPInstanceUID == dr.instance_uid(sha, im["id"], "sc")
    assert sc.StudyInstanceUID == original.StudyInstanceUID and sc.PatientID == original.PatientID
    assert str(sc.PatientName) == str(original.PatientName) and sc.PatientBirthDate == original.PatientBirthDate
    assert (sc.Rows, sc.Columns, sc.SamplesPerPixel, sc.PhotometricInterpretation) == (90, 120, 3, "RGB")
    assert sc.pixel_array[0, 0].tolist() == [200, 10, 10]
    assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == original.SOPInstanceUID
    assert "signed by Dr X" in sc.ImageComments

    # a PNG/TIFF input has no DICOM: patient and study come from the report
    set_format(ws.db, im["id"], "png")
    raster = dr.read_source(ws.db, im["id"])
    assert raster.dataset is None and not raster.can_gsps and "PNG" in raster.problem
    study = dict(ws.db.one("SELECT * FROM studies WHERE id=?", (ws.studies["B"],)))
    sc = read_back(dr.build_sc(snap, im, picture, None, report_sha256=sha, study=study))
    assert sc.PatientID == snap.patient.id == "C-77" and str(sc.PatientName) == "Doe^Jane"
    assert sc.StudyInstanceUID == snap.study_uid and "SourceImageSequence" not in sc
    no_uid = read_back(dr.build_sc(replace(snap, study_uid=""), im, picture, None, report_sha256=sha, study=study))
    assert no_uid.StudyInstanceUID == dr.local_study_uid(study, snap)  # stable for the study


def set_format(db, image_id, fmt):
    with db.tx() as c:
        c.execute("UPDATE images SET meta=json_set(meta, '$.format', ?) WHERE id=?", (fmt, image_id))


def _source(path, image_id=1):
    ds = dcmread(path, stop_before_pixels=True)
    return dr.Source(image_id, dataset=ds, path=str(path), width=int(ds.Columns), height=int(ds.Rows),
                     gsps_problem=dr._gsps_problem(ds, image_id))


SNAP = Report.from_dict({"label": "AI-Assisted Preliminary Findings",
                         "signer": {"id": 1, "name": "Dr Łukasz", "role": "dentist"},
                         "signed_at": "2026-11-28T14:03:00.000+00:00", "models": ["stub 1.0"], "findings": []})


def test_original_character_set_window_and_polarity_are_respected(tmp_path):
    from samples import write_dicom

    latin = write_dicom(tmp_path / "latin.dcm", seed=2, SpecificCharacterSet="ISO_IR 100", PatientName="Müller^Jörg",
                        WindowCenter=700, WindowWidth=1400, PhotometricInterpretation="MONOCHROME1")
    gsps = read_back(dr.build_gsps(SNAP, {"id": 1}, _source(latin), report_sha256="1" * 64))
    # the signer's name is not Latin-1: the whole object goes to UTF-8, the patient's name unchanged
    assert gsps.SpecificCharacterSet == "ISO_IR 192" and str(gsps.PatientName) == "Müller^Jörg"
    assert str(gsps.ContentCreatorName) == "Dr Łukasz^"
    [voi] = gsps.SoftcopyVOILUTSequence
    assert (float(voi.WindowCenter), float(voi.WindowWidth)) == (700.0, 1400.0)  # the original's own window
    assert gsps.PresentationLUTShape == "INVERSE"  # MONOCHROME1 stays white-is-low as on the modality
    # no findings on the image: the presentation state still carries the report line
    texts = all_objects(gsps, "TextObjectSequence")
    assert "GraphicObjectSequence" not in gsps.GraphicAnnotationSequence[0]
    assert texts[0].UnformattedTextValue.startswith("AI-Assisted Preliminary Findings - signed by Dr Łukasz")
    ascii_signer = replace(SNAP, signer=Signer(1, "Dr Jörg", "dentist"))
    assert read_back(dr.build_gsps(ascii_signer, {"id": 1}, _source(latin), report_sha256="1" * 64)) \
        .SpecificCharacterSet == "ISO_IR 100"


def test_images_that_cannot_get_a_presentation_state(workspace, tmp_path):
    from samples import write_dicom

    colour = write_dicom(tmp_path / "rgb.dcm", seed=1)
    ds = dcmread(colour)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = np.zeros((int(ds.Rows), int(ds.Columns), 3), np.uint8).tobytes()
    ds.save_as(colour)
    assert "colour image" in _source(colour).gsps_problem
    frames = write_dicom(tmp_path / "frames.dcm", seed=1, frames=3)
    assert "multi-frame" in _source(frames).gsps_problem

    ws = workspace
    snap, _ = signed(ws)
    im = snap.images_to_render()[0]
    other = write_dicom(tmp_path / "other.dcm", seed=4)

    def at(path):
        with ws.db.tx() as c:
            c.execute("UPDATE images SET path=? WHERE id=?", (str(path), im["id"]))
        return dr.read_source(ws.db, im["id"])

    src = at(other)  # another instance now lies where the analysed one was
    assert src.dataset is None and "different DICOM instance" in src.problem and not src.unreachable
    src = at(tmp_path / "gone.dcm")
    assert src.dataset is None and "no longer in its folder" in src.problem and not src.unreachable
    src = at(tmp_path / "offline-share" / "x.dcm")
    assert src.unreachable and "cannot be reached" in src.problem


# -- settings ---------------------------------------------------------------------------------
def test_dicom_settings_defaults_and_round_trip():
    d = DicomDestConfig()
    assert (d.port, d.calling_ae, d.send_gsps, d.send_sc) == (104, "DENTALBRIDGE", True, False)
    assert ExportConfig(dicom=DicomDestConfig(host="")).validate() == []  # unused destination: not checked
    cfg = ExportConfig.from_dict({"destinations": ["dicom"], "dicom": {"host": "pacs.local", "called_ae": "ORTHANC",
                                                                       "port": 4242, "send_sc": True}})
    assert cfg.dicom.port == 4242 and cfg.dicom.send_sc and cfg.dicom.called_ae == "ORTHANC"
    import tomli_w
    import tomllib

    assert ExportConfig.from_dict(tomllib.loads(tomli_w.dumps({"export": cfg.to_dict()}))["export"]) == cfg


@pytest.mark.parametrize("dicom,message", [
    ({"called_ae": "PACS"}, "export.dicom.host must name the PACS"),
    ({"host": "pacs", "called_ae": ""}, r"called_ae \(the PACS's AE title\) must be 1 to 16 characters"),
    ({"host": "pacs", "called_ae": "A" * 17}, "must be 1 to 16 characters"),
    ({"host": "pacs", "called_ae": "PA\\CS"}, "no backslash"),
    ({"host": "pacs", "called_ae": "PACS", "calling_ae": "DENTÄL"}, r"calling_ae \(our AE title\) may only use"),
    ({"host": "pacs", "called_ae": "PACS", "port": 0}, "port must be a number between 1 and 65535"),
    ({"host": "pacs", "called_ae": "PACS", "port": 70000}, "between 1 and 65535"),
    ({"host": "pacs", "called_ae": "PACS", "send_gsps": False}, "sends nothing: turn on send_gsps or send_sc"),
    ({"host": "pacs", "called_ae": "PACS", "timeout": 0}, "timeouts must be more than 0"),
    ({"host": "pacs", "called_ae": "PACS", "ae": "X"}, "unknown setting"),
])
def test_dicom_settings_validation(dicom, message):
    with pytest.raises(ExportConfigError, match=message):
        ExportConfig.from_dict({"destinations": ["dicom"], "dicom": dicom})
