"""One pinned version's files from PyPI's PEP 691 project page, cheaply.

A lock plan needs, per pin, only the files of the locked version, but project pages
list every release: grpcio's has 11,000 files and validating each into an UpstreamFile
takes most of a second. This reader decodes the page, keeps the entries whose filename
carries the pinned release, and validates only those with ``parse_simple_json`` (so a
page's files are checked exactly as everywhere else).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.mirror.pypi import MAX_PAGE_BYTES
from poetry_wheelmirror.mirror.pypi import PEP691_JSON
from poetry_wheelmirror.mirror.pypi import parse_simple_json

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.pypi import UpstreamFile

__all__ = ["VersionFiles"]


class VersionFiles:
    """``files(name, version)``: PyPI's files of that version (None: no such project)."""

    def __init__(self, pypi: PypiClient) -> None:
        self.pypi = pypi

    def _page(self, name: str) -> tuple[str, object] | None:
        url = self.pypi.project_url(name)
        try:
            body = self.pypi.client.get(url, max_bytes=MAX_PAGE_BYTES, accept=PEP691_JSON).body
        except FetchError as e:
            if "HTTP 404" in str(e):
                return None
            raise
        try:
            return url, json.loads(body)
        except (ValueError, UnicodeDecodeError):
            msg = f"{url}: not a PEP 691 JSON page"
            raise FetchError(msg) from None

    def files(self, name: str, version: str) -> Sequence[UpstreamFile] | None:
        found = self._page(name)
        if found is None:
            return None
        url, page = found
        entries = page.get("files") if isinstance(page, dict) else None
        if not isinstance(entries, list):
            msg = f"{url}: not a PEP 691 JSON page (no files list)"
            raise FetchError(msg)
        try:
            wanted: Version | None = Version(version)
            parts = list(Version(version).release)
            while len(parts) > 1 and parts[-1] == 0:
                parts.pop()  # "1.0.0" is also spelled "1.0" and "1" in filenames
            release = ".".join(map(str, parts))
        except InvalidVersion:
            wanted, release = None, version
        # A cheap text filter first ("1" also finds 1.0, 1.0.0 and 1.0rc1), exact below.
        near = [
            e
            for e in entries
            if isinstance(e, dict) and f"-{release}" in str(e.get("filename", ""))
        ]
        subset = parse_simple_json(json.dumps({"files": near}).encode(), name=name, source=url)
        return [f for f in subset.files if wanted is None or f.version() == wanted]
