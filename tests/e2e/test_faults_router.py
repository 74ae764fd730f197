"""Every fault of devtools.faulty_server on the *upstream* of the routing index.

A real ``wheelmirror serve MIRROR --upstream URL`` process merges a local mirror with an
upstream index that misbehaves (one project per fault). The rule: a client always gets
an answer within the upstream's timeouts — the merged page, a stale cached page flagged
``stale``, or a 502 naming the upstream failure — never a hang, never a 500, never an
upstream file the upstream did not list with a sha256, and never a traceback.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.faulty_server import CASE_IDS
from devtools.faulty_server import FaultyServer
from devtools.faulty_server import apply_case
from devtools.faulty_server import case
from devtools.faulty_server import mirror_docs
from devtools.faulty_server import serve_faulty

pytestmark = pytest.mark.e2e

WHEELMIRROR = Path(sys.executable).with_name("wheelmirror")
UPSTREAM_HEADER = "x-wheelmirror-upstream"  # header names compared lower-cased
#: The router's upstream client: (3 s, 10 s) timeouts, one retry, 60 s deadline.
ROUTER_SLOW = {"trickle"}  # runs into the 60 s deadline


def project(case_id: str) -> str:
    return "pkg-" + case_id.replace("_", "-")


def upstream_page(name: str) -> bytes:
    sdist = f"{name.replace('-', '_')}-1.0.tar.gz"
    return json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "name": name,
            "files": [
                {
                    "filename": sdist,
                    "url": f"https://files.pythonhosted.org/packages/{sdist}",
                    "hashes": {"sha256": "1" * 64},
                    "size": 10,
                }
            ],
        }
    ).encode()


@dataclass
class Router:
    url: str
    upstream: FaultyServer
    other: FaultyServer
    proc: subprocess.Popen[str]


def start_router(
    mirror: Path, upstream: FaultyServer, cache: Path, ttl: float
) -> tuple[str, subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [
            str(WHEELMIRROR),
            "serve",
            "--mirror",
            str(mirror),
            "--port",
            "0",
            "--upstream",
            upstream.url_for("/simple/"),
            "--upstream-ttl",
            str(ttl),
            "--cache-dir",
            str(cache),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"at (http://\S+/) ", line)
    if not match:
        proc.kill()
        pytest.fail(f"serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return match.group(1), proc


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


@pytest.fixture
def router(tmp_path: Path) -> Iterator[Router]:
    mirror = tmp_path / "mirror"
    for relative, data in mirror_docs(names=tuple(project(c) for c in CASE_IDS)).files.items():
        (mirror / relative).parent.mkdir(parents=True, exist_ok=True)
        (mirror / relative).write_bytes(data)
    with serve_faulty() as upstream, serve_faulty("127.0.0.2") as other:
        url, proc = start_router(mirror, upstream, tmp_path / "cache", ttl=1.0)
        try:
            yield Router(url, upstream, other, proc)
        finally:
            err = stop(proc)
            assert "Traceback" not in err, err


def lower(headers: object) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}  # type: ignore[attr-defined]


def get(url: str) -> tuple[int, dict[str, str], bytes, float]:
    start = time.monotonic()
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status, lower(resp.headers), resp.read(), time.monotonic() - start
    except urllib.error.HTTPError as e:
        return e.code, lower(e.headers), e.read(), time.monotonic() - start


#: Faults after which the upstream's page is still usable.
UPSTREAM_OK = {
    "http_503_then_ok",
    "redirect_other_host",
    "content_type_wrong",
    "content_type_missing",
}


def check_answer(
    case_id: str, status: int, headers: dict[str, str], body: bytes, took: float, *, cached: bool
) -> str:
    name = project(case_id)
    bound = 70.0 if case_id in ROUTER_SLOW else 30.0  # 2 x 10 s read timeout + backoff
    assert took < bound, f"{case_id}: {took:.1f} s"
    assert status in (200, 502), (case_id, status, body[:200])
    state = headers.get(UPSTREAM_HEADER, "")
    if status == 502:
        assert not cached, f"{case_id}: 502 although a cached page existed"
        assert case_id not in UPSTREAM_OK, case_id
        assert case_id != "http_404"
        assert b"upstream unavailable" in body
        return f"502 upstream unavailable ({took:.1f} s)"
    page = json.loads(body)
    filenames = [f["filename"] for f in page["files"]]
    assert f"{name.replace('-', '_')}-1.0-py3-none-any.whl" in filenames  # the mirror wheel
    upstream_listed = f"{name.replace('-', '_')}-1.0.tar.gz" in filenames
    if case_id == "corrupt":
        # No hash covers an upstream page: a flipped byte that still parses is the
        # upstream's word (pip checks each file's own sha256). Only the shape is checked.
        assert state == "ok"
    elif case_id == "http_404":
        assert state == "missing"
        assert not upstream_listed
    elif case_id in UPSTREAM_OK:
        assert state == "ok", (case_id, state)
        assert upstream_listed
    else:
        assert cached, f"{case_id}: a page without a cache: {state} {filenames}"
        assert state in ("stale", "ok"), (case_id, state)  # ok: the refresh is in flight
        assert upstream_listed
    for f in page["files"]:
        assert re.fullmatch(r"[0-9a-f]{64}", f["hashes"]["sha256"])
    return f"200 {state} ({took:.1f} s)"


def test_router_with_failing_upstream_and_no_cache(router: Router) -> None:
    """All faults at once (one project each), requested in parallel: the slowest fault
    bounds the run, not their sum."""
    ids = [c for c in CASE_IDS if c not in ROUTER_SLOW]
    for case_id in ids:
        name = project(case_id)
        apply_case(
            router.upstream, f"/simple/{name}/", upstream_page(name), case(case_id), router.other
        )
    with ThreadPoolExecutor(len(ids)) as pool:
        answers = dict(zip(ids, pool.map(lambda c: get(f"{router.url}simple/{project(c)}/"), ids)))
    for case_id, (status, headers, body, took) in answers.items():
        check_answer(case_id, status, headers, body, took, cached=False)


@pytest.mark.parametrize(
    "settle", [False, pytest.param(True, marks=pytest.mark.slow, id="after-refresh")]
)
def test_router_serves_stale_pages_when_upstream_breaks(router: Router, settle: bool) -> None:
    """Cached pages are served at once past their TTL (stale-while-revalidate); with
    *settle*, also after the background refreshes have failed (flagged ``stale``)."""
    ids = [c for c in CASE_IDS if c not in ROUTER_SLOW]
    for case_id in ids:
        name = project(case_id)
        router.upstream.set(f"/simple/{name}/", upstream_page(name))
    with ThreadPoolExecutor(len(ids)) as pool:
        first = list(pool.map(lambda c: get(f"{router.url}simple/{project(c)}/"), ids))
    assert all(status == 200 for status, *_ in first)
    for case_id in ids:
        name = project(case_id)
        apply_case(
            router.upstream, f"/simple/{name}/", upstream_page(name), case(case_id), router.other
        )
    time.sleep(1.5)  # past the 1 s TTL: the next request triggers a background refresh
    with ThreadPoolExecutor(len(ids)) as pool:
        second = dict(zip(ids, pool.map(lambda c: get(f"{router.url}simple/{project(c)}/"), ids)))
    for case_id, (status, _, _, took) in second.items():
        assert status == 200, case_id
        assert took < 5.0, f"{case_id}: a cached page took {took:.1f} s (stale-while-revalidate)"
    if not settle:
        return
    time.sleep(25)  # the refreshes finish (or give up) within 2 x 10 s + backoff
    with ThreadPoolExecutor(len(ids)) as pool:
        third = dict(zip(ids, pool.map(lambda c: get(f"{router.url}simple/{project(c)}/"), ids)))
    for case_id, (status, headers, body, took) in third.items():
        if case_id == "http_404":
            # A 404 on revalidation counts as a failure with a cached copy at hand
            # (CachedClient serves it): the old page, flagged stale.
            assert status == 200
            assert headers.get(UPSTREAM_HEADER) in ("missing", "stale")
            continue
        check_answer(case_id, status, headers, body, took, cached=True)


def test_unsupported_project_redirects_without_fetching(router: Router) -> None:
    request = urllib.request.Request(f"{router.url}simple/not-on-mirror/", method="GET")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(request, timeout=30)
    assert info.value.code == 301
    assert info.value.headers["Location"] == router.upstream.url_for("/simple/not-on-mirror/")
    assert router.upstream.hits["/simple/not-on-mirror/"] == 0
    info.value.close()
