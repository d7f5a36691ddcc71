"""The client side of the hub (httpx): the hub's certificate pinned by its SHA-256 fingerprint,
the client's token kept in the OS keyring.

Pinning: the hub's certificate is fetched and its fingerprint compared with the pinned one
before any request; the connection then trusts exactly that certificate, so a different one
(another PC answering on the hub's address) fails the TLS handshake and nothing — no token,
no PIN — is sent to it. Plain http:// is refused outright.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx

from ..keyring_backend import ensure_backend
from .tls import fingerprint_of_pem, normalise

KEYRING_SERVICE = "DentalAIBridge hub client"
API = "/api/v1"


class HubError(Exception):
    """The hub refused or could not be reached; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class PinMismatch(HubError):
    pass


class HubUnreachable(HubError):
    """No answer from the hub's address (the hub PC is off, asleep, or the address is wrong)."""


def pinned_context(url: str, pinned: str, timeout: float = 10.0) -> ssl.SSLContext:
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise HubError(f"the hub's address must start with https:// (got {url!r}): patient data never crosses "
                       "the network unencrypted")
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
    except (OSError, ssl.SSLError) as exc:
        raise HubUnreachable(f"the hub at {url} cannot be reached ({exc})") from exc
    got = fingerprint_of_pem(pem)
    if got != normalise(pinned):
        raise PinMismatch(f"the PC answering at {url} is not the hub this PC was paired with (its certificate "
                          f"fingerprint is {got[:23]}…, expected {normalise(pinned)[:23]}…); nothing was sent")
    ctx = ssl.create_default_context(cadata=pem)
    ctx.check_hostname = False  # the pin, not the name, identifies the hub (an address may change)
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return ctx


def stored_token(url: str) -> str | None:
    import keyring

    ensure_backend()
    return keyring.get_password(KEYRING_SERVICE, url.rstrip("/"))


def store_token(url: str, token: str) -> None:
    import keyring

    ensure_backend()
    keyring.set_password(KEYRING_SERVICE, url.rstrip("/"), token)


class HubClient:
    """One hub, pinned. `token=None` reads the token this PC stored in the keyring at pairing."""

    def __init__(self, url: str, fingerprint: str, token: str | None = None, *, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.token = token if token is not None else stored_token(self.url)
        self._http = httpx.Client(base_url=self.url + API, verify=pinned_context(self.url, fingerprint),
                                  timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "HubClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, json: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            r = self._http.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise HubUnreachable(f"the hub at {self.url} did not answer ({exc.__class__.__name__})") from exc
        if r.status_code >= 400:
            try:
                message = r.json().get("error", r.text)
            except ValueError:
                message = r.text
            raise HubError(message, r.status_code)
        return r.json()

    # -- pairing -----------------------------------------------------------------------------
    def pair(self, code: str, name: str) -> str:
        """Exchange a one-time code for this PC's token, kept in the keyring (and returned)."""
        self.token = self._call("POST", "/pair", {"code": code, "name": name})["token"]
        store_token(self.url, self.token)
        return self.token

    # -- the review API ----------------------------------------------------------------------
    def queue(self, include_done: bool = False) -> list[dict]:
        return self._call("GET", "/queue" + ("?all=1" if include_done else ""))["studies"]

    def study(self, study_id: int) -> dict:
        return self._call("GET", f"/studies/{study_id}")

    def accept(self, finding_id: int) -> dict:
        return self._call("POST", f"/findings/{finding_id}/accept")

    def reject(self, finding_id: int) -> dict:
        return self._call("POST", f"/findings/{finding_id}/reject")

    def sign(self, study_id: int, clinician_id: int, pin: str, *, accept=(), reject=()) -> dict:
        return self._call("POST", f"/studies/{study_id}/sign", {"clinician": clinician_id, "pin": pin,
                                                                "accept": list(accept), "reject": list(reject)})

    def version(self) -> str:
        """Changes whenever anything the queue shows changes: poll it, reload on change."""
        return self._call("GET", "/changes")["version"]
