"""What every request to the Studio must pass before a route sees it (docs/studio.md, Security).

The Studio has no login: it trusts whoever can reach its address, which by default is this
machine. Any web page the user visits runs on this machine too, so the server also refuses
what a browser sends on behalf of another site:

- a ``Host`` that is not the address the server listens on (DNS rebinding: another site's
  name pointed at 127.0.0.1);
- an ``Origin`` other than the page's own (``http://`` + the ``Host``), including
  ``Origin: null`` (sandboxed frames, ``file:`` pages, some redirects), and on a ``POST`` a
  ``Sec-Fetch-Site`` other than ``same-origin`` or ``none``;
- a ``POST`` whose body is not declared ``application/json``: a form or ``text/plain`` post is
  the kind of request another site can send without the browser asking the server first;
- a body declared larger than the limit (``Content-Length``), answered before it is read. A body
  without a declared length (chunked) is counted as it streams in, by :func:`read_body`.

Refusals are JSON like the engine's errors, ``{"error", "type", "parameter"}``, and close the
connection when a body may still be on its way (:class:`Refusal`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import InvalidOptionsError, show_value
from . import MAX_BODY, MAX_UPLOAD

#: ``Host`` names always accepted: the loopback names.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_SAFE_METHODS = ("GET", "HEAD")
#: After a refusal, how long the server goes on reading (and dropping) a body still arriving:
#: at most LINGER_SECONDS in all, and it stops once nothing has come for LINGER_QUIET seconds.
LINGER_SECONDS = 2.0
LINGER_QUIET = 0.25


class RequestRefused(InvalidOptionsError):
    """A request refused before any route saw it; ``status`` is its HTTP status."""

    def __init__(self, message: str, *, status: int, parameter: str) -> None:
        super().__init__(message, parameter=parameter)
        self.status = status


class RequestTooLarge(RequestRefused):
    """A request body over :data:`MAX_BODY` (HTTP 413)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=413, parameter="request")


def host_name(value: str) -> str | None:
    """The name in a ``Host`` header (``[::1]:8765`` -> ``::1``, ``localhost:80`` ->
    ``localhost``), lower case; None when it is not ``name[:port]`` or ``[address][:port]``."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
    else:
        name, sep, port = value.partition(":")
        rest = sep + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    return name or None


class Refusal(JSONResponse):
    """A refusal answered while the request body may still be arriving, then the connection
    closed without losing the answer.

    Closing a socket that holds unread data makes the kernel reset the connection at once and
    drop whatever it had not yet sent: the client could get the status line without the JSON
    saying why (seen on a 500 MB upload). So the whole answer is sent first, what the client is
    still sending is read and dropped for a moment (:func:`drain`), and only then does the
    response end, which closes the connection (``Connection: close``).
    """

    def __init__(self, body: Mapping[str, object], status_code: int, headers: Mapping[str, str]):
        super().__init__(body, status_code=status_code, headers={**headers, "Connection": "close"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        await drain(receive)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def drain(receive: Receive, *, seconds: float = LINGER_SECONDS,
                quiet: float = LINGER_QUIET) -> None:
    """Read and drop the rest of a request body: until it ends, the client goes, nothing comes
    for ``quiet`` seconds, or ``seconds`` have passed. Nothing read is kept."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(receive(), min(quiet, left))
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def refusal(exc: RequestRefused, headers: Mapping[str, str]) -> Refusal:
    """``exc`` as the JSON every Studio error is: ``{"error", "type", "parameter"}``."""
    body = {"error": str(exc), "type": type(exc).__name__, "parameter": exc.parameter}
    return Refusal(body, exc.status, headers)


def too_large(size: int | str, limit: int = MAX_BODY) -> RequestTooLarge:
    return RequestTooLarge(
        f"the request body is {size} bytes; at most {limit} are read "
        f"(an uploaded file at most {MAX_UPLOAD})"
    )


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, read chunk by chunk as it arrives and refused as soon as it passes
    ``limit``: a huge body is never held whole."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_large(f"over {limit}", limit)
    return bytes(data)


class Guard:
    """ASGI middleware applying the checks above to every HTTP request."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str], max_body: int = MAX_BODY):
        self.app = app
        hosts = {h.strip("[]").lower() for h in allowed_hosts}
        self.any_host = "*" in hosts
        self.hosts = hosts | set(LOOPBACK_NAMES)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self.check(scope["method"], Headers(scope=scope))
        except RequestRefused as exc:
            # a refused body may still be arriving: close rather than read it to its end
            await refusal(exc, {"Cache-Control": "no-store"})(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def check(self, method: str, headers: Headers) -> None:
        host = headers.get("host", "")
        name = host_name(host)
        if not self.any_host and (name is None or name not in self.hosts):
            raise RequestRefused(
                f"invalid Host header {show_value(host)}: the Studio answers to "
                + ", ".join(sorted(self.hosts)),
                status=400,
                parameter="Host",
            )
        origin = headers.get("origin")
        if origin is not None and origin.strip().lower() != f"http://{host.strip().lower()}":
            raise RequestRefused(
                f"cross-site request refused: Origin {show_value(origin)} is not this page "
                f"(http://{host})",
                status=403,
                parameter="Origin",
            )
        if method in _SAFE_METHODS:
            return
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
            raise RequestRefused(
                f"cross-site request refused: Sec-Fetch-Site is {show_value(fetch_site)}",
                status=403,
                parameter="Sec-Fetch-Site",
            )
        content_type = headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            raise RequestRefused(
                "the request body must be JSON sent with Content-Type: application/json; "
                f"got {show_value(content_type) if content_type else 'no Content-Type'}",
                status=415,
                parameter="Content-Type",
            )
        length = headers.get("content-length")
        if length is not None:
            digits = length.strip()
            if not (digits.isascii() and digits.isdigit()):
                raise RequestRefused(
                    f"invalid Content-Length {show_value(length)}", status=400,
                    parameter="Content-Length",
                )
            if len(digits) > 18:
                raise too_large(f"{digits[:18]}... ({len(digits)} digits)", self.max_body)
            if int(digits) > self.max_body:
                raise too_large(int(digits), self.max_body)
