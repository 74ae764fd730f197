"""Every fault of devtools.faulty_server against CachedClient, MirrorReader and the CLI.

The rule under test: the outcome is either a verified result or one clear line
(FetchError / ManifestError / HashMismatchError); never a hang past the configured
timeouts, never a traceback from the CLI, never a partial file left in place. Elapsed
bounds are generous: they are correctness bounds (a stall is cut off), not speed goals.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.fault_mirror import MirrorDocs
from devtools.fault_mirror import mirror_docs
from devtools.fault_mirror import publish
from devtools.faulty_server import CASE_IDS
from devtools.faulty_server import FaultyServer
from devtools.faulty_server import apply_case
from devtools.faulty_server import case
from devtools.faulty_server import serve_faulty
from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import HashMismatchError
from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.mirror_client import MirrorReader

pytestmark = pytest.mark.e2e

WHEELMIRROR = Path(sys.executable).with_name("wheelmirror")

#: What CachedClient.get / download / MirrorReader must do for each case: None for a
#: verified success, else (exception class, substring of its one-line message).
EXPECTED: dict[str, tuple[type[Exception], str] | None] = {
    "http_404": (FetchError, "HTTP 404"),
    "http_500": (FetchError, "HTTP 500"),
    "http_503_then_ok": None,
    "http_503_retry_after_3600": (FetchError, "HTTP 503"),
    "reset": (FetchError, "cannot reach"),
    "stall_headers": (FetchError, "timed out"),
    "stall_body": (FetchError, "timed out reading"),
    "trickle": (FetchError, "took longer than"),
    "truncated": (FetchError, "truncated"),
    "corrupt": (HashMismatchError, "sha256 mismatch"),  # download; see the get test
    "redirect_plain_http": (FetchError, "plain http is only allowed for loopback"),
    "redirect_file": (FetchError, "redirects may only lead to http(s)"),
    "redirect_other_host": None,
    "redirect_loop": (FetchError, "too many redirects"),
    "content_type_wrong": None,
    "content_type_missing": None,
    "gzip_bomb": (FetchError, "larger than"),
    "huge": (FetchError, "larger than"),
}

#: The client the library tests use: short timeouts so stalls end fast.
TIMEOUT = (0.5, 0.5)
DEADLINE = 4.0
#: Worst case for one fetch: the deadline plus one read timeout plus slack for a loaded
#: 2-core machine. A hang would blow far past it (the stall faults last 30 s).
BOUND = 12.0


@pytest.fixture
def servers() -> Iterator[tuple[FaultyServer, FaultyServer]]:
    with serve_faulty() as main, serve_faulty("127.0.0.2") as other:
        yield main, other


@pytest.fixture
def docs() -> MirrorDocs:
    return mirror_docs()


def make_client(cache: Path | None, warnings: list[str] | None = None) -> CachedClient:
    sink = warnings if warnings is not None else []
    return CachedClient(cache, timeout=TIMEOUT, deadline=DEADLINE, retries=1, warn=sink.append)


def test_expected_table_covers_every_case() -> None:
    assert set(EXPECTED) == set(CASE_IDS)


# -- CachedClient.get -------------------------------------------------------------------


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_get_under_fault(
    case_id: str, servers: tuple[FaultyServer, FaultyServer], docs: MirrorDocs, tmp_path: Path
) -> None:
    main, other = servers
    body = docs.files["manifest.json"]
    url = apply_case(main, "/doc.json", body, case(case_id), other)
    client = make_client(tmp_path / "cache")
    expected = EXPECTED[case_id]
    if case_id == "corrupt":
        expected = None  # get() names no hash: the caller (MirrorReader) checks it
    start = time.monotonic()
    if expected is None:
        result = client.get(url)
        want = body if case_id != "corrupt" else None
        if want is not None:
            assert result.body == want
        else:
            assert result.body != body
            assert len(result.body) == len(body)
    else:
        error, text = expected
        with pytest.raises(error) as info:
            client.get(url)
        message = str(info.value)
        assert text in message
        assert "\n" not in message
    took = time.monotonic() - start
    assert took < BOUND, f"{case_id} took {took:.1f} s"
    if case_id == "http_503_then_ok":
        assert main.hits["/doc.json"] == 2
        assert took >= 0.9, "Retry-After: 1 was not honoured"
    if case_id == "http_500":
        assert main.hits["/doc.json"] == 2  # one try and one retry, no more


def test_retry_after_is_capped_even_with_a_long_deadline(
    servers: tuple[FaultyServer, FaultyServer],
) -> None:
    main, _ = servers
    url = main.set("/busy", b"{}", "status", status=503, retry_after="3600")
    client = CachedClient(None, timeout=TIMEOUT, deadline=60.0, retries=1, warn=lambda _: None)
    start = time.monotonic()
    with pytest.raises(FetchError, match="HTTP 503"):
        client.get(url)
    took = time.monotonic() - start
    assert 4.5 <= took < 15.0  # waited the 5 s cap once, not an hour
    assert main.hits["/busy"] == 2


def test_retries_stop_at_the_deadline(servers: tuple[FaultyServer, FaultyServer]) -> None:
    """Three attempts of a 2 s read timeout would take 6 s; the 3 s deadline ends it."""
    main, _ = servers
    url = main.set("/stall", b"{}", "stall")
    client = CachedClient(None, timeout=(1.0, 2.0), deadline=3.0, retries=5, warn=lambda _: None)
    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        client.get(url)
    assert time.monotonic() - start < 3.0 + 2.0 + 1.5


# -- offline fallback -------------------------------------------------------------------

FALLBACK_CASES = [
    c
    for c in CASE_IDS
    if EXPECTED[c] is not None and c not in ("corrupt", "redirect_loop", "redirect_file")
] + ["redirect_loop", "redirect_file"]


@pytest.mark.parametrize("case_id", FALLBACK_CASES)
def test_cached_copy_is_served_with_one_warning(
    case_id: str, servers: tuple[FaultyServer, FaultyServer], docs: MirrorDocs, tmp_path: Path
) -> None:
    main, other = servers
    body = docs.files["manifest.json"]
    url = main.set("/doc.json", body)
    warnings: list[str] = []
    client = make_client(tmp_path / "cache", warnings)
    assert client.get(url).body == body
    apply_case(main, "/doc.json", b"{" + b" " * 200 + b"}", case(case_id), other)
    start = time.monotonic()
    first = client.get(url, revalidate=True)
    second = client.get(url, revalidate=True)
    assert time.monotonic() - start < 2 * BOUND
    assert first.body == second.body == body
    assert first.stale
    assert second.stale
    assert len(warnings) == 1, warnings
    assert "using the cached copy" in warnings[0]
    assert "\n" not in warnings[0]


def test_damaged_cache_entry_is_a_miss(
    servers: tuple[FaultyServer, FaultyServer], docs: MirrorDocs, tmp_path: Path
) -> None:
    main, _ = servers
    body = docs.files["manifest.json"]
    url = main.set("/doc.json", body)
    client = make_client(tmp_path / "cache")
    client.get(url)
    bodies = list((tmp_path / "cache").rglob("*.body"))
    assert len(bodies) == 1
    bodies[0].write_bytes(b"garbage")
    result = client.get(url)
    assert result.body == body
    assert not result.from_cache
    assert main.hits["/doc.json"] == 2


def test_damaged_cache_entry_is_not_served_offline(
    servers: tuple[FaultyServer, FaultyServer], docs: MirrorDocs, tmp_path: Path
) -> None:
    main, _ = servers
    url = main.set("/doc.json", docs.files["manifest.json"])
    make_client(tmp_path / "cache").get(url)
    for meta in (tmp_path / "cache").rglob("*.json"):
        meta.write_bytes(meta.read_bytes()[:10])  # torn metadata
    main.set("/doc.json", b"", "status", status=500)
    with pytest.raises(FetchError, match="HTTP 500"):
        make_client(tmp_path / "cache").get(url)


# -- CachedClient.download --------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_download_under_fault(
    case_id: str, servers: tuple[FaultyServer, FaultyServer], docs: MirrorDocs, tmp_path: Path
) -> None:
    main, other = servers
    wheel = docs.files[docs.wheel_path]
    url = apply_case(main, "/" + docs.wheel_path, wheel, case(case_id), other)
    client = make_client(None)
    dest = tmp_path / "out" / docs.wheel_filename
    expected = EXPECTED[case_id]
    start = time.monotonic()
    if expected is None:
        client.download(url, dest, sha256=docs.wheel_sha256, max_bytes=len(wheel))
        assert hashlib.sha256(dest.read_bytes()).hexdigest() == docs.wheel_sha256
        assert leftovers(dest.parent) == [dest.name]
    else:
        error, text = expected
        with pytest.raises(error) as info:
            client.download(url, dest, sha256=docs.wheel_sha256, max_bytes=len(wheel) * 2)
        assert text in str(info.value)
        assert leftovers(dest.parent) == [], "a partial file was left behind"
    assert time.monotonic() - start < BOUND


def test_failed_download_keeps_the_previous_file(
    servers: tuple[FaultyServer, FaultyServer], docs: MirrorDocs, tmp_path: Path
) -> None:
    main, _ = servers
    wheel = docs.files[docs.wheel_path]
    url = main.set("/w.whl", wheel, "truncated")
    dest = tmp_path / "w.whl"
    dest.write_bytes(b"previous")
    with pytest.raises(FetchError):
        make_client(None).download(url, dest, sha256=docs.wheel_sha256)
    assert dest.read_bytes() == b"previous"
    assert leftovers(tmp_path) == ["w.whl"]


def test_gzip_bomb_download_is_cut_at_the_expected_size(
    servers: tuple[FaultyServer, FaultyServer], tmp_path: Path
) -> None:
    """A caller passing the manifest's size stops a bomb after size bytes, not 2 GiB."""
    main, _ = servers
    url = main.set("/bomb.whl", b"", "gzip_bomb")
    start = time.monotonic()
    with pytest.raises(FetchError, match="larger than the 1000000-byte limit"):
        make_client(None).download(url, tmp_path / "bomb.whl", sha256="0" * 64, max_bytes=10**6)
    assert time.monotonic() - start < BOUND
    assert leftovers(tmp_path) == []


# -- MirrorReader -----------------------------------------------------------------------

#: MirrorReader outcomes where they differ from EXPECTED (keyed by (case, document)).
READER_OVERRIDES: dict[tuple[str, str], tuple[type[Exception], str]] = {
    # The root has no hash above it (its integrity rests on https); a flipped byte made
    # it invalid JSON, which the strict parser refuses.
    ("corrupt", "manifest.json"): (ManifestError, "not valid JSON"),
    ("corrupt", "packages/demo.json"): (ManifestError, "does not match the root manifest"),
}


@pytest.mark.parametrize("document", ["manifest.json", "packages/demo.json"])
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_mirror_reader_under_fault(
    case_id: str,
    document: str,
    servers: tuple[FaultyServer, FaultyServer],
    docs: MirrorDocs,
    tmp_path: Path,
) -> None:
    if case_id == "trickle":
        pytest.skip("trickle is covered by test_get_under_fault; 4 s per run adds nothing here")
    main, other = servers
    base = publish(main, docs)
    apply_case(main, "/m/" + document, docs.files[document], case(case_id), other)
    reader = MirrorReader(base, make_client(tmp_path / "cache"))
    expected = READER_OVERRIDES.get((case_id, document), EXPECTED[case_id])
    start = time.monotonic()
    if expected is None:
        doc = reader.package("demo")
        assert doc is not None
        assert doc.versions["1.0"].wheels[0].sha256 == docs.wheel_sha256
    else:
        error, text = expected
        with pytest.raises(error) as info:
            reader.package("demo")
        assert text in str(info.value)
        assert "\n" not in str(info.value)
    assert time.monotonic() - start < BOUND


def test_huge_local_manifest_is_refused_before_reading(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with (mirror / "manifest.json").open("wb") as f:
        f.truncate(100 * 1000 * 1000)  # sparse: 100 MB without writing them
    reader = MirrorReader(str(mirror), make_client(None))
    with pytest.raises(FetchError, match="over the 8388608-byte limit"):
        reader.root()


# -- the CLI ----------------------------------------------------------------------------

#: Exit codes: FetchError 4, ManifestError 3, success 0 (errors.py).
CLI_SLOW = {"trickle"}  # the CLI's overall deadline is 60 s: a trickle takes that long


def cli_expected(case_id: str, document: str) -> int:
    expected = READER_OVERRIDES.get((case_id, document), EXPECTED[case_id])
    if expected is None:
        return 0
    return 3 if expected[0] is ManifestError else 4


def run_cli(*args: str, cache: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = clean_env(WHEELMIRROR_CACHE_DIR=str(cache))
    return subprocess.run(
        [str(WHEELMIRROR), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    if code:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("wheelmirror: error: ")


#: The default run: ``select`` with these faults on the root, ``manifest check`` with
#: CLI_CHECK_DEFAULT on the package document (the library tests above cover every case;
#: the whole CLI matrix is slow-marked).
CLI_SELECT_DEFAULT = {
    "http_404",
    "reset",
    "stall_headers",
    "stall_body",
    "truncated",
    "corrupt",
    "redirect_file",
    "redirect_other_host",
    "gzip_bomb",
    "huge",
}
CLI_CHECK_DEFAULT = {"corrupt", "truncated"}


def cli_params() -> list[object]:
    """Every case with ``select`` and the fault on the root in the default run, a few with
    ``manifest check`` and the fault on the package document; the rest of the matrix
    (each case x both commands x both documents) is slow-marked: ``pytest -m slow``."""
    params: list[object] = []
    for c in CASE_IDS:
        for command, document in (
            ("select", "manifest.json"),
            ("check", "packages/demo.json"),
            ("check", "manifest.json"),
            ("select", "packages/demo.json"),
        ):
            default = (
                command == "select" and document == "manifest.json" and c in CLI_SELECT_DEFAULT
            ) or (
                command == "check" and document == "packages/demo.json" and c in CLI_CHECK_DEFAULT
            )
            slow = not default or c in CLI_SLOW
            marks = [pytest.mark.slow] if slow else []
            params.append(
                pytest.param(c, document, command, marks=marks, id=f"{c}-{command}-{document}")
            )
    return params


@pytest.mark.parametrize(("case_id", "document", "command"), cli_params())
def test_cli_under_fault(
    case_id: str,
    document: str,
    command: str,
    servers: tuple[FaultyServer, FaultyServer],
    docs: MirrorDocs,
    tmp_path: Path,
) -> None:
    main, other = servers
    base = publish(main, docs)
    apply_case(main, "/m/" + document, docs.files[document], case(case_id), other)
    if command == "check":
        args = ["manifest", "check", base, "--timeout", "1"]
    else:
        args = ["select", "demo==1.0", "--mirror", base, "--timeout", "1"]
    start = time.monotonic()
    proc = run_cli(*args, cache=tmp_path / "cache")
    took = time.monotonic() - start
    assert_clean_failure(proc, cli_expected(case_id, document))
    # 3 attempts x 1 s read timeout + backoff, or the 5 s Retry-After cap once, + start-up;
    # the trickle runs into the 60 s deadline.
    assert took < (75 if case_id in CLI_SLOW else 25), f"{case_id} took {took:.1f} s"
    if proc.returncode == 0 and command == "select":
        assert docs.wheel_filename in proc.stdout


def test_cli_huge_local_manifest(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with (mirror / "manifest.json").open("wb") as f:
        f.truncate(100 * 1000 * 1000)
    proc = run_cli("manifest", "check", str(mirror), cache=tmp_path / "cache")
    assert_clean_failure(proc, 4)
    assert "over the 8388608-byte limit" in proc.stderr


def test_cli_offline_fallback_warns_once(
    servers: tuple[FaultyServer, FaultyServer], docs: MirrorDocs, tmp_path: Path
) -> None:
    """A mirror that goes down after a first run: the second run works from the cache and
    says so once (select does not revalidate a fresh cache, so make it stale first)."""
    main, _ = servers
    base = publish(main, docs)
    cache = tmp_path / "cache"
    first = run_cli("select", "demo==1.0", "--mirror", base, "--timeout", "1", cache=cache)
    assert_clean_failure(first, 0)
    for meta in cache.rglob("*.json"):  # age every entry past max_age
        os.utime(meta)
        text = meta.read_text()
        meta.write_text(text.replace('"fetched_at": ', '"fetched_at": 1, "x": '))
    for path in docs.files:
        main.set("/m/" + path, b"", "status", status=500)
    second = run_cli("select", "demo==1.0", "--mirror", base, "--timeout", "1", cache=cache)
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr
    warnings = [line for line in second.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, second.stderr  # root and package document: one warning
    assert "using the cached copy" in warnings[0]
    assert docs.wheel_filename in second.stdout
