"""Peak memory of intake on hostile files, against the largest legitimate images it accepts.

`python -m bench.hostile_rss [--max-pixels N] [--json]`

Each input is ingested by a fresh `dental-bridge ingest`-equivalent process (a temporary home,
the real staging copy + decode + image cache, no model), whose peak RSS is read at its end.
The legitimate references are 16-bit images of exactly `intake.max_pixels` (the largest a
practice's PC accepts by default): an uncompressed DICOM and a compressed TIFF. The hostile
inputs are those of issue 22: a Deflate bomb, a 2000×2000 header over a 12000×12000 JPEG, a
10900×10900 16-bit TIFF, a 64×64 header over 256 MB of pixel data, a 64×64 JPEG frame padded to 250 MB, a PNG header claiming
100000×100000, and a symlink to the legitimate DICOM from outside the folder. The
requirement: every hostile peak ≤ 2× the legitimate peak. Nothing is asserted here; the
numbers go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np


def _dicom(path: Path, rows: int, cols: int, pixel_bytes, *, syntax: str = "1.2.840.10008.1.2.1",
           bits: int = 16, encapsulated: bool = False) -> Path:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientID, ds.PatientName = "PX", "BENCH", "Bench^Hostile"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, 12 if bits == 16 else 8, \
        11 if bits == 16 else 7, 0
    if encapsulated:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate([pixel_bytes])
        ds["PixelData"].VR = "OB"
    else:
        ds.PixelData = pixel_bytes
    ds.save_as(path, enforce_file_format=True)
    return path


def _legit_pixels(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    row = np.linspace(200, 3800, w, dtype=np.float32)
    img = np.empty((h, w), np.uint16)
    for y in range(0, h, 512):
        block = row[None, :] + rng.normal(0, 40, (min(512, h - y), w)).astype(np.float32)
        img[y:y + 512] = np.clip(block, 0, 4095).astype(np.uint16)
    return img


def deflate_bomb(path: Path, inflated_mb: int = 900) -> Path:
    """A Deflated Explicit VR file: a 64×64 header over `inflated_mb` of zero pixel data."""
    plain = _dicom(path.with_suffix(".plain"), 64, 64, b"\0" * (64 * 64 * 2))
    raw = plain.read_bytes()
    plain.unlink()
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(raw))
    head = io.BytesIO()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1.99"
    from pydicom.filewriter import write_file_meta_info

    head.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(head, ds.file_meta, enforce_standard=True)
    # the dataset (Explicit VR LE) up to the pixel data, then a huge OW Pixel Data element
    del ds.PixelData
    body = io.BytesIO()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.save_as(body, enforce_file_format=True)
    dataset = body.getvalue()[132 + _meta_length(body.getvalue()):]
    pixel_len = inflated_mb << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    with open(path, "wb") as f:
        f.write(head.getvalue())
        f.write(comp.compress(dataset + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, pixel_len)))
        zeros = b"\0" * (1 << 20)
        for _ in range(inflated_mb):
            f.write(comp.compress(zeros))
        f.write(comp.flush())
    return path


def _meta_length(data: bytes) -> int:
    # (0002,0000) UL group length: tag(4) VR(2) len(2) value(4) = 12 bytes + value
    return 12 + struct.unpack("<I", data[132 + 8:132 + 12])[0]


def jpeg_mismatch(path: Path, side: int = 12000) -> Path:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (side, side), 128).save(buf, format="JPEG", quality=50)
    return _dicom(path, 2000, 2000, buf.getvalue(), syntax="1.2.840.10008.1.2.4.50", bits=8, encapsulated=True)


def huge_tiff(path: Path, side: int = 10900) -> Path:
    from PIL import Image

    im = Image.new("I;16", (side, side), 1000)
    im.save(path, compression="tiff_adobe_deflate")
    return path


def oversize_pixel_data(path: Path, mb: int = 256) -> Path:
    return _dicom(path, 64, 64, b"\0" * (mb << 20))


def encapsulated_padding(path: Path, mb: int = 250) -> Path:
    """A valid 64×64 JPEG frame followed by `mb` of extra fragments (undefined length: read whole)."""
    from PIL import Image
    from pydicom.encaps import encapsulate

    buf = io.BytesIO()
    Image.new("L", (64, 64), 128).save(buf, format="JPEG")
    frame = buf.getvalue() + b"\0" * (mb << 20)
    return _dicom(path, 64, 64, frame, syntax="1.2.840.10008.1.2.4.50", bits=8, encapsulated=True)


def png_bomb(path: Path, side: int = 100_000) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (side + 1) * 16)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def legit_dicom(path: Path, max_pixels: int) -> Path:
    w = int((max_pixels * 2) ** 0.5)
    h = max_pixels // w
    return _dicom(path, h, w, _legit_pixels(h, w).tobytes())


def legit_tiff(path: Path, max_pixels: int) -> Path:
    from PIL import Image

    w = int((max_pixels * 2) ** 0.5)
    h = max_pixels // w
    Image.fromarray(_legit_pixels(h, w)).save(path, compression="tiff_adobe_deflate")
    return path


# -- one measurement (child process) ------------------------------------------------------------
def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux: VmHWM (ru_maxrss would carry the parent's
    peak over fork + exec); Windows: the peak working set."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    except OSError:
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20


def _measure_one(path: str, max_pixels: int) -> dict:
    from tray_app.app import Service
    from tray_app.config import Config, IntakeConfig, Paths
    from tray_app.intake.ingest import ingest_paths

    os.environ["DENTAL_BRIDGE_HOME"] = tempfile.mkdtemp(prefix="dab-rss-")
    service = Service(Config(intake=IntakeConfig(max_pixels=max_pixels)), Paths.resolve().ensure())
    baseline = _peak_rss_mb()
    outcomes = [o.as_json() for o in ingest_paths(service, [Path(path)])]
    return {"peak_rss_mb": round(_peak_rss_mb(), 1), "baseline_rss_mb": round(baseline, 1),
            "status": outcomes[0]["status"] if outcomes else "skipped",
            "reason": (outcomes[0]["reason"] or "") if outcomes else ""}


def _run_child(path: Path, max_pixels: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.hostile_rss", "--one", str(path), "--max-pixels",
                          str(max_pixels)], capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if out.returncode != 0:
        return {"peak_rss_mb": None, "status": "crashed", "reason": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(max_pixels: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="dab-hostile-") as tmp:
        folder = Path(tmp) / "export"
        outside = Path(tmp) / "elsewhere"
        folder.mkdir()
        outside.mkdir()
        legit = {
            "legit_dicom_16bit_at_limit": legit_dicom(folder / "legit.dcm", max_pixels),
            "legit_tiff_16bit_at_limit": legit_tiff(folder / "legit.tif", max_pixels),
        }
        secret = legit_dicom(outside / "secret.dcm", max_pixels // 4)
        link = folder / "link.dcm"
        os.symlink(secret, link)
        hostile = {
            "deflate_bomb_900MiB": deflate_bomb(folder / "bomb.dcm"),
            "jpeg_12000_in_2000x2000_dicom": jpeg_mismatch(folder / "mismatch.dcm"),
            "tiff_16bit_10900x10900": huge_tiff(folder / "huge.tif"),
            "dicom_64x64_over_256MB_pixels": oversize_pixel_data(folder / "oversize.dcm"),
            "jpeg_64x64_plus_250MB_fragments": encapsulated_padding(folder / "padded.dcm"),
            "png_header_100000x100000": png_bomb(folder / "bomb.png"),
            "symlink_to_outside_file": link,
        }
        results = {name: {"file_kb": round(p.lstat().st_size / 1024), **_run_child(p, max_pixels)}
                   for name, p in {**legit, **hostile}.items()}
    legit_peak = max(results[k]["peak_rss_mb"] or 0 for k in legit)
    for name in hostile:
        peak = results[name]["peak_rss_mb"]
        results[name]["ratio_to_legit_peak"] = round(peak / legit_peak, 2) if peak else None
    worst = max((results[n]["ratio_to_legit_peak"] or 0) for n in hostile)
    return {"max_pixels": max_pixels, "legit_peak_rss_mb": legit_peak, "worst_hostile_ratio": worst,
            "within_2x": worst <= 2.0, "cases": results}


def main(argv=None) -> int:
    from tray_app.config import IntakeConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-pixels", type=int, default=IntakeConfig().max_pixels)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child: measure one file
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_measure_one(args.one, args.max_pixels)))
        return 0
    result = run(args.max_pixels)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"max_pixels {result['max_pixels']:,}; legitimate peak {result['legit_peak_rss_mb']} MB; "
          f"worst hostile ratio {result['worst_hostile_ratio']} (≤ 2 required)")
    for name, r in result["cases"].items():
        ratio = r.get("ratio_to_legit_peak")
        print(f"  {name:34} {r['file_kb']:>9} KB  peak {r['peak_rss_mb']} MB"
              f"{'' if ratio is None else f'  ×{ratio}'}  {r['status']}: {str(r['reason'])[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
