"""A stdlib static file server on loopback, serving a mirror directory as GitHub Pages
would: files as they are, ``index.html`` for directory URLs (a directory URL without
its trailing slash is redirected), a Content-Type for each file, no content negotiation.
"""

from __future__ import annotations

import functools
import http.server
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.loopback import serving

__all__ = ["serve_static"]


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain dict
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".json": "application/json",
        ".whl": "application/octet-stream",
        ".metadata": "text/plain; charset=utf-8",
        ".html": "text/html; charset=utf-8",
    }

    #: Paths asked for, in order, when the server was given a log (None: not kept).
    requests: list[str] | None = None

    def log_message(self, format: str, *args: object) -> None:
        if self.requests is not None:
            self.requests.append(self.path)

    def list_directory(self, path: str | Path) -> None:  # type: ignore[override]
        # GitHub Pages answers 404 for a folder without index.html: no listings.
        self.send_error(404, "Not Found")


@contextmanager
def serve_static(directory: Path, log: list[str] | None = None) -> Iterator[str]:
    """Serve *directory* on a free loopback port; yields the base URL (ends with /).
    With *log*, every request's path is appended to it (to prove what was asked for)."""
    handler_class = type("_LoggingHandler", (_Handler,), {"requests": log})
    handler = functools.partial(handler_class, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with serving(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/"


# Manual use: python -m devtools.static_server DIR
if __name__ == "__main__":  # pragma: no cover
    import sys
    import time

    with serve_static(Path(sys.argv[1])) as url:
        print(url, flush=True)
        while True:
            time.sleep(3600)
