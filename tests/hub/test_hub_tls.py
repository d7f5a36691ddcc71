"""Issue 18: the hub's certificate — made once, private, never replaced by a second maker."""

from __future__ import annotations

import os
import stat

import pytest

from tray_app.hub import tls


def test_the_certificate_is_made_once_and_kept_private(tmp_path):
    pem = tls.ensure_certificate(tmp_path)
    first = tls.fingerprint(pem)
    assert len(first) == 95 and tls.ensure_certificate(tmp_path) == pem and tls.fingerprint(pem) == first
    assert "PRIVATE KEY" in pem.read_text() and "CERTIFICATE" in pem.read_text()
    if os.name == "posix":
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert stat.S_IMODE(pem.parent.stat().st_mode) == 0o700
    # another process making it at the same moment does not replace the one already there
    tls._create_private(pem, b"another key and certificate")
    assert tls.fingerprint(pem) == first and not list(pem.parent.glob("*.tmp"))


@pytest.mark.parametrize("typed", ["aa:bb", "AA BB", "aabb"])
def test_a_typed_fingerprint_is_normalised(typed):
    assert tls.normalise(typed) == "AA:BB"
