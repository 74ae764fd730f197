"""The mirror tree as bytes (pure): package documents, upstream snapshots, index pages and
the root manifest, in the order a writer must follow (docs/layout.md).

Two writers use it: ``MirrorStore`` (a local mirror directory, staged and journaled) and
``site.write_site`` (a site to publish). Both write only files whose bytes change, and
put the project pages first, then the root manifest, then the project list, so a reader
never sees a root naming a page that is not there yet. The root's ``generated_at``
moves only when the content does, so a no-op run changes no byte.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import package_document_path
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.manifest import root_manifest_json
from poetry_wheelmirror.mirror.index import render_index

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.mirror.pypi import UpstreamProject

__all__ = [
    "PreviousRoot",
    "TreeFile",
    "document_bytes",
    "render_index_tree",
    "upstream_snapshot_path",
    "utc_now",
]


def upstream_snapshot_path(name: NormalizedName) -> str:
    """Where a mirror keeps its snapshot of PyPI's file list for *name*."""
    return f"upstream/{name}.json"


@dataclass(frozen=True)
class TreeFile:
    """One file of the tree: its path relative to the mirror base, and its bytes."""

    path: str
    data: bytes
    #: False for index pages: derived data that ``wheelmirror index`` rebuilds, so a
    #: writer may rename them into place without an fsync per page.
    durable: bool = True


@dataclass(frozen=True)
class PreviousRoot:
    """What the root manifest said before this run (to keep its ``generated_at``)."""

    mirror_name: str
    generated_at: str
    #: name -> package document sha256
    refs: Mapping[NormalizedName, str]


def utc_now() -> str:
    """The time a root manifest records: ISO 8601, UTC, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def document_bytes(
    doc: PackageDocument, source: str, *, expected_name: NormalizedName | None = None
) -> bytes:
    """*doc* serialised, and checked by the same parser installers use (*source* names it
    in the error of a document that would not parse back, or not as *expected_name*)."""
    data = dump_document(package_document_json(doc))
    parse_package_document(data, source=source, expected_name=expected_name or doc.name)
    return data


def render_index_tree(
    docs: Mapping[NormalizedName, PackageDocument],
    doc_sha256: Mapping[NormalizedName, str],
    upstream: Mapping[NormalizedName, UpstreamProject | None],
    *,
    mirror_name: str,
    previous: PreviousRoot | None,
    now: str,
) -> list[TreeFile]:
    """The project pages, then the root manifest listing *docs* (by their *doc_sha256*),
    then the project list: in the order they must be written. ``generated_at`` is
    *previous*'s when the mirror name and every document are unchanged, else *now*."""
    pages = render_index({name: (doc, upstream.get(name)) for name, doc in docs.items()})
    files = [
        TreeFile(path, data, durable=False)
        for path, data in sorted(pages.items())
        if path.count("/") == 2
    ]
    refs = {
        name: PackageRef(name=name, url=package_document_path(name), sha256=doc_sha256[name])
        for name in sorted(docs)
    }
    same = (
        previous is not None
        and previous.generated_at
        and previous.mirror_name == mirror_name
        and dict(previous.refs) == {name: ref.sha256 for name, ref in refs.items()}
    )
    root = RootManifest(
        mirror_name=mirror_name,
        index_url="simple/",
        generated_at=previous.generated_at if same and previous is not None else now,
        packages=refs,
    )
    files.append(TreeFile(ROOT_MANIFEST_PATH, dump_document(root_manifest_json(root))))
    files.append(TreeFile("simple/index.html", pages["simple/index.html"], durable=False))
    files.append(TreeFile("simple/index.json", pages["simple/index.json"], durable=False))
    return files
