"""VersionFiles against a real HTTP server on loopback serving a PEP 691 page."""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.mirror.lockpages import VersionFiles
from poetry_wheelmirror.mirror.pypi import PypiClient


def _entry(filename: str, sha: str = "a" * 64) -> dict[str, object]:
    return {
        "filename": filename,
        "url": f"https://files.example/{filename}",
        "hashes": {"sha256": sha},
    }


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    (root / "simple" / "demo").mkdir(parents=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", root / "simple" / "demo"
    finally:
        server.shutdown()
        server.server_close()


def _write(page_dir: Path, filenames: list[str]) -> None:
    page = {"meta": {"api-version": "1.0"}, "files": [_entry(f) for f in filenames]}
    (page_dir / "index.html").write_text(json.dumps(page))


def test_only_the_pinned_versions_files_and_a_stored_subset(
    index: tuple[str, Path], tmp_path: Path
) -> None:
    url, page_dir = index
    _write(page_dir, ["demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl", "demo-1.0.1.tar.gz",
                      "demo-2.0.tar.gz", "demo-10.0.tar.gz"])  # fmt: skip
    cache = tmp_path / "cache"
    files = VersionFiles(PypiClient(CachedClient(cache), url))
    assert sorted(f.filename for f in files.files("demo", "1.0.0") or []) == [
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
    ]
    assert [f.filename for f in files.files("demo", "10.0") or []] == ["demo-10.0.tar.gz"]
    (stored,) = (cache / "lock-pages").rglob("*-1.json")
    # The stored subset is what a warm plan reads (the page itself is not decoded again).
    stored.write_text(json.dumps([_entry("demo-1.0.zip")]))
    again = VersionFiles(PypiClient(CachedClient(cache), url))
    assert [f.filename for f in again.files("demo", "1.0") or []] == ["demo-1.0.zip"]
    # A changed page has another sha256: its own subset, never the old one.
    _write(page_dir, ["demo-1.0.tar.gz", "demo-1.0-cp311-cp311-linux_x86_64.whl"])
    # A new Last-Modified, or the server may answer the revalidation 304 (1 s resolution).
    page = page_dir / "index.html"
    os.utime(page, (page.stat().st_atime + 10, page.stat().st_mtime + 10))
    fresh = VersionFiles(PypiClient(CachedClient(cache, max_age=0), url))
    assert sorted(f.filename for f in fresh.files("demo", "1.0") or []) == [
        "demo-1.0-cp311-cp311-linux_x86_64.whl",
        "demo-1.0.tar.gz",
    ]


def test_unknown_project_is_none(index: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = index
    files = VersionFiles(PypiClient(CachedClient(tmp_path / "cache"), url))
    assert files.files("missing", "1.0") is None
