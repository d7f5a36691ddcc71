"""The client side of the hub (httpx): the hub's certificate pinned by its SHA-256 fingerprint,
the client's token kept in the OS keyring.

Pinning: the hub's certificate is fetched and its fingerprint compared with the pinned one
before any request; the connection then trusts exactly that certificate, so a different one
(another PC answering on the hub's address) fails the TLS handshake and nothing — no token,
no PIN — is sent to it. Plain http:// is refused outright.

Losing the hub (the front-desk PC restarts, the LAN drops): a request the hub never received is
retried with backoff for `retry_seconds`, as is one whose answer was lost if repeating it is
harmless (reads, accept/reject — repeating those changes nothing); then `HubUnavailable` says
so. A sign-off whose answer was lost is never sent twice: the study tells whether it was signed.
"""

from __future__ import annotations

import ssl
import time
from urllib.parse import urlsplit

import httpx

from ..keyring_backend import ensure_backend
from .changes import LONG_POLL_SECONDS
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


class HubUnavailable(HubError):
    """No answer from the hub (it is off, restarting or unreachable); worth trying again later."""


BACKOFF_FIRST, BACKOFF_MAX = 0.2, 2.0  # seconds between retries: doubling, capped


def pinned_context(url: str, pinned: str, timeout: float = 10.0) -> ssl.SSLContext:
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise HubError(f"the hub's address must start with https:// (got {url!r}): patient data never crosses "
                       "the network unencrypted")
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
    except (OSError, ssl.SSLError) as exc:
        raise HubUnavailable(f"the hub at {url} cannot be reached ({exc}): is the front-desk PC on?") from exc
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

    def __init__(self, url: str, fingerprint: str, token: str | None = None, *, timeout: float = 10.0,
                 retry_seconds: float = 5.0):
        self.url = url.rstrip("/")
        self.fingerprint = fingerprint
        self.token = token if token is not None else stored_token(self.url)
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self._http: httpx.Client | None = None
        try:
            self._connect()
        except HubUnavailable:  # not there now: the first request tries again (a wrong pin raises here)
            pass

    def _connect(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=self.url + API, verify=pinned_context(self.url, self.fingerprint),
                                      timeout=self.timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> "HubClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, method: str, path: str, json: dict | None, timeout: float | None,
              repeatable: bool, headers: dict | None = None) -> httpx.Response:
        headers = dict(headers or {}) | ({"Authorization": f"Bearer {self.token}"} if self.token else {})
        deadline, pause = time.monotonic() + self.retry_seconds, BACKOFF_FIRST
        while True:
            try:
                return self._connect().request(method, path, json=json, headers=headers,
                                               timeout=timeout or self.timeout)
            except (HubUnavailable, httpx.ConnectError, httpx.ConnectTimeout) as exc:
                problem = exc  # never reached the hub: always safe to try again
            except httpx.TransportError as exc:  # sent, but the answer was lost
                if not repeatable:
                    raise HubUnavailable(f"the hub at {self.url} stopped answering during the request "
                                         f"({exc.__class__.__name__}): reload the study to see whether it went "
                                         "through") from exc
                problem = exc
            if time.monotonic() + pause > deadline:
                raise HubUnavailable(f"the hub at {self.url} is not answering ({problem.__class__.__name__}): "
                                     "is the front-desk PC on? This PC keeps trying.") from problem
            time.sleep(pause)
            pause = min(pause * 2, BACKOFF_MAX)

    def _request(self, method: str, path: str, json: dict | None = None, headers: dict | None = None, *,
                 timeout: float | None = None, repeatable: bool = True) -> httpx.Response:
        r = self._send(method, path, json, timeout, repeatable, headers)
        if r.status_code >= 400:
            try:
                message = r.json().get("error", r.text)
            except ValueError:
                message = r.text
            raise HubError(message, r.status_code)
        return r

    def _call(self, method: str, path: str, json: dict | None = None, *, timeout: float | None = None,
              repeatable: bool = True) -> dict:
        return self._request(method, path, json, timeout=timeout, repeatable=repeatable).json()

    def fetch(self, path: str, etag: str = "") -> tuple[str, bytes | None]:
        """GET bytes (an image's pixels): (etag, body), body None when `etag` is still current (304)."""
        r = self._request("GET", path, headers={"If-None-Match": etag} if etag else None)
        return r.headers.get("etag", ""), (None if r.status_code == 304 else r.content)

    # -- pairing -----------------------------------------------------------------------------
    def pair(self, code: str, name: str) -> str:
        """Exchange a one-time code for this PC's token, kept in the keyring (and returned)."""
        self.token = self._call("POST", "/pair", {"code": code, "name": name}, repeatable=False)["token"]
        store_token(self.url, self.token)
        return self.token

    # -- the review API ----------------------------------------------------------------------
    def queue(self, include_done: bool = False) -> list[dict]:
        return self._call("GET", "/queue" + ("?all=1" if include_done else ""))["studies"]

    def study(self, study_id: int) -> dict:
        return self._call("GET", f"/studies/{study_id}")

    # `expected_version`: the study's "version" this PC's view is based on; when another PC
    # changed the study since, the hub refuses the action (HubError, status 409: reload)
    def accept(self, finding_id: int, *, expected_version: int | None = None) -> dict:
        return self._call("POST", f"/findings/{finding_id}/accept", {"expected_version": expected_version})

    def reject(self, finding_id: int, *, expected_version: int | None = None) -> dict:
        return self._call("POST", f"/findings/{finding_id}/reject", {"expected_version": expected_version})

    def sign(self, study_id: int, clinician_id: int, pin: str, *, accept=(), reject=(),
             expected_version: int | None = None, codes: dict | None = None) -> dict:
        """Exclusive and final: when another PC signed first, HubError 409 names who and when.
        `codes`: the treatment codes the dentist confirmed, {finding id: code}."""
        return self._call("POST", f"/studies/{study_id}/sign",
                          {"clinician": clinician_id, "pin": pin, "accept": list(accept), "reject": list(reject),
                           "expected_version": expected_version,
                           "codes": {str(k): v for k, v in (codes or {}).items()}}, repeatable=False)

    def version(self) -> str:
        """Changes whenever anything the queue shows changes: poll it, reload on change."""
        return self._call("GET", "/changes")["version"]

    def changes(self, since: str, wait: float = LONG_POLL_SECONDS) -> str:
        """Long-poll: the new version as soon as it differs from `since`, else `since` after `wait` s."""
        return self._call("GET", f"/changes?since={since}&wait={wait:g}", timeout=wait + 10.0)["version"]
