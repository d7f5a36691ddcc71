"""Open Dental API keys in the operating system's keyring, never in settings or logs.

Service name "DentalAIBridge/opendental", user names "DeveloperKey" and "CustomerKey".
The keyring backend is chosen in `tray_app.keyring_backend`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keyring
import keyring.errors

from ..keyring_backend import ensure_backend

SERVICE = "DentalAIBridge/opendental"
DEVELOPER = "DeveloperKey"
CUSTOMER = "CustomerKey"


class SecretsError(Exception):
    """The keyring cannot be used; phrased for the person who can fix it."""


@dataclass(frozen=True)
class ODKeys:
    developer: str
    customer: str

    def authorization(self) -> str:
        return f"ODFHIR {self.developer}/{self.customer}"

    def __repr__(self) -> str:  # never print the keys themselves
        return f"ODKeys(developer={mask(self.developer)}, customer={mask(self.customer)})"

    __str__ = __repr__


def mask(value: str) -> str:
    return f"…{value[-2:]}" if len(value) > 6 else "…"


def _valid(value: str) -> str:
    value = (value or "").strip()
    if not value or any(ch.isspace() for ch in value) or "/" in value:
        raise SecretsError("an Open Dental key is one word without spaces or '/'; copy it again from the key list")
    return value


def set_opendental_keys(developer: str, customer: str) -> None:
    ensure_backend()
    dev, cust = _valid(developer), _valid(customer)
    try:
        keyring.set_password(SERVICE, DEVELOPER, dev)
        keyring.set_password(SERVICE, CUSTOMER, cust)
    except keyring.errors.KeyringError as exc:
        raise SecretsError(f"the Windows Credential Manager refused to store the keys ({type(exc).__name__})") from exc


def get_opendental_keys() -> ODKeys | None:
    """Both keys, or None when either is missing."""
    ensure_backend()
    try:
        dev = keyring.get_password(SERVICE, DEVELOPER)
        cust = keyring.get_password(SERVICE, CUSTOMER)
    except keyring.errors.KeyringError as exc:
        raise SecretsError(f"the Windows Credential Manager could not be read ({type(exc).__name__})") from exc
    if not dev or not cust:
        return None
    return ODKeys(dev, cust)

