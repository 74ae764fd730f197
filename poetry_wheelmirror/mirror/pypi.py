"""PyPI's simple JSON API (PEP 691) on top of CachedClient, and the upstream snapshot.

The planner and the builder read each project's file list from
``https://pypi.org/simple/<name>/`` with ``Accept: application/vnd.pypi.simple.v1+json``
(PyPI's per-version JSON API is not used: it is unreachable in some networks and the
simple API carries everything needed: filename, url, sha256, size, requires-python,
yanked, core-metadata). The same data, reduced to those fields, is stored in a mirror as
``upstream/<name>.json`` so the static index can list PyPI's files offline.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from packaging.utils import InvalidSdistFilename
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.utils import parse_sdist_filename
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror.errors import FetchError
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
        return _file_version(self.filename)


@functools.lru_cache(maxsize=65536)
def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


@functools.lru_cache(maxsize=65536)
def _file_version(filename: str) -> Version | None:
    # Planning hundreds of projects parses each name once; a wheel's version is its
    # second dash-separated field (the wheel spec escapes dashes inside fields).
    try:
        if filename.endswith(".whl"):
            parts = filename.split("-")
            return _version(parts[1]) if len(parts) in (5, 6) else None
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[1]
    except (InvalidSdistFilename, InvalidVersion):
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

    def by_version(self) -> dict[Version, list[UpstreamFile]]:
        """Wheels and sdists grouped by parsed version (other files are left out)."""
        grouped: dict[Version, list[UpstreamFile]] = {}
        for item in self.files:
            version = item.version()
            if version is not None:
                grouped.setdefault(version, []).append(item)
        return grouped

    def sdist_for(self, version: str) -> UpstreamFile | None:
        """The (non-yanked) sdist of *version*, ``.tar.gz`` preferred over ``.zip``."""
        wanted = Version(version)
        return pick_sdist(f for f in self.files if f.is_sdist and f.version() == wanted)

    def filenames(self) -> frozenset[str]:
        return frozenset(f.filename for f in self.files)


def _metadata_hash(entry: Mapping[str, Any]) -> str | None:
    # PEP 714 renamed data-dist-info-metadata to core-metadata; read either.
    for key in ("core-metadata", "data-dist-info-metadata", "dist-info-metadata"):
        value = entry.get(key)
        if isinstance(value, dict) and isinstance(value.get("sha256"), str):
            return str(value["sha256"])
    return None


def _parse_file(entry: object, source: str) -> UpstreamFile | None:
    if not isinstance(entry, dict):
        msg = f"{source}: files: expected objects"
        raise FetchError(msg)
    hashes = entry.get("hashes")
    sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
    filename, url, size = entry.get("filename"), entry.get("url"), entry.get("size")
    if not isinstance(filename, str) or not isinstance(url, str):
        msg = f"{source}: a file entry lacks filename or url"
        raise FetchError(msg)
    if not isinstance(sha256, str):
        return None  # unverifiable: never offered onwards
    yanked = entry.get("yanked", False)
    requires_python = entry.get("requires-python")
    upload_time = entry.get("upload-time")
    return UpstreamFile(
        filename=filename,
        url=url,
        sha256=sha256,
        size=size if isinstance(size, int) and not isinstance(size, bool) else 0,
        requires_python=requires_python if isinstance(requires_python, str) else None,
        yanked=bool(yanked),
        yanked_reason=yanked if isinstance(yanked, str) else "",
        upload_time=upload_time if isinstance(upload_time, str) else None,
        core_metadata_sha256=_metadata_hash(entry),
    )


def parse_simple_json(data: bytes, *, name: str, source: str) -> UpstreamProject:
    """Parse a PEP 691 project page (pure); relative URLs are resolved against *source*."""
    from poetry_wheelmirror.urls import join_url

    try:
        page = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        msg = f"{source}: not a PEP 691 JSON page"
        raise FetchError(msg) from None
    if not isinstance(page, dict) or not isinstance(page.get("files"), list):
        msg = f"{source}: not a PEP 691 JSON page (no files list)"
        raise FetchError(msg)
    from poetry_wheelmirror.names import filename_problem
    from poetry_wheelmirror.urls import url_scheme_problem

    files = []
    for entry in page["files"]:
        parsed = _parse_file(entry, source)
        if parsed is not None:
            if "://" not in parsed.url:
                parsed = UpstreamFile(**{**parsed.__dict__, "url": join_url(source, parsed.url)})
            # The builder saves an sdist under its upstream filename, and the index links
            # the URL onwards: a name like "/tmp/x-1.0.tar.gz" or "../x-1.0.tar.gz" must
            # not choose where a file is written, nor a remote page point at file: URLs.
            if filename_problem(parsed.filename) or url_scheme_problem(parsed.url):
                continue
            if parsed.url.lower().startswith("file:") and not source.lower().startswith("file:"):
                continue
            files.append(parsed)
    return UpstreamProject(name=canonicalize_name(name), files=tuple(files), source_url=source)


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


def parse_upstream_snapshot(data: bytes, *, source: str) -> UpstreamProject:
    """Read back an ``upstream/<name>.json`` snapshot; FetchError when it is damaged."""
    try:
        doc = json.loads(data)
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
        return UpstreamProject(
            name=canonicalize_name(str(doc["name"])),
            files=files,
            source_url=str(doc.get("source", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        msg = f"{source}: not an upstream snapshot ({type(e).__name__})"
        raise FetchError(msg) from None
