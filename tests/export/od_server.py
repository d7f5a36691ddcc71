"""A loopback stand-in for Open Dental's API that follows the documented contract.

127.0.0.1 only, a bounded number of handler threads. It checks the ODFHIR auth header, the
JSON content type, required fields and their formats, keeps what was written, answers 201,
and the documented errors (400, 401, 404, 504). Every request is recorded. Faults can be
queued: `fail(kind, match=...)` makes the next matching request misbehave:

- "500" / "504": answer with that status without doing anything
- "500_after" / "504_after": do the work, then answer with the error (outcome unknown to us)
- "reset" / "reset_after": drop the connection (RST) before / after doing the work
- "timeout_after": do the work, then stall past the client's read timeout

Resources beyond documents, commlogs and popups live in `od_api/*.py`, one module per resource
group: each has `ROUTES = [(method, path_regex, handler)]`, `handler(server, match, query, data)
-> (status, payload)`, and keeps its rows in `server.state.tables[<name>]`. They are loaded by
file path, so they work however this module was imported.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DEV, CUST = "devKEY123", "custKEY456"
BODY_LIMIT = 16_800_000
IMG_TYPES = {"Document", "Radiograph", "Photo", "File", "Attachment"}
MAGIC = {".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".png": b"\x89PNG", ".pdf": b"%PDF"}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@dataclass
class Fault:
    kind: str
    match: str = ""  # substring of "METHOD /path" to match, "" = any request


@dataclass
class State:
    patients: dict[int, dict] = field(default_factory=dict)
    categories: list[dict] = field(default_factory=lambda: [
        {"DefNum": 47, "ItemName": "Patient Pictures", "ItemValue": "", "Category": 18, "category": "ImageCats",
         "isHidden": "false"},
        {"DefNum": 52, "ItemName": "Radiographs", "ItemValue": "X", "Category": 18, "category": "ImageCats",
         "isHidden": "false"},
    ])
    documents: list[dict] = field(default_factory=list)
    commlogs: list[dict] = field(default_factory=list)
    popups: list[dict] = field(default_factory=list)
    tables: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # od_api resources
    requests: list[dict] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    faults_fired: list[str] = field(default_factory=list)
    endless_pages: bool = False
    next_num: int = 100


def _load_routes() -> list[tuple[str, re.Pattern, object]]:
    routes = []
    for path in sorted((Path(__file__).parent / "od_api").glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"_od_api_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        routes += [(method, re.compile(pattern), handler) for method, pattern, handler in module.ROUTES]
    return routes


ROUTES = _load_routes()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    max_threads = 8

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._slots = threading.BoundedSemaphore(self.max_threads)

    def process_request(self, request, client_address):
        self._slots.acquire()
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class FakeOpenDental:
    def __init__(self, port: int = 0, stall_seconds: float = 0.6, tls=None):
        self.tls = tls  # an ssl.SSLContext: serve https, as an API Service set up with a certificate
        self.state = State()
        self.lock = threading.Lock()
        self.stall_seconds = stall_seconds
        self.port = port
        self.body_limit = BODY_LIMIT
        self.httpd: _Server | None = None
        self.thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/api/v1/"

    def start(self) -> "FakeOpenDental":
        handler = _make_handler(self)
        self.httpd = _Server(("127.0.0.1", self.port), handler)
        self.port = self.httpd.server_address[1]
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.thread:
            self.thread.join(5)
            self.thread = None

    # -- set-up --------------------------------------------------------------------------------
    def add_patient(self, pat_num: int, last: str, first: str, birthdate: str, chart: str = "",
                    med_urg_note: str = "") -> None:
        self.state.patients[pat_num] = {"PatNum": pat_num, "LName": last, "FName": first, "Birthdate": birthdate,
                                        "ChartNumber": chart, "PatStatus": "Patient",
                                        "ImageFolder": f"{last}{first}{pat_num}"}
        if med_urg_note:  # the patient table's urgent medical note (Open Dental's schema field name)
            self.state.patients[pat_num]["MedUrgNote"] = med_urg_note

    def add_procedure(self, pat_num: int, code: str, status: str, tooth: str = "", surf: str = "",
                      date: str = "2025-01-15", apt_num: int = 0) -> dict:
        """A procedure already in the patient's chart (the procedurelogs resource, od_api/procedures.py)."""
        row = {"ProcNum": self._num(), "PatNum": pat_num, "AptNum": apt_num, "ProcDate": date, "ProcFee": "0.00",
               "Surf": surf, "ToothNum": tooth, "ToothRange": "", "ProcStatus": status, "ProvNum": 1, "Dx": 0,
               "CodeNum": 0, "procCode": code, "descript": "", "DateTStamp": f"{date} 08:00:00"}
        self.state.tables["procedurelogs"].append(row)
        return row

    def fail(self, kind: str, match: str = "") -> None:
        with self.lock:
            self.state.faults.append(Fault(kind, match))

    # -- reads for tests ---------------------------------------------------------------------
    def writes(self) -> list[dict]:
        return [r for r in self.state.requests if r["method"] == "POST"]

    def docs_with(self, marker: str) -> list[dict]:
        return [d for d in self.state.documents if marker in d["Description"]]

    # -- request handling --------------------------------------------------------------------
    def take_fault(self, method: str, path: str) -> str | None:
        key = f"{method} {path}"
        with self.lock:
            for i, f in enumerate(self.state.faults):
                if f.match in key:
                    self.state.faults.pop(i)
                    self.state.faults_fired.append(f"{f.kind} {key}")
                    return f.kind
        return None

    def handle(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, object]:
        u = urlparse(raw_path)
        path = u.path
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if not path.startswith("/api/v1/"):
            return 404, "not found"
        path = path[len("/api/v1/"):]
        if headers.get("Authorization") != f"ODFHIR {DEV}/{CUST}":
            return 401, "Invalid Authorization header"
        if headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return 400, "Content-Type must be application/json"
        data = None
        if method in ("POST", "PUT"):
            if len(body.decode("utf-8")) > self.body_limit:
                return 400, "Request body too large"
            try:
                data = json.loads(body)
            except ValueError:
                return 400, "Invalid JSON"
        with self.lock:
            return self._route(method, path, q, data)

    def _route(self, method: str, path: str, q: dict, data):
        s = self.state
        m = re.fullmatch(r"patients/(\d+)", path)
        if method == "GET" and m:
            p = s.patients.get(int(m.group(1)))
            return (200, p) if p else (404, "Patient not found")
        if method == "GET" and path == "patients":
            rows = list(s.patients.values())
            if "ChartNumber" in q:
                rows = [p for p in rows if q["ChartNumber"].lower() in p["ChartNumber"].lower()]  # partial
            return 200, self._page(rows, q)
        if method == "GET" and path == "definitions":
            if q.get("Category") != "18":
                return 200, []
            return 200, self._page(s.categories, q)
        if method == "GET" and path in ("documents", "commlogs", "popups"):
            if "PatNum" not in q or not q["PatNum"].isdigit():
                return 400, "PatNum is required"
            rows = {"documents": s.documents, "commlogs": s.commlogs, "popups": s.popups}[path]
            return 200, self._page([{k: v for k, v in r.items() if k != "_raw"} for r in rows
                                    if r["PatNum"] == int(q["PatNum"])], q)
        if method == "POST" and path == "documents/Upload":
            return self._upload(data)
        if method == "POST" and path == "commlogs":
            err = self._need(data, ("PatNum", "Note"))
            if err:
                return 400, err
            if "CommDateTime" in data and not DATETIME.match(data["CommDateTime"]):
                return 400, "CommDateTime format is yyyy-MM-dd HH:mm:ss"
            if data.get("SentOrReceived", "Sent") not in ("Neither", "Sent", "Received"):
                return 400, "SentOrReceived is invalid"
            row = {"CommlogNum": self._num(), "PatNum": data["PatNum"], "Note": data["Note"].replace("\r", " ")
                   .replace("\n", " "), "CommDateTime": data.get("CommDateTime", ""), "Mode_": data.get("Mode_", "Phone"),
                   "SentOrReceived": data.get("SentOrReceived", "Sent")}
            s.commlogs.append(row)
            return 201, row
        if method == "POST" and path == "popups":
            err = self._need(data, ("PatNum", "Description"))
            if err:
                return 400, err
            row = {"PopupNum": self._num(), "PatNum": data["PatNum"], "Description": data["Description"],
                   "PopupLevel": data.get("PopupLevel", "Patient")}
            s.popups.append(row)
            return 201, row
        for route_method, pattern, handler in ROUTES:
            m = pattern.fullmatch(path)
            if m and method == route_method:
                return handler(self, m, q, data)
        return 404, "Not found"

    def _need(self, data, fields) -> str:
        if not isinstance(data, dict):
            return "body must be a JSON object"
        for f in fields:
            if f not in data or data[f] in ("", None):
                return f"{f} is required"
        if not isinstance(data["PatNum"], int) or data["PatNum"] not in self.state.patients:
            return "PatNum is invalid"
        return ""

    def _upload(self, data):
        err = self._need(data, ("PatNum", "rawBase64", "extension"))
        if err:
            return 400, err
        ext = data["extension"]
        if not re.fullmatch(r"\.[a-z0-9]{2,4}", ext):
            return 400, "extension is invalid"
        try:
            raw = base64.b64decode(data["rawBase64"], validate=True)
        except ValueError:
            return 400, "rawBase64 is not valid base64"
        if ext in MAGIC and not raw.startswith(MAGIC[ext]):
            return 400, f"rawBase64 is not a {ext} file"
        if "DateCreated" in data and not DATETIME.match(data["DateCreated"]):
            return 400, "DateCreated format is yyyy-MM-dd HH:mm:ss"
        if "ImgType" in data and data["ImgType"] not in IMG_TYPES:
            return 400, "ImgType is invalid"
        cat = data.get("DocCategory", self.state.categories[0]["DefNum"])
        if not isinstance(cat, int) or cat not in {c["DefNum"] for c in self.state.categories}:
            return 400, "DocCategory is invalid"
        teeth = data.get("ToothNumbers", "")
        if teeth and not re.fullmatch(r"[0-9A-T,\-]+", teeth):
            return 400, "ToothNumbers is invalid"
        if len(data.get("Description", "")) > 255:
            return 400, "Description is too long"
        row = {"DocNum": self._num(), "PatNum": data["PatNum"], "Description": data.get("Description", ""),
               "DateCreated": data.get("DateCreated", ""), "DocCategory": cat, "ImgType": data.get("ImgType", "Document"),
               "ToothNumbers": teeth, "FileName": "x", "Note": "", "extension": ext, "_raw": raw}
        self.state.documents.append(row)
        return 201, {k: v for k, v in row.items() if k != "_raw"}

    def _num(self) -> int:
        self.state.next_num += 1
        return self.state.next_num

    def _page(self, rows, q):
        limit = min(int(q.get("Limit", 100)), 100)
        if self.state.endless_pages:  # a hostile or broken server: a full page, whatever the Offset
            return [{"Filler": i} for i in range(limit)]
        offset = int(q.get("Offset", 0))
        return rows[offset:offset + limit]


def _make_handler(server: FakeOpenDental):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5

        def log_message(self, *a):
            pass

        def _reset(self):
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass

        def _serve(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            u = urlparse(self.path)
            key_path = u.path[len("/api/v1"):] if u.path.startswith("/api/v1") else u.path
            record = {"method": method, "path": key_path, "query": {k: v[0] for k, v in parse_qs(u.query).items()},
                      "auth": self.headers.get("Authorization"), "content_type": self.headers.get("Content-Type"),
                      "json": None, "at": time.monotonic()}
            if body:
                try:
                    record["json"] = json.loads(body)
                except ValueError:
                    pass
            with server.lock:
                server.state.requests.append(record)
            fault = server.take_fault(method, key_path)
            if fault in ("500", "504"):
                return self._send(int(fault), f"injected {fault}")
            if fault == "reset":
                return self._reset()
            status, payload = server.handle(method, self.path, self.headers, body)
            record["status"] = status
            if fault in ("500_after", "504_after"):
                return self._send(int(fault[:3]), f"injected {fault}")
            if fault == "reset_after":
                return self._reset()
            if fault == "timeout_after":
                time.sleep(server.stall_seconds)
                return self._reset()
            self._send(status, payload)

        def _send(self, status, payload):
            data = (json.dumps(payload) if not isinstance(payload, str) else payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(payload, str) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PUT(self):
            self._serve("PUT")

    return Handler
