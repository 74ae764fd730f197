"""The simple index (pure): one file type, one PEP 503/691 parser, one renderer pair.

Used by the static index (``mirror/index.py``: pages written into a mirror), the routing
index (``serve/``: pages merged with the upstream's at request time) and the PyPI reader
(``mirror/pypi.py``: the planner's and builder's view of PyPI). So the three agree on
what a page may contain and render the same project page byte for byte.

One set of safety rules for every file read from a page (``file_problem``): a safe
filename (no path separators, ASCII, at most 255 characters and 256 expanded wheel tags),
a sha256 (unverifiable files are never offered onwards), a URL the client may fetch from
where the page came from (https, http on loopback only, ``file:`` only from a local
page; never ``javascript:``), and no control characters in the text a page or terminal
shows. A file breaking a rule is left out; a page that is not a page is a FetchError.

A page lists the mirror's wheels first, then every upstream file whose filename the
mirror does not carry. Rendering is deterministic: equal inputs give byte-identical
pages (and the same ETag). Pages say api-version 1.1 (PEP 700: ``size`` and
``versions``) when every file's size is known, else 1.0 (PEP 503 HTML upstreams carry no
sizes).
"""

from __future__ import annotations

import html
import html.parser
import json
import re
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.jsonload import MAX_INT
from poetry_wheelmirror.jsonload import JsonDocumentError
from poetry_wheelmirror.jsonload import load_json
from poetry_wheelmirror.names import filename_problem
from poetry_wheelmirror.names import filename_version
from poetry_wheelmirror.names import wheel_filename_problem
from poetry_wheelmirror.urls import link_problem

if TYPE_CHECKING:
    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.manifest import WheelFile

__all__ = [
    "JSON_TYPE",
    "IndexFile",
    "ProjectPage",
    "document_files",
    "file_problem",
    "merge_files",
    "parse_project_page",
    "render_project_html",
    "render_project_json",
    "render_root_html",
    "render_root_json",
]

JSON_TYPE: Final = "application/vnd.pypi.simple.v1+json"
_API_WITH_SIZE: Final = "1.1"
_API_BASE: Final = "1.0"
#: C0/C1 control characters: shown on a page or a terminal they could rewrite it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class IndexFile:
    """One file on a project page; *url* is absolute or relative to the page."""

    filename: str
    url: str
    sha256: str
    size: int | None = None
    #: The version the file belongs to ("" when its name says none): ``versions`` list.
    version: str = ""
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str = ""
    #: sha256 of the PEP 658 metadata file served at ``url + ".metadata"``, if any.
    metadata_sha256: str | None = None
    upload_time: str | None = None


@dataclass(frozen=True)
class ProjectPage:
    """A project page: its normalised name and its files, in page order."""

    name: str
    files: tuple[IndexFile, ...] = ()


def file_version(filename: str) -> str:
    """The normalised version in *filename*, "" when it has none (the one rule for the
    ``versions`` list, shared by every page)."""
    version = filename_version(filename)
    return "" if version is None else str(version)


def merge_files(
    mirror: Sequence[IndexFile], upstream: Iterable[IndexFile]
) -> tuple[IndexFile, ...]:
    """Mirror files first, then upstream files the mirror does not already list."""
    seen = {f.filename for f in mirror}
    return (*mirror, *(f for f in upstream if f.filename not in seen))


def document_files(
    doc: PackageDocument,
    url_for: Callable[[WheelFile], str],
    metadata_available: Callable[[WheelFile], bool] | None = None,
) -> list[IndexFile]:
    """A package document's wheels as page files (by version, then filename).

    *url_for* gives each wheel's URL as the page should carry it; *metadata_available*,
    when given, says whether its PEP 658 metadata file can be fetched (only then is it
    advertised)."""
    files: list[IndexFile] = []
    for key in sorted(doc.versions, key=Version):
        for w in sorted(doc.versions[key].wheels, key=lambda w: w.filename):
            metadata = w.metadata_sha256
            if metadata and metadata_available is not None and not metadata_available(w):
                metadata = None
            files.append(
                IndexFile(
                    filename=w.filename,
                    url=url_for(w),
                    sha256=w.sha256,
                    size=w.size,
                    version=file_version(w.filename),
                    requires_python=w.requires_python,
                    yanked=w.yanked,
                    yanked_reason=w.yanked_reason,
                    metadata_sha256=metadata,
                )
            )
    return files


# -- the one safety rule -----------------------------------------------------------------


def file_problem(f: IndexFile, page_url: str) -> str | None:
    """Why *f*, read from the page at *page_url*, may not be offered onwards, or None."""
    problem = filename_problem(f.filename) or wheel_filename_problem(f.filename)
    if problem:
        return problem
    if not f.sha256:
        return f"{f.filename}: no sha256 (unverifiable)"
    return link_problem(page_url, f.url)


def _text(value: object) -> str | None:
    """A text field from a page: strings only, control characters replaced."""
    if not isinstance(value, str):
        return None
    return _CONTROL.sub("\ufffd", value)


def _absolute(page_url: str, url: str) -> str:
    # Most links are already absolute https URLs: skip urljoin's parsing for them.
    return url if url.startswith("https://") else urllib.parse.urljoin(page_url, url)


# -- parsing -----------------------------------------------------------------------------


def _sha256_from(pairs: Iterable[tuple[str, str]]) -> str:
    for algo, digest in pairs:
        if algo.lower() == "sha256":
            return digest.lower()
    return ""


class _LinkParser(html.parser.HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.files: list[IndexFile] = []
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                # The base moves where links resolve, never the rule they are checked by:
                # a remote page's <base href="file:///"> leads only to refused links.
                self.page_url = urllib.parse.urljoin(self.page_url, href)
        elif tag == "a":
            self._attrs = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._attrs is None:
            return
        attrs, self._attrs = self._attrs, None
        href = attrs.get("href")
        if not href:
            return
        url, _, fragment = _absolute(self.page_url, href.strip()).partition("#")
        algo, _, digest = fragment.partition("=")
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1]) or "".join(self._text).strip()
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata")) or ""
        meta_algo, _, meta_digest = metadata.partition("=")
        self.files.append(
            IndexFile(
                filename=filename,
                url=url,
                sha256=_sha256_from([(algo, digest)]),
                version=file_version(filename),
                requires_python=_text(attrs.get("data-requires-python")) or None,
                yanked="data-yanked" in attrs,
                yanked_reason=_text(attrs.get("data-yanked")) or "",
                metadata_sha256=_sha256_from([(meta_algo, meta_digest)]) or None,
            )
        )


def _json_file(item: object, page_url: str) -> IndexFile | None:
    if not isinstance(item, dict):
        return None
    filename, url, hashes = item.get("filename"), item.get("url"), item.get("hashes")
    if not isinstance(filename, str) or not isinstance(url, str) or not isinstance(hashes, dict):
        return None
    sha256 = hashes.get("sha256")
    metadata: object = None
    # PEP 714 renamed dist-info-metadata to core-metadata; PyPI also sends a data- form.
    for key in ("core-metadata", "dist-info-metadata", "data-dist-info-metadata"):
        if key in item:
            metadata = item[key]
            break
    meta_sha = metadata.get("sha256") if isinstance(metadata, dict) else None
    yanked = item.get("yanked", False)
    size = item.get("size")
    return IndexFile(
        filename=filename,
        url=_absolute(page_url, url),
        sha256=sha256.lower() if isinstance(sha256, str) else "",
        version=file_version(filename),
        size=size if type(size) is int and 0 <= size <= MAX_INT else None,
        requires_python=_text(item.get("requires-python")) or None,
        yanked=bool(yanked),
        yanked_reason=_text(yanked) or "",
        metadata_sha256=meta_sha.lower() if isinstance(meta_sha, str) and meta_sha else None,
        upload_time=_text(item.get("upload-time")) or None,
    )


def parse_project_page(body: bytes, page_url: str, name: str) -> ProjectPage:
    """Parse a PEP 691 JSON or PEP 503 HTML project page (JSON starts with ``{``).

    Relative URLs are made absolute against *page_url*, so the files keep pointing at
    their origin wherever the page is served from; files breaking ``file_problem`` are
    left out. FetchError (one line) when *body* is not a project page.
    """
    if body.lstrip()[:1] == b"{":
        try:
            data = load_json(body)
        except JsonDocumentError as e:
            msg = f"{page_url}: not a PEP 691 JSON page ({e})"
            raise FetchError(msg) from None
        if not isinstance(data, dict) or not isinstance(data.get("files"), list):
            msg = f"{page_url}: not a PEP 691 JSON page (no files list)"
            raise FetchError(msg)
        parsed = [f for f in (_json_file(item, page_url) for item in data["files"]) if f]
    else:
        parser = _LinkParser(page_url)
        try:
            parser.feed(body.decode("utf-8", errors="replace"))
            parser.close()
        except (AssertionError, ValueError, RecursionError):  # html.parser on garbage
            msg = f"{page_url}: not a PEP 503 HTML page"
            raise FetchError(msg) from None
        parsed = parser.files
    return ProjectPage(name=name, files=tuple(f for f in parsed if not file_problem(f, page_url)))


# -- rendering ---------------------------------------------------------------------------


def _api_version(files: Sequence[IndexFile]) -> str:
    return _API_WITH_SIZE if all(f.size is not None for f in files) else _API_BASE


def _versions(files: Iterable[IndexFile]) -> list[str]:
    found: dict[str, Version] = {}
    for f in files:
        if f.version and f.version not in found:
            try:
                found[f.version] = Version(f.version)
            except InvalidVersion:
                continue
    return sorted(found, key=found.__getitem__)


_HEAD = (
    '<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" content="{api}">\n'
    "<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
)
_TAIL = "</body>\n</html>\n"


def render_project_html(page: ProjectPage) -> bytes:
    """A PEP 503 project page (with PEP 592, 629 and 658/714 attributes)."""
    esc = html.escape
    title = esc(f"Links for {page.name}")
    out = [_HEAD.format(api=_api_version(page.files), title=title)]
    for f in page.files:
        attrs = f' href="{esc(f.url)}#sha256={esc(f.sha256)}"'
        if f.requires_python:
            attrs += f' data-requires-python="{esc(f.requires_python)}"'
        if f.metadata_sha256:
            value = f"sha256={esc(f.metadata_sha256)}"
            attrs += f' data-dist-info-metadata="{value}" data-core-metadata="{value}"'
        if f.yanked:
            attrs += f' data-yanked="{esc(f.yanked_reason)}"'
        out.append(f"<a{attrs}>{esc(f.filename)}</a><br>\n")
    out.append(_TAIL)
    # A lone surrogate (only reachable by a caller bypassing the parsers, which refuse
    # or replace them) must not turn a page render into a crash: backslash-escape it.
    return "".join(out).encode("utf-8", errors="backslashreplace")


def _file_json(f: IndexFile) -> dict[str, Any]:
    item: dict[str, Any] = {
        "filename": f.filename,
        "url": f.url,
        "hashes": {"sha256": f.sha256},
        "requires-python": f.requires_python,
        "yanked": (f.yanked_reason or True) if f.yanked else False,
    }
    if f.size is not None:
        item["size"] = f.size
    if f.metadata_sha256:
        core = {"sha256": f.metadata_sha256}
        item["core-metadata"] = core
        item["dist-info-metadata"] = core  # the PEP 658 spelling older clients read
    if f.upload_time:
        item["upload-time"] = f.upload_time
    return item


def _dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode()


def render_project_json(page: ProjectPage) -> bytes:
    """A PEP 691 project page (api-version 1.1 with ``versions`` when sizes are known)."""
    api = _api_version(page.files)
    data: dict[str, Any] = {
        "meta": {"api-version": api},
        "name": page.name,
        "files": [_file_json(f) for f in page.files],
    }
    if api == _API_WITH_SIZE:
        data["versions"] = _versions(page.files)
    return _dump(data)


def render_root_html(names: Iterable[str]) -> bytes:
    """The PEP 503 root page listing every project (sorted)."""
    out = [_HEAD.format(api=_API_WITH_SIZE, title="Simple index")]
    for name in sorted(names):
        out.append(f'<a href="{html.escape(name)}/">{html.escape(name)}</a><br>\n')
    out.append(_TAIL)
    return "".join(out).encode("utf-8", errors="backslashreplace")


def render_root_json(names: Iterable[str]) -> bytes:
    """The PEP 691 root page (sorted)."""
    projects = [{"name": n} for n in sorted(names)]
    return _dump({"meta": {"api-version": _API_WITH_SIZE}, "projects": projects})
