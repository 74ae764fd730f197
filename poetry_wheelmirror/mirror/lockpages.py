"""One pinned version's files from PyPI's PEP 691 project page, cheaply.

A lock plan needs, per pin, only the files of the locked version, but project pages
list every release: grpcio's has 11,000 files and validating each into an UpstreamFile
takes most of a second. This reader decodes the page, keeps the entries whose filename
carries the pinned release, and validates only those with ``parse_simple_json`` (so a
page's files are checked exactly as everywhere else).

The kept entries are also stored under the HTTP cache (``lock-pages/``), keyed by the
page body's sha256 and the release: a hashed requirements file needs every pin's page,
300 pages are ~100 MB of JSON, and decoding them all again is most of a warm plan. A
changed page has another sha256, so a stored subset is never used for other bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
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

    def _body(self, url: str) -> bytes | None:
        try:
            return self.pypi.client.get(url, max_bytes=MAX_PAGE_BYTES, accept=PEP691_JSON).body
        except FetchError as e:
            if "HTTP 404" in str(e):
                return None
            raise

    def _subset_path(self, body: bytes, release: str) -> Path | None:
        cache_dir = getattr(self.pypi.client, "cache_dir", None)
        if cache_dir is None or not re.fullmatch(r"[0-9]+(\.[0-9]+)*", release):
            return None  # only a plain release number names a file here
        digest = hashlib.sha256(body).hexdigest()
        return Path(cache_dir) / "lock-pages" / digest[:2] / f"{digest}-{release}.json"

    def _near(self, url: str, body: bytes, release: str) -> list[object]:
        """The page's entries whose filename contains ``-<release>``, from the stored
        subset when there is one."""
        from poetry_wheelmirror.fs import atomic_write

        stored = self._subset_path(body, release)
        if stored is not None:
            try:
                near = json.loads(stored.read_bytes())
                if isinstance(near, list):
                    return near
            except (OSError, ValueError):
                pass
        try:
            page = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            msg = f"{url}: not a PEP 691 JSON page"
            raise FetchError(msg) from None
        entries = page.get("files") if isinstance(page, dict) else None
        if not isinstance(entries, list):
            msg = f"{url}: not a PEP 691 JSON page (no files list)"
            raise FetchError(msg)
        near = [
            e
            for e in entries
            if isinstance(e, dict) and f"-{release}" in str(e.get("filename", ""))
        ]
        if stored is not None:
            with contextlib.suppress(OSError):  # a read-only cache only costs time
                atomic_write(stored, json.dumps(near).encode())
        return near

    def files(self, name: str, version: str) -> Sequence[UpstreamFile] | None:
        url = self.pypi.project_url(name)
        body = self._body(url)
        if body is None:
            return None
        try:
            wanted: Version | None = Version(version)
            parts = list(Version(version).release)
            while len(parts) > 1 and parts[-1] == 0:
                parts.pop()  # "1.0.0" is also spelled "1.0" and "1" in filenames
            release = ".".join(map(str, parts))
        except InvalidVersion:
            wanted, release = None, version
        # A cheap text filter first ("1" also finds 1.0, 1.0.0 and 1.0rc1), exact below.
        near = self._near(url, body, release)
        subset = parse_simple_json(json.dumps({"files": near}).encode(), name=name, source=url)
        return [f for f in subset.files if wanted is None or f.version() == wanted]
