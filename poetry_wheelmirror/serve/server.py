"""Running the routing index: granian (a Rust HTTP server) embedded in this process.

granian runs the app through its RSGI interface (serve/rsgi.py; the ASGI app in
serve/router.py gives the same answers and is what uvicorn, the fallback, runs).
Embedded mode runs the app on our own event loop, so SIGINT/SIGTERM are ours to handle
(stop accepting, finish, return) and ``--port 0`` can be resolved before the URL is
printed.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import socket
from collections.abc import Callable
from collections.abc import Coroutine
from typing import TYPE_CHECKING
from typing import Any

from poetry_wheelmirror.errors import ConfigError

if TYPE_CHECKING:
    from poetry_wheelmirror.serve.router import RoutingIndex

__all__ = ["check_port", "free_port", "serve"]

logger = logging.getLogger(__name__)


def free_port(host: str) -> int:
    """A port the OS considers free on *host* right now (for ``--port 0``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


async def _serve_granian(
    app: RoutingIndex, host: str, port: int, ready: Callable[[], None]
) -> None:
    from granian.constants import Interfaces
    from granian.server.embed import Server

    # Granian's own logging is noisy at info ("embedded server is experimental"):
    # keep it to errors unless debug logging is on.
    granian_log = logging.getLogger("_granian")
    if not logger.isEnabledFor(logging.DEBUG):
        granian_log.setLevel(logging.ERROR)
        logging.getLogger("granian").setLevel(logging.ERROR)
    from poetry_wheelmirror.serve.rsgi import RSGIApp

    # RSGI: one call per whole answer instead of ASGI's two messages, each a dict granian
    # converts (less CPU per cached page: bench/router_cpu.py). No websockets here.
    server = Server(
        RSGIApp(app),
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        websockets=False,
        log_enabled=False,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop)
    task = loop.create_task(server.serve())
    # The socket is bound before the worker runs: wait for a real HTTP answer, so the
    # printed URL is usable the moment it appears.
    await _wait_listening(host, port, task)
    ready()
    await task


async def _serve_uvicorn(
    app: RoutingIndex, host: str, port: int, ready: Callable[[], None]
) -> None:
    uvicorn: Any = importlib.import_module("uvicorn")  # optional: no stubs needed

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    await _wait_listening(host, port, task)
    ready()
    await task


async def _wait_listening(host: str, port: int, task: asyncio.Task[None]) -> None:
    """Return once the server answers HTTP on *port* (or *task* died trying)."""
    for _ in range(400):
        if task.done():
            task.result()
            msg = f"the server stopped while starting on {host}:{port}"
            raise ConfigError(msg)
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"HEAD / HTTP/1.1\r\nHost: wheelmirror\r\nConnection: close\r\n\r\n")
            status = await asyncio.wait_for(reader.readline(), 2.0)
            writer.close()
        except (OSError, asyncio.TimeoutError):
            status = b""
        if status.startswith(b"HTTP/"):
            return
        await asyncio.sleep(0.025)
    msg = f"the server did not start listening on {host}:{port}"
    raise ConfigError(msg)


def check_port(host: str, port: int) -> None:
    """Raise ConfigError when *host*:*port* cannot be bound (granian itself would abort
    the process with a Rust panic trace instead of an error message)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            msg = f"cannot listen on {host}:{port}: {e.strerror}"
            raise ConfigError(msg) from None


def serve(app: RoutingIndex, host: str, port: int, ready: Callable[[int], None]) -> None:
    """Serve *app* until SIGINT/SIGTERM; *ready(port)* runs once it accepts connections."""
    if port == 0:
        port = free_port(host)
    check_port(host, port)
    try:
        import granian  # noqa: F401

        runner = _serve_granian
    except ImportError:
        try:
            importlib.import_module("uvicorn")
        except ImportError:
            msg = "no server installed: pip install 'poetry-wheelmirror[server]'"
            raise ConfigError(msg) from None
        runner = _serve_uvicorn
    _run(runner(app, host, port, lambda: ready(port)))


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run *main* on uvloop when it is installed (the server extra brings it on Linux and
    macOS; the loop's own work is a visible part of a small cached page's CPU time),
    on asyncio's default loop otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)
