"""The FastAPI app behind ``pixelfes serve``: the page (static files) and the JSON/image API.

Safe by default: uploads are read into memory with a size cap, their type is sniffed from
the bytes and their pixel count read from the header before decoding; no request names a
file; a semaphore bounds the work running at once and a bounded number of requests may
wait for it (briefly) before getting 503; no CORS unless origins are given.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from .. import __version__
from .cache import FaceCache
from .forms import read_form
from .service import (
    PhotoService,
    available_models,
    check_action_units,
    parse_faces,
    parse_strength,
)
from .uploads import MAX_UPLOAD_BYTES, UploadError

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: the page's "Try the example" photo: London 001 (CC BY 4.0, docs/images/ATTRIBUTION.md),
#: kept once, in docs/, not in the package; found beside a checkout's src/ or under the folder
#: ``pixelfes serve`` runs in (or at ``$PIXELFES_EXAMPLE``)
EXAMPLE_NAME = Path("docs") / "images" / "london-001-neutral.jpg"


def example_photo() -> Path | None:
    """The example photo's path, or ``None`` when this installation has none (the page then
    asks for the user's own photo)."""
    given = os.environ.get("PIXELFES_EXAMPLE")
    candidates = [Path(given)] if given else []
    candidates += [Path(__file__).resolve().parents[3] / EXAMPLE_NAME, Path.cwd() / EXAMPLE_NAME]
    return next((c for c in candidates if c.is_file()), None)


# Room for the form fields around the photo itself.
_FORM_SLACK = 64 * 1024

DESCRIPTION = """Give the faces in a photo another expression (pixelfes: Akram & Khan,
"Pixel-based Facial Expression Synthesis"). The page at `/` uses this API; so can you:

    curl -F image=@photo.jpg -F to=happy -F strength=0.8 http://127.0.0.1:8000/api/synthesize -o happy.jpg

Errors are JSON `{"detail": "..."}` with a 4xx status; 503 means the server is busy
(retry after the `Retry-After` seconds)."""


class Busy(Exception):
    """The server is at its concurrency limit and the wait ran out (503)."""


class Limiter:
    """At most ``workers`` jobs at once; at most ``max_waiting`` wait, each up to ``timeout`` s."""

    def __init__(self, workers: int, max_waiting: int, timeout: float) -> None:
        if workers < 1 or max_waiting < 0 or timeout < 0:
            raise ValueError(f"workers >= 1, max_waiting >= 0, timeout >= 0; got {workers}, "
                             f"{max_waiting}, {timeout}")
        self.workers, self.max_waiting, self.timeout = workers, max_waiting, timeout
        self.waiting = 0
        self.rejected = 0
        self._sem: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._loop is not loop:  # one semaphore per event loop
            self._sem, self._loop = asyncio.Semaphore(self.workers), loop
        return self._sem

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        sem = self._semaphore()
        if not sem.locked():
            await sem.acquire()  # a free slot: no wait
        elif self.waiting >= self.max_waiting:
            self.rejected += 1
            raise Busy
        else:
            self.waiting += 1
            try:
                await asyncio.wait_for(sem.acquire(), self.timeout)
            except TimeoutError:
                self.rejected += 1
                raise Busy from None
            finally:
                self.waiting -= 1
        try:
            yield
        finally:
            sem.release()


def _form_doc(fields: dict[str, dict[str, Any]], required: Sequence[str]) -> dict[str, Any]:
    """OpenAPI text for a multipart body (the handlers read it themselves, in memory)."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": fields, "required": list(required)}}}}}


_IMAGE_FIELD = {"type": "string", "format": "binary",
                "description": "the photo (JPEG, PNG, WebP, BMP or TIFF; type read from the bytes)"}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a bad field (the message names it)"},
    413: {"description": "the photo is too large (bytes or pixels)"},
    415: {"description": "the upload is not an image"},
    422: {"description": "no face found, or no model for that direction"},
    503: {"description": "busy: retry after Retry-After seconds"},
}


def create_app(*, cors_origins: Sequence[str] = (), workers: int | None = None,
               max_waiting: int = 64, wait_timeout: float = 30.0,
               cache: FaceCache | None = None, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> FastAPI:
    """The web app: ``/`` (the page), ``/static/*``, ``/api/*`` and the API docs at ``/docs``.

    ``workers``: syntheses at once (default: the CPU count, at most 4); ``max_waiting``
    requests may wait up to ``wait_timeout`` s for one, the rest get 503 at once.
    ``cors_origins``: origins allowed to call the API from other pages (none by default).
    """
    app = FastAPI(title="pixelfes", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    service = PhotoService(cache=cache, max_upload_bytes=max_upload_bytes)
    limiter = Limiter(workers or min(4, os.cpu_count() or 1), max_waiting, wait_timeout)
    app.state.service, app.state.limiter = service, limiter
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["*"],
                           expose_headers=["X-Pixelfes-Faces", "X-Pixelfes-Model",
                                           "X-Pixelfes-Server-Ms"])

    @app.exception_handler(UploadError)
    async def _upload_error(request: Request, exc: UploadError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"detail": "the server is busy; retry in a few seconds"},
                            status_code=503, headers={"Retry-After": "2"})

    async def form(request: Request, fields: Sequence[str]) -> dict[str, bytes]:
        got = await read_form(request.headers.get("content-type", ""),
                              request.headers.get("content-length"), request.stream(),
                              fields, max_upload_bytes + _FORM_SLACK)
        if not got.get("image"):
            raise UploadError(400, "the form field 'image' (the photo) is missing or empty")
        return got

    def text(got: dict[str, bytes], name: str) -> str | None:
        value = got.get(name)
        if value is None:
            return None
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadError(400, f"the form field {name!r} must be UTF-8 text") from None

    async def run(fn: Any, *args: Any) -> Any:
        import anyio.to_thread

        async with limiter.slot():
            return await anyio.to_thread.run_sync(fn, *args)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/example.jpg", include_in_schema=False)
    async def example() -> Response:
        path = example_photo()
        if path is None:
            return JSONResponse({"detail": "no example photo in this installation (run `pixelfes "
                                           "serve` in a pixelfes checkout, or set PIXELFES_EXAMPLE): "
                                           "choose a photo of your own"}, status_code=404)
        return FileResponse(path, media_type="image/jpeg")

    @app.get("/api/models", summary="The models, directions and expressions available")
    async def models() -> dict[str, Any]:
        """Every usable model; `directions` are the (from, to) pairs `/api/synthesize`
        accepts, `expressions` the targets, `action_units` the facial action units that can
        be set (none in this version)."""
        return available_models()

    @app.post("/api/faces", summary="Find the faces in a photo", responses=_ERRORS,
              openapi_extra=_form_doc({"image": _IMAGE_FIELD}, ["image"]))
    async def faces(request: Request) -> dict[str, Any]:
        """The photo's size and a box `[x0, y0, x1, y1]` (photo pixels) per face, largest
        first; `index` is what `faces` in `/api/synthesize` refers to. No face: `faces: []`."""
        got = await form(request, ["image"])
        result: dict[str, Any] = await run(service.faces, got["image"])
        return result

    @app.post("/api/synthesize", summary="Give faces in a photo another expression",
              response_class=Response, responses={
                  200: {"description": "the photo, same size and format as the upload",
                        "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
                  **_ERRORS},
              openapi_extra=_form_doc({
                  "image": _IMAGE_FIELD,
                  "to": {"type": "string", "description": "target expression, e.g. happy"},
                  "from": {"type": "string", "default": "neutral",
                           "description": "the expression the faces have now"},
                  "strength": {"type": "number", "default": 1.0, "minimum": 0, "maximum": 2,
                               "description": "0 unchanged, 1 the model, above 1 stronger"},
                  "faces": {"type": "string", "example": "0,1",
                            "description": "comma-separated face indices from /api/faces "
                                           "(default: every face)"},
                  "au": {"type": "string", "example": "12=0.8,6=0.5",
                         "description": "action-unit intensities; 400 in this version (none "
                                        "available, see /api/models)"},
              }, ["image", "to"]))
    async def synthesize(request: Request) -> Response:
        """The photo with the chosen faces given the expression `to`, at full resolution
        and in the upload's format. Headers: `X-Pixelfes-Faces` (faces changed),
        `X-Pixelfes-Model`, `X-Pixelfes-Server-Ms` (time spent on it)."""
        got = await form(request, ["image", "to", "from", "strength", "faces", "au"])
        to = text(got, "to")
        if not to:
            raise UploadError(400, "the form field 'to' (the target expression) is missing")
        au = check_action_units(text(got, "au"))
        strength = parse_strength(text(got, "strength"))
        picked = parse_faces(text(got, "faces"))
        source = text(got, "from") or "neutral"
        res = await run(lambda: service.synthesize(got["image"], to, strength, source, picked, au))
        return Response(res.data, media_type=res.mime, headers={
            "X-Pixelfes-Faces": str(res.faces_changed), "X-Pixelfes-Model": res.model,
            "X-Pixelfes-Server-Ms": f"{res.server_ms:.1f}", "Cache-Control": "no-store"})

    _add_docs(app)
    return app


def _add_docs(app: FastAPI) -> None:
    """FastAPI's docs page at /docs, with Swagger UI served locally when it is installed."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    try:
        import swagger_ui_bundle

        assets: Path | None = Path(swagger_ui_bundle.swagger_ui_path)
    except ImportError:  # the docs page then loads Swagger UI from its CDN
        assets = None
    kwargs: dict[str, Any] = {}
    if assets is not None and (assets / "swagger-ui-bundle.js").is_file():
        # swagger-ui-bundle ships Swagger UI 4, which reads OpenAPI 3.0 documents only; this
        # API's document uses nothing newer (multipart bodies, plain JSON objects).
        major = assets.name.removeprefix("swagger-ui-").split(".")[0]  # "swagger-ui-4.15.5"
        if major.isdigit() and int(major) < 5:
            app.openapi_version = "3.0.3"
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
        kwargs = {"swagger_js_url": "/docs-assets/swagger-ui-bundle.js",
                  "swagger_css_url": "/docs-assets/swagger-ui.css",
                  "swagger_favicon_url": "/docs-assets/favicon-32x32.png"}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json",
                                   title="pixelfes API", **kwargs)
