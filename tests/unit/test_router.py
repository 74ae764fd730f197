"""The routing index as an ASGI app, called in-process (no server): routing, merging,
negotiation, caching and the stale-upstream fallback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from devtools.pipuv_mirror import write_mirror
from devtools.wheels import make_wheel
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.serve.negotiate import negotiate
from poetry_wheelmirror.serve.router import RoutingIndex
from poetry_wheelmirror.serve.upstream import Upstream
from poetry_wheelmirror.serve.upstream import UpstreamPage
from poetry_wheelmirror.simple_index import IndexFile
from poetry_wheelmirror.simple_index import ProjectPage
from poetry_wheelmirror.simple_index import parse_project_page
from poetry_wheelmirror.simple_index import render_project_html as render_html
from poetry_wheelmirror.simple_index import render_project_json as render_json

WHEEL = "demo_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
UPSTREAM_HTML = b"""<!DOCTYPE html><html><body>
<a href="https://files.example/demo_pkg-1.0.tar.gz#sha256=aaaa" data-requires-python="&gt;=3.8">demo_pkg-1.0.tar.gz</a>
<a href="../../files/demo_pkg-0.9-py3-none-any.whl#sha256=bbbb" data-yanked="broken" data-dist-info-metadata="sha256=cccc">demo_pkg-0.9-py3-none-any.whl</a>
</body></html>"""


class FakeUpstream(Upstream):
    def __init__(self) -> None:
        super().__init__("https://upstream.example/simple/", ttl=300.0)
        self.calls = 0
        self.down = False
        self.stale = False

    def fetch(self, name: str, *, revalidate: bool = False) -> UpstreamPage:
        self.calls += 1
        if self.down:
            raise FetchError("cannot reach upstream.example")
        page = parse_project_page(UPSTREAM_HTML, self.page_url(name), name)
        return UpstreamPage(page=page, stale=self.stale)


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    wheel = make_wheel(tmp_path / "src", WHEEL)
    sdist = SourceDist(filename="demo_pkg-1.0.tar.gz", sha256="a" * 64, url="https://x/y.tar.gz")
    write_mirror(root, wheel, sdist=sdist)
    return root


def call(app: RoutingIndex, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)
        # Let background refreshes finish, as a running server would.
        while app._tasks:
            await asyncio.gather(*list(app._tasks))

    asyncio.run(run())
    status = sent[0]["status"]
    hdrs = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, hdrs, body


JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def test_supported_package_is_merged(mirror: Path) -> None:
    upstream = FakeUpstream()
    app = RoutingIndex(mirror, upstream)
    status, headers, body = call(app, "/simple/demo-pkg/", JSON)
    assert status == 200
    assert headers["content-type"] == "application/vnd.pypi.simple.v1+json"
    assert headers["vary"] == "Accept, Accept-Encoding"
    assert headers["x-wheelmirror-upstream"] == "ok"
    data = json.loads(body)
    names = [f["filename"] for f in data["files"]]
    assert names == [WHEEL, "demo_pkg-1.0.tar.gz", "demo_pkg-0.9-py3-none-any.whl"]
    mirror_file, sdist, old = data["files"]
    assert mirror_file["url"] == f"../../files/demo-pkg/{WHEEL}"
    assert len(mirror_file["hashes"]["sha256"]) == 64
    assert mirror_file["core-metadata"]["sha256"]
    assert sdist["url"] == "https://files.example/demo_pkg-1.0.tar.gz"
    assert sdist["hashes"] == {"sha256": "aaaa"}
    assert sdist["requires-python"] == ">=3.8"
    # Relative upstream URLs point at the upstream, not at us.
    assert old["url"] == "https://upstream.example/files/demo_pkg-0.9-py3-none-any.whl"
    assert old["yanked"] == "broken"
    assert old["core-metadata"] == {"sha256": "cccc"}
    # No sizes upstream (PEP 503 HTML): api-version 1.0, which does not require them.
    assert data["meta"]["api-version"] == "1.0"
    status, headers, html = call(app, "/simple/demo-pkg/")
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert html.count(b"<a ") == 3
    assert b'data-yanked="broken"' in html
    assert b"#sha256=aaaa" in html
    assert upstream.calls == 1  # the second format came from the cached page


def test_unsupported_package_redirects_to_upstream(mirror: Path) -> None:
    upstream = FakeUpstream()
    status, headers, _ = call(RoutingIndex(mirror, upstream), "/simple/requests/")
    assert status == 301
    assert headers["location"] == "https://upstream.example/simple/requests/"
    assert upstream.calls == 0


def test_redirect_to_upstream_never_carries_its_credentials(mirror: Path) -> None:
    # issue 12: a token in the upstream URL must not be handed to every client.
    upstream = FakeUpstream()
    upstream.url = "https://user:s3cr3t@upstream.example/simple/"
    status, headers, _ = call(RoutingIndex(mirror, upstream), "/simple/requests/")
    assert status == 301
    assert headers["location"] == "https://upstream.example/simple/requests/"


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/simple/Demo_Pkg/", "/simple/demo-pkg/"),
        ("/simple/demo.pkg", "/simple/demo-pkg/"),
        ("/simple/demo-pkg", "/simple/demo-pkg/"),
        ("/simple", "/simple/"),
    ],
)
def test_names_are_normalised_by_redirect(mirror: Path, path: str, location: str) -> None:
    status, headers, _ = call(RoutingIndex(mirror, FakeUpstream()), path)
    assert (status, headers["location"]) == (301, location)


def test_etag_and_304(mirror: Path) -> None:
    app = RoutingIndex(mirror, FakeUpstream())
    _, headers, _ = call(app, "/simple/demo-pkg/", JSON)
    etag = headers["etag"]
    status, headers304, body = call(app, "/simple/demo-pkg/", {**JSON, "If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers304["etag"] == etag
    # The HTML variant has its own tag: the JSON one does not match it.
    status, headers_html, _ = call(app, "/simple/demo-pkg/", {"If-None-Match": etag})
    assert status == 200
    assert headers_html["etag"] != etag


def test_gzip_variant_for_clients_that_accept_it(
    mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    monkeypatch.setattr("poetry_wheelmirror.serve.responses._GZIP_MIN", 0)  # the demo page is tiny
    app = RoutingIndex(mirror, FakeUpstream())
    _, plain_headers, plain = call(app, "/simple/demo-pkg/", JSON)
    status, headers, packed = call(
        app, "/simple/demo-pkg/", {**JSON, "Accept-Encoding": "gzip, deflate"}
    )
    assert (status, headers["content-encoding"]) == (200, "gzip")
    assert gzip.decompress(packed) == plain
    assert headers["etag"] != plain_headers["etag"]  # another representation, another tag
    assert "content-encoding" not in plain_headers
    refused = call(app, "/simple/demo-pkg/", {**JSON, "Accept-Encoding": "gzip;q=0"})[1]
    assert "content-encoding" not in refused
    etag = headers["etag"]
    again = {**JSON, "Accept-Encoding": "gzip", "If-None-Match": etag}
    assert call(app, "/simple/demo-pkg/", again)[0] == 304


def test_406_for_unservable_accept(mirror: Path) -> None:
    status, headers, _ = call(
        RoutingIndex(mirror, FakeUpstream()),
        "/simple/demo-pkg/",
        {"Accept": "application/vnd.pypi.simple.v2+json"},
    )
    assert status == 406
    assert headers["vary"] == "Accept"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "html"),
        ("", "html"),
        ("*/*", "html"),
        ("text/html", "html"),
        ("application/vnd.pypi.simple.v1+html", "html-v1"),
        ("application/vnd.pypi.simple.latest+json", "json"),
        # pip 26's header
        (
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; "
            "q=0.1, text/html; q=0.01",
            "json",
        ),
        ("application/vnd.pypi.simple.v1+json;q=0.2, text/html", "html"),
        ("text/html;q=0, application/vnd.pypi.simple.v1+json;q=0.5", "json"),
        ("text/html, */*;q=0.8", "html"),
        ("application/json", None),
        ("text/html;q=0", None),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_upstream_down_serves_cached_page_flagged_stale(mirror: Path) -> None:
    upstream = FakeUpstream()
    upstream.ttl = 0.0  # every request revalidates
    app = RoutingIndex(mirror, upstream)
    _, _, fresh = call(app, "/simple/demo-pkg/", JSON)
    upstream.down = True
    call(app, "/simple/demo-pkg/", JSON)  # serves the page, refresh fails in the background
    status, headers, body = call(app, "/simple/demo-pkg/", JSON)
    assert status == 200
    assert headers["x-wheelmirror-upstream"] == "stale"
    assert body == fresh  # never an empty page


def test_disk_cache_stale_copy_is_flagged(mirror: Path) -> None:
    upstream = FakeUpstream()
    upstream.stale = True  # CachedClient handed back its cached copy
    status, headers, body = call(RoutingIndex(mirror, upstream), "/simple/demo-pkg/", JSON)
    assert (status, headers["x-wheelmirror-upstream"]) == (200, "stale")
    assert len(json.loads(body)["files"]) == 3


def test_upstream_down_and_nothing_cached_is_502(mirror: Path) -> None:
    upstream = FakeUpstream()
    upstream.down = True
    status, headers, body = call(RoutingIndex(mirror, upstream), "/simple/demo-pkg/", JSON)
    assert status == 502
    assert headers["x-wheelmirror-upstream"] == "unavailable"
    assert b"cannot reach" in body


def test_static_mode_serves_directory_pages(mirror: Path) -> None:
    app = RoutingIndex(mirror)
    status, headers, body = call(app, "/simple/demo-pkg/")
    assert status == 200
    assert body == (mirror / "simple" / "demo-pkg" / "index.html").read_bytes()
    status, headers, body = call(app, "/simple/demo-pkg/", JSON)
    assert body == (mirror / "simple" / "demo-pkg" / "index.json").read_bytes()
    assert "x-wheelmirror-upstream" not in headers
    assert call(app, "/simple/requests/")[0] == 404
    status, _, body = call(app, "/simple/", JSON)
    assert json.loads(body)["projects"] == [{"name": "demo-pkg"}]


def test_static_mode_renders_missing_pages_from_manifest(mirror: Path) -> None:
    for page in (mirror / "simple" / "demo-pkg").iterdir():
        page.unlink()
    status, _, body = call(RoutingIndex(mirror), "/simple/demo-pkg/", JSON)
    assert status == 200
    assert [f["filename"] for f in json.loads(body)["files"]] == [WHEEL]


def test_files_and_documents(mirror: Path) -> None:
    app = RoutingIndex(mirror)
    status, headers, body = call(app, "/manifest.json")
    assert (status, headers["content-type"]) == (200, "application/json")
    assert body == (mirror / "manifest.json").read_bytes()
    status, headers, body = call(app, f"/files/demo-pkg/{WHEEL}")
    assert (status, headers["content-type"]) == (200, "application/octet-stream")
    assert body == (mirror / "files" / "demo-pkg" / WHEEL).read_bytes()
    assert int(headers["content-length"]) == len(body)
    status, headers, body = call(app, f"/files/demo-pkg/{WHEEL}.metadata")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert body.startswith(b"Metadata-Version")
    status, headers, body = call(app, f"/files/demo-pkg/{WHEEL}", method="HEAD")
    assert (status, body) == (200, b"")
    assert call(app, "/packages/demo-pkg.json")[0] == 200
    etag = call(app, "/packages/demo-pkg.json")[1]["etag"]
    assert call(app, "/packages/demo-pkg.json", {"If-None-Match": etag})[0] == 304


@pytest.mark.parametrize(
    "path", ["/files/../manifest.json", "/files/demo-pkg/..", "/packages/%2e%2e", "/etc/passwd"]
)
def test_no_escape_from_the_directory(mirror: Path, path: str) -> None:
    assert call(RoutingIndex(mirror), path)[0] == 404


def test_method_not_allowed(mirror: Path) -> None:
    assert call(RoutingIndex(mirror), "/simple/", method="POST")[0] == 405


def test_rebuilt_mirror_is_picked_up(mirror: Path, tmp_path: Path) -> None:
    app = RoutingIndex(mirror, FakeUpstream(), reload_interval=0.0)
    assert call(app, "/simple/other/")[0] == 301
    other = make_wheel(tmp_path / "src2", "other-2.0-py3-none-any.whl")
    sdist = SourceDist(filename="other-2.0.tar.gz", sha256="b" * 64, url="https://x/o.tar.gz")
    write_mirror(mirror, other, sdist=sdist)  # replaces the root manifest: only "other"
    status, _, body = call(app, "/simple/other/", JSON)
    assert status == 200
    assert json.loads(body)["files"][0]["filename"] == "other-2.0-py3-none-any.whl"


def test_render_round_trip() -> None:
    page = ProjectPage(
        name="x",
        files=(
            IndexFile(
                filename="x-1.0.tar.gz",
                url="https://h/x-1.0.tar.gz",
                sha256="ab",
                requires_python="<4,>=3.8",
                yanked=True,
                size=10,
                version="1.0",
            ),
        ),
    )
    data = json.loads(render_json(page))
    assert data["meta"]["api-version"] == "1.1"
    assert data["versions"] == ["1.0"]
    parsed = parse_project_page(render_html(page), "https://h/simple/x/", "x")
    assert parsed.files[0].requires_python == "<4,>=3.8"
    assert parsed.files[0].yanked is True
    assert parsed.files[0].sha256 == "ab"


def test_a_bug_costs_one_answer_not_the_server(mirror: Path) -> None:
    upstream = FakeUpstream()
    broken = {"on": True}
    original = upstream.fetch

    def fetch(name: str, *, revalidate: bool = False) -> UpstreamPage:
        if broken["on"]:
            raise RuntimeError("bug")
        return original(name, revalidate=revalidate)

    upstream.fetch = fetch  # type: ignore[method-assign]
    app = RoutingIndex(mirror, upstream)
    assert call(app, "/simple/demo-pkg/")[0] == 500
    broken["on"] = False
    # Backing off (issue 12): the same answer until the back-off ends, then a new try.
    assert call(app, "/simple/demo-pkg/")[0] == 500
    expire_backoff(app)
    assert call(app, "/simple/demo-pkg/")[0] == 200


def expire_backoff(app: RoutingIndex) -> None:
    import dataclasses

    for name, failure in list(app._failures.items()):
        app._failures[name] = dataclasses.replace(failure, until=0.0)
    for page in app._pages.values():
        page.fetched_at = -1e9


class CrashingUpstream(FakeUpstream):
    """An upstream whose pages break the page code (any bug) once *crash* is set."""

    def __init__(self) -> None:
        super().__init__()
        self.crash = False

    def fetch(self, name: str, *, revalidate: bool = False) -> UpstreamPage:
        if self.crash:
            self.calls += 1
            raise RecursionError("maximum recursion depth exceeded")
        return super().fetch(name, revalidate=revalidate)


def test_refresh_that_crashes_backs_off_and_serves_the_page_stale(
    mirror: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upstream = CrashingUpstream()
    upstream.ttl = 0.0  # every request finds the page due for a refresh
    app = RoutingIndex(mirror, upstream)
    assert call(app, "/simple/demo-pkg/")[1]["x-wheelmirror-upstream"] == "ok"
    upstream.crash = True
    upstream.calls = 0
    answers = [call(app, "/simple/demo-pkg/") for _ in range(50)]
    assert all(status == 200 for status, _, _ in answers)
    # the first request started the refresh that crashed; every later one is told
    assert {h["x-wheelmirror-upstream"] for _, h, _ in answers[1:]} == {"stale"}
    assert upstream.calls == 1  # backing off, not one fetch per request
    crashes = [r for r in caplog.records if "demo-pkg" in r.getMessage()]
    assert len(crashes) == 1, [r.getMessage() for r in crashes]


def test_first_build_that_crashes_backs_off(
    mirror: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upstream = CrashingUpstream()
    upstream.crash = True
    app = RoutingIndex(mirror, upstream)
    statuses = {call(app, "/simple/demo-pkg/")[0] for _ in range(50)}
    assert statuses == {500}
    assert upstream.calls == 1
    assert len([r for r in caplog.records if "demo-pkg" in r.getMessage()]) == 1
    upstream.crash = False
    expire_backoff(app)
    status, headers, _ = call(app, "/simple/demo-pkg/")
    assert (status, headers["x-wheelmirror-upstream"]) == (200, "ok")


# -- one simple index: the static and the routing index render the same page -------------

UPSTREAM_JSON = json.dumps(
    {
        "meta": {"api-version": "1.1"},
        "name": "demo-pkg",
        "files": [
            {
                "filename": "demo_pkg-1.0.tar.gz",
                "url": "https://files.example/demo_pkg-1.0.tar.gz",
                "hashes": {"sha256": "a" * 64},
                "size": 1234,
                "requires-python": ">=3.8",
                "upload-time": "2020-05-01T10:00:00.123456Z",
                "yanked": False,
            },
            {
                "filename": "demo_pkg-0.9-py3-none-any.whl",
                "url": "../../files/demo_pkg-0.9-py3-none-any.whl",
                "hashes": {"sha256": "b" * 64},
                "size": 99,
                "yanked": 'broken <"build">',
                "core-metadata": {"sha256": "c" * 64},
            },
        ],
    }
).encode()


def test_static_and_routing_index_render_the_same_project_page(mirror: Path) -> None:
    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.manifest import parse_package_document
    from poetry_wheelmirror.mirror.index import render_index
    from poetry_wheelmirror.mirror.pypi import parse_simple_json

    class JsonUpstream(FakeUpstream):
        def fetch(self, name: str, *, revalidate: bool = False) -> UpstreamPage:
            return UpstreamPage(page=parse_project_page(UPSTREAM_JSON, self.page_url(name), name))

    name = canonicalize_name("demo-pkg")
    upstream = JsonUpstream()
    # The static index lists PyPI's files from the snapshot the PyPI reader made of the
    # same upstream page; the routing index parses that page itself.
    snapshot = parse_simple_json(UPSTREAM_JSON, name=name, source=upstream.page_url(name))
    doc = parse_package_document((mirror / "packages" / f"{name}.json").read_bytes())
    static = render_index({name: (doc, snapshot)})
    app = RoutingIndex(mirror, upstream)
    _, _, routed_html = call(app, f"/simple/{name}/")
    _, _, routed_json = call(app, f"/simple/{name}/", JSON)
    assert routed_html == static[f"simple/{name}/index.html"]
    assert routed_json == static[f"simple/{name}/index.json"]
    data = json.loads(routed_json)
    assert [f["filename"] for f in data["files"]] == [
        WHEEL,
        "demo_pkg-1.0.tar.gz",
        "demo_pkg-0.9-py3-none-any.whl",
    ]
    assert data["meta"] == {"api-version": "1.1"}
    assert data["versions"] == ["0.9", "1.0"]
    # and the static-mode router, rendering from the same documents, agrees too
    _, _, root_html = call(RoutingIndex(mirror, upstream), "/simple/")
    assert root_html == static["simple/index.html"]


# -- hostile upstream pages (issue 12) ----------------------------------------------------


class PageUpstream(FakeUpstream):
    """An upstream answering with the given raw page bytes, parsed as the real one does."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def fetch(self, name: str, *, revalidate: bool = False) -> UpstreamPage:
        self.calls += 1
        return UpstreamPage(page=parse_project_page(self.body, self.page_url(name), name))


SDIST_LINK = '<a href="https://files.example/demo_pkg-1.0.tar.gz#sha256=aaaa">ok</a>'


@pytest.mark.parametrize(
    "links",
    [
        '<a href="javascript:alert(1)//demo_pkg-0.1.tar.gz#sha256=aaaa">x</a>',
        '<a href="file:///etc/passwd#sha256=aaaa">demo_pkg-0.2.tar.gz</a>',
        '<a href="FILE:/etc/demo_pkg-0.3.tar.gz#sha256=aaaa">x</a>',
        '<base href="file:///etc/"><a href="demo_pkg-0.4.tar.gz#sha256=aaaa">x</a>',
        '<a href="http://evil.example/demo_pkg-0.5.tar.gz#sha256=aaaa">x</a>',
        '<a href="https://files.example/demo_pkg-0.6.tar.gz">no hash</a>',
    ],
)
def test_unfetchable_upstream_links_are_not_passed_on(mirror: Path, links: str) -> None:
    body = f"<html><body>{SDIST_LINK}{links}</body></html>".encode()
    app = RoutingIndex(mirror, PageUpstream(body))
    status, _, page = call(app, "/simple/demo-pkg/", JSON)
    assert status == 200
    urls = [f["url"] for f in json.loads(page)["files"]]
    assert urls == [f"../../files/demo-pkg/{WHEEL}", "https://files.example/demo_pkg-1.0.tar.gz"]
    _, _, html = call(app, "/simple/demo-pkg/")
    assert b"javascript:" not in html.lower()
    assert b"file:" not in html.lower()


@pytest.mark.parametrize(
    ("entry", "check"),
    [
        ({"requires-python": 5}, lambda f: "requires-python" not in f or f["requires-python"] is None),
        ({"yanked": "\x1b[31mred\x07"}, lambda f: "\x1b" not in f["yanked"]),
        ({"size": True}, lambda f: "size" not in f),
    ],
)
def test_odd_upstream_fields_do_not_break_the_page(mirror: Path, entry: dict, check) -> None:  # type: ignore[no-untyped-def, type-arg]
    item = {
        "filename": "demo_pkg-1.0.tar.gz",
        "url": "https://files.example/demo_pkg-1.0.tar.gz",
        "hashes": {"sha256": "a" * 64},
        **entry,
    }
    body = json.dumps({"meta": {"api-version": "1.0"}, "files": [item]}).encode()
    app = RoutingIndex(mirror, PageUpstream(body))
    status, headers, page = call(app, "/simple/demo-pkg/", JSON)
    assert (status, headers["x-wheelmirror-upstream"]) == (200, "ok")
    assert check(json.loads(page)["files"][1])
    status, _, html = call(app, "/simple/demo-pkg/")
    assert status == 200
    assert b"\x1b" not in html


@pytest.mark.parametrize(
    "body",
    [
        b'{"files": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        b'{"files": [{"filename": "demo_pkg-1.0.tar.gz", "url": "https://f/x", '
        b'"hashes": {"sha256": "aa"}, "yanked": "\\ud800"}]}',
    ],
    ids=["nested", "lone-surrogate"],
)
def test_unusable_upstream_page_is_a_clean_failure(mirror: Path, body: bytes) -> None:
    upstream = PageUpstream(body)
    app = RoutingIndex(mirror, upstream)
    for _ in range(20):
        status, headers, text = call(app, "/simple/demo-pkg/")
        assert status == 502
        assert headers["x-wheelmirror-upstream"] == "unavailable"
        assert b"not a PEP 691 JSON page" in text
    assert upstream.calls == 1
