"""The Studio's web layer (Starlette): the page, its static files and a small JSON API.

| route | what |
|---|---|
| ``GET /`` | the page (``static/index.html``) |
| ``GET /static/...`` | its script and style sheet |
| ``GET /api/generators`` | generators (options schemas, model or its error) and exporters |
| ``POST /api/generate`` | images or lines for seeds ``seed .. seed+count-1`` |
| ``POST /api/animate`` | one animation's frames |
| ``POST /api/recipe`` | the CLI command, C# call and Python call that reproduce a request |
| ``POST /api/export`` | the files the CLI command writes (one file, or a zip of several) |
| ``POST /api/pins/recipe`` | pinned seeds as one batch: the job file and how to run it |
| ``POST /api/pins/export`` | a zip of that job file and the files ``assetgen batch`` writes |

A request body is ``{"generator", "seed", "count", "frames", "mode", "options", "format",
"uploads"}`` (see :mod:`assetgen.studio.service`). Bad input is answered ``400`` with the
engine's own message, ``{"error": ..., "type": ..., "parameter": ...}``; a model or plugin
failure ``500`` with the same shape. Before any route, :class:`~assetgen.studio.guard.Guard`
refuses other hosts, other sites, non-JSON posts and oversized bodies (400, 403, 415, 413).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..engine import Engine
from ..errors import AssetGenError, InvalidOptionsError
from .guard import MAX_BODY, Guard, RequestRefused, read_body, refusal
from .service import Download, Studio

STATIC = Path(__file__).resolve().parent / "static"
_TYPES = {".png": "image/png", ".gif": "image/gif", ".json": "application/json",
          ".zip": "application/zip", ".yarn": "text/plain; charset=utf-8",
          ".jsonl": "application/jsonl", ".csv": "text/csv; charset=utf-8"}
_NO_STORE = {"Cache-Control": "no-store"}


def error_response(exc: Exception) -> JSONResponse:
    """The engine's message as JSON: 400 for bad input (the CLI's exit status 2), else 500;
    a request refused as a whole has its own status (413 for a body over the limit)."""
    if isinstance(exc, RequestRefused):
        return refusal(exc, _NO_STORE)  # the rest of the body is not read
    if isinstance(exc, AssetGenError):
        status = 400 if exc.exit_code == 2 else 500
        message = str(exc)
    else:
        status, message = 500, f"internal error: {type(exc).__name__}: {exc}"
    body = {
        "error": message,
        "type": type(exc).__name__,
        "parameter": getattr(exc, "parameter", None),
    }
    return JSONResponse(body, status_code=status, headers=_NO_STORE)


def download_response(download: Download) -> Response:
    """A file to save: its name, type, and the names of the files it holds (a zip)."""
    return Response(
        download.data,
        media_type=_TYPES.get(Path(download.name).suffix, "application/octet-stream"),
        headers={
            "Content-Disposition": f'attachment; filename="{download.name}"',
            "X-AssetGen-Files": ",".join(download.files),
            **_NO_STORE,
        },
    )


async def _body(request: Request) -> Any:
    data = await read_body(request, MAX_BODY)
    try:
        return json.loads(data or b"{}")
    except (ValueError, RecursionError) as exc:
        raise InvalidOptionsError(
            f"the request body is not valid JSON ({exc})", parameter="request"
        ) from None


def create_app(engine: Engine, *, allowed_hosts: list[str] | None = None) -> Starlette:
    """The Studio as an ASGI app over ``engine``.

    ``allowed_hosts`` are the host names requests may address (``Host`` header) besides the
    loopback names, which keeps other web sites from reaching the server through DNS
    rebinding; ``["*"]`` allows any. Other sites' requests are refused whatever the host
    (:mod:`assetgen.studio.guard`).
    """
    studio = Studio(engine)

    def json_route(fn: Callable[[Any], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _body(request)
                result = await run_in_threadpool(fn, body)
            except Exception as exc:  # every failure reaches the page as a message
                return error_response(exc)
            return JSONResponse(result, headers=_NO_STORE)

        return endpoint

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_NO_STORE)

    async def generators(request: Request) -> Response:
        try:
            result = await run_in_threadpool(studio.catalogue)
        except Exception as exc:
            return error_response(exc)
        return JSONResponse(result, headers=_NO_STORE)

    def download_route(fn: Callable[[Any], Download]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _body(request)
                download = await run_in_threadpool(fn, body)
            except Exception as exc:
                return error_response(exc)
            return download_response(download)

        return endpoint

    routes = [
        Route("/", index),
        Route("/api/generators", generators),
        Route("/api/generate", json_route(studio.generate), methods=["POST"]),
        Route("/api/animate", json_route(studio.animate), methods=["POST"]),
        Route("/api/recipe", json_route(studio.recipe), methods=["POST"]),
        Route("/api/export", download_route(studio.export), methods=["POST"]),
        Route("/api/pins/recipe", json_route(studio.pins_recipe), methods=["POST"]),
        Route("/api/pins/export", download_route(studio.export_pins), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(Guard, allowed_hosts=allowed_hosts or [], max_body=MAX_BODY)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.studio = studio
    return app
