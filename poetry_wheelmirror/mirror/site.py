"""The published site: what it already publishes, merging new wheels in, and writing
its documents and index (package documents, upstream snapshots, index pages, then the
root manifest; atomically, and only files whose bytes change).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.fs import atomic_write
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_path
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.pypi import parse_upstream_snapshot
from poetry_wheelmirror.mirror.pypi import upstream_snapshot_json
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.tree import PreviousRoot
from poetry_wheelmirror.mirror.tree import document_bytes
from poetry_wheelmirror.mirror.tree import render_index_tree
from poetry_wheelmirror.mirror.tree import upstream_snapshot_path
from poetry_wheelmirror.mirror.tree import utc_now
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.urls import join_url

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.client import CachedClient

__all__ = ["PublishedState", "merge_document", "read_published", "write_site"]


@dataclass
class PublishedState:
    """What a site publishes already: package documents and upstream snapshots."""

    mirror_name: str = ""
    generated_at: str = ""
    refs: dict[NormalizedName, str] = field(default_factory=dict)  # name -> document sha256
    packages: dict[NormalizedName, PackageDocument] = field(default_factory=dict)
    upstream: dict[NormalizedName, UpstreamProject] = field(default_factory=dict)

    @classmethod
    def from_directory(cls, path: Path) -> PublishedState:
        store = MirrorStore(path)
        state = cls()
        root = store.root()
        if root is None:
            return state
        state.mirror_name, state.generated_at = root.mirror_name, root.generated_at
        state.refs = {name: ref.sha256 for name, ref in root.packages.items()}
        for name in root.packages:
            doc = store.package(name)
            if doc is not None:
                state.packages[name] = doc
            upstream = store.upstream(name)
            if upstream is not None:
                state.upstream[name] = upstream
        return state

    def merged_with(self, other: PublishedState) -> PublishedState:
        """This state plus *other*'s documents (a conflict is a PublishError)."""
        packages = dict(self.packages)
        for name, doc in other.packages.items():
            packages[name] = merge_document(packages.get(name), doc)
        return PublishedState(
            mirror_name=self.mirror_name or other.mirror_name,
            generated_at=self.generated_at,
            refs=dict(self.refs),
            packages=packages,
            upstream={**self.upstream, **other.upstream},
        )


def _absolute(doc: PackageDocument, doc_url: str) -> PackageDocument:
    """*doc* with every wheel and provenance URL resolved against the document's URL."""
    versions = {}
    for key, entry in doc.versions.items():
        wheels = []
        for w in entry.wheels:
            prov = w.provenance
            if prov is not None:
                prov = replace(prov, url=join_url(doc_url, prov.url))
            wheels.append(replace(w, url=join_url(doc_url, w.url), provenance=prov))
        versions[key] = replace(entry, wheels=tuple(wheels))
    return replace(doc, versions=versions)


def read_published(base_url: str, client: CachedClient) -> PublishedState:
    """The documents (and upstream snapshots, where published) of the mirror at
    *base_url*; URLs in them are made absolute, so they stay valid wherever they go."""
    reader = MirrorReader(base_url, client)
    root = reader.root(revalidate=True)
    state = PublishedState(
        mirror_name=root.mirror_name,
        generated_at=root.generated_at,
        refs={name: ref.sha256 for name, ref in root.packages.items()},
    )
    for name in root.packages:
        doc = reader.package(name, revalidate=True)
        doc_url = reader.package_url(name)
        if doc is None or doc_url is None:
            continue
        state.packages[name] = _absolute(doc, doc_url)
        snapshot_url = join_url(reader.base_url, upstream_snapshot_path(name))
        try:
            body = client.get(snapshot_url, revalidate=True).body
        except FetchError:
            continue  # an older site without snapshots: the index lists mirror wheels only
        state.upstream[name] = parse_upstream_snapshot(body, source=snapshot_url)
    return state


def _merge_wheel(base: WheelFile, new: WheelFile, where: str) -> WheelFile:
    if base.sha256 != new.sha256 or base.size != new.size:
        msg = (
            f"{where}: {new.filename} is already published with sha256 {base.sha256[:12]}, "
            f"this one is {new.sha256[:12]}: refusing to overwrite (a rebuild needs a build tag)"
        )
        raise PublishError(msg)
    if base.provenance is None and new.provenance is not None:
        return replace(base, provenance=new.provenance)
    return base


def merge_document(base: PackageDocument | None, new: PackageDocument) -> PackageDocument:
    """*new*'s wheels added to *base*; PublishError for a published filename with other
    bytes or a version built from another sdist. Published entries are kept as they are
    (a provenance record may be added to a wheel that had none)."""
    if base is None:
        return new
    versions = dict(base.versions)
    for key, entry in new.versions.items():
        old = base.entry_for(key)
        if old is None:
            versions[key] = entry
            continue
        if old.source.sha256 != entry.source.sha256:
            msg = (
                f"{new.name} {key}: published wheels were built from {old.source.filename} "
                f"({old.source.sha256[:12]}), these from {entry.source.sha256[:12]}"
            )
            raise PublishError(msg)
        wheels = {w.filename: w for w in old.wheels}
        for wheel in entry.wheels:
            prior = wheels.get(wheel.filename)
            wheels[wheel.filename] = (
                wheel if prior is None else _merge_wheel(prior, wheel, f"{new.name} {key}")
            )
        versions[old.version] = replace(old, wheels=tuple(wheels.values()))
    return PackageDocument(name=base.name, versions=versions)


def write_site(
    site: Path,
    docs: Mapping[NormalizedName, PackageDocument],
    upstream: Mapping[NormalizedName, UpstreamProject],
    *,
    mirror_name: str,
    previous: PublishedState | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Write documents and index to *site* (only changed bytes); the root goes last. Its
    ``generated_at`` moves only when the content differs from *previous*."""
    written: list[str] = []

    def write(relative: str, data: bytes) -> None:
        path = site / relative
        with contextlib.suppress(FileNotFoundError):
            if path.read_bytes() == data:
                return
        if not dry_run:
            atomic_write(path, data)
        written.append(relative)

    doc_sha256: dict[NormalizedName, str] = {}
    for name, doc in sorted(docs.items()):
        data = document_bytes(doc, f"(published {name})", expected_name=name)
        write(package_document_path(name), data)
        doc_sha256[name] = hashlib.sha256(data).hexdigest()
    for name, project in sorted(upstream.items()):
        if name in docs:
            write(upstream_snapshot_path(name), dump_document(upstream_snapshot_json(project)))
    old = None
    if previous is not None:
        old = PreviousRoot(previous.mirror_name, previous.generated_at, previous.refs)
    for file in render_index_tree(
        docs, doc_sha256, upstream, mirror_name=mirror_name, previous=old, now=utc_now()
    ):
        write(file.path, file.data)
    return written
