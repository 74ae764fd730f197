"""PyPI's simple JSON API (PEP 691) on top of CachedClient, and the upstream snapshot.

The planner and the builder read each project's file list from
``https://pypi.org/simple/<name>/`` with ``Accept: application/vnd.pypi.simple.v1+json``
(PyPI's per-version JSON API is not used: it is unreachable in some networks and the
simple API carries everything needed: filename, url, sha256, size, requires-python,
yanked, core-metadata). The same data, reduced to those fields, is stored in a mirror as
``upstream/<name>.json`` so the static index can list PyPI's files offline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from packaging.utils import InvalidSdistFilename
from packaging.utils import InvalidWheelFilename
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.utils import parse_sdist_filename
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.jsonload import JsonDocumentError
from poetry_wheelmirror.jsonload import load_json
from poetry_wheelmirror.names import filename_version
from poetry_wheelmirror.simple_index import IndexFile
from poetry_wheelmirror.simple_index import file_problem
from poetry_wheelmirror.simple_index import parse_project_page
from poetry_wheelmirror.urls import PYPI_SIMPLE

if TYPE_CHECKING:
    from poetry_wheelmirror.client import CachedClient

__all__ = [
    "PEP691_JSON",
    "UPSTREAM_SCHEMA",
    "PypiClient",
    "UpstreamFile",
    "UpstreamProject",
    "parse_simple_json",
    "parse_upstream_snapshot",
    "pick_sdist",
    "upstream_snapshot_json",
]

PEP691_JSON: Final = "application/vnd.pypi.simple.v1+json"
UPSTREAM_SCHEMA: Final = "poetry-wheelmirror/upstream"
#: PyPI's largest project pages are a few MB of JSON.
MAX_PAGE_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class UpstreamFile:
    """One file on PyPI's project page."""

    filename: str
    url: str
    sha256: str
    size: int
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str = ""
    upload_time: str | None = None
    #: sha256 of the PEP 658 metadata file PyPI serves at ``url + ".metadata"``, if any.
    core_metadata_sha256: str | None = None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def is_sdist(self) -> bool:
        return self.filename.endswith((".tar.gz", ".zip"))

    def version(self) -> Version | None:
        """The file's version from its name, or None for names packaging cannot parse."""
        return filename_version(self.filename)


def _project_of(filename: str) -> NormalizedName | None:
    """The project a wheel or sdist *filename* belongs to, normalised; None for other
    names. Wheels escape the name (its first dash-separated field); sdists older than
    PEP 625 do not (``lazy-object-proxy-1.6.0.tar.gz``): their version is after the last
    dash."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def pick_sdist(files: Iterable[UpstreamFile]) -> UpstreamFile | None:
    """The non-yanked sdist among *files* (one version's), ``.tar.gz`` before ``.zip``."""
    found = [f for f in files if f.is_sdist and not f.yanked]
    found.sort(key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename))
    return found[0] if found else None


@dataclass(frozen=True)
class UpstreamProject:
    """A project's files on PyPI (in PyPI's order)."""

    name: NormalizedName
    files: tuple[UpstreamFile, ...]
    source_url: str = ""

    def own_files(self) -> Iterable[UpstreamFile]:
        """The files that belong to this project by their names: a page for ``evilname``
        listing ``crcmod-1.7.tar.gz`` must not get crcmod built under that name."""
        return (f for f in self.files if _project_of(f.filename) == self.name)

    def by_version(self) -> dict[Version, list[UpstreamFile]]:
        """This project's wheels and sdists grouped by parsed version (other files are
        left out)."""
        grouped: dict[Version, list[UpstreamFile]] = {}
        for item in self.own_files():
            version = item.version()
            if version is not None:
                grouped.setdefault(version, []).append(item)
        return grouped

    def sdist_for(self, version: str) -> UpstreamFile | None:
        """The (non-yanked) sdist of *version* of this project, ``.tar.gz`` preferred."""
        wanted = Version(version)
        return pick_sdist(f for f in self.own_files() if f.is_sdist and f.version() == wanted)

    def filenames(self) -> frozenset[str]:
        return frozenset(f.filename for f in self.files)


def _upstream_file(f: IndexFile) -> UpstreamFile:
    return UpstreamFile(
        filename=f.filename,
        url=f.url,
        sha256=f.sha256,
        size=f.size if f.size is not None else 0,
        requires_python=f.requires_python,
        yanked=f.yanked,
        yanked_reason=f.yanked_reason,
        upload_time=f.upload_time,
        core_metadata_sha256=f.metadata_sha256,
    )


def parse_simple_json(data: bytes, *, name: str, source: str) -> UpstreamProject:
    """Parse a PEP 691 project page (pure) with simple_index's parser and safety rules:
    relative URLs are resolved against *source*; files with an unsafe name (the builder
    saves an sdist under it), no sha256 or a URL the client may not fetch from *source*
    are left out."""
    if data.lstrip()[:1] != b"{":
        msg = f"{source}: not a PEP 691 JSON page"
        raise FetchError(msg)
    page = parse_project_page(data, source, name)
    files = tuple(_upstream_file(f) for f in page.files)
    return UpstreamProject(name=canonicalize_name(name), files=files, source_url=source)


class PypiClient:
    """Project pages from a PEP 691 index (PyPI by default), cached with ETag."""

    def __init__(self, client: CachedClient, index_url: str = PYPI_SIMPLE) -> None:
        self.client = client
        self.index_url = index_url if index_url.endswith("/") else index_url + "/"

    def project_url(self, name: str) -> str:
        return f"{self.index_url}{canonicalize_name(name)}/"

    def project(self, name: str, *, revalidate: bool = False) -> UpstreamProject | None:
        """*name*'s files, or None when the index does not know the project (404)."""
        url = self.project_url(name)
        try:
            result = self.client.get(
                url, max_bytes=MAX_PAGE_BYTES, revalidate=revalidate, accept=PEP691_JSON
            )
        except FetchError as e:
            if "HTTP 404" in str(e):
                return None
            raise
        return parse_simple_json(result.body, name=name, source=url)


# -- the snapshot stored in a mirror -----------------------------------------------------


def upstream_snapshot_json(project: UpstreamProject) -> dict[str, Any]:
    """The JSON object stored as ``upstream/<name>.json`` (render with dump_document)."""
    files = []
    for f in project.files:
        item: dict[str, Any] = {
            "filename": f.filename,
            "url": f.url,
            "sha256": f.sha256,
            "size": f.size,
        }
        if f.requires_python:
            item["requires_python"] = f.requires_python
        if f.yanked:
            item["yanked"] = True
            if f.yanked_reason:
                item["yanked_reason"] = f.yanked_reason
        if f.upload_time:
            item["upload_time"] = f.upload_time
        if f.core_metadata_sha256:
            item["core_metadata_sha256"] = f.core_metadata_sha256
        files.append(item)
    return {
        "schema": UPSTREAM_SCHEMA,
        "schema_version": "1.0",
        "name": project.name,
        "source": project.source_url,
        "files": files,
    }


def _index_file(f: UpstreamFile) -> IndexFile:
    return IndexFile(filename=f.filename, url=f.url, sha256=f.sha256, size=f.size)


def parse_upstream_snapshot(data: bytes, *, source: str) -> UpstreamProject:
    """Read back an ``upstream/<name>.json`` snapshot; FetchError when it is damaged."""
    # A snapshot read from another site obeys the page rules (no file: links from a
    # remote site); *source* is a URL, or a path for one read from a local mirror.
    origin = source if ":" in source.split("/", 1)[0] else Path(source).resolve().as_uri()
    try:
        doc = load_json(data)
        if doc.get("schema") != UPSTREAM_SCHEMA:
            raise ValueError(doc.get("schema"))
        files = tuple(
            UpstreamFile(
                filename=str(f["filename"]),
                url=str(f["url"]),
                sha256=str(f["sha256"]),
                size=int(f["size"]),
                requires_python=f.get("requires_python"),
                yanked=bool(f.get("yanked", False)),
                yanked_reason=str(f.get("yanked_reason", "")),
                upload_time=f.get("upload_time"),
                core_metadata_sha256=f.get("core_metadata_sha256"),
            )
            for f in doc["files"]
        )
        files = tuple(f for f in files if not file_problem(_index_file(f), origin))
        return UpstreamProject(
            name=canonicalize_name(str(doc["name"])),
            files=files,
            source_url=str(doc.get("source", "")),
        )
    except JsonDocumentError as e:
        msg = f"{source}: not an upstream snapshot ({e})"
        raise FetchError(msg) from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        msg = f"{source}: not an upstream snapshot ({type(e).__name__})"
        raise FetchError(msg) from None
