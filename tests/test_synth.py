"""Synthetic radiograph generator: determinism, ground truth, visibility of findings, writers."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from PIL import Image

from tray_app import teeth
from tray_app.demo import synth
from tray_app.demo.synth import KINDS, LABELS, generate_batch, generate_sample, to_uint8
from tray_app.demo.writers import write_dicom, write_png, write_tiff, write_yolo_labels

PER_TOOTH = {"caries", "restoration", "crown", "root_canal", "implant", "calculus", "periapical_radiolucency", "bone_loss"}


@pytest.fixture(scope="module")
def intraoral():
    """60 intra-oral samples shared by the statistics tests (generation dominates runtime)."""
    return [generate_sample(kind, seed) for kind in ("bitewing", "periapical") for seed in range(30)]


@pytest.fixture(scope="module")
def pano():
    return generate_sample("panoramic", 3)


def _mean(img, box):
    x1, y1, x2, y2 = (int(round(c)) for c in box)
    return float(img[y1:y2, x1:x2].astype(np.float64).mean())


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("kind", KINDS)
def test_deterministic(kind):
    a, b = generate_sample(kind, 11), generate_sample(kind, 11)
    assert a.image.dtype == b.image.dtype and np.array_equal(a.image, b.image)
    assert a.objects == b.objects and a.teeth_fdi == b.teeth_fdi and a.bits_stored == b.bits_stored
    c = generate_sample(kind, 12)
    assert c.image.shape != a.image.shape or not np.array_equal(c.image, a.image)


def test_forced_bit_depth_keeps_anatomy():
    a = generate_sample("periapical", 4, bits_stored=8)
    b = generate_sample("periapical", 4, bits_stored=16)
    assert a.objects == b.objects and a.teeth_fdi == b.teeth_fdi
    assert a.image.dtype == np.uint8 and b.image.dtype == np.uint16


def test_batch_is_deterministic_and_each_sample_regenerates():
    intra = ("bitewing", "periapical")
    first = list(generate_batch(5, 99, kinds=intra))
    second = list(generate_batch(5, 99, kinds=intra))
    assert [s.seed for s in first] == [s.seed for s in second] and len(first) == 5
    assert all(np.array_equal(x.image, y.image) and x.objects == y.objects for x, y in zip(first, second))
    assert len({s.kind for s in first}) == 2
    one = first[0]
    again = generate_sample(one.kind, one.seed)
    assert np.array_equal(one.image, again.image) and one.objects == again.objects
    assert {s.kind for s in generate_batch(2, 1, kinds=("bitewing",))} == {"bitewing"}


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        generate_sample("cephalometric", 1)
    with pytest.raises(ValueError):
        generate_sample("bitewing", 1, bits_stored=10)


# ----------------------------------------------------------------------------- ground truth
def test_every_label_appears_often_enough(intraoral):
    present = {label: 0 for label in LABELS}
    for s in intraoral:
        for label in {o.label for o in s.objects}:
            present[label] += 1
    rates = {k: v / len(intraoral) for k, v in present.items()}
    assert rates["tooth"] == 1.0
    for label in LABELS:
        assert rates[label] >= 0.12, rates


def test_boxes_inside_image_and_consistent(intraoral, pano):
    for s in intraoral + [pano]:
        h, w = s.image.shape
        assert s.kind in KINDS and s.laterality in ("R", "L", "B")
        tooth_fdis = [o.tooth_fdi for o in s.objects if o.label == "tooth"]
        assert sorted(tooth_fdis) == sorted(s.teeth_fdi) and len(set(tooth_fdis)) == len(tooth_fdis)
        for o in s.objects:
            x1, y1, x2, y2 = o.box
            assert o.label in LABELS
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h, (s.kind, s.seed, o)
            assert x2 - x1 >= 2 and y2 - y1 >= 2
            if o.label in PER_TOOTH:
                assert o.tooth_fdi in s.teeth_fdi, (s.kind, s.seed, o)
            assert teeth.is_valid_fdi(o.tooth_fdi)
            teeth.fdi_to_universal(o.tooth_fdi)        # Universal is derivable
            if o.label in ("caries", "calculus", "bone_loss"):
                assert o.surfaces in ("M", "D", "O")
            if o.label == "restoration":
                assert o.surfaces and set(o.surfaces) <= set("MOD")


def test_layouts_match_the_kind(intraoral, pano):
    for s in intraoral:
        h, w = s.image.shape
        assert max(h, w) <= 800 and 0.04 <= s.pixel_spacing_mm <= 0.06
        arches = {teeth.arch_of_fdi(f) for f in s.teeth_fdi}
        if s.kind == "bitewing":
            assert arches == {"maxilla", "mandible"} and w > h and s.laterality in "RL"
        else:
            assert len(arches) == 1 and 2 <= len(s.teeth_fdi) <= 6
            if s.laterality == "B":                       # anterior periapicals are portrait
                assert h > w and {f // 10 for f in s.teeth_fdi} in ({1, 2}, {3, 4})
            if all(f % 10 >= 4 for f in s.teeth_fdi):    # posterior ones are landscape
                assert w > h
    h, w = pano.image.shape
    assert 1.8 <= w / h <= 2.2 and len(pano.teeth_fdi) >= 24


def test_findings_are_big_enough_to_see(intraoral):
    for s in intraoral:
        for o in s.objects:
            if o.label == "caries":
                x1, y1, x2, y2 = o.box
                assert max(x2 - x1, y2 - y1) >= 10, (s.kind, s.seed, o)


# ----------------------------------------------------------------------------- visibility
def test_radiolucent_findings_are_darker(intraoral):
    """Caries and PARL darken the image where their box says (vs. the same render without
    the lesion), and a PARL is darker than the bone ring around it."""
    checked = {"caries": 0, "periapical_radiolucency": 0}
    for s in intraoral:
        lesions = [o for o in s.objects if o.label in checked]
        if not lesions or (checked["caries"] >= 12 and checked["periapical_radiolucency"] >= 4):
            continue
        ref = synth._generate(s.kind, s.seed, s.bits_stored, lesion_gain=0.0)
        assert [o.box for o in ref.objects] == [o.box for o in s.objects]
        img, img0 = to_uint8(s).astype(float), to_uint8(ref).astype(float)
        for o in lesions:
            with_, without = _mean(img, o.box), _mean(img0, o.box)
            assert with_ < without - 6, (s.kind, s.seed, o, with_, without)
            if o.label == "periapical_radiolucency":
                x1, y1, x2, y2 = o.box
                dx, dy = (x2 - x1) / 2, (y2 - y1) / 2
                big = (max(0, x1 - dx), max(0, y1 - dy), min(img.shape[1], x2 + dx), min(img.shape[0], y2 + dy))
                area_big = (big[2] - big[0]) * (big[3] - big[1])
                ring = (_mean(img, big) * area_big - with_ * (x2 - x1) * (y2 - y1)) / (area_big - (x2 - x1) * (y2 - y1))
                assert with_ < ring, (s.seed, o)
            checked[o.label] += 1
    assert checked["caries"] >= 10 and checked["periapical_radiolucency"] >= 3, checked


def test_radiopaque_findings_are_brighter_than_teeth(intraoral):
    n = 0
    for s in intraoral:
        img = to_uint8(s).astype(float)
        mask = np.zeros(img.shape, bool)
        for o in s.objects:
            if o.label == "tooth":
                x1, y1, x2, y2 = (int(round(c)) for c in o.box)
                mask[y1:y2, x1:x2] = True
        tooth_mean = float(img[mask].mean())
        for o in s.objects:
            if o.label in ("restoration", "crown", "implant"):
                assert _mean(img, o.box) > tooth_mean + 5, (s.kind, s.seed, o)
                n += 1
            elif o.label == "root_canal":
                # a thin, often tilted line: its box is mostly dentin, so compare its brightest part
                x1, y1, x2, y2 = (int(round(c)) for c in o.box)
                assert np.percentile(img[y1:y2, x1:x2], 90) > tooth_mean + 5, (s.kind, s.seed, o)
                n += 1
    assert n >= 30


# ----------------------------------------------------------------------------- bit depth
@pytest.mark.parametrize("bits,dtype,lo,hi", [(8, np.uint8, 100, 255), (12, np.uint16, 2000, 4095),
                                              (16, np.uint16, 30000, 65535)])
def test_bit_ranges(bits, dtype, lo, hi):
    for kind in KINDS[:2]:
        s = generate_sample(kind, 21, bits_stored=bits)
        assert s.bits_stored == bits and s.image.dtype == dtype and s.image.ndim == 2
        assert lo <= int(s.image.max()) <= hi
        u8 = to_uint8(s)
        assert u8.dtype == np.uint8 and u8.shape == s.image.shape and u8.max() > 100


def test_bits_chosen_from_seed_cover_all_depths():
    assert {synth._bits_for_seed(i) for i in range(12)} == {8, 12, 16}
    assert generate_sample("bitewing", 5).bits_stored == synth._bits_for_seed(5)


def test_to_uint8_scales_linearly():
    img = np.array([[0, 4095, 2048]], np.uint16)
    assert to_uint8(img, 12).tolist() == [[0, 255, 128]]
    assert to_uint8(img).tolist() == [[0, 255, 128]]          # inferred 12-bit
    assert to_uint8(np.array([[0, 65535]], np.uint16), 16).tolist() == [[0, 255]]
    u8 = np.array([[3, 200]], np.uint8)
    assert to_uint8(u8).tolist() == [[3, 200]]


# ----------------------------------------------------------------------------- writers
@pytest.mark.parametrize("kind,bits,transfer_syntax", [
    ("periapical", 12, "explicit"), ("periapical", 12, "rle"), ("bitewing", 8, "explicit"),
    ("bitewing", 8, "rle"), ("bitewing", 16, "rle"), ("panoramic", 16, "explicit")])
def test_dicom_round_trip(tmp_path, kind, bits, transfer_syntax):
    s = generate_sample(kind, 8, bits_stored=bits)
    path = tmp_path / "x.dcm"
    uid = write_dicom(s, path, patient_id="DEMO-1", patient_name="Doe^Jane", birth_date="19800131",
                      transfer_syntax=transfer_syntax, instance_number=3)
    assert path.read_bytes()[128:132] == b"DICM"
    ds = pydicom.dcmread(path)
    assert ds.SOPInstanceUID == uid == ds.file_meta.MediaStorageSOPInstanceUID
    expected_ts = pydicom.uid.RLELossless if transfer_syntax == "rle" else pydicom.uid.ExplicitVRLittleEndian
    assert ds.file_meta.TransferSyntaxUID == expected_ts
    if kind == "panoramic":
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.1" and ds.Modality == "PX"
        assert ds.SeriesDescription == "PAN"
    else:
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.3" and ds.Modality == "IO"
        assert ds.SeriesDescription.startswith("BW " if kind == "bitewing" else "PA #")
    assert ds.PhotometricInterpretation == "MONOCHROME2" and ds.PixelRepresentation == 0
    assert ds.BitsStored == bits and ds.BitsAllocated == (8 if bits == 8 else 16) and ds.HighBit == bits - 1
    assert ds.PresentationIntentType == "FOR PRESENTATION" and ds.PositionerType == "NONE"
    assert ds.ImageLaterality == s.laterality and ds.Manufacturer == "Dental AI Bridge synthetic"
    assert float(ds.ImagerPixelSpacing[0]) == pytest.approx(s.pixel_spacing_mm, rel=1e-4)
    assert ds.PatientID == "DEMO-1" and str(ds.PatientName) == "Doe^Jane" and ds.PatientBirthDate == "19800131"
    assert ds.InstanceNumber == 3 and ds.StudyInstanceUID and ds.SeriesInstanceUID and len(ds.StudyDate) == 8
    assert float(ds.WindowWidth) > 0
    assert ds.AnatomicRegionSequence[0].CodingSchemeDesignator == "SCT"
    parsed = [teeth.fdi_from_code(i.CodeValue, i.CodingSchemeDesignator, i.CodeMeaning)
              for i in ds.PrimaryAnatomicStructureSequence]
    assert parsed == s.teeth_fdi
    for item, fdi in zip(ds.PrimaryAnatomicStructureSequence, s.teeth_fdi):
        assert item.CodeMeaning == teeth.fdi_name(fdi)
        assert item.CodingSchemeDesignator == ("SCT" if fdi in (18, 16, 11, 21, 36, 46, 48) else "99DBRIDGE")
    assert np.array_equal(ds.pixel_array, s.image)
    # same inputs -> same UIDs (demo data sets are reproducible)
    assert write_dicom(s, tmp_path / "y.dcm", patient_id="DEMO-1", patient_name="Doe^Jane",
                       birth_date="19800131", transfer_syntax=transfer_syntax, instance_number=3) == uid


def test_dicom_uses_given_study_uid_and_description(tmp_path):
    s = generate_sample("bitewing", 2)
    write_dicom(s, tmp_path / "a.dcm", patient_id="P", patient_name="A^B", birth_date="20000101",
                study_uid="1.2.3.4", series_description="BW custom", study_date="20240102")
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    assert ds.StudyInstanceUID == "1.2.3.4" and ds.SeriesDescription == "BW custom" and ds.StudyDate == "20240102"


def test_yolo_labels_match_objects(tmp_path):
    s = generate_sample("periapical", 6)
    h, w = s.image.shape
    write_yolo_labels(s, tmp_path / "l.txt")
    rows = [line.split() for line in (tmp_path / "l.txt").read_text().splitlines()]
    assert len(rows) == len(s.objects)
    for row, o in zip(rows, s.objects):
        cls, cx, cy, bw, bh = int(row[0]), *map(float, row[1:])
        assert LABELS[cls] == o.label
        x1, y1, x2, y2 = o.box
        assert cx == pytest.approx((x1 + x2) / 2 / w, abs=1e-5) and cy == pytest.approx((y1 + y2) / 2 / h, abs=1e-5)
        assert bw == pytest.approx((x2 - x1) / w, abs=1e-5) and bh == pytest.approx((y2 - y1) / h, abs=1e-5)
        assert 0 <= cx - bw / 2 + 1e-6 and cx + bw / 2 <= 1 + 1e-6
    write_yolo_labels(s, tmp_path / "t.txt", labels=("tooth",))
    assert len((tmp_path / "t.txt").read_text().splitlines()) == len(s.teeth_fdi)


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_png_and_tiff_round_trip(tmp_path, bits):
    s = generate_sample("bitewing", 9, bits_stored=bits)
    write_png(s, tmp_path / "a.png")
    write_tiff(s, tmp_path / "a.tif")
    for name in ("a.png", "a.tif"):
        with Image.open(tmp_path / name) as im:
            arr = np.array(im)
        assert np.array_equal(arr.astype(s.image.dtype), s.image) and int(arr.max()) == int(s.image.max())
        if bits > 8:
            assert arr.dtype != np.uint8
