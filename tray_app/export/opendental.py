"""Open Dental API client (httpx) and the Open Dental export of one signed report.

Facts from Open Dental's API documentation (docs: /work/shared/reference/opendental-api.md):
every request carries `Authorization: ODFHIR {DeveloperKey}/{CustomerKey}` and
`Content-Type: application/json`; Remote mode is throttled to 1 request/s per customer key;
POST bodies are at most 16.8 million characters; calls end at 60 s with 504.

What one signed study writes (each configurable, each carrying a unique marker
`[DAB:{study_id}:{report_sha256[:12]}:{part}]` so a retry can find it):

1. `GET /patients/{PatNum}` (or `GET /patients?ChartNumber=` first): the patient must exist and
   the last name and birth date must match the radiograph, else nothing is written.
2. `GET /definitions?Category=18`: the image category's DefNum by name.
3. `POST /documents/Upload` per annotated radiograph (ImgType Radiograph, DocCategory,
   ToothNumbers, DateCreated, Description "AI-Assisted Preliminary Findings … [marker]").
4. `POST /documents/Upload` for the PDF findings report (ImgType Document, extension .pdf).
5. `POST /commlogs` with the signed chart note (marker in the Note).
6. `POST /popups` for an urgent study, only when configured.

Before retrying a write whose outcome is unknown (timeout, reset connection, 5xx, a crash
between the answer and our commit) the part's marker is looked up with `GET /documents?PatNum=`,
`GET /commlogs?PatNum=` or `GET /popups?PatNum=`, so nothing is written twice.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import httpx

from .secrets import ODKeys
from ..settings.export import OpenDentalConfig

log = logging.getLogger("tray_app.export.opendental")

BODY_LIMIT = 16_800_000  # characters per POST/PUT body
REMOTE_INTERVAL = 1.0  # seconds between Remote-mode requests (any write permission)
PAGE = 100
# a patient's documents or commlogs never need more than this; a server that keeps sending full
# pages (broken, or hostile on the LAN) would otherwise be read forever
MAX_PAGES = 100
DESCRIPTION_MAX = 255  # document.Description is varchar(255)


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


# -- patient matching ------------------------------------------------------------------------
def _norm_name(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


def _norm_date(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")[:8]
    return digits if len(digits) == 8 and digits != "00010101" else ""


class PatientProblem(Exception):
    """The patient cannot be confirmed: nothing may be written (needs attention)."""


def resolve_patient(client: ODClient, patient: dict, *, require_birth_date: bool = True) -> dict:
    """The Open Dental patient for the report's patient, confirmed by last name and birth date."""
    pid = str(patient.get("id") or "").strip()
    kind = patient.get("id_kind") or ""
    if not pid:
        raise PatientProblem("the radiographs carry no patient id, so the Open Dental chart cannot be found; "
                             "export them by hand")
    if kind == "patnum":
        if not pid.isdigit():
            raise PatientProblem(f"the patient id {pid!r} is not an Open Dental PatNum; check the watch folder's "
                                 "patient-id setting (patnum or chartnumber)")
        pat_num = int(pid)
    elif kind == "chartnumber":
        found = [p for p in client.patients_by_chart(pid) if str(p.get("ChartNumber", "")).strip() == pid]
        if not found:
            raise PatientProblem(f"no Open Dental patient has chart number {pid}; check the chart number in the "
                                 "imaging software")
        if len(found) > 1:
            raise PatientProblem(f"{len(found)} Open Dental patients share chart number {pid}; fix the duplicate "
                                 "chart numbers, then retry the export")
        pat_num = int(found[0]["PatNum"])
    else:
        raise PatientProblem("it is not known whether the patient id is a PatNum or a chart number; set the watch "
                             "folder's patient-id setting")
    record = client.patient(pat_num)
    if not record:
        raise PatientProblem(f"Open Dental has no patient with PatNum {pat_num}; check the patient id in the "
                             "imaging software")
    last = (patient.get("name") or "").split("^")[0]
    problems = []
    if not _norm_name(last) or _norm_name(last) != _norm_name(str(record.get("LName", ""))):
        problems.append("last name")
    ours, theirs = _norm_date(patient.get("birth_date", "")), _norm_date(str(record.get("Birthdate", "")))
    if ours or require_birth_date:
        if not ours:
            problems.append("birth date (missing on the radiograph)")
        elif ours != theirs:
            problems.append("birth date")
    if problems:
        raise PatientProblem(f"Open Dental patient {pat_num} does not match the radiographs ({' and '.join(problems)} "
                             "differ); nothing was written — check the patient in the imaging software and in "
                             "Open Dental")
    return record


def tooth_numbers(teeth: list[str]) -> str:
    """Universal tooth numbers as Open Dental's ToothNumbers text, e.g. "1-5,8,A"."""
    nums = sorted({int(t) for t in teeth if str(t).isdigit() and 1 <= int(t) <= 32})
    letters = sorted({str(t).upper() for t in teeth if len(str(t)) == 1 and str(t).upper() in "ABCDEFGHIJKLMNOPQRST"})
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(f"{nums[i]}-{nums[j]}" if j - i >= 2 else ",".join(str(n) for n in nums[i:j + 1]))
        i = j + 1
    return ",".join(parts + letters)


def od_datetime(iso: str) -> str:
    """An ISO timestamp (UTC) as Open Dental's local `yyyy-MM-dd HH:mm:ss`."""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        dt = datetime.now(timezone.utc)
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def description(text: str, marker: str) -> str:
    room = DESCRIPTION_MAX - len(marker) - 1
    text = text if len(text) <= room else text[: room - 1] + "…"
    return f"{text} {marker}"


@dataclass
class Upload:
    data: bytes
    extension: str
    note: str = ""  # e.g. "downscaled to fit Open Dental's upload limit"


def fit_upload(make: Callable[[float], Upload], limit: int, overhead: int = 2000) -> Upload:
    """Render at full size, else at smaller scales until the base64 body fits the limit."""
    scale = 1.0
    while True:
        up = make(scale)
        if (len(up.data) + 2) // 3 * 4 + overhead <= limit:
            if scale < 1.0:
                up.note = f"downscaled to {scale:.0%} to fit Open Dental's upload limit"
            return up
        if scale < 0.05:
            raise ODError("the image is too large for Open Dental's upload limit even when reduced", retry=False,
                          written=False)
        scale *= 0.7


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
