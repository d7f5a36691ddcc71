"""Open Dental API client (httpx): auth header, JSON, timeouts, throttle, mode fallback, paging.

Facts from Open Dental's API documentation (/work/shared/reference/opendental-api.md): every
request carries `Authorization: ODFHIR {DeveloperKey}/{CustomerKey}` and
`Content-Type: application/json`; Remote mode is throttled to 1 request/s per customer key;
POST bodies are at most 16.8 million characters; calls end at 60 s with 504; lists come in
pages of 100 (`Limit`/`Offset`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any, Callable

import httpx

from .keys import ODKeys
from ..settings.export import OpenDentalConfig

log = logging.getLogger("tray_app.pms")

BODY_LIMIT = 16_800_000  # characters per POST/PUT body
REMOTE_INTERVAL = 1.0  # seconds between Remote-mode requests (any write permission)
PAGE = 100
# a patient's documents or commlogs never need more than this; a server that keeps sending full
# pages (broken, or hostile on the LAN) would otherwise be read forever
MAX_PAGES = 100


class ODError(Exception):
    """One failed call, phrased for a front-desk person.

    `retry`: try again later by itself. `written`: False when the request certainly did not
    change anything in Open Dental (refused, or never sent); None when nobody can know.
    """

    def __init__(self, message: str, *, status: int | None = None, retry: bool = True,
                 written: bool | None = None, unreachable: bool = False):
        super().__init__(message)
        self.status = status
        self.retry = retry
        self.written = written
        self.unreachable = unreachable


def _status_error(status: int, path: str, body: str, base_url: str) -> ODError:
    detail = re.sub(r"\s+", " ", body or "").strip()[:160]
    tail = f" (Open Dental said: {detail})" if detail else ""
    if status == 400:
        return ODError("Open Dental could not carry out the request: its eConnector may be stopped or the Open Dental "
                       f"version too old; the export will be tried again{tail}.", status=400, retry=True, written=False)
    if status == 401:
        return ODError("Open Dental refused the API key: in Open Dental open Setup > Advanced Setup > API, make sure "
                       "the Dental AI Bridge key is enabled with the Documents and Comm permissions, and if the keys "
                       "changed run `dental-bridge secrets set opendental`.", status=401, retry=False, written=False)
    if status == 404:
        return ODError(f"Open Dental does not offer {path.split('?')[0]} (404): the Open Dental version is probably "
                       "too old for this feature; ask your Open Dental support to update it.", status=404,
                       retry=False, written=False)
    if status == 410:
        return ODError(f"Open Dental no longer offers {path.split('?')[0]} (410): Dental AI Bridge needs an update.",
                       status=410, retry=False, written=False)
    if status == 504:
        return ODError("Open Dental took longer than 60 seconds to answer (504); the export will be checked and tried "
                       "again automatically.", status=504, retry=True, written=None)
    if status == 429:
        return ODError("Open Dental asked us to slow down (429); the export will be tried again shortly.",
                       status=429, retry=True, written=False)
    if status >= 500:
        return ODError(f"Open Dental had an internal error ({status}); the export will be checked and tried again "
                       "automatically.", status=status, retry=True, written=None)
    return ODError(f"Open Dental answered {status} to {path.split('?')[0]}{tail}; the export will be tried again.",
                   status=status, retry=True, written=False)


def _transport_error(exc: httpx.HTTPError, base_url: str) -> ODError:
    where = base_url.split("/api/")[0]
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        what = ("Open Dental is not open on this computer (or no user is logged in)" if "localhost:30222" in where
                or "127.0.0.1:30222" in where else f"Open Dental's API at {where} cannot be reached")
        return ODError(f"{what}; the export waits and is sent once it answers.", retry=True, written=False,
                       unreachable=True)
    if isinstance(exc, httpx.TimeoutException):
        return ODError(f"Open Dental at {where} did not answer in time; the export will be checked and tried again "
                       "automatically.", retry=True, written=None)
    return ODError(f"the connection to Open Dental at {where} was interrupted ({type(exc).__name__}); the export "
                   "will be checked and tried again automatically.", retry=True, written=None)


def _tls(settings: OpenDentalConfig):
    """Certificates are always checked; `ca_file` adds the practice's own certificate authority
    (an API Service with a certificate the practice made itself)."""
    import ssl

    if not settings.ca_file:
        return True
    try:
        return ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ODError(f"the certificate file {settings.ca_file} cannot be read ({type(exc).__name__}); check "
                      "export.opendental.ca_file", retry=False, written=False) from exc


class ODClient:
    """A small Open Dental API client: auth header, JSON, timeouts, throttle, mode fallback.

    `clock`/`sleep` are injectable (tests); `base_urls` is tried in order and the first one
    that answers is kept for the rest of the client's life.
    """

    def __init__(self, settings: OpenDentalConfig, keys: ODKeys, *, base_urls: list[tuple[str, str]] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 body_limit: int = BODY_LIMIT, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.keys = keys
        self.base_urls = base_urls or [(m, settings.url_for(m)) for m in settings.order()]
        self._active = 0
        self.clock = clock
        self.sleep = sleep
        self.body_limit = body_limit
        self._last_request = -1e18
        self._lock = threading.Lock()
        timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False, verify=_tls(settings),
                                  headers={"Authorization": keys.authorization(), "Content-Type": "application/json",
                                           "Accept": "application/json",
                                           "User-Agent": "DentalAIBridge"})

    # -- plumbing ------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.base_urls[self._active][0]

    @property
    def base_url(self) -> str:
        return self.base_urls[self._active][1]

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _throttle(self) -> None:
        if self.mode != "remote":
            return
        wait = self._last_request + REMOTE_INTERVAL - self.clock()
        if wait > 0:
            self.sleep(wait)

    def request(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None) -> Any:
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            if len(content) > self.body_limit:
                raise ODError(f"the upload is larger than Open Dental accepts ({len(content):,} characters)",
                              retry=False, written=False)
        with self._lock:
            first_error: ODError | None = None
            for index in range(self._active, len(self.base_urls)):
                self._active = index
                self._throttle()
                url = self.base_url + path.lstrip("/")
                try:
                    resp = self._http.request(method, url, params=params,
                                              content=content.encode("utf-8") if content is not None else None)
                except httpx.HTTPError as exc:
                    err = _transport_error(exc, self.base_url)
                    if err.unreachable and index + 1 < len(self.base_urls):
                        log.info("Open Dental %s API unreachable; trying %s", self.mode, self.base_urls[index + 1][0])
                        first_error = first_error or err
                        continue
                    if err.unreachable and index > 0:
                        self._active = 0  # next time start from the preferred mode again
                    raise (first_error or err) if err.unreachable else err
                finally:
                    self._last_request = self.clock()
                if resp.status_code in (200, 201):
                    if not resp.content:
                        return None
                    try:
                        return resp.json()
                    except ValueError:
                        return resp.text
                raise _status_error(resp.status_code, path, resp.text, self.base_url)
        raise first_error or ODError("no Open Dental address is configured", retry=False, written=False)

    def get_all(self, path: str, params: dict) -> list[dict]:
        """A paginated GET: repeat with a higher Offset while a full page returns."""
        rows: list[dict] = []
        offset = 0
        for _ in range(MAX_PAGES):
            page = self.request("GET", path, params={**params, **({"Offset": offset} if offset else {})})
            page = page if isinstance(page, list) else []
            rows.extend(page)
            if len(page) < PAGE:
                return rows
            offset += len(page)
        raise ODError(f"Open Dental kept sending more {path.split('?')[0]} after {MAX_PAGES} pages; the export "
                      "stopped reading and will try again later (if it persists, ask your Open Dental support to "
                      "check the API Service)", retry=True, written=False)

    # -- endpoints -----------------------------------------------------------------------
    def patient(self, pat_num: int) -> dict | None:
        try:
            return self.request("GET", f"patients/{int(pat_num)}")
        except ODError as exc:
            if exc.status == 404:
                return None
            raise

    def patients_by_chart(self, chart_number: str) -> list[dict]:
        return self.get_all("patients", {"ChartNumber": chart_number})

    def image_categories(self) -> list[dict]:
        return self.get_all("definitions", {"Category": 18})

    def documents(self, pat_num: int) -> list[dict]:
        return self.get_all("documents", {"PatNum": int(pat_num)})

    def commlogs(self, pat_num: int) -> list[dict]:
        return self.get_all("commlogs", {"PatNum": int(pat_num)})

    def popups(self, pat_num: int) -> list[dict]:
        return self.get_all("popups", {"PatNum": int(pat_num)})

    def upload_document(self, fields: dict) -> dict:
        return self.request("POST", "documents/Upload", body=fields) or {}

    def post_commlog(self, fields: dict) -> dict:
        return self.request("POST", "commlogs", body=fields) or {}

    def post_popup(self, fields: dict) -> dict:
        return self.request("POST", "popups", body=fields) or {}


