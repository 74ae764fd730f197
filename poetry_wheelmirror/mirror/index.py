"""The static simple index (pure): the pages a mirror directory carries, from manifest data.

Rendering is simple_index's (the routing index renders with the same functions, so a
project page is byte-identical whichever serves it).

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

import posixpath
from collections.abc import Iterable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Final

from poetry_wheelmirror.simple_index import IndexFile
from poetry_wheelmirror.simple_index import ProjectPage
from poetry_wheelmirror.simple_index import document_files
from poetry_wheelmirror.simple_index import file_version
from poetry_wheelmirror.simple_index import merge_files
from poetry_wheelmirror.simple_index import render_project_html as _render_html
from poetry_wheelmirror.simple_index import render_project_json as _render_json
from poetry_wheelmirror.simple_index import render_root_html
from poetry_wheelmirror.simple_index import render_root_json

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.manifest import WheelFile
    from poetry_wheelmirror.mirror.pypi import UpstreamProject

__all__ = [
    "API_VERSION",
    "IndexFile",
    "page_relative",
    "project_files",
    "render_index",
    "render_project_html",
    "render_project_json",
    "render_projects_html",
    "render_projects_json",
]

#: PEP 691 api-version of the static pages: 1.1 (``size`` and ``versions``, PEP 700),
#: since every file a mirror lists has a known size.
API_VERSION: Final = "1.1"


def page_relative(doc_relative_url: str) -> str:
    """A package-document URL (relative to packages/<name>.json) made relative to
    simple/<name>/, or kept as is when absolute."""
    if "://" in doc_relative_url or doc_relative_url.startswith(("file:", "/")):
        return doc_relative_url
    target = posixpath.normpath(posixpath.join("packages", doc_relative_url))
    return "../../" + target


def _wheel_url(wheel: WheelFile) -> str:
    return page_relative(wheel.url)


def project_files(
    name: NormalizedName, doc: PackageDocument | None, upstream: UpstreamProject | None
) -> list[IndexFile]:
    """The mirror's wheels (by version, then filename), then PyPI's files (PyPI's order);
    an upstream file whose name the mirror also lists is left out (filenames are unique)."""
    mirror = document_files(doc, _wheel_url) if doc is not None else []
    pypi = [
        IndexFile(
            filename=f.filename,
            url=f.url,
            sha256=f.sha256,
            size=f.size,
            version=file_version(f.filename),
            requires_python=f.requires_python,
            yanked=f.yanked,
            yanked_reason=f.yanked_reason,
            metadata_sha256=f.core_metadata_sha256,
            upload_time=f.upload_time,
        )
        for f in (upstream.files if upstream is not None else ())
    ]
    return list(merge_files(mirror, pypi))


def render_project_html(name: str, files: Iterable[IndexFile]) -> bytes:
    """A PEP 503 project page (simple_index's renderer)."""
    return _render_html(ProjectPage(name=name, files=tuple(files)))


def render_project_json(name: str, files: Iterable[IndexFile]) -> bytes:
    """A PEP 691 project page (simple_index's renderer)."""
    return _render_json(ProjectPage(name=name, files=tuple(files)))


def render_projects_html(names: Iterable[str]) -> bytes:
    """The PEP 503 root page listing every project."""
    return render_root_html(names)


def render_projects_json(names: Iterable[str]) -> bytes:
    """The PEP 691 root page."""
    return render_root_json(names)


def render_index(
    packages: Mapping[NormalizedName, tuple[PackageDocument | None, UpstreamProject | None]],
) -> dict[str, bytes]:
    """Every index page, by path relative to the mirror base (``simple/...``)."""
    pages: dict[str, bytes] = {
        "simple/index.html": render_root_html(packages),
        "simple/index.json": render_root_json(packages),
    }
    for name, (doc, upstream) in packages.items():
        files = project_files(name, doc, upstream)
        pages[f"simple/{name}/index.html"] = render_project_html(name, files)
        pages[f"simple/{name}/index.json"] = render_project_json(name, files)
    return pages
