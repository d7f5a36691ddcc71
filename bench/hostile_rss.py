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
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the hostile inputs are the tests' own generators

from hostile import (deflate_bomb, encapsulated_padding, huge_tiff, jpeg_mismatch, legit_dicom,  # noqa: E402
                     legit_tiff, oversize_pixel_data, png_bomb)


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
                          str(max_pixels)], capture_output=True, text=True, cwd=ROOT)
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
