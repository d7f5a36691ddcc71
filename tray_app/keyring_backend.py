"""The OS keyring every secret of the app goes to (Open Dental keys, the audit key).

On Windows the Credential Manager backend is set explicitly: a frozen app's entry-point
discovery can otherwise pick a fail backend.
"""

from __future__ import annotations

import sys

_backend_set = False


def ensure_backend() -> None:
    global _backend_set
    if _backend_set:
        return
    if sys.platform == "win32":
        import keyring
        from keyring.backends.Windows import WinVaultKeyring

        keyring.set_keyring(WinVaultKeyring())
    _backend_set = True
