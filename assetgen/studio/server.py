"""Running the Studio: ``serve`` for ``assetgen studio`` (blocks until Ctrl-C) and
``start_in_thread`` for tests and scripts (a server on a free port, stopped on request)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from ..engine import Engine
from ..errors import InvalidOptionsError
from . import DEFAULT_HOST, DEFAULT_PORT
from .app import create_app


def plain_host(host: str) -> str:
    """An address as given on a command line or in a URL: ``[::1]`` -> ``::1``."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(host: str) -> bool:
    host = plain_host(host)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str]:
    """Host names the page may be addressed by: the loopback names and the bound address;
    any name when bound to every interface (0.0.0.0, ::)."""
    host = plain_host(host)
    if host in ("0.0.0.0", "::", ""):
        return ["*"]
    return sorted({"127.0.0.1", "localhost", "::1", host})


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), or a one-line error."""
    host = plain_host(host)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidOptionsError(
            f"cannot listen on {host}: {exc}", parameter="--host", value=host
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise InvalidOptionsError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "choose another --port (0 picks a free one)",
            parameter="--port",
            value=port,
        ) from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _server(engine: Engine, host: str, log_level: str) -> uvicorn.Server:
    app = create_app(engine, allowed_hosts=allowed_hosts(host))
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off")
    return uvicorn.Server(config)


def serve(
    engine: Engine,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve the Studio until interrupted; ``on_ready(url)`` once it accepts connections."""
    sock = bind(host, port)
    try:
        server = _server(engine, host, log_level)
        if on_ready is not None:
            on_ready(url_of(sock))  # the socket already listens: early requests wait
        server.run(sockets=[sock])
    finally:
        sock.close()


@dataclass
class RunningStudio:
    """A Studio server running in a background thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()


def start_in_thread(
    engine: Engine, host: str = DEFAULT_HOST, port: int = 0, *, timeout: float = 20.0
) -> RunningStudio:
    """Start the Studio on ``host:port`` (default: a free port) in a daemon thread."""
    sock = bind(host, port)
    server = _server(engine, host, "warning")
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="assetgen-studio", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the Studio server did not start")
        time.sleep(0.02)
    return RunningStudio(url_of(sock), server, thread, sock)
