import re

from ..errors import RetryLater  # noqa: F401 — one class for intake and export, re-exported


class QuarantineError(Exception):
    """The file cannot be used; the message is shown to front-desk staff as the reason."""


class OriginalChanged(QuarantineError):
    """The file at an image's path no longer holds the bytes that were analysed (sha256 differs)."""


def is_disk_full(exc: BaseException) -> bool:
    """Our own disk (or the user's quota) is full: not the file's fault, so nothing is quarantined."""
    import errno
    import sqlite3

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()


def short_reason(exc: BaseException) -> str:
    """A decoder's error as a short phrase for a quarantine reason (first line, capped). pydicom's
    "Unable to decode as exceptions were raised by all available plugins:" says nothing itself:
    the first plugin's own message, on the next line, does ("pyjpegls: Invalid JPEG-LS stream…")."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    if text.endswith("all available plugins:") and len(lines) > 1:
        text = lines[1].split(": ", 1)[-1]
    return re.sub(r"\s*<[^<>]* object at 0x[0-9a-fA-F]+>", "", text)[:160]   # a Python object's repr says nothing
