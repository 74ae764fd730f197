"""A loopback HTTP server that misbehaves on demand, one fault per path.

Each path is configured with :meth:`FaultyServer.set` (a body and a :class:`Fault`); the
server counts hits per path so tests can assert how often a client retried. Every loop
in the handlers is bounded (by a byte budget or by :attr:`FaultyServer.stopping`), and
:meth:`FaultyServer.close` shuts open connections down and joins every handler thread,
so pytest's ``filterwarnings = error`` sees no stray thread or unclosed socket.

Faults (the ``fault`` argument):

``ok``               the body, with Content-Length, Content-Type and an ETag
``status``           an error status (``status=404`` / ``500`` / ``503``), optionally with
                     ``retry_after``; with ``fail_times=N`` only the first N hits fail
``reset``            read the request, then close with a TCP RST (SO_LINGER 0)
``stall``            accept and read the request, then send nothing for ``stall`` seconds
``stall_body``       send the headers and half the body, then nothing for ``stall`` seconds
``trickle``          send the headers, then one byte every ``interval`` seconds (each read
                     finishes inside the read timeout; only an overall deadline stops it)
``truncated``        Content-Length larger than the bytes sent, then close
``redirect``         302 to ``location`` (plain http elsewhere, another host, file:, ...)
``gzip_bomb``        ``Content-Encoding: gzip`` whose members inflate to ``bomb_bytes``
                     (default 4 GiB) from about 1/1000 of that on the wire
``huge``             a body of ``huge_bytes`` (default 100 MB) that starts like JSON,
                     streamed with a true Content-Length
``corrupt``          like ``ok`` but one byte in the middle of the body is flipped, so the
                     bytes no longer match the sha256 that names them

:data:`CASES` names the concrete faults the tests and ``bench/fault_table.py`` run.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import socket
import struct
import threading
import time
import typing
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any
from typing import Literal

__all__ = [
    "CASES",
    "CASE_IDS",
    "FAULTS",
    "Case",
    "Fault",
    "FaultName",
    "FaultyServer",
    "apply_case",
    "case",
    "elapsed",
    "serve_faulty",
]

FaultName = Literal[
    "ok",
    "status",
    "reset",
    "stall",
    "stall_body",
    "trickle",
    "truncated",
    "redirect",
    "gzip_bomb",
    "huge",
    "corrupt",
]
FAULTS: tuple[FaultName, ...] = typing.get_args(FaultName)

#: One gzip member inflating to 16 MiB of zeros (~16 KiB compressed); members are
#: concatenated, which gzip decoders read as one stream.
_BOMB_MEMBER_INFLATED = 16 * 1024 * 1024
_bomb_member: bytes | None = None
_bomb_lock = threading.Lock()


def _gzip_member() -> bytes:
    global _bomb_member
    with _bomb_lock:
        if _bomb_member is None:
            _bomb_member = gzip.compress(b"\0" * _BOMB_MEMBER_INFLATED, compresslevel=9, mtime=0)
        return _bomb_member


@dataclass(frozen=True)
class Fault:
    """How one path misbehaves (see the module docstring)."""

    name: FaultName = "ok"
    status: int = 200
    retry_after: str | None = None
    fail_times: int | None = None
    location: str = ""
    stall: float = 30.0
    interval: float = 0.5
    content_type: str | None = "application/json"
    bomb_bytes: int = 4 * 1024**3
    huge_bytes: int = 100 * 1000 * 1000
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A named fault as run by the tests and the fault table."""

    id: str
    description: str
    fault: Fault


#: ``{self}`` in a location is replaced by the faulted URL, ``{other}`` by the same path
#: on a second loopback server (another host), see :func:`apply_case`.
CASES: tuple[Case, ...] = (
    Case("http_404", "404 Not Found", Fault("status", status=404)),
    Case("http_500", "500 on every attempt", Fault("status", status=500)),
    Case(
        "http_503_then_ok",
        "503 with Retry-After: 1, then 200",
        Fault("status", status=503, retry_after="1", fail_times=1),
    ),
    Case(
        "http_503_retry_after_3600",
        "503 with Retry-After: 3600, every attempt",
        Fault("status", status=503, retry_after="3600"),
    ),
    Case("reset", "connection reset (TCP RST) after the request", Fault("reset")),
    Case("stall_headers", "no response at all for 30 s", Fault("stall")),
    Case("stall_body", "headers and half the body, then nothing for 30 s", Fault("stall_body")),
    Case(
        "trickle",
        "one byte every 0.2 s (each read inside the read timeout)",
        Fault("trickle", interval=0.2),
    ),
    Case("truncated", "Content-Length larger than the body sent", Fault("truncated")),
    Case("corrupt", "body does not match its sha256 (one byte flipped)", Fault("corrupt")),
    Case(
        "redirect_plain_http",
        "302 to plain http on a non-loopback host",
        Fault("redirect", location="http://example.com/evil"),
    ),
    Case(
        "redirect_file",
        "302 to file:///etc/passwd",
        Fault("redirect", location="file:///etc/passwd"),
    ),
    Case(
        "redirect_other_host",
        "302 to another (loopback) host serving the right bytes",
        Fault("redirect", location="{other}"),
    ),
    Case("redirect_loop", "302 to itself, forever", Fault("redirect", location="{self}")),
    Case(
        "content_type_wrong",
        "Content-Type: text/html",
        Fault("ok", content_type="text/html; charset=utf-8"),
    ),
    Case("content_type_missing", "no Content-Type header", Fault("ok", content_type=None)),
    Case("gzip_bomb", "Content-Encoding: gzip inflating to 4 GiB", Fault("gzip_bomb")),
    Case("huge", "a 100 MB body", Fault("huge")),
)
CASE_IDS = tuple(case.id for case in CASES)


def case(case_id: str) -> Case:
    """The case named *case_id*."""
    for item in CASES:
        if item.id == case_id:
            return item
    raise KeyError(case_id)


def apply_case(
    server: FaultyServer, path: str, body: bytes, item: Case, other: FaultyServer | None = None
) -> str:
    """Make *path* on *server* misbehave as *item* says (serving *body* where it serves
    one); for ``{other}`` redirects, *other* serves *body* at the same path. Returns the URL."""
    fault = item.fault
    if "{" in fault.location:
        if other is not None:
            other.set(path, body, Fault(content_type=fault.content_type))
        target = other.url_for(path) if other is not None else "https://other.invalid/"
        fault = replace(
            fault,
            location=fault.location.replace("{other}", target).replace(
                "{self}", server.url_for(path)
            ),
        )
    return server.set(path, body, fault)


@dataclass
class _Route:
    body: bytes
    fault: Fault


class FaultyServer:
    """State shared by the handler threads; use :func:`serve_faulty` to run one."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, _Route] = {}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.url = ""
        self._conns: set[socket.socket] = set()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration ------------------------------------------------------------------

    def set(self, path: str, body: bytes = b"", fault: Fault | FaultName = "ok", **kw: Any) -> str:
        """Serve *body* at *path* with *fault*; returns the absolute URL."""
        if isinstance(fault, str):
            fault = Fault(name=fault)
        if kw:
            fault = replace(fault, **kw)
        with self.lock:
            self.routes[path] = _Route(body, fault)
            self.hits[path] = 0
        return self.url_for(path)

    def url_for(self, path: str) -> str:
        return self.url.rstrip("/") + "/" + path.lstrip("/")

    def route(self, path: str) -> _Route | None:
        with self.lock:
            self.hits[path] += 1
            return self.routes.get(path)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        server = http.server.ThreadingHTTPServer((self.host, 0), _handler(self))
        server.daemon_threads = False
        server.block_on_close = True
        self._server = server
        self.url = f"http://{self.host}:{server.server_address[1]}/"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def close(self) -> None:
        self.stopping.set()
        if self._server is None:
            return
        self._server.shutdown()
        with self.lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self.lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)


def _handler(state: FaultyServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # an idle keep-alive connection ends by itself

        def setup(self) -> None:
            super().setup()
            state._track(self.connection, True)

        def finish(self) -> None:
            with contextlib.suppress(OSError):
                super().finish()
            state._track(self.connection, False)

        def handle(self) -> None:
            with contextlib.suppress(OSError):  # the client went away: not our failure
                super().handle()

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _wait(self, seconds: float) -> None:
            state.stopping.wait(seconds)

        def _headers(self, status: int, fault: Fault, length: int | None, etag: str = "") -> None:
            self.send_response(status)
            if fault.content_type is not None:
                self.send_header("Content-Type", fault.content_type)
            if length is not None:
                self.send_header("Content-Length", str(length))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            if etag:
                self.send_header("ETag", etag)
            for key, value in fault.headers.items():
                self.send_header(key, value)
            self.end_headers()

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            route = state.route(path)
            if route is None:
                self._plain(404, b"no such route\n")
                return
            fault, body = route.fault, route.body
            if fault.fail_times is not None and state.hits[path] > fault.fail_times:
                fault = Fault(content_type=fault.content_type)
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            name = fault.name
            if name == "ok":
                if self.headers.get("If-None-Match") == etag:
                    self._headers(304, fault, 0, etag)
                    return
                self._headers(200, fault, len(body), etag)
                self.wfile.write(body)
            elif name == "corrupt":
                bad = bytearray(body)
                if bad:
                    bad[len(bad) // 2] ^= 0x20
                self._headers(200, fault, len(bad), etag)
                self.wfile.write(bytes(bad))
            elif name == "status":
                extra = dict(fault.headers)
                if fault.retry_after is not None:
                    extra["Retry-After"] = fault.retry_after
                self._plain(fault.status, b"failing on purpose\n", extra)
            elif name == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()
            elif name == "stall":
                self._wait(fault.stall)
                self.close_connection = True
            elif name == "stall_body":
                self._headers(200, fault, len(body), etag)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self._wait(fault.stall)
                self.close_connection = True
            elif name == "trickle":
                self._headers(200, fault, len(body), etag)
                for index in range(len(body)):
                    if state.stopping.is_set():
                        break
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
                    self._wait(fault.interval)
                self.close_connection = True
            elif name == "truncated":
                self._headers(200, fault, len(body) + 1000, etag)
                self.wfile.write(body)
                self.close_connection = True
            elif name == "redirect":
                self._plain(302, b"", {"Location": fault.location})
            elif name == "gzip_bomb":
                member = _gzip_member()
                self._headers(200, replace(fault, headers={"Content-Encoding": "gzip"}), None)
                for _ in range(max(1, fault.bomb_bytes // _BOMB_MEMBER_INFLATED)):
                    if state.stopping.is_set():
                        break
                    self.wfile.write(member)
            elif name == "huge":
                self._headers(200, fault, fault.huge_bytes)
                head = b'{"schema": "poetry-wheelmirror/root", "padding": "'
                self.wfile.write(head)
                sent = len(head)
                block = b"a" * (1024 * 1024)
                while sent < fault.huge_bytes and not state.stopping.is_set():
                    chunk = block[: fault.huge_bytes - sent]
                    self.wfile.write(chunk)
                    sent += len(chunk)
                self.close_connection = True

        def _plain(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def serve_faulty(host: str = "127.0.0.1") -> Iterator[FaultyServer]:
    """Run a :class:`FaultyServer` on a free port of *host* (any 127.0.0.0/8 address)."""
    server = FaultyServer(host)
    server.start()
    try:
        yield server
    finally:
        server.close()


def elapsed(start: float) -> float:
    """Seconds since *start* (a ``time.monotonic()`` value)."""
    return time.monotonic() - start
