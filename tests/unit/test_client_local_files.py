"""``file:`` URLs: only a local mirror may name them, and only regular files are read.

A remote mirror's documents naming ``file:///dev/zero`` (memory exhaustion), a FIFO
(a hang past every timeout) or a private file must be refused, the same rule the client
applies to redirects (issue 12, item 2).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.fault_mirror import mirror_docs
from devtools.fault_mirror import publish
from devtools.faulty_server import FaultyServer
from devtools.faulty_server import serve_faulty
from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.mirror_client import MirrorReader


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with serve_faulty() as s:
        yield s


def _with_package_url(root: bytes, url: str, sha256: str) -> bytes:
    data = json.loads(root)
    data["packages"]["demo"] = {"url": url, "sha256": sha256}
    return json.dumps(data).encode()


def test_remote_root_naming_a_local_document_is_refused(
    server: FaultyServer, tmp_path: Path
) -> None:
    docs = mirror_docs()
    secret = tmp_path / "secret.json"
    secret.write_bytes(docs.files["packages/demo.json"])  # a valid document, so it would parse
    docs.files["manifest.json"] = _with_package_url(
        docs.files["manifest.json"],
        secret.as_uri(),
        hashlib.sha256(secret.read_bytes()).hexdigest(),
    )
    reader = MirrorReader(publish(server, docs), CachedClient(None))
    with pytest.raises(WheelmirrorError) as info:
        reader.package("demo")
    assert "file:" in str(info.value)
    assert "local mirror" in str(info.value)


def test_remote_document_naming_a_local_wheel_is_refused(
    server: FaultyServer, tmp_path: Path
) -> None:
    docs = mirror_docs()
    doc = json.loads(docs.files["packages/demo.json"])
    doc["versions"]["1.0"]["wheels"][0]["url"] = "file:///etc/passwd"
    body = json.dumps(doc).encode()
    docs.files["packages/demo.json"] = body
    docs.files["manifest.json"] = _with_package_url(
        docs.files["manifest.json"], "packages/demo.json", hashlib.sha256(body).hexdigest()
    )
    reader = MirrorReader(publish(server, docs), CachedClient(None))
    package = reader.package("demo")
    assert package is not None
    with pytest.raises(WheelmirrorError, match="local mirror"):
        reader.wheel_url("demo", package.versions["1.0"].wheels[0])


def test_local_mirror_may_name_local_files(tmp_path: Path) -> None:
    docs = mirror_docs()
    for path, body in docs.files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(body)
    reader = MirrorReader(str(tmp_path), CachedClient(None))
    package = reader.package("demo")
    assert package is not None
    url = reader.wheel_url("demo", package.versions["1.0"].wheels[0])
    assert url == (tmp_path / docs.wheel_path).as_uri()


def test_device_file_is_refused() -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="not a regular file"):
        CachedClient(None).get("file:///dev/zero", max_bytes=1024)
    with pytest.raises(FetchError, match="not a regular file"):
        CachedClient(None).download(
            "file:///dev/zero", Path("/tmp/never-written.whl"), sha256="0" * 64, max_bytes=1024
        )
    assert time.monotonic() - started < 1.0
    assert not Path("/tmp/never-written.whl").exists()


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(FetchError, match="not a regular file"):
        CachedClient(None).get(fifo.as_uri())
    assert time.monotonic() - started < 1.0


def test_local_file_growing_past_the_cap_is_cut(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 5000)
    with pytest.raises(FetchError, match="limit"):
        CachedClient(None).get(big.as_uri(), max_bytes=4096)
