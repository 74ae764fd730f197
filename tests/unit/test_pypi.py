"""PypiClient against a loopback PEP 691 index that negotiates on Accept and sends ETags."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.mirror.pypi import PEP691_JSON
from poetry_wheelmirror.mirror.pypi import PypiClient
from poetry_wheelmirror.mirror.pypi import parse_upstream_snapshot
from poetry_wheelmirror.mirror.pypi import upstream_snapshot_json

PAGE = {
    "meta": {"api-version": "1.1"},
    "name": "demo",
    "files": [
        {
            "filename": "demo-1.0.tar.gz",
            "url": "https://f/demo-1.0.tar.gz",
            "hashes": {"sha256": "a" * 64},
            "size": 3,
            "requires-python": ">=3.8",
            "upload-time": "2020-05-01T10:00:00.123456Z",
            "yanked": False,
        },
        {
            "filename": "demo-1.0-py3-none-any.whl",
            "url": "https://f/demo-1.0-py3-none-any.whl",
            "hashes": {"sha256": "b" * 64},
            "size": 2,
            "core-metadata": {"sha256": "c" * 64},
        },
    ],
}


class State:
    def __init__(self) -> None:
        self.accepts: list[str] = []
        self.conditional: list[str] = []


@pytest.fixture
def index() -> Iterator[tuple[str, State]]:
    state = State()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            accept = self.headers.get("Accept", "")
            state.accepts.append(accept)
            if self.path != "/simple/demo/":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            as_json = PEP691_JSON in accept
            etag = '"json-1"' if as_json else '"html-1"'
            if self.headers.get("If-None-Match") == etag:
                state.conditional.append(etag)
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            body = json.dumps(PAGE).encode() if as_json else b"<html>not json</html>"
            self.send_response(200)
            self.send_header("Content-Type", PEP691_JSON if as_json else "text/html")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", state
    finally:
        server.shutdown()
        server.server_close()


def test_sends_the_pep691_accept_header_and_parses_the_page(
    index: tuple[str, State], tmp_path: Path
) -> None:
    url, state = index
    project = PypiClient(CachedClient(tmp_path), url).project("Demo")
    assert project is not None
    assert state.accepts == [PEP691_JSON]
    assert project.sdist_for("1.0") is not None
    assert project.files[1].core_metadata_sha256 == "c" * 64
    assert PypiClient(CachedClient(tmp_path), url).project("missing") is None


def test_cache_revalidates_with_etag_and_keeps_representations_apart(
    index: tuple[str, State], tmp_path: Path
) -> None:
    url, state = index
    client = CachedClient(tmp_path, max_age=0)
    # The HTML representation of the same URL, cached first, must not be served as JSON.
    assert client.get(f"{url}demo/").body.startswith(b"<html>")
    pypi = PypiClient(client, url)
    assert pypi.project("demo") is not None
    assert pypi.project("demo") is not None  # stale: revalidated, 304
    assert state.conditional == ['"json-1"']


def test_a_non_json_answer_is_a_fetch_error(index: tuple[str, State], tmp_path: Path) -> None:
    url, _state = index

    class HtmlOnly(CachedClient):
        def get(self, u: str, **kw: object):  # type: ignore[override]
            return super().get(u)  # drops Accept: the server answers HTML

    with pytest.raises(FetchError, match="not a PEP 691 JSON page"):
        PypiClient(HtmlOnly(tmp_path), url).project("demo")


def test_snapshot_round_trip(index: tuple[str, State], tmp_path: Path) -> None:
    url, _state = index
    project = PypiClient(CachedClient(tmp_path), url).project("demo")
    assert project is not None
    data = json.dumps(upstream_snapshot_json(project)).encode()
    again = parse_upstream_snapshot(data, source="snap.json")
    assert again.files == project.files
    with pytest.raises(FetchError, match="not an upstream snapshot"):
        parse_upstream_snapshot(b'{"schema": "other"}', source="snap.json")


# -- hostile pages (issue 12) ------------------------------------------------------------


def _one_file_page(**entry: object) -> bytes:
    base: dict[str, object] = {
        "filename": "crcmod-1.7.tar.gz",
        "url": "https://f/crcmod-1.7.tar.gz",
        "hashes": {"sha256": "a" * 64},
        "size": 3,
    }
    return json.dumps({"meta": {"api-version": "1.1"}, "files": [{**base, **entry}]}).encode()


def test_sdist_of_another_project_is_not_picked() -> None:
    from poetry_wheelmirror.mirror.pypi import parse_simple_json

    page = parse_simple_json(_one_file_page(), name="evilname", source="https://pypi.org/simple/evilname/")
    assert page.sdist_for("1.7") is None
    assert page.by_version() == {}
    own = parse_simple_json(_one_file_page(), name="crcmod", source="https://pypi.org/simple/crcmod/")
    sdist = own.sdist_for("1.7")
    assert sdist is not None
    assert sdist.filename == "crcmod-1.7.tar.gz"


def test_deeply_nested_page_is_a_fetch_error() -> None:
    from poetry_wheelmirror.mirror.pypi import parse_simple_json

    body = b'{"files": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}"
    with pytest.raises(FetchError, match="nested deeper"):
        parse_simple_json(body, name="crcmod", source="https://pypi.org/simple/crcmod/")


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "file:///etc/passwd", "FILE:/etc/passwd", "http://evil.example/x"],
)
def test_unfetchable_links_are_dropped(url: str) -> None:
    from poetry_wheelmirror.mirror.pypi import parse_simple_json

    page = parse_simple_json(
        _one_file_page(url=url), name="crcmod", source="https://pypi.org/simple/crcmod/"
    )
    assert page.files == ()


def test_remote_snapshot_naming_local_files_is_filtered() -> None:
    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.manifest import dump_document
    from poetry_wheelmirror.mirror.pypi import UpstreamFile
    from poetry_wheelmirror.mirror.pypi import UpstreamProject

    project = UpstreamProject(
        name=canonicalize_name("crcmod"),
        files=(
            UpstreamFile("crcmod-1.7.tar.gz", "file:///etc/passwd", "a" * 64, 3),
            UpstreamFile("crcmod-1.6.tar.gz", "https://f/crcmod-1.6.tar.gz", "a" * 64, 3),
        ),
    )
    data = dump_document(upstream_snapshot_json(project))
    remote = parse_upstream_snapshot(data, source="https://m.example/upstream/crcmod.json")
    assert [f.filename for f in remote.files] == ["crcmod-1.6.tar.gz"]
    local = parse_upstream_snapshot(data, source="file:///srv/m/upstream/crcmod.json")
    assert len(local.files) == 2


def test_sdists_before_pep_625_keep_dashes_in_the_project_name() -> None:
    from poetry_wheelmirror.mirror.pypi import _project_of

    assert _project_of("lazy-object-proxy-1.6.0.tar.gz") == "lazy-object-proxy"
    assert _project_of("ruamel.yaml.clib-0.2.6.tar.gz") == "ruamel-yaml-clib"
    assert _project_of("lazy_object_proxy-1.6.0-cp311-cp311-manylinux1_x86_64.whl") == (
        "lazy-object-proxy"
    )
    assert _project_of("crcmod-1.7.tar.gz") == "crcmod"
    assert _project_of("notes.txt") is None
