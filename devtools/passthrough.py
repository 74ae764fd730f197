"""A local PEP 503 index on loopback that passes PyPI's simple pages through.

PyPI's per-version JSON API answers 404 in this workplace, so Poetry cannot lock
against PyPI here; its simple pages and file URLs do work. This server fetches
``https://pypi.org/simple/<name>/`` (HTML) once per name and serves it; the pages carry
absolute file URLs with sha256 fragments, so clients download from PyPI directly.
It is the project's "upstream" in tests and in the demo.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from packaging.utils import canonicalize_name

from devtools.loopback import serving
from poetry_wheelmirror.urls import PYPI_SIMPLE

__all__ = ["PassthroughIndex", "serve_passthrough"]


class PassthroughIndex:
    """State shared by the handler threads: the page cache and a request log."""

    def __init__(self, upstream: str = PYPI_SIMPLE) -> None:
        self.upstream = upstream
        self.pages: dict[str, tuple[int, bytes]] = {}
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.url = ""

    def page(self, name: str) -> tuple[int, bytes]:
        with self.lock:
            if name in self.pages:
                return self.pages[name]
        req = urllib.request.Request(
            f"{self.upstream}{name}/", headers={"Accept": "text/html", "User-Agent": "wm-tests"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                result = (200, resp.read())
        except urllib.error.HTTPError as e:
            result = (e.code, b"")
        with self.lock:
            self.pages[name] = result
        return result


def _handler(state: PassthroughIndex) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "text/html") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            state.requests.append(self.path)
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            if parts == ["simple"]:
                self._send(200, b"<!DOCTYPE html><html><body></body></html>")
                return
            if len(parts) != 2 or parts[0] != "simple":
                self._send(404, b"not found", "text/plain")
                return
            name = canonicalize_name(parts[1])
            if name != parts[1]:
                self.send_response(301)
                self.send_header("Location", f"/simple/{name}/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, body = state.page(name)
            if status != 200:
                self._send(404, b"not found", "text/plain")
                return
            self._send(200, body, "text/html; charset=utf-8")

    return Handler


@contextmanager
def serve_passthrough(upstream: str = PYPI_SIMPLE, port: int = 0) -> Iterator[PassthroughIndex]:
    """Run the pass-through index on loopback (*port*, or a free one when it is 0 or
    taken); ``state.url`` ends in /simple/."""
    state = PassthroughIndex(upstream)
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    except OSError:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    with serving(server):
        yield state


if __name__ == "__main__":  # pragma: no cover - manual use: python -m devtools.passthrough
    import time

    with serve_passthrough() as s:
        print(s.url, flush=True)
        while True:
            time.sleep(3600)
