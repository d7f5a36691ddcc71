"""Errors more than one layer raises and handles (a leaf: imports nothing of the app)."""

from __future__ import annotations


class RetryLater(Exception):
    """Not done this time for a passing reason (a file locked by the imaging software or
    antivirus, a share or an export destination down or busy): retried with backoff, never given up.

    `logged`: what the log may say about it (the message can name a patient or a file, the
    log only gets this kind)."""

    def __init__(self, message: str = "", *, logged: str = ""):
        super().__init__(message)
        self.logged = logged
