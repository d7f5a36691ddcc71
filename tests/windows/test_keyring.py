"""The Open Dental keys through the Windows Credential Manager backend, read back by another process."""

from __future__ import annotations

import subprocess
import sys

import keyring
import pytest

from tray_app import keyring_backend
from tray_app.pms import keys as secrets

pytestmark = pytest.mark.windows


@pytest.fixture
def credential_manager(monkeypatch):
    """Undo the suite's in-memory keyring: let `ensure_backend` choose, as the app does."""
    monkeypatch.setattr(keyring_backend, "_backend_set", False)
    previous = keyring.get_keyring()
    yield
    for user in (secrets.DEVELOPER, secrets.CUSTOMER):
        try:
            keyring.delete_password(secrets.SERVICE, user)
        except keyring.errors.PasswordDeleteError:
            pass
    keyring.set_keyring(previous)


def test_opendental_keys_stored_in_the_credential_manager(credential_manager, win_home):
    secrets.set_opendental_keys("devKEY123456", "custKEY987654")
    assert type(keyring.get_keyring()).__name__ == "WinVaultKeyring"
    keys = secrets.get_opendental_keys()
    assert (keys.developer, keys.customer) == ("devKEY123456", "custKEY987654")
    # another process (a later app start) finds them in the same store
    probe = ("from keyring.backends.Windows import WinVaultKeyring; k = WinVaultKeyring(); "
             f"print(k.get_password({secrets.SERVICE!r}, {secrets.CUSTOMER!r}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "custKEY987654"
