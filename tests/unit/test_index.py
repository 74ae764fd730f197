from __future__ import annotations

import json
from html.parser import HTMLParser

from packaging.utils import canonicalize_name

from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror.index import project_files
from poetry_wheelmirror.mirror.index import render_index
from poetry_wheelmirror.mirror.index import render_project_html
from poetry_wheelmirror.mirror.index import render_project_json
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.pypi import UpstreamProject

NAME = canonicalize_name("demo")
A, B, M = "a" * 64, "b" * 64, "c" * 64


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[dict[str, str | None], str]] = []
        self._attrs: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs = dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self.links.append((self._attrs, data))
            self._attrs = None


def _doc(*wheels: WheelFile) -> PackageDocument:
    source = SourceDist(filename="demo-1.0.tar.gz", sha256=A, url="https://f/demo-1.0.tar.gz")
    return PackageDocument(name=NAME, versions={"1.0": VersionEntry("1.0", source, wheels)})


MIRROR_WHEEL = WheelFile(
    filename="demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    url="../files/demo/demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    sha256=B,
    size=123,
    requires_python="<4,>=3.8",
    metadata_sha256=M,
)
UPSTREAM = UpstreamProject(
    name=NAME,
    files=(
        UpstreamFile(
            filename="demo-0.9.tar.gz",
            url="https://f/demo-0.9.tar.gz",
            sha256=A,
            size=7,
            yanked=True,
            yanked_reason='bad "quote" <tag>',
        ),
        UpstreamFile(
            filename="demo-1.0.tar.gz",
            url="https://f/demo-1.0.tar.gz",
            sha256=A,
            size=9,
            upload_time="2020-01-01T00:00:00Z",
        ),
        # Same file as the mirror's (never happens in practice): listed once.
        UpstreamFile(
            filename="demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            url="https://f/dup.whl",
            sha256=A,
            size=1,
        ),
    ),
)


def test_html_page_lists_mirror_wheels_first_with_escaped_attributes() -> None:
    files = project_files(NAME, _doc(MIRROR_WHEEL), UPSTREAM)
    parser = _Links()
    parser.feed(render_project_html(NAME, files).decode())
    names = [text for _, text in parser.links]
    assert names == [MIRROR_WHEEL.filename, "demo-0.9.tar.gz", "demo-1.0.tar.gz"]
    mirror_attrs = parser.links[0][0]
    assert mirror_attrs["href"] == f"../../files/demo/{MIRROR_WHEEL.filename}#sha256={B}"
    assert mirror_attrs["data-requires-python"] == "<4,>=3.8"
    assert mirror_attrs["data-core-metadata"] == f"sha256={M}"
    assert mirror_attrs["data-dist-info-metadata"] == f"sha256={M}"
    yanked = parser.links[1][0]
    assert yanked["data-yanked"] == 'bad "quote" <tag>'
    assert "data-yanked" not in parser.links[2][0]
    raw = render_project_html(NAME, files).decode()
    assert "&lt;4,&gt;=3.8" in raw
    assert "<tag>" not in raw


def test_json_page_is_pep691_v1_1() -> None:
    files = project_files(NAME, _doc(MIRROR_WHEEL), UPSTREAM)
    page = json.loads(render_project_json(NAME, files))
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "demo"
    assert page["versions"] == ["0.9", "1.0"]
    first, yanked, sdist = page["files"]
    assert first["hashes"] == {"sha256": B}
    assert first["size"] == 123
    assert first["core-metadata"] == {"sha256": M}
    assert first["requires-python"] == "<4,>=3.8"
    assert yanked["yanked"] == 'bad "quote" <tag>'
    assert sdist["yanked"] is False
    assert sdist["upload-time"] == "2020-01-01T00:00:00Z"
    assert "core-metadata" not in sdist


def test_absolute_wheel_urls_are_kept_and_render_is_deterministic() -> None:
    released = WheelFile(
        filename="demo-1.0-cp312-cp312-macosx_11_0_arm64.whl",
        url="https://github.com/o/r/releases/download/demo-1.0/x.whl",
        sha256=B,
        size=1,
    )
    pages = render_index({NAME: (_doc(released), None), canonicalize_name("zed"): (None, None)})
    assert sorted(pages) == [
        "simple/demo/index.html",
        "simple/demo/index.json",
        "simple/index.html",
        "simple/index.json",
        "simple/zed/index.html",
        "simple/zed/index.json",
    ]
    assert (
        b'href="https://github.com/o/r/releases/download/demo-1.0/x.whl#sha256='
        in pages["simple/demo/index.html"]
    )
    assert json.loads(pages["simple/index.json"])["projects"] == [{"name": "demo"}, {"name": "zed"}]
    assert b'<a href="demo/">demo</a>' in pages["simple/index.html"]
    again = render_index({NAME: (_doc(released), None), canonicalize_name("zed"): (None, None)})
    assert again == pages
