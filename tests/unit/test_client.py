"""CachedClient against a real loopback HTTP server.

Faults (resets, stalls, bombs) are covered in tests/e2e/test_faults_client.py.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import HashMismatchError


class State:
    def __init__(self) -> None:
        self.body = b'{"hello": "world"}'
        self.etag = '"v1"'
        self.hits: list[tuple[str, str | None]] = []
        self.down = False


@pytest.fixture
def server() -> Iterator[tuple[str, State]]:
    state = State()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.hits.append((self.path, self.headers.get("If-None-Match")))
            if state.down:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == state.etag:
                self.send_response(304)
                self.send_header("ETag", state.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", state.etag)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fresh_cache_is_used_without_a_request(server: tuple[str, State], tmp_path: Path) -> None:
    url, state = server
    client = CachedClient(tmp_path, max_age=60)
    assert client.get(f"{url}/doc").body == state.body
    again = CachedClient(tmp_path, max_age=60).get(f"{url}/doc")
    assert again.from_cache
    assert len(state.hits) == 1


def test_stale_cache_revalidates_with_etag(server: tuple[str, State], tmp_path: Path) -> None:
    url, state = server
    CachedClient(tmp_path, max_age=0).get(f"{url}/doc")
    result = CachedClient(tmp_path, max_age=0).get(f"{url}/doc")
    assert result.from_cache
    assert result.body == state.body
    assert state.hits[-1] == ("/doc", '"v1"')
    # The server changes: the new body replaces the cached one.
    state.body, state.etag = b"new", '"v2"'
    assert CachedClient(tmp_path, max_age=0).get(f"{url}/doc").body == b"new"
    # ... and its ETag is kept across a 304 that repeats none.
    CachedClient(tmp_path, max_age=0).get(f"{url}/doc")
    assert state.hits[-1] == ("/doc", '"v2"')


def test_network_failure_falls_back_to_cache_with_one_warning(
    server: tuple[str, State], tmp_path: Path
) -> None:
    url, state = server
    CachedClient(tmp_path).get(f"{url}/doc")
    state.down = True
    warnings: list[str] = []
    client = CachedClient(tmp_path, max_age=0, retries=1, warn=warnings.append)
    first = client.get(f"{url}/doc")
    second = client.get(f"{url}/doc")
    assert first.stale
    assert second.stale
    assert first.body == state.body
    assert len(warnings) == 1
    assert "HTTP 503" in warnings[0]
    assert "using the cached copy" in warnings[0]


def test_failure_without_cache_raises(server: tuple[str, State], tmp_path: Path) -> None:
    url, state = server
    state.down = True
    with pytest.raises(FetchError, match="HTTP 503"):
        CachedClient(tmp_path, retries=1).get(f"{url}/doc")
    assert len(state.hits) == 2  # one retry


def test_offline_uses_cache_only(server: tuple[str, State], tmp_path: Path) -> None:
    url, state = server
    CachedClient(tmp_path).get(f"{url}/doc")
    result = CachedClient(tmp_path, offline=True, max_age=0).get(f"{url}/doc")
    assert result.stale
    assert len(state.hits) == 1
    with pytest.raises(FetchError, match="offline and not cached"):
        CachedClient(tmp_path, offline=True).get(f"{url}/other")


def test_corrupt_cache_entry_is_a_miss(server: tuple[str, State], tmp_path: Path) -> None:
    url, state = server
    CachedClient(tmp_path).get(f"{url}/doc")
    (body,) = tmp_path.rglob("*.body")
    body.write_bytes(b"torn")
    assert CachedClient(tmp_path).get(f"{url}/doc").body == state.body
    assert len(state.hits) == 2


@pytest.mark.parametrize(
    ("url", "expect"),
    [
        ("http://pypi.org/simple/", "plain http is only allowed for loopback"),
        ("ftp://example.com/x", "unsupported URL scheme"),
        ("relative/path", "not an absolute URL"),
    ],
)
def test_refused_schemes(url: str, expect: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=expect):
        CachedClient(tmp_path).get(url)


def test_file_urls_are_read_directly(tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    doc.write_bytes(b"{}")
    assert CachedClient(None).get(doc.as_uri()).body == b"{}"
    with pytest.raises(FetchError, match="not found"):
        CachedClient(None).get((tmp_path / "missing").as_uri())


def test_size_limit(server: tuple[str, State], tmp_path: Path) -> None:
    url, state = server
    state.body = b"x" * 5000
    with pytest.raises(FetchError, match="larger than the 1000-byte limit"):
        CachedClient(tmp_path).get(f"{url}/big", max_bytes=1000)


def test_download_verifies_before_moving_into_place(
    server: tuple[str, State], tmp_path: Path
) -> None:
    url, state = server
    dest = tmp_path / "out" / "file.whl"
    good = hashlib.sha256(state.body).hexdigest()
    CachedClient(None).download(f"{url}/f", dest, sha256=good)
    assert dest.read_bytes() == state.body
    bad_dest = tmp_path / "out" / "bad.whl"
    with pytest.raises(HashMismatchError, match="sha256 mismatch"):
        CachedClient(None).download(f"{url}/f", bad_dest, sha256="0" * 64)
    assert not bad_dest.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["file.whl"]
