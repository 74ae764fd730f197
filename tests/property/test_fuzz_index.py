"""Property tests for the static index renderer and the PyPI page parser feeding it.

* whatever text goes into a page (filename, URL, hashes, requires-python, yank reason,
  project name), an HTML parser reads back exactly that text from the rendered PEP 503
  page and no element other than the page's own; the PEP 691 JSON reads back equal;
* a PyPI (PEP 691) page with hostile entries only parses or raises FetchError, and
  never yields a file whose name could leave the folder it is saved to, or whose URL
  uses a scheme the client refuses (the builder saves sdists by their upstream name);
  judged by the rules in devtools/oracles.py, not by the product's own checks.
"""

from __future__ import annotations

import html.parser
import json
from typing import Any

from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from devtools.fuzz import FUZZ
from devtools.manifest_strategies import package_documents
from devtools.oracles import filename_violation
from devtools.oracles import url_violation
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.mirror.index import IndexFile
from poetry_wheelmirror.mirror.index import render_index
from poetry_wheelmirror.mirror.index import render_project_html
from poetry_wheelmirror.mirror.index import render_project_json
from poetry_wheelmirror.mirror.index import render_projects_html
from poetry_wheelmirror.mirror.pypi import parse_simple_json

# Text an HTML page can carry at all: no surrogates, no NUL/CR (HTML parsers normalise
# those by spec, so they cannot round-trip whatever the escaping).
page_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00\r"),
    max_size=30,
)
HOSTILE = [
    '"><script>alert(1)</script>',
    "' onmouseover='x",
    "</a><a href=javascript:alert(1)>",
    "&amp;&lt;",
    "<!--",
    "]]>",
]
hostile_text = page_text | st.sampled_from(HOSTILE)

index_files = st.builds(
    IndexFile,
    filename=hostile_text.filter(bool),
    url=hostile_text,
    sha256=hostile_text,
    size=st.integers(0, 2**40),
    version=hostile_text,
    requires_python=st.none() | hostile_text.filter(bool),
    yanked=st.booleans(),
    yanked_reason=hostile_text,
    metadata_sha256=st.none() | hostile_text.filter(bool),
    upload_time=st.none() | hostile_text,
)


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.anchors: list[dict[str, str | None]] = []
        self.texts: list[str] = []
        self._in_a = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.anchors.append(dict(attrs))
            self.texts.append("")
            self._in_a = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_a = False

    def handle_data(self, data: str) -> None:
        if self._in_a:
            self.texts[-1] += data


PAGE_TAGS = {"html", "head", "meta", "title", "body", "h1", "a", "br"}


def read_page(page: bytes) -> _Collector:
    collector = _Collector()
    collector.feed(page.decode())
    collector.close()
    assert set(collector.tags) <= PAGE_TAGS, collector.tags
    return collector


@FUZZ
@given(hostile_text, st.lists(index_files, max_size=4))
@example('x"><script>', [])
def test_project_html_is_escaped(name: str, files: list[IndexFile]) -> None:
    page = read_page(render_project_html(name, files))
    assert len(page.anchors) == len(files)
    for attrs, text, f in zip(page.anchors, page.texts, files):
        assert text == f.filename
        assert attrs["href"] == f"{f.url}#sha256={f.sha256}"
        assert attrs.get("data-requires-python") == (f.requires_python or None)
        if f.metadata_sha256:
            assert attrs["data-core-metadata"] == f"sha256={f.metadata_sha256}"
        assert attrs.get("data-yanked") == (f.yanked_reason if f.yanked else None)


@FUZZ
@given(st.lists(hostile_text.filter(bool), max_size=5, unique=True))
def test_projects_html_is_escaped(names: list[str]) -> None:
    page = read_page(render_projects_html(names))
    assert page.texts == sorted(names)
    assert [a["href"] for a in page.anchors] == [f"{n}/" for n in sorted(names)]


@FUZZ
@given(hostile_text, st.lists(index_files, max_size=4))
def test_project_json_reads_back_equal(name: str, files: list[IndexFile]) -> None:
    raw = render_project_json(name, files)
    raw.decode("ascii")  # json.dumps escapes everything non-ASCII
    data = json.loads(raw)
    assert data["name"] == name
    assert [f["filename"] for f in data["files"]] == [f.filename for f in files]
    for item, f in zip(data["files"], files):
        assert item["url"] == f.url
        assert item["hashes"] == {"sha256": f.sha256}
        assert item["size"] == f.size
        assert item["requires-python"] == f.requires_python


@FUZZ
@given(st.lists(package_documents(), max_size=3, unique_by=lambda d: d.name))
def test_render_index_from_valid_documents(docs: list[Any]) -> None:
    pages = render_index({doc.name: (doc, None) for doc in docs})
    for doc in docs:
        page = read_page(pages[f"simple/{doc.name}/index.html"])
        wanted = sorted(w.filename for e in doc.versions.values() for w in e.wheels)
        assert sorted(page.texts) == wanted
        data = json.loads(pages[f"simple/{doc.name}/index.json"])
        assert sorted(f["filename"] for f in data["files"]) == wanted


# -- the upstream page parser -----------------------------------------------------------

SOURCE = "https://pypi.org/simple/demo/"
hostile_filenames = st.sampled_from(
    [
        "demo-1.0.tar.gz",
        "../../../tmp/demo-1.0.tar.gz",
        "/tmp/demo-1.0.tar.gz",
        "..\\..\\demo-1.0.tar.gz",
        "demo-1.0.tar.gz\x00.txt",
        "demo-1.0.tar.gz\n",
        "sub/demo-1.0-py3-none-any.whl",
        ".demo-1.0.tar.gz",
    ]
) | st.text(max_size=30)
hostile_urls = st.sampled_from(
    [
        "https://files.pythonhosted.org/packages/demo-1.0.tar.gz",
        "../../packages/demo-1.0.tar.gz",
        "http://evil.example/demo-1.0.tar.gz",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://[x/",
        "//evil.example/x",
    ]
) | st.text(max_size=30)
json_scalar = st.none() | st.booleans() | st.integers() | st.text(max_size=10)


@st.composite
def pypi_pages(draw: st.DrawFn) -> bytes:
    files = []
    for _ in range(draw(st.integers(0, 4))):
        entry: dict[str, Any] = {
            "filename": draw(hostile_filenames | json_scalar),
            "url": draw(hostile_urls | json_scalar),
            "hashes": draw(
                st.just({"sha256": "a" * 64})
                | st.dictionaries(st.text(max_size=8), json_scalar, max_size=2)
                | json_scalar
            ),
        }
        for key in ("size", "yanked", "requires-python", "upload-time", "core-metadata"):
            if draw(st.booleans()):
                entry[key] = draw(json_scalar | st.just({"sha256": "b" * 64}))
        files.append(entry)
    page: Any = {"meta": {"api-version": "1.1"}, "name": "demo", "files": files}
    return json.dumps(draw(st.just(page) | json_scalar)).encode()


@FUZZ
@given(pypi_pages() | st.binary(max_size=100))
@example(
    json.dumps(
        {
            "files": [
                {
                    "filename": "../../../tmp/demo-1.0.tar.gz",
                    "url": "https://files.pythonhosted.org/x",
                    "hashes": {"sha256": "a" * 64},
                }
            ]
        }
    ).encode()
)
def test_upstream_page_never_yields_unsafe_files(data: bytes) -> None:
    try:
        project = parse_simple_json(data, name="demo", source=SOURCE)
    except FetchError as e:
        error = str(e)
        assert "\n" not in error
        return
    assert project.name == canonicalize_name("demo")
    for f in project.files:
        assert filename_violation(f.filename) is None, f.filename
        assert url_violation(f.url) is None, f.url
        assert f.url.lower().startswith(("https:", "http:")), f.url
