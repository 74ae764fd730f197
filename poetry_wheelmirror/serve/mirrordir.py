"""A local mirror directory as seen by the routing index: which packages, which wheels.

The documents are read and checked by ``MirrorReader`` (each package document against the
root's sha256), and the wheel URLs are rewritten to be relative to ``/simple/<name>/``
when they point inside the directory, so the page works behind any host and port.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.simple_pages import IndexFile
from poetry_wheelmirror.urls import path_to_url
from poetry_wheelmirror.urls import url_to_path

__all__ = ["MirrorSnapshot", "load_mirror", "manifest_stamp"]


@dataclass(frozen=True)
class MirrorSnapshot:
    """The packages of a mirror directory at one moment, with their wheels as page files."""

    root: Path
    files: dict[str, tuple[IndexFile, ...]]
    stamp: tuple[int, int, int] | None


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
    """Read the mirror at *root*; a directory without a manifest is an empty mirror."""
    root = root.resolve()
    stamp = manifest_stamp(root)
    if stamp is None:
        return MirrorSnapshot(root=root, files={}, stamp=None)
    base_url = path_to_url(root)
    reader = MirrorReader(base_url, CachedClient(None))
    result: dict[str, tuple[IndexFile, ...]] = {}
    for name in reader.root().packages:
        doc = reader.package(name)
        if doc is None:
            continue
        files = []
        for entry in sorted(doc.versions.values(), key=lambda e: Version(e.version)):
            for wheel in sorted(entry.wheels, key=lambda w: w.filename):
                absolute = reader.wheel_url(name, wheel)
                core: bool | tuple[tuple[str, str], ...] = False
                if wheel.metadata_sha256:
                    # Only advertise PEP 658 metadata that can actually be fetched.
                    local = absolute.startswith("file:")
                    if not local or url_to_path(absolute + ".metadata").is_file():
                        core = (("sha256", wheel.metadata_sha256),)
                files.append(
                    IndexFile(
                        filename=wheel.filename,
                        url=urllib.parse.quote(_page_url(base_url, absolute), safe="/:.+!~-_%"),
                        hashes=(("sha256", wheel.sha256),),
                        requires_python=wheel.requires_python,
                        yanked=(wheel.yanked_reason or True) if wheel.yanked else False,
                        core_metadata=core,
                        size=wheel.size,
                    )
                )
        result[name] = tuple(files)
    return MirrorSnapshot(root=root, files=result, stamp=stamp)
