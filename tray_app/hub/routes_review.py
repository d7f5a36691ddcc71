"""The hub routes the review window needs beyond the first slice: an image's pixels, the
remaining finding actions (edit, add, undo), the sign-off preview, the clinicians to sign as,
a study's export status, its chart context from Open Dental (medical alerts, charted teeth; read by
the hub, kept in its memory, never logged) and a patient's newest study (a chart link on a client). Registered by routes.py; same token check, same thread pool.

Pixels are the intake's 8-bit cache sent as PNG (lossless: a radiograph is read for fine
detail) with an ETag; the PNG is made once per image and kept in a small memory cache, so an
image switch costs the transfer and the client's decode, and a client holding it already gets
304. Writes go through `ReviewAPI` with `hub:NAME` as actor and the client's `expected_version`,
like accept and reject (a stale one is refused with 409).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..intake.errors import QuarantineError
from ..review.api import ReviewAPI, ReviewError, image_pixels

PNG_CACHE_IMAGES = 32  # ~0.3–1 MB each: a few studies' worth, in memory only (never on disk)


class PngCache:
    """image id → (etag, PNG bytes), least recently used out. The 8-bit cache of an image is
    written once at intake and never changes, so an entry never goes stale."""

    def __init__(self, size: int = PNG_CACHE_IMAGES):
        self._items: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()  # filled from the hub-db threads

    def get(self, image_id: int) -> tuple[str, bytes] | None:
        with self._lock:
            item = self._items.get(image_id)
            if item is not None:
                self._items.move_to_end(image_id)
            return item

    def put(self, image_id: int, item: tuple[str, bytes]) -> None:
        with self._lock:
            self._items[image_id] = item
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def encode_png(pixels) -> bytes:
    """The intake's display pixels (8-bit grey, or 8-bit colour for a colour raster) as PNG."""
    import numpy as np
    from PIL import Image

    a = np.ascontiguousarray(pixels)
    if a.dtype != np.uint8:  # the cache is 8-bit by contract (intake/levels.py): never guess a window here
        raise ReviewError(f"this image cannot be shown: its display pixels are {a.dtype}, not 8-bit")
    out = io.BytesIO()
    # level 1: a third of level 6's time for a few % more bytes, which loopback and a LAN carry easily
    Image.fromarray(a).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def expected_version(data: dict) -> int | None:
    """The study version the client's action is based on (None: the client did not say)."""
    return None if data.get("expected_version") is None else int(data["expected_version"])


def review_routes(api: ReviewAPI, api_prefix: str, authenticated, run, body) -> list[Route]:
    """`authenticated`, `run` and `body` are routes.py's: the token check, the thread pool, the capped body."""
    cache = PngCache()

    def _png(image_id: int) -> tuple[str, bytes]:
        found = cache.get(image_id)
        if found is None:
            data = encode_png(image_pixels(api.db, image_id))
            found = (f'"{hashlib.sha256(data).hexdigest()[:32]}"', data)
            cache.put(image_id, found)
        return found

    async def pixels(request: Request, client: dict):
        try:
            etag, data = await run(_png, int(request.path_params["image_id"]))
        except QuarantineError as exc:  # the cache is gone and the original changed or vanished
            raise ReviewError(f"this image cannot be shown: {exc}") from exc
        except OSError as exc:
            raise ReviewError(f"this image cannot be read on the hub right now ({exc.__class__.__name__})") from exc
        headers = {"ETag": etag, "Cache-Control": "private, no-store"}  # patient images: no shared caches
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(data, media_type="image/png", headers=headers)

    def actor(client: dict) -> str:
        return f"hub:{client['name']}"

    async def edit(request: Request, client: dict):
        data = await body(request)
        fid = int(request.path_params["finding_id"])
        fields = {k: data[k] for k in ("label", "tooth_fdi", "surfaces", "note", "box") if data.get(k) is not None}
        await run(lambda: api.edit(fid, actor=actor(client), expected_version=expected_version(data), **fields))
        return JSONResponse({"finding_id": fid, "status": "edited"})

    async def add(request: Request, client: dict):
        data = await body(request)
        image_id = int(request.path_params["image_id"])
        tooth = data.get("tooth_fdi")
        fid = await run(lambda: api.add(image_id, str(data["label"]), [float(v) for v in data["box"]],
                                        tooth_fdi=int(tooth) if tooth else None, surfaces=str(data.get("surfaces", "")),
                                        note=str(data.get("note", "")), actor=actor(client),
                                        expected_version=expected_version(data)))
        return JSONResponse({"finding_id": fid})

    async def undo(request: Request, client: dict):
        study_id, data = int(request.path_params["study_id"]), await body(request)
        return JSONResponse({"undone": await run(lambda: api.undo(study_id, actor(client),
                                                                  expected_version=expected_version(data)))})

    async def preview(request: Request, client: dict):
        return JSONResponse(await run(api.preview_export, int(request.path_params["study_id"])))

    async def exports(request: Request, client: dict):
        return JSONResponse({"exports": await run(api.exports, int(request.path_params["study_id"]))})

    async def chart(request: Request, client: dict):
        return JSONResponse(await run(api.chart_context, int(request.path_params["study_id"])),
                            headers={"Cache-Control": "private, no-store"})  # medical data: no shared caches

    async def patient(request: Request, client: dict):  # `review --patient ID` on a client (a chart link)
        q = request.query_params
        match = await run(api.find_patient, q.get("id", ""), q.get("kind") or None)
        return JSONResponse({"study_id": match.study_id, "message": match.message})

    async def clinicians(request: Request, client: dict):
        return JSONResponse({"clinicians": await run(api.clinicians)})

    p = api_prefix
    return [
        Route(f"{p}/images/{{image_id:int}}/pixels", authenticated(pixels), methods=["GET"]),
        Route(f"{p}/images/{{image_id:int}}/findings", authenticated(add), methods=["POST"]),
        Route(f"{p}/findings/{{finding_id:int}}/edit", authenticated(edit), methods=["POST"]),
        Route(f"{p}/studies/{{study_id:int}}/undo", authenticated(undo), methods=["POST"]),
        Route(f"{p}/studies/{{study_id:int}}/preview", authenticated(preview), methods=["GET"]),
        Route(f"{p}/studies/{{study_id:int}}/exports", authenticated(exports), methods=["GET"]),
        Route(f"{p}/studies/{{study_id:int}}/chart", authenticated(chart), methods=["GET"]),
        Route(f"{p}/clinicians", authenticated(clinicians), methods=["GET"]),
        Route(f"{p}/patients/newest-study", authenticated(patient), methods=["GET"]),
    ]
