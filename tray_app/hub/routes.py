"""The hub's JSON API (Starlette). Every route but /pair needs a paired client's bearer token.

Reads are the review window's: the queue (`ReviewAPI.queue`, what `queue --json` prints), a
study with its findings and version, and change notifications (changes.py: a long-poll). Writes
go through `ReviewAPI` with the client's name as actor (each one transaction with its review row
and audit entry; one based on an older study version is refused with 409); sign-off
checks the clinician's PIN here, on the hub, with its lock-out. The database work runs on a
small thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..review.api import AlreadySigned, ReviewAPI, ReviewError, SignError
from ..store import audit
from ..store import hub as hub_store
from ..store.db import utcnow
from . import pairing
from .changes import LONG_POLL_SECONDS, ChangeFeed
from .routes_review import expected_version, review_routes

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_BODY = 64 * 1024  # every request body is a few fields
PAIRING_FAILURES, PAIRING_WINDOW = 10, 60.0  # refused pairings per minute before pairing pauses


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(api: ReviewAPI, fingerprint: str, *, workers: int = 4) -> Starlette:
    db = api.db
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hub-db")

    async def run(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def body(request: Request) -> dict:
        raw = b""
        async for chunk in request.stream():  # read up to the cap, never a whole oversized body
            raw += chunk
            if len(raw) > MAX_BODY:
                raise ValueError("request too large")
        data = json.loads(raw or b"{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    def client_of(request: Request) -> dict | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        client = pairing.authenticate(db, token)
        if client is not None and (client["last_seen_at"] or "") < utcnow()[:16]:  # at most once a minute
            hub_store.touch(db, client["id"], utcnow())
        return client

    def authenticated(handler):
        async def endpoint(request: Request):
            client = await run(client_of, request)
            if client is None:
                log.warning("hub: refused a request without a valid client token from %s",
                            request.client.host if request.client else "?")
                return _error(401, "this PC is not paired with the hub, or its pairing was revoked: pair it again")
            try:
                return await handler(request, client)
            except (ValueError, KeyError, TypeError) as exc:
                return _error(400, f"bad request: {exc}")
            except AlreadySigned as exc:  # a conflict with another PC, like a stale version
                return _error(409, str(exc))
            except SignError as exc:
                return _error(403, str(exc))
            except ReviewError as exc:
                return _error(409, str(exc))
        return endpoint

    failures: deque[float] = deque()  # monotonic times of recent refused pairings

    async def pair(request: Request):
        now = time.monotonic()
        while failures and now - failures[0] > PAIRING_WINDOW:
            failures.popleft()
        if len(failures) >= PAIRING_FAILURES:  # someone is guessing: pause pairing for everyone briefly
            return _error(429, "too many wrong pairing codes: wait a minute, then show a new code on the hub")
        try:
            data = await body(request)
            token = await run(pairing.pair, db, str(data.get("code", "")), str(data.get("name", "")))
        except pairing.PairingError as exc:
            failures.append(time.monotonic())
            log.warning("hub: pairing refused for %s", request.client.host if request.client else "?")
            return _error(403, str(exc))
        except ValueError as exc:
            return _error(400, f"bad request: {exc}")
        log.info("hub: a client paired")
        return JSONResponse({"token": token, "fingerprint": fingerprint})

    async def queue(request: Request, client: dict):
        include_done = request.query_params.get("all") in ("1", "true")
        return JSONResponse({"studies": await run(lambda: api.queue(include_done=include_done))})

    def _viewed(study_id: int, client: dict) -> dict:
        study = api.study(study_id)
        with db.tx() as c:  # who looked at which patient's study, from which PC
            audit.append(c, "hub_viewed", f"study:{study_id}", client=client["name"])
        return study

    async def study(request: Request, client: dict):
        return JSONResponse(await run(_viewed, int(request.path_params["study_id"]), client))

    def _review(action: str):
        async def handler(request: Request, client: dict):
            fid = int(request.path_params["finding_id"])
            data = await body(request)
            await run(lambda: getattr(api, action)(fid, f"hub:{client['name']}",
                                                   expected_version=expected_version(data)))
            return JSONResponse({"finding_id": fid, "status": {"accept": "accepted", "reject": "rejected"}[action]})
        return handler

    def _sign(study_id: int, data: dict, client: dict) -> dict:
        try:
            return api.sign(study_id, int(data["clinician"]), str(data["pin"]),
                            accept=[int(x) for x in data.get("accept", [])],
                            reject=[int(x) for x in data.get("reject", [])], via=client["name"],
                            expected_version=expected_version(data),
                            codes={int(k): str(v) for k, v in (data.get("codes") or {}).items()})
        except SignError as exc:
            with db.tx() as c:  # a wrong PIN from which PC (the lock-out itself is the clinician's)
                audit.append(c, "hub_sign_refused", f"study:{study_id}", client=client["name"], reason=str(exc))
            raise

    async def sign(request: Request, client: dict):
        data = await body(request)
        return JSONResponse(await run(_sign, int(request.path_params["study_id"]), data, client))

    feed = ChangeFeed(db, run)

    async def changes(request: Request, client: dict):
        wait = float(request.query_params.get("wait", LONG_POLL_SECONDS))
        if not 0 <= wait:  # also NaN
            raise ValueError("wait is a number of seconds")
        return JSONResponse({"version": await feed.wait(request.query_params.get("since"),
                                                        min(wait, LONG_POLL_SECONDS))})

    routes = [
        Route(f"{API}/pair", pair, methods=["POST"]),
        Route(f"{API}/queue", authenticated(queue), methods=["GET"]),
        Route(f"{API}/studies/{{study_id:int}}", authenticated(study), methods=["GET"]),
        Route(f"{API}/studies/{{study_id:int}}/sign", authenticated(sign), methods=["POST"]),
        Route(f"{API}/findings/{{finding_id:int}}/accept", authenticated(_review("accept")), methods=["POST"]),
        Route(f"{API}/findings/{{finding_id:int}}/reject", authenticated(_review("reject")), methods=["POST"]),
        Route(f"{API}/changes", authenticated(changes), methods=["GET"]),
    ] + review_routes(api, API, authenticated, run, body)  # pixels, edit/add/undo, preview, exports
    app = Starlette(routes=routes)
    app.state.pool = pool  # shut down by the server when it stops
    app.state.feed = feed  # closed by the server when it stops: waiting long-polls return
    return app
