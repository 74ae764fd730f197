"""Simple-index pages (pure): parse upstream pages, merge mirror wheels in, render PEP 503/691.

A routed page lists the mirror's wheels first, then every upstream file whose filename
the mirror does not carry (the mirror never publishes a filename the upstream has, so
this only drops exact duplicates). Rendering is deterministic, so equal inputs give
byte-identical pages and the same ETag.
"""

from __future__ import annotations

import html
import html.parser
import json
import urllib.parse
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

from packaging.utils import InvalidSdistFilename
from packaging.utils import InvalidWheelFilename
from packaging.utils import parse_sdist_filename
from packaging.utils import parse_wheel_filename

from poetry_wheelmirror.errors import FetchError

__all__ = [
    "JSON_TYPE",
    "IndexFile",
    "ProjectPage",
    "merge_files",
    "parse_project_page",
    "render_html",
    "render_json",
    "render_root_html",
    "render_root_json",
]

JSON_TYPE: Final = "application/vnd.pypi.simple.v1+json"
#: api-version of the pages rendered here: 1.1 (PEP 700) when every file has a size,
#: else 1.0, which does not require it (PEP 503 HTML upstreams carry no sizes).
_API_WITH_SIZE: Final = "1.1"
_API_BASE: Final = "1.0"


@dataclass(frozen=True)
class IndexFile:
    """One file on a project page, in the vocabulary shared by PEP 503 and PEP 691."""

    filename: str
    url: str
    hashes: tuple[tuple[str, str], ...] = ()
    requires_python: str | None = None
    #: False, True (no reason) or the reason text (PEP 592).
    yanked: bool | str = False
    #: PEP 658/714: False, True (available, hash unknown) or hashes.
    core_metadata: bool | tuple[tuple[str, str], ...] = False
    size: int | None = None
    upload_time: str | None = None

    def hash_dict(self) -> dict[str, str]:
        return dict(self.hashes)


@dataclass(frozen=True)
class ProjectPage:
    """A parsed project page."""

    name: str
    files: tuple[IndexFile, ...] = ()
    versions: tuple[str, ...] = field(default=())


def merge_files(
    mirror: Sequence[IndexFile], upstream: Iterable[IndexFile]
) -> tuple[IndexFile, ...]:
    """Mirror files first, then upstream files the mirror does not already list."""
    seen = {f.filename for f in mirror}
    return (*mirror, *(f for f in upstream if f.filename not in seen))


# -- parsing ---------------------------------------------------------------------------


def _split_fragment(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    base, _, fragment = url.partition("#")
    if "=" in fragment:
        algo, _, digest = fragment.partition("=")
        return base, ((algo.lower(), digest.lower()),)
    return base, ()


def _parse_meta_attr(value: str | None) -> bool | tuple[tuple[str, str], ...]:
    if value is None or value.lower() == "false":
        return False
    if "=" in value:
        algo, _, digest = value.partition("=")
        return ((algo.lower(), digest.lower()),)
    return True


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
        url, hashes = _split_fragment(urllib.parse.urljoin(self.page_url, href))
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1]) or "".join(self._text).strip()
        yanked: bool | str = False
        if "data-yanked" in attrs:
            yanked = attrs["data-yanked"] or True
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        self.files.append(
            IndexFile(
                filename=filename,
                url=url,
                hashes=hashes,
                requires_python=attrs.get("data-requires-python") or None,
                yanked=yanked,
                core_metadata=_parse_meta_attr(metadata),
            )
        )


def _json_file(item: dict[str, Any], page_url: str) -> IndexFile:
    hashes = item.get("hashes") or {}
    yanked = item.get("yanked", False)
    metadata = item.get("core-metadata", item.get("dist-info-metadata", False))
    core: bool | tuple[tuple[str, str], ...]
    if isinstance(metadata, dict):
        core = tuple(sorted((str(k), str(v)) for k, v in metadata.items())) or True
    else:
        core = bool(metadata)
    size = item.get("size")
    return IndexFile(
        filename=str(item["filename"]),
        url=urllib.parse.urljoin(page_url, str(item["url"])),
        hashes=tuple(sorted((str(k), str(v)) for k, v in hashes.items())),
        requires_python=item.get("requires-python") or None,
        yanked=yanked if isinstance(yanked, (bool, str)) else bool(yanked),
        core_metadata=core,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        upload_time=item.get("upload-time") or None,
    )


def parse_project_page(body: bytes, page_url: str, name: str) -> ProjectPage:
    """Parse a PEP 691 JSON or PEP 503 HTML project page (sniffed: JSON starts with ``{``).

    Relative file URLs are made absolute against *page_url*, so the files keep pointing
    at the upstream wherever the page is served from.
    """
    text = body.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            files = tuple(_json_file(item, page_url) for item in data.get("files", []))
            versions = tuple(str(v) for v in data.get("versions", ()))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            msg = f"{page_url}: not a PEP 691 project page ({type(e).__name__})"
            raise FetchError(msg) from None
        return ProjectPage(name=name, files=files, versions=versions)
    parser = _LinkParser(page_url)
    parser.feed(text)
    parser.close()
    return ProjectPage(name=name, files=tuple(parser.files))


# -- rendering -------------------------------------------------------------------------


def _version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def _versions(page: ProjectPage) -> list[str]:
    from packaging.version import InvalidVersion
    from packaging.version import Version

    found = set(page.versions)
    for f in page.files:
        version = _version_of(f.filename)
        if version is not None:
            found.add(version)

    def key(v: str) -> tuple[int, Version | str]:
        try:
            return (1, Version(v))
        except InvalidVersion:
            return (0, v)

    return sorted(found, key=key)


def render_json(page: ProjectPage) -> bytes:
    """PEP 691 JSON for *page* (api-version 1.1 when every size is known)."""
    all_sized = all(f.size is not None for f in page.files)
    files = []
    for f in page.files:
        item: dict[str, Any] = {"filename": f.filename, "url": f.url, "hashes": f.hash_dict()}
        if f.requires_python:
            item["requires-python"] = f.requires_python
        if f.yanked:
            item["yanked"] = f.yanked
        if f.core_metadata:
            core = f.core_metadata if isinstance(f.core_metadata, bool) else dict(f.core_metadata)
            item["core-metadata"] = core
            item["dist-info-metadata"] = core  # the PEP 658 spelling older clients read
        if f.size is not None:
            item["size"] = f.size
        if f.upload_time:
            item["upload-time"] = f.upload_time
        files.append(item)
    data: dict[str, Any] = {
        "meta": {"api-version": _API_WITH_SIZE if all_sized else _API_BASE},
        "name": page.name,
        "files": files,
    }
    if all_sized:
        data["versions"] = _versions(page)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode()


def _meta_attr(value: bool | tuple[tuple[str, str], ...]) -> str:
    if value is True:
        return "true"
    assert not isinstance(value, bool)
    algo, digest = value[0]
    return f"{algo}={digest}"


def render_html(page: ProjectPage) -> bytes:
    """PEP 503 HTML for *page*, with PEP 592/629/658/714 attributes."""
    esc = html.escape
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        '    <meta name="pypi:repository-version" content="1.0">',
        f"    <title>Links for {esc(page.name)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>Links for {esc(page.name)}</h1>",
    ]
    for f in page.files:
        href = f.url
        if f.hashes:
            algo, digest = next(((a, d) for a, d in f.hashes if a == "sha256"), f.hashes[0])
            href = f"{href}#{algo}={digest}"
        attrs = [f'href="{esc(href)}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{esc(f.requires_python)}"')
        if f.yanked:
            reason = "" if f.yanked is True else str(f.yanked)
            attrs.append(f'data-yanked="{esc(reason)}"')
        if f.core_metadata:
            value = esc(_meta_attr(f.core_metadata))
            attrs.append(f'data-dist-info-metadata="{value}"')
            attrs.append(f'data-core-metadata="{value}"')
        lines.append(f"    <a {' '.join(attrs)}>{esc(f.filename)}</a><br>")
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode()


def render_root_html(names: Iterable[str]) -> bytes:
    """The PEP 503 root page listing *names* (already normalised)."""
    links = "".join(f'    <a href="{html.escape(n)}/">{html.escape(n)}</a><br>\n' for n in names)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.0">\n'
        "    <title>Simple index</title>\n  </head>\n  <body>\n"
        f"{links}  </body>\n</html>\n"
    ).encode()


def render_root_json(names: Iterable[str]) -> bytes:
    """The PEP 691 root page listing *names*."""
    data = {"meta": {"api-version": _API_BASE}, "projects": [{"name": n} for n in names]}
    return json.dumps(data, separators=(",", ":")).encode()
