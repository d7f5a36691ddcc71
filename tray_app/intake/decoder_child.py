"""Compressed DICOM pixel data decoded by GDCM in a child process: JPEG Lossless, and any other
compression whose own decoder is not installed (`decode._in_process_plugin`).

GDCM is the only bundled decoder of JPEG Lossless (pylibjpeg-libjpeg is GPL), and on some damaged
streams it ends the process that runs it: an uncaught C++ exception, then abort (found by
tests/reliability/test_bad_input.py). In the service that would stop the watching for every
file, and at the next start the same file would stop it again. In a child process the crash
costs only the child: the file is quarantined and the service goes on.

The child is this program again (`python -m tray_app`, or the frozen executable) with
CHILD_ARG, which `cli.main` hands here before any command (this module imports nothing heavy at
the top, so the CLI's start stays light); it writes the pixels to its stdout in NumPy's .npy
format, so nothing lands on disk.
"""

from __future__ import annotations

import io
import subprocess
import sys

from .errors import QuarantineError, short_reason

CHILD_ARG = "--decode-pixels-child"
ISOLATED_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"})  # JPEG Lossless
TIMEOUT_SECONDS = 120
DECODER_ERROR = 65      # the child's exit code for a decoder error it caught (abort() exits 3 on Windows)


def _command(path: str, index: int | None) -> list[str]:
    head = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "tray_app"]
    return head + [CHILD_ARG, str(path), "-" if index is None else str(index)]


def decode_isolated(path, index: int | None = None):
    """The pixel array of a compressed DICOM (frame `index` of a multi-frame one), decoded by GDCM in
    a child process; a QuarantineError when the decoder fails or the child dies."""
    import numpy as np

    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)   # no console flashing up on Windows
    try:
        done = subprocess.run(_command(path, index), capture_output=True, timeout=TIMEOUT_SECONDS,
                              stdin=subprocess.DEVNULL, creationflags=flags)
    except subprocess.TimeoutExpired as exc:
        raise QuarantineError(f"the decoder (GDCM) did not finish this file's compressed pixel data in "
                              f"{TIMEOUT_SECONDS // 60} minutes; the file is damaged or deliberately malformed") from exc
    if done.returncode == DECODER_ERROR:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise QuarantineError(f"DICOM pixel data is damaged ({reason[-1] if reason else 'the decoder refused it'})")
    if done.returncode != 0:
        raise QuarantineError("the decoder (GDCM) crashed on this file's compressed pixel data; the file is "
                              "damaged or deliberately malformed")
    try:
        return np.load(io.BytesIO(done.stdout), allow_pickle=False)
    except ValueError as exc:
        raise QuarantineError("the decoder (GDCM) returned no image for this file") from exc


def child_main(argv: list[str]) -> int:
    """In the child: decode and write the array to stdout; a decoder error to stderr."""
    import numpy as np
    import pydicom
    from pydicom.pixels import pixel_array

    path, index = argv[0], argv[1]
    try:
        ds = pydicom.dcmread(path)
        arr = pixel_array(ds, index=None if index == "-" else int(index), decoding_plugin="gdcm")
    except Exception as exc:   # hostile bytes can raise anything; the parent names it
        print(short_reason(exc), file=sys.stderr)
        return DECODER_ERROR
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    sys.stdout.buffer.write(buf.getvalue())
    sys.stdout.buffer.flush()
    return 0
