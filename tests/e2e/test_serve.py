"""``wheelmirror serve`` as a real process on loopback: static and routing modes, HTTP
semantics, an upstream that goes away, and clean shutdown on SIGINT/SIGTERM.
The mirror is the session's real MarkupSafe 2.0.1 build (tests/e2e/conftest.py)."""

from __future__ import annotations

import http.server
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devtools.pipuv_mirror import fetch
from devtools.pipuv_mirror import serve_mirror

pytestmark = pytest.mark.e2e

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}
UPSTREAM_PAGE = b"""<!DOCTYPE html><html><body>
<a href="https://files.pythonhosted.org/packages/bf/10/ff66fea6d1788c458663a84d88787bae15d45daa16f6b3ef33322a51fc7e/MarkupSafe-2.0.1.tar.gz#sha256=594c67807fb16238b30c44bdf74f36c02cdf22d1c8cda91ef8a0ed8dabf5620a" data-requires-python="&gt;=3.6">MarkupSafe-2.0.1.tar.gz</a>
</body></html>"""


@pytest.fixture(scope="module")
def ms_wheel(mirror: Path) -> str:
    return next((mirror / "files" / "markupsafe").glob("*.whl")).name


@contextmanager
def toy_upstream() -> Iterator[tuple[str, http.server.ThreadingHTTPServer]]:
    """A loopback upstream with one page; shut it down to simulate an outage."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/simple/markupsafe":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(UPSTREAM_PAGE)))
                self.end_headers()
                self.wfile.write(UPSTREAM_PAGE)
            else:
                self.send_error(404)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", server
    finally:
        server.shutdown()
        server.server_close()


def test_static_mode(mirror: Path, ms_wheel: str) -> None:
    with serve_mirror(mirror) as served:
        assert "static index" in served.banner
        status, headers, body = fetch(served.url + "simple/markupsafe/", JSON)
        assert status == 200
        assert headers["content-type"] == "application/vnd.pypi.simple.v1+json"
        assert body == (mirror / "simple" / "markupsafe" / "index.json").read_bytes()
        status, headers, _ = fetch(served.url + "simple/MarkupSafe/")
        assert (status, headers["location"]) == (301, "/simple/markupsafe/")
        assert fetch(served.url + "simple/six/")[0] == 404
        status, headers, body = fetch(served.url + f"files/markupsafe/{ms_wheel}")
        assert status == 200
        assert headers["content-type"] == "application/octet-stream"
        assert body == (mirror / "files" / "markupsafe" / ms_wheel).read_bytes()
        status, headers, body = fetch(served.url + "manifest.json")
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["packages"]["markupsafe"]


def test_routing_mode_http_semantics(mirror: Path, ms_wheel: str, tmp_path: Path) -> None:
    with (
        toy_upstream() as (upstream, _server),
        serve_mirror(
            mirror, "--upstream", upstream, "--cache-dir", str(tmp_path / "cache")
        ) as served,
    ):
        assert f"upstream {upstream}" in served.banner
        status, headers, body = fetch(served.url + "simple/markupsafe/", JSON)
        assert status == 200
        assert headers["vary"] == "Accept, Accept-Encoding"
        assert headers["x-wheelmirror-upstream"] == "ok"
        files = [f["filename"] for f in json.loads(body)["files"]]
        assert files == [ms_wheel, "MarkupSafe-2.0.1.tar.gz"]
        status, _, _ = fetch(
            served.url + "simple/markupsafe/", {**JSON, "If-None-Match": headers["etag"]}
        )
        assert status == 304
        status, headers, _ = fetch(served.url + "simple/six/")
        assert (status, headers["location"]) == (301, f"{upstream}six/")
        assert fetch(served.url + "simple/markupsafe/", {"Accept": "application/xml"})[0] == 406


def test_upstream_outage(mirror: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    with toy_upstream() as (upstream, server):
        args = ("--upstream", upstream, "--cache-dir", cache, "--upstream-ttl", "0.2")
        with serve_mirror(mirror, *args) as served:
            page = served.url + "simple/markupsafe/"
            status, headers, fresh = fetch(page, JSON)
            assert headers["x-wheelmirror-upstream"] == "ok"
            server.shutdown()
            server.server_close()
            time.sleep(0.4)
            fetch(page, JSON)  # answers at once; the refresh runs in the background
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                status, headers, body = fetch(page, JSON)
                if headers.get("x-wheelmirror-upstream") == "stale":
                    break
                time.sleep(0.1)
            assert status == 200
            assert headers["x-wheelmirror-upstream"] == "stale"
            assert json.loads(body)["files"] == json.loads(fresh)["files"]
        # A restart with the upstream still down serves the disk-cached page.
        with serve_mirror(mirror, *args) as served:
            status, headers, body = fetch(served.url + "simple/markupsafe/", JSON)
            assert (status, headers["x-wheelmirror-upstream"]) == (200, "stale")
            assert len(json.loads(body)["files"]) == 2
        # Nothing cached and nothing reachable: 502, never an empty page.
        other = ("--upstream", upstream, "--cache-dir", str(tmp_path / "empty"))
        with serve_mirror(mirror, *other) as served:
            status, headers, _ = fetch(served.url + "simple/markupsafe/", JSON)
            assert status == 502


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown(mirror: Path, sig: signal.Signals) -> None:
    with serve_mirror(mirror) as served:
        assert fetch(served.url + "simple/")[0] == 200
        started = time.monotonic()
        served.proc.send_signal(sig)
        assert served.proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        assert served.proc.stderr is not None
        err = served.proc.stderr.read()
        assert "panicked" not in err
        assert "Traceback" not in err


def test_port_in_use_is_a_one_line_error(mirror: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "poetry_wheelmirror.cli.main",
                "serve",
                "--mirror",
                str(mirror),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"wheelmirror: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_static_pages_missing_on_disk_are_rendered_like_the_index(
    mirror: Path, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy)
    for page in (copy / "simple" / "markupsafe").iterdir():
        page.unlink()
    with serve_mirror(copy) as served:
        for accept, page in ((JSON, "index.json"), ({}, "index.html")):
            status, _, body = fetch(served.url + "simple/markupsafe/", accept)
            assert status == 200
            # The same bytes `wheelmirror build` wrote: one renderer for static pages.
            assert body == (mirror / "simple" / "markupsafe" / page).read_bytes()
