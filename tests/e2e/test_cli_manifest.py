"""`wheelmirror manifest check` as a user runs it: on files, directories and served URLs."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.cli import run_wheelmirror

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests"
BAD = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def served_fixtures() -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *a: None  # type: ignore[method-assign, assignment]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    "target",
    [lambda: str(FIXTURES / "good"), lambda: str(FIXTURES / "good" / "manifest.json")],
    ids=["directory", "root-file"],
)
def test_accepts_the_example_mirror(target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_wheelmirror("manifest", "check", target(), "--cache-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "ok: " in result.stdout
    assert "2 package(s), 2 version(s), 4 wheel(s)" in result.stdout


def test_accepts_the_example_over_http(served_fixtures: str, tmp_path: Path) -> None:
    for target in (f"{served_fixtures}/good/", f"{served_fixtures}/good/manifest.json"):
        result = run_wheelmirror("manifest", "check", target, "--cache-dir", str(tmp_path))
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", BAD, ids=lambda p: p.name)
def test_rejects_each_bad_example_in_one_line(case: Path, tmp_path: Path) -> None:
    result = run_wheelmirror("manifest", "check", str(case), "--cache-dir", str(tmp_path))
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wheelmirror: error: ")
    assert (case / "EXPECT").read_text().strip() in lines[0]
    assert result.stdout == ""


def test_rejects_bad_example_over_http(served_fixtures: str, tmp_path: Path) -> None:
    result = run_wheelmirror(
        "manifest", "check", f"{served_fixtures}/bad/unknown-major/", "--cache-dir", str(tmp_path)
    )
    assert result.returncode == 3
    assert "unsupported major version 2" in result.stderr


def test_missing_target_and_unreachable_url(tmp_path: Path) -> None:
    missing = run_wheelmirror("manifest", "check", str(tmp_path / "nope"))
    assert missing.returncode == 3
    assert "no such file or directory" in missing.stderr
    # Port 9 (discard) on loopback: nothing listens; a connection error, not a traceback.
    down = run_wheelmirror(
        "manifest", "check", "http://127.0.0.1:9/", "--cache-dir", str(tmp_path), "--timeout", "2"
    )
    assert down.returncode == 4
    assert "cannot reach 127.0.0.1:9" in down.stderr
    assert "Traceback" not in down.stderr


def test_files_option_checks_wheel_bytes(tmp_path: Path) -> None:
    # The example's wheels are not on disk: --files reports the first missing one.
    result = run_wheelmirror("manifest", "check", str(FIXTURES / "good"), "--files")
    assert result.returncode == 3
    assert "listed wheel is missing" in result.stderr


def test_help_for_each_level() -> None:
    for args in ([], ["manifest"], ["manifest", "check"], ["select"]):
        result = run_wheelmirror(*args, "--help")
        assert result.returncode == 0
        assert "usage: wheelmirror" in result.stdout


def _local_mirror_with_wheel_at(tmp_path: Path, wheel_url: str, size: int = 0) -> Path:
    import hashlib
    import json

    from devtools.fault_mirror import mirror_docs

    docs = mirror_docs()
    doc = json.loads(docs.files["packages/demo.json"])
    doc["versions"]["1.0"]["wheels"][0].update(url=wheel_url, size=size)
    body = json.dumps(doc).encode()
    root = json.loads(docs.files["manifest.json"])
    root["packages"]["demo"]["sha256"] = hashlib.sha256(body).hexdigest()
    mirror = tmp_path / "mirror"
    (mirror / "packages").mkdir(parents=True)
    (mirror / "packages" / "demo.json").write_bytes(body)
    (mirror / "manifest.json").write_text(json.dumps(root))
    return mirror


def test_files_option_refuses_a_fifo_without_hanging(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "demo-1.0-py3-none-any.whl"
    os.mkfifo(fifo)
    mirror = _local_mirror_with_wheel_at(tmp_path, fifo.as_uri())
    result = run_wheelmirror("manifest", "check", str(mirror), "--files", timeout=20)
    assert result.returncode == 4, result.stderr
    assert "not a regular file" in result.stderr
    assert "Traceback" not in result.stderr


def test_files_option_refuses_a_device(tmp_path: Path) -> None:
    mirror = _local_mirror_with_wheel_at(tmp_path, "file:///dev/zero")
    result = run_wheelmirror("manifest", "check", str(mirror), "--files", timeout=20)
    assert result.returncode == 4, result.stderr
    assert "not a regular file" in result.stderr


def test_credentials_in_the_mirror_url_are_never_printed(served_fixtures: str) -> None:
    with_token = served_fixtures.replace("http://", "http://user:s3cr3t-token@")
    ok = run_wheelmirror("manifest", "check", f"{with_token}/good/")
    assert ok.returncode == 0, ok.stderr
    assert "ok: http://***@127.0.0.1" in ok.stdout
    failed = run_wheelmirror("manifest", "check", f"{with_token}/missing/")
    assert failed.returncode != 0
    assert "***@127.0.0.1" in failed.stderr
    for result in (ok, failed):
        assert "s3cr3t" not in result.stdout + result.stderr
        assert "user:" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["check", "select", "serve"])
def test_deeply_nested_document_is_one_line_not_a_traceback(tmp_path: Path, command: str) -> None:
    import hashlib
    import json

    from devtools.fault_mirror import mirror_docs

    docs = mirror_docs()
    body = b'{"schema": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    root = json.loads(docs.files["manifest.json"])
    root["packages"]["demo"]["sha256"] = hashlib.sha256(body).hexdigest()
    mirror = tmp_path / "mirror"
    (mirror / "packages").mkdir(parents=True)
    (mirror / "packages" / "demo.json").write_bytes(body)
    (mirror / "manifest.json").write_text(json.dumps(root))
    args = {
        "check": ["manifest", "check", str(mirror)],
        "select": ["select", "demo==1.0", "--mirror", str(mirror)],
        "serve": ["serve", "--mirror", str(mirror), "--port", "0"],
    }[command]
    result = run_wheelmirror(*args, "--cache-dir", str(tmp_path / "cache"), timeout=60)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "nested deeper than 64 levels" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
