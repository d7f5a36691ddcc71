"""Files whose compressed pixel data ends a process that decodes it with GDCM (an uncaught C++
exception, then abort), found by test_bad_input's mutations of pydicom's test files: JPEG Lossless
SV1, JPEG-LS and JPEG 2000 (`gdcm_crashes/`). Each is quarantined with a reason, and the process
that read it goes on. The decoding runs in a child interpreter here, so that a regression fails
this test instead of ending the test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CRASHERS = sorted((Path(__file__).parent / "gdcm_crashes").glob("*.dcm"))
DECODE = """
import sys
from pathlib import Path
from tray_app.intake.decode import decode_file
from tray_app.intake.errors import QuarantineError
try:
    decode_file(Path(sys.argv[1]), max_pixels=4_000_000)
except QuarantineError as exc:
    print("quarantined:", exc)
"""


@pytest.mark.parametrize("path", CRASHERS, ids=lambda p: p.stem)
def test_a_stream_that_crashes_gdcm_is_quarantined_and_the_reader_goes_on(path):
    done = subprocess.run([sys.executable, "-c", DECODE, str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("quarantined: ") and len(done.stdout) < 300, done.stdout
    # the reason names what is wrong, not pydicom's "… raised by all available plugins:" nor an object's repr
    assert "available plugins" not in done.stdout and " object at 0x" not in done.stdout, done.stdout


def test_the_crash_files_are_there():
    assert {p.stem for p in CRASHERS} == {"jpeg_lossless_sv1", "jpeg_ls", "jpeg_2000"}
