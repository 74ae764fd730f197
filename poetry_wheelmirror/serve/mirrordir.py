"""A local mirror directory as seen by the routing index: which packages, which wheels.

The documents are read and checked by ``MirrorReader`` (each package document against the
root's sha256), and the wheel URLs are rewritten to be relative to ``/simple/<name>/``
when they point inside the directory, so the page works behind any host and port.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.simple_index import IndexFile
from poetry_wheelmirror.simple_index import document_files
from poetry_wheelmirror.urls import path_to_url
from poetry_wheelmirror.urls import url_to_path

__all__ = ["MirrorSnapshot", "load_mirror", "manifest_stamp"]


@dataclass(frozen=True)
class MirrorSnapshot:
    """The packages of a mirror directory at one moment, with their wheels as page files."""

    root: Path
    files: dict[str, tuple[IndexFile, ...]]
    stamp: tuple[int, int, int] | None
    #: The package documents themselves (verified), for pages rendered on the fly.
    docs: dict[str, PackageDocument] = field(default_factory=dict)


def manifest_stamp(root: Path) -> tuple[int, int, int] | None:
    """(mtime_ns, size, inode) of the root manifest: changes whenever it is replaced."""
    try:
        st = os.stat(root / ROOT_MANIFEST_PATH)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _page_url(base_url: str, wheel_url: str) -> str:
    """*wheel_url* relative to ``<base>/simple/<name>/`` if it is inside the mirror."""
    if wheel_url.startswith(base_url):
        return "../../" + wheel_url[len(base_url) :]
    return wheel_url


def load_mirror(root: Path) -> MirrorSnapshot:
    """Read the mirror at *root* through a MirrorReader (read-only, no lock); a
    directory without a manifest is an empty mirror."""
    root = root.resolve()
    stamp = manifest_stamp(root)
    if stamp is None:
        return MirrorSnapshot(root=root, files={}, stamp=None)
    base_url = path_to_url(root)
    reader = MirrorReader(base_url, CachedClient(None))
    result: dict[str, tuple[IndexFile, ...]] = {}
    docs: dict[str, PackageDocument] = {}
    for name in reader.root().packages:
        doc = reader.package(name)
        if doc is None:
            continue

        def url_for(wheel: WheelFile, name: str = name) -> str:
            absolute = reader.wheel_url(name, wheel)
            return urllib.parse.quote(_page_url(base_url, absolute), safe="/:.+!~-_%")

        def metadata_available(wheel: WheelFile, name: str = name) -> bool:
            # Only advertise PEP 658 metadata that can actually be fetched.
            absolute = reader.wheel_url(name, wheel)
            local = absolute.startswith("file:")
            return not local or url_to_path(absolute + ".metadata").is_file()

        docs[name] = doc
        result[name] = tuple(document_files(doc, url_for, metadata_available))
    return MirrorSnapshot(root=root, files=result, stamp=stamp, docs=docs)
