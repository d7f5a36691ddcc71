"""Joining a hub from an operatory PC — the one path `dental-bridge client join` and the
first-run wizard's "This PC reviews" page share: the hub's certificate fingerprint (as first
seen, for the person to compare with the one the hub shows), then the one-time code exchanged
for this PC's token (kept in the OS keyring by HubClient.pair)."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from .client import HubClient, HubError, HubUnavailable
from .tls import fingerprint_of_pem, normalise


def clean_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith("https://"):
        raise HubError(f"the hub's address must start with https:// (got {url!r})")
    return url


def first_seen_fingerprint(url: str, timeout: float = 10.0) -> str:
    """The SHA-256 fingerprint of the certificate the PC at `url` presents now."""
    parts = urlsplit(clean_url(url))
    try:
        return fingerprint_of_pem(ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout))
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise HubUnavailable(f"the hub at {url} cannot be reached ({exc})") from exc


def join(url: str, code: str, name: str, fingerprint: str = "") -> tuple[str, str]:
    """Pairs this PC; (hub_url, fingerprint) for `[client]`. With a fingerprint, a hub presenting
    another certificate is refused before the code is sent."""
    url = clean_url(url)
    fp = normalise(fingerprint) if fingerprint else first_seen_fingerprint(url)
    with HubClient(url, fp, token="") as hub:
        hub.pair(code, name)
    return url, fp
