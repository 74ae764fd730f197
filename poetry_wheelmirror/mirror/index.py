"""The static simple index (pure): PEP 503 HTML and PEP 691 JSON pages from manifest data.

Each project page lists the mirror's wheels first, then PyPI's own files for the project
(absolute URLs with sha256, from the mirror's ``upstream/<name>.json`` snapshot), so a
client pinned to the mirror for that project still resolves on platforms the mirror has
not built for. Pages follow docs/layout.md::

    simple/index.html  simple/index.json
    simple/<name>/index.html  simple/<name>/index.json

Mirror wheel URLs in package documents are relative to ``packages/<name>.json``; on the
pages they become relative to ``simple/<name>/``, so the tree works from any base URL.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from packaging.utils import InvalidSdistFilename
from packaging.utils import NormalizedName
from packaging.utils import parse_sdist_filename
from packaging.version import InvalidVersion
from packaging.version import Version

if TYPE_CHECKING:
    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.mirror.pypi import UpstreamProject

__all__ = [
    "API_VERSION",
    "IndexFile",
    "project_files",
    "render_index",
    "render_project_html",
    "render_project_json",
    "render_projects_html",
    "render_projects_json",
]

#: PEP 691 api-version: 1.1 adds the required ``size`` and the ``versions`` list (PEP 700).
API_VERSION: Final = "1.1"


@dataclass(frozen=True)
class IndexFile:
    """One link on a project page; *url* is absolute or relative to the page."""

    filename: str
    url: str
    sha256: str
    size: int
    version: str
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str = ""
    metadata_sha256: str | None = None
    upload_time: str | None = None


def _page_relative(doc_relative_url: str, name: str) -> str:
    """A package-document URL (relative to packages/<name>.json) made relative to
    simple/<name>/, or kept as is when absolute."""
    if "://" in doc_relative_url or doc_relative_url.startswith(("file:", "/")):
        return doc_relative_url
    target = posixpath.normpath(posixpath.join("packages", doc_relative_url))
    return "../../" + target


def _file_version(filename: str) -> str:
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else ""
    try:
        return str(parse_sdist_filename(filename)[1])
    except (InvalidSdistFilename, InvalidVersion):
        return ""


def project_files(
    name: NormalizedName, doc: PackageDocument | None, upstream: UpstreamProject | None
) -> list[IndexFile]:
    """The mirror's wheels (by version, then filename), then PyPI's files (PyPI's order);
    an upstream file whose name the mirror also lists is left out (filenames are unique)."""
    files: list[IndexFile] = []
    seen: set[str] = set()
    if doc is not None:
        for key in sorted(doc.versions, key=Version):
            for w in sorted(doc.versions[key].wheels, key=lambda w: w.filename):
                seen.add(w.filename)
                files.append(
                    IndexFile(
                        filename=w.filename,
                        url=_page_relative(w.url, name),
                        sha256=w.sha256,
                        size=w.size,
                        version=key,
                        requires_python=w.requires_python,
                        yanked=w.yanked,
                        yanked_reason=w.yanked_reason,
                        metadata_sha256=w.metadata_sha256,
                    )
                )
    if upstream is not None:
        for f in upstream.files:
            if f.filename in seen:
                continue
            files.append(
                IndexFile(
                    filename=f.filename,
                    url=f.url,
                    sha256=f.sha256,
                    size=f.size,
                    version=_file_version(f.filename),
                    requires_python=f.requires_python,
                    yanked=f.yanked,
                    yanked_reason=f.yanked_reason,
                    metadata_sha256=f.core_metadata_sha256,
                    upload_time=f.upload_time,
                )
            )
    return files


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


def render_project_html(name: str, files: Iterable[IndexFile]) -> bytes:
    """A PEP 503 project page (with PEP 592, 629 and 658/714 attributes)."""
    title = escape(f"Links for {name}")
    out = [_HEAD.format(api=API_VERSION, title=title)]
    for f in files:
        attrs = f' href="{escape(f.url)}#sha256={escape(f.sha256)}"'
        if f.requires_python:
            attrs += f' data-requires-python="{escape(f.requires_python)}"'
        if f.metadata_sha256:
            value = f"sha256={escape(f.metadata_sha256)}"
            attrs += f' data-dist-info-metadata="{value}" data-core-metadata="{value}"'
        if f.yanked:
            attrs += f' data-yanked="{escape(f.yanked_reason)}"'
        out.append(f"<a{attrs}>{escape(f.filename)}</a><br>\n")
    out.append(_TAIL)
    return "".join(out).encode()


def _file_json(f: IndexFile) -> dict[str, Any]:
    item: dict[str, Any] = {
        "filename": f.filename,
        "url": f.url,
        "hashes": {"sha256": f.sha256},
        "size": f.size,
        "requires-python": f.requires_python,
        "yanked": (f.yanked_reason or True) if f.yanked else False,
    }
    if f.metadata_sha256:
        item["core-metadata"] = {"sha256": f.metadata_sha256}
        item["data-dist-info-metadata"] = {"sha256": f.metadata_sha256}
    if f.upload_time:
        item["upload-time"] = f.upload_time
    return item


def _dump(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode()


def render_project_json(name: str, files: Iterable[IndexFile]) -> bytes:
    """A PEP 691 project page (api-version 1.1: ``size`` and ``versions``)."""
    files = list(files)
    return _dump(
        {
            "meta": {"api-version": API_VERSION},
            "name": name,
            "files": [_file_json(f) for f in files],
            "versions": _versions(files),
        }
    )


def render_projects_html(names: Iterable[str]) -> bytes:
    """The PEP 503 root page listing every project."""
    out = [_HEAD.format(api=API_VERSION, title="Simple index")]
    for name in sorted(names):
        out.append(f'<a href="{escape(name)}/">{escape(name)}</a><br>\n')
    out.append(_TAIL)
    return "".join(out).encode()


def render_projects_json(names: Iterable[str]) -> bytes:
    """The PEP 691 root page."""
    return _dump(
        {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in sorted(names)]}
    )


def render_index(
    packages: Mapping[NormalizedName, tuple[PackageDocument | None, UpstreamProject | None]],
) -> dict[str, bytes]:
    """Every index page, by path relative to the mirror base (``simple/...``)."""
    pages: dict[str, bytes] = {
        "simple/index.html": render_projects_html(packages),
        "simple/index.json": render_projects_json(packages),
    }
    for name, (doc, upstream) in packages.items():
        files = project_files(name, doc, upstream)
        pages[f"simple/{name}/index.html"] = render_project_html(name, files)
        pages[f"simple/{name}/index.json"] = render_project_json(name, files)
    return pages
