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
    """A decoder's error as a short phrase for a quarantine reason (first line, capped)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
