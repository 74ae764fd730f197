"""Reading a mirror: the root manifest, then only the package documents asked for."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.manifest import parse_root_manifest
from poetry_wheelmirror.urls import join_url
from poetry_wheelmirror.urls import link_problem
from poetry_wheelmirror.urls import to_base_url

if TYPE_CHECKING:
    from poetry_wheelmirror.client import CachedClient

__all__ = ["MirrorReader", "root_manifest_url"]

#: A root manifest larger than this is refused: it lists packages, not files.
MAX_ROOT_BYTES = 8 * 1024 * 1024
MAX_PACKAGE_BYTES = 32 * 1024 * 1024


def root_manifest_url(base_url: str) -> str:
    """Where the root manifest lives under a mirror's base URL (or local directory)."""
    return to_base_url(base_url) + ROOT_MANIFEST_PATH


class MirrorReader:
    """Fetch and validate a mirror's documents through a CachedClient."""

    def __init__(self, base_url: str, client: CachedClient) -> None:
        self.base_url = to_base_url(base_url)
        self.root_url = root_manifest_url(self.base_url)
        self.client = client
        self._root: RootManifest | None = None
        self._packages: dict[str, PackageDocument | None] = {}
        self.stale = False

    def root(self, *, revalidate: bool = False) -> RootManifest:
        """The root manifest (fetched once per reader)."""
        if self._root is None or revalidate:
            result = self.client.get(self.root_url, max_bytes=MAX_ROOT_BYTES, revalidate=revalidate)
            self.stale = self.stale or result.stale
            self._root = parse_root_manifest(result.body, source=self.root_url)
        return self._root

    @staticmethod
    def _follow(document_url: str, ref: str) -> str:
        """*ref* resolved against the document naming it; FetchError when a remote
        document names a local file (or any URL the client may not fetch)."""
        url = join_url(document_url, ref)
        problem = link_problem(document_url, url)
        if problem:
            msg = f"{document_url}: {problem}"
            raise FetchError(msg)
        return url

    def package_url(self, name: str) -> str | None:
        """Absolute URL of *name*'s package document, or None when the mirror lacks it."""
        ref = self.root().packages.get(canonicalize_name(name))
        return None if ref is None else self._follow(self.root_url, ref.url)

    def package(self, name: str, *, revalidate: bool = False) -> PackageDocument | None:
        """*name*'s package document, verified against the root's sha256; None if unsupported."""
        key = canonicalize_name(name)
        if key in self._packages and not revalidate:
            return self._packages[key]
        ref = self.root().packages.get(key)
        if ref is None:
            self._packages[key] = None
            return None
        url = self._follow(self.root_url, ref.url)
        result = self.client.get(url, max_bytes=MAX_PACKAGE_BYTES, revalidate=revalidate)
        digest = hashlib.sha256(result.body).hexdigest()
        if digest != ref.sha256:
            # The cached copy may predate a republish: fetch once more before failing.
            if result.from_cache and not revalidate:
                result = self.client.get(url, max_bytes=MAX_PACKAGE_BYTES, revalidate=True)
                digest = hashlib.sha256(result.body).hexdigest()
            if digest != ref.sha256:
                msg = f"sha256 {digest} does not match the root manifest's {ref.sha256}"
                raise ManifestError(msg, source=url)
        self.stale = self.stale or result.stale
        doc = parse_package_document(result.body, source=url, expected_name=key)
        self._packages[key] = doc
        return doc

    def wheel_url(self, name: str, wheel: WheelFile) -> str:
        """Absolute URL of a wheel listed in *name*'s package document."""
        doc_url = self.package_url(name)
        if doc_url is None:
            msg = f"{name} is not on this mirror"
            raise ManifestError(msg, source=self.root_url)
        return self._follow(doc_url, wheel.url)
