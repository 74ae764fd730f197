"""Publishing a local mirror: wheels to a write-once store, then documents and index.

A *source* mirror (a directory ``wheelmirror build`` or ``wheelmirror collect`` wrote)
is published through a :class:`Publisher` backend:

* :class:`DirectoryPublisher` copies wheels to ``<site>/files/<name>/`` (a plain
  directory or static site; the package documents keep relative URLs);
* :class:`GitHubPublisher` uploads them as assets of one GitHub release per
  package-version (tag ``<name>-<version>``), and the documents record the URL GitHub
  serves: ``https://github.com/O/R/releases/download/TAG/FILE``.

The backends are in ``mirror.publishers``. Both are write-once: a file already there
with the same sha256 and size is skipped, one with other bytes is a PublishError raised
before anything is uploaded, never an overwrite. Then the package documents, upstream
snapshots, index pages and, last, the root manifest are written to the site directory
(atomically, and only when their bytes change), merged with what the site already
publishes (``mirror.site``).

Provenance: Sigstore bundles (``mirror.attest``) are matched to wheels by sha256,
published next to the wheel as ``<wheel>.sigstore.json`` and recorded in the wheel's
``provenance`` field.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import Provenance
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror.attest import ATTESTATION_SUFFIX
from poetry_wheelmirror.mirror.attest import Attestation
from poetry_wheelmirror.mirror.publishers import FileConflict
from poetry_wheelmirror.mirror.publishers import Publisher
from poetry_wheelmirror.mirror.publishers import Upload
from poetry_wheelmirror.mirror.site import PublishedState
from poetry_wheelmirror.mirror.site import merge_document
from poetry_wheelmirror.mirror.site import write_site
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.store import sha256_file

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.mirror.pypi import UpstreamProject

__all__ = ["PublishReport", "publish_mirror"]

Progress = Callable[[str], None]


@dataclass
class PublishReport:
    """What a publish run did."""

    uploaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    attested: list[str] = field(default_factory=list)


# -- publishing -------------------------------------------------------------------------


def _uploads(
    store: MirrorStore, doc: PackageDocument
) -> list[tuple[str, WheelFile, Upload, Upload | None]]:
    """(version key, wheel entry, wheel upload, metadata upload) for each listed wheel,
    checked against the files on disk."""
    out = []
    for key, entry in sorted(doc.versions.items()):
        for wheel in sorted(entry.wheels, key=lambda w: w.filename):
            path = store.wheel_path(doc.name, wheel.filename)
            if not path.is_file():
                msg = f"{path}: listed in the package document but missing"
                raise PublishError(msg)
            if path.stat().st_size != wheel.size or sha256_file(path) != wheel.sha256:
                msg = f"{path}: size or sha256 does not match the package document"
                raise PublishError(msg)
            item = Upload(doc.name, entry.version, wheel.filename, path, wheel.sha256, wheel.size)
            meta_path = path.with_name(wheel.filename + ".metadata")
            meta = None
            if wheel.metadata_sha256 and meta_path.is_file():
                digest = sha256_file(meta_path)
                if digest == wheel.metadata_sha256:
                    meta = Upload(
                        doc.name,
                        entry.version,
                        meta_path.name,
                        meta_path,
                        digest,
                        meta_path.stat().st_size,
                    )
            out.append((key, wheel, item, meta))
    return out


def publish_mirror(
    source: Path,
    publisher: Publisher,
    site: Path,
    *,
    published: PublishedState | None = None,
    attestations: Mapping[str, Attestation] | None = None,
    mirror_name: str | None = None,
    progress: Progress = lambda _line: None,
    dry_run: bool = False,
) -> PublishReport:
    """Publish every wheel of the mirror at *source* through *publisher* and write the
    merged documents and index to *site*. Conflicts are found before any upload. With
    *dry_run*, only check and report what would be published and written."""
    store = MirrorStore(source)
    root = store.root()
    if root is None:
        msg = f"{source}: no {ROOT_MANIFEST_PATH}: not a mirror directory"
        raise PublishError(msg)
    # The site's writer lock (MirrorStore's flock): two publish runs into one site
    # serialise, and neither loses the other's documents.
    lock = contextlib.nullcontext() if dry_run else MirrorStore(site).locked()
    with lock:
        state = published or PublishedState.from_directory(site)
        return _publish_locked(
            store,
            root,
            publisher,
            site,
            state,
            attestations or {},
            mirror_name,
            progress,
            dry_run,
        )


def _publish_locked(
    store: MirrorStore,
    root: RootManifest,
    publisher: Publisher,
    site: Path,
    state: PublishedState,
    attestations: Mapping[str, Attestation],
    mirror_name: str | None,
    progress: Progress,
    dry_run: bool,
) -> PublishReport:
    source = store.path
    report = PublishReport()
    docs: dict[NormalizedName, PackageDocument] = dict(state.packages)
    upstream: dict[NormalizedName, UpstreamProject] = dict(state.upstream)
    plans: list[list[Upload]] = []

    # 1. Everything to upload, each package document as it will be published, and every
    #    conflict (with the site's documents or the store's files) before any write.
    bundles: dict[str, Upload] = {}  # wheel filename -> its bundle
    for name in sorted(root.packages):
        doc = store.package(name)
        if doc is None:
            msg = f"{source}: the root names {name} but packages/{name}.json is missing"
            raise PublishError(msg)
        items: list[Upload] = []
        versions: dict[str, VersionEntry] = {}
        for key, wheel, item, meta in _uploads(store, doc):
            items.append(item)
            listed = replace(wheel, url=publisher.url_for(item), provenance=None)
            if meta is not None:
                items.append(meta)
            else:
                listed = replace(listed, metadata_sha256=None)
            att = attestations.get(wheel.sha256)
            if att is not None:
                bundle = Upload(
                    doc.name,
                    item.version,
                    wheel.filename + ATTESTATION_SUFFIX,
                    Path(att.sha256),
                    att.sha256,
                    len(att.bundle),
                )
                bundles[wheel.filename] = bundle
                listed = replace(
                    listed,
                    provenance=Provenance(
                        url=publisher.url_for(bundle),
                        sha256=att.sha256,
                        repository=att.repository,
                        workflow=att.workflow,
                    ),
                )
            entry = versions.get(key) or replace(doc.versions[key], wheels=())
            versions[key] = replace(entry, wheels=(*entry.wheels, listed))
        merged = merge_document(docs.get(name), PackageDocument(name=doc.name, versions=versions))
        # A wheel published earlier keeps the attestation it was published with.
        for entry in merged.versions.values():
            for wheel in entry.wheels:
                staged = bundles.get(wheel.filename)
                if staged and wheel.provenance and wheel.provenance.sha256 == staged.sha256:
                    items.append(staged)
                    report.attested.append(wheel.filename)
        docs[name] = merged
        snapshot = store.upstream(name)
        if snapshot is not None:
            upstream[name] = snapshot
        plans.append(items)

    with tempfile.TemporaryDirectory(prefix="wheelmirror-bundles-") as tmp:
        by_sha = {att.sha256: att for att in attestations.values()}
        for items in plans:
            for index, item in enumerate(items):
                if item.filename.endswith(ATTESTATION_SUFFIX):
                    bundle_path = Path(tmp) / f"{item.sha256}.json"
                    if not bundle_path.exists():
                        bundle_path.write_bytes(by_sha[item.sha256].bundle)
                    items[index] = replace(item, path=bundle_path)
        present: set[str] = set()
        published = {
            w.filename
            for d in state.packages.values()
            for e in d.versions.values()
            for w in e.wheels
        }
        for items in plans:
            try:
                present |= publisher.check(items)
            except FileConflict as e:
                if e.filename.endswith(".whl") and e.filename not in published:
                    # Uploaded by a run that never deployed its documents: no client can
                    # have recorded its hash, but it is still never overwritten.
                    msg = (
                        f"{e}; no published document lists it (left by an unfinished run?): "
                        "delete that file or asset by hand, or rebuild with a build tag"
                    )
                    raise PublishError(msg) from None
                raise
        # 2. Upload (write-once), wheels before the documents that name them.
        for items in plans:
            for item in items:
                if dry_run:
                    done = item.filename not in present
                    (report.uploaded if done else report.present).append(item.filename)
                    progress(f"{'would publish' if done else 'present'} {item.filename}")
                elif item.filename in present or not publisher.put(item):
                    report.present.append(item.filename)
                    progress(f"present   {item.filename}")
                else:
                    report.uploaded.append(item.filename)
                    progress(f"published {item.filename}")
        finish = getattr(publisher, "finish", None)  # GitHub: publish the draft releases
        if finish is not None and not dry_run:
            finish()

    # 3. Documents, upstream snapshots and index pages, then the root manifest.
    report.written = write_site(
        site,
        docs,
        upstream,
        mirror_name=mirror_name or state.mirror_name or root.mirror_name,
        previous=state,
        dry_run=dry_run,
    )
    for path in report.written:
        progress(f"{'would write' if dry_run else 'wrote    '} {path}")
    return report
