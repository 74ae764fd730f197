"""Publishing a local mirror: wheels to a write-once store, then documents and index.

A *source* mirror (a directory ``wheelmirror build`` or ``wheelmirror collect`` wrote)
is published through a :class:`Publisher` backend:

* :class:`DirectoryPublisher` copies wheels to ``<site>/files/<name>/`` (a plain
  directory or static site; the package documents keep relative URLs);
* :class:`GitHubPublisher` uploads them as assets of one GitHub release per
  package-version (tag ``<name>-<version>``), and the documents record the URL GitHub
  serves: ``https://github.com/O/R/releases/download/TAG/FILE``.

Both are write-once: a file already there with the same sha256 and size is skipped, one
with other bytes is a PublishError raised before anything is uploaded, never an
overwrite. Then the package documents, upstream snapshots, index pages and, last, the
root manifest are written to the site directory (atomically, and only when their bytes
change), merged with what the site already publishes.

Provenance: Sigstore bundles (``actions/attest-build-provenance`` output, one bundle per
file or one per line) are matched to wheels by the sha256 subjects of their in-toto
statement, published next to the wheel as ``<wheel>.sigstore.json`` and recorded in the
wheel's ``provenance`` field.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Protocol

from poetry_wheelmirror.client import atomic_write
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import Provenance
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import package_document_path
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.manifest import root_manifest_json
from poetry_wheelmirror.mirror.github import asset_name_problem
from poetry_wheelmirror.mirror.github import release_tag
from poetry_wheelmirror.mirror.index import render_index
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.pypi import parse_upstream_snapshot
from poetry_wheelmirror.mirror.pypi import upstream_snapshot_json
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.store import sha256_file
from poetry_wheelmirror.mirror.store import upstream_snapshot_path
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.names import filename_problem
from poetry_wheelmirror.urls import join_url

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.client import CachedClient
    from poetry_wheelmirror.mirror.github import Asset
    from poetry_wheelmirror.mirror.github import GitHubReleases
    from poetry_wheelmirror.mirror.github import Release

__all__ = [
    "ATTESTATION_SUFFIX",
    "Attestation",
    "DirectoryPublisher",
    "GitHubPublisher",
    "PublishReport",
    "PublishedState",
    "Publisher",
    "Upload",
    "load_attestations",
    "publish_mirror",
    "read_published",
    "write_site",
]

#: A wheel's Sigstore bundle is published as ``<wheel filename>.sigstore.json``.
ATTESTATION_SUFFIX = ".sigstore.json"
_MAX_BUNDLE_BYTES = 16 * 1024 * 1024

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Upload:
    """One immutable file to publish: a wheel, its ``.metadata`` file, or a bundle."""

    name: NormalizedName
    version: str
    filename: str
    path: Path
    sha256: str
    size: int


class Publisher(Protocol):
    """A write-once file store (the wheels' home); documents go to the site directory."""

    #: Shown in progress lines: "directory /srv/mirror", "github owner/repo".
    label: str

    def url_for(self, item: Upload) -> str:
        """The URL a package document records for *item* (absolute, or relative to
        ``packages/<name>.json``)."""
        ...

    def check(self, items: Iterable[Upload]) -> set[str]:
        """The items' filenames already published with the same bytes; PublishError for
        a name taken by other bytes (or one the store would rename). Writes nothing."""
        ...

    def put(self, item: Upload) -> bool:
        """Publish *item* unless it is there already; True when it was written."""
        ...


# -- backends ---------------------------------------------------------------------------


class DirectoryPublisher:
    """Wheels under ``<root>/files/<name>/``, next to the documents (docs/layout.md)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = f"directory {root}"

    def _dest(self, item: Upload) -> Path:
        problem = filename_problem(item.filename)
        if problem:
            raise PublishError(problem)
        return self.root / "files" / item.name / item.filename

    def url_for(self, item: Upload) -> str:
        return f"../files/{item.name}/{item.filename}"

    def check(self, items: Iterable[Upload]) -> set[str]:
        present = set()
        for item in items:
            dest = self._dest(item)
            if not dest.exists():
                continue
            if dest.stat().st_size != item.size or sha256_file(dest) != item.sha256:
                msg = f"{dest} exists with other bytes: refusing to overwrite a published file"
                raise PublishError(msg)
            present.add(item.filename)
        return present

    def put(self, item: Upload) -> bool:
        if self.check([item]):
            return False
        dest = self._dest(item)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, item.path.open("rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            if sha256_file(Path(tmp)) != item.sha256:
                msg = f"{item.path} changed while it was copied"
                raise PublishError(msg)
            _link_new(Path(tmp), dest)
        except FileExistsError:
            self.check([item])  # another writer won the race: fine if the bytes match
            return False
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return True


def _link_new(tmp: Path, dest: Path) -> None:
    """Move *tmp* to *dest* only if *dest* does not exist (FileExistsError otherwise):
    link() cannot replace a file another writer published meanwhile. Filesystems without
    hard links get a rename after a fresh existence check (the site lock serialises
    wheelmirror writers)."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:
        if dest.exists():
            raise FileExistsError(dest) from None
        os.replace(tmp, dest)


class GitHubPublisher:
    """Wheels as assets of one release per package-version."""

    def __init__(self, api: GitHubReleases) -> None:
        self.api = api
        self.label = f"github {api.repo}"
        self._releases: dict[str, Release | None] = {}
        self._assets: dict[str, dict[str, Asset]] = {}

    def url_for(self, item: Upload) -> str:
        # The URL recorded must be the one GitHub serves: refuse names it would rename.
        problem = asset_name_problem(item.filename)
        if problem:
            raise PublishError(problem)
        return self.api.download_url(release_tag(item.name, item.version), item.filename)

    def _existing(self, tag: str) -> dict[str, Asset]:
        if tag not in self._releases:
            release = self.api.get_release(tag)
            self._releases[tag] = release
            self._assets[tag] = self.api.list_assets(release) if release else {}
        return self._assets[tag]

    def _same(self, asset: Asset, item: Upload) -> bool:
        if asset.size != item.size:
            return False
        if asset.sha256:
            return asset.sha256 == item.sha256
        # GitHub reported no digest: compare the bytes it serves.
        return hashlib.sha256(self.api.download(asset)).hexdigest() == item.sha256

    def check(self, items: Iterable[Upload]) -> set[str]:
        present = set()
        for item in items:
            problem = asset_name_problem(item.filename)
            if problem:
                raise PublishError(problem)
            tag = release_tag(item.name, item.version)
            asset = self._existing(tag).get(item.filename)
            if asset is None or asset.state != "uploaded":
                continue  # a broken partial upload is replaced by put()
            if not self._same(asset, item):
                msg = (
                    f"release {tag} already has {item.filename} with other bytes: "
                    "refusing to overwrite a published asset (a rebuild needs a build tag)"
                )
                raise PublishError(msg)
            present.add(item.filename)
        return present

    def put(self, item: Upload) -> bool:
        if self.check([item]):
            return False
        tag = release_tag(item.name, item.version)
        release = self._releases.get(tag)
        if release is None:
            release, _created = self.api.ensure_release(
                tag,
                title=f"{item.name} {item.version}",
                body=f"Wheels of {item.name} {item.version} built by poetry-wheelmirror.",
            )
            self._releases[tag] = release
            self._assets[tag] = self.api.list_assets(release)
        broken = self._assets[tag].get(item.filename)
        if broken is not None and broken.state != "uploaded":
            self.api.delete_asset(broken)  # never served: an interrupted upload
        asset = self.api.upload_asset(release, item.path, item.filename)
        if asset.sha256 and asset.sha256 != item.sha256:
            msg = f"GitHub reports sha256 {asset.sha256} for {item.filename}, not {item.sha256}"
            raise PublishError(msg)
        self._assets[tag][asset.name] = asset
        return True


# -- attestations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Attestation:
    """One Sigstore bundle and what it attests."""

    bundle: bytes
    sha256: str
    subjects: frozenset[str]  # sha256 digests of the attested files
    repository: str = ""
    workflow: str = ""


def _parse_bundle(data: bytes, source: str) -> Attestation:
    try:
        bundle = json.loads(data)
        payload = base64.b64decode(bundle["dsseEnvelope"]["payload"], validate=True)
        statement = json.loads(payload)
        subjects = frozenset(
            str(s["digest"]["sha256"]).lower()
            for s in statement["subject"]
            if isinstance(s, dict) and "sha256" in s.get("digest", {})
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        msg = f"{source}: not a Sigstore bundle with an in-toto statement"
        raise PublishError(msg) from None
    repository = workflow = ""
    predicate = statement.get("predicate")
    if isinstance(predicate, dict):
        definition = predicate.get("buildDefinition") or {}
        params = definition.get("externalParameters") or {} if isinstance(definition, dict) else {}
        wf = params.get("workflow") if isinstance(params, dict) else None
        if isinstance(wf, dict):
            repository = str(wf.get("repository", ""))
            workflow = str(wf.get("path", ""))
            if wf.get("ref"):
                workflow = f"{workflow}@{wf['ref']}"
    canonical = (json.dumps(bundle, sort_keys=True, separators=(",", ":")) + "\n").encode()
    return Attestation(
        bundle=canonical,
        sha256=hashlib.sha256(canonical).hexdigest(),
        subjects=subjects,
        repository=repository,
        workflow=workflow,
    )


def load_attestations(paths: Iterable[Path]) -> dict[str, Attestation]:
    """Bundles from files (one JSON bundle, or JSON lines) or folders of them, by the
    sha256 of each file they attest."""
    found: dict[str, Attestation] = {}
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            msg = f"no such attestation file or folder: {path}"
            raise PublishError(msg)
    for file in files:
        data = file.read_bytes()
        if len(data) > _MAX_BUNDLE_BYTES * 64:
            msg = f"{file}: too large for attestation bundles"
            raise PublishError(msg)
        text = data.strip()
        chunks = [text] if text.startswith(b"{") and b"\n{" not in text else text.splitlines()
        for index, chunk in enumerate(c for c in chunks if c.strip()):
            att = _parse_bundle(chunk, f"{file}:{index + 1}")
            for digest in att.subjects:
                found.setdefault(digest, att)
    return found


# -- the published state ----------------------------------------------------------------


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
            packages[name] = _merge_doc(packages.get(name), doc)
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


@dataclass
class PublishReport:
    """What a publish run did."""

    uploaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    attested: list[str] = field(default_factory=list)


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


def _merge_doc(base: PackageDocument | None, new: PackageDocument) -> PackageDocument:
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
) -> PublishReport:
    """Publish every wheel of the mirror at *source* through *publisher* and write the
    merged documents and index to *site*. Conflicts are found before any upload."""
    store = MirrorStore(source)
    root = store.root()
    if root is None:
        msg = f"{source}: no {ROOT_MANIFEST_PATH}: not a mirror directory"
        raise PublishError(msg)
    # The site's writer lock (MirrorStore's flock): two publish runs into one site
    # serialise, and neither loses the other's documents.
    with MirrorStore(site).locked():
        state = published or PublishedState.from_directory(site)
        return _publish_locked(
            store, root, publisher, site, state, attestations or {}, mirror_name, progress
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
        merged = _merge_doc(docs.get(name), PackageDocument(name=doc.name, versions=versions))
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
        for items in plans:
            present |= publisher.check(items)
        # 2. Upload (write-once), wheels before the documents that name them.
        for items in plans:
            for item in items:
                if item.filename in present or not publisher.put(item):
                    report.present.append(item.filename)
                    progress(f"present   {item.filename}")
                else:
                    report.uploaded.append(item.filename)
                    progress(f"published {item.filename}")

    # 3. Documents, upstream snapshots and index pages, then the root manifest.
    report.written = write_site(
        site,
        docs,
        upstream,
        mirror_name=mirror_name or state.mirror_name or root.mirror_name,
        previous=state,
    )
    for path in report.written:
        progress(f"wrote     {path}")
    return report


def write_site(
    site: Path,
    docs: Mapping[NormalizedName, PackageDocument],
    upstream: Mapping[NormalizedName, UpstreamProject],
    *,
    mirror_name: str,
    previous: PublishedState | None = None,
) -> list[str]:
    """Write documents and index to *site* (only changed bytes); the root goes last. Its
    ``generated_at`` moves only when the content differs from *previous*."""
    written: list[str] = []

    def write(relative: str, data: bytes) -> None:
        path = site / relative
        with contextlib.suppress(FileNotFoundError):
            if path.read_bytes() == data:
                return
        atomic_write(path, data)
        written.append(relative)

    refs: dict[NormalizedName, PackageRef] = {}
    for name, doc in sorted(docs.items()):
        data = dump_document(package_document_json(doc))
        parse_package_document(data, source=f"(published {name})", expected_name=name)
        write(package_document_path(name), data)
        refs[name] = PackageRef(
            name=name, url=package_document_path(name), sha256=hashlib.sha256(data).hexdigest()
        )
    for name, project in sorted(upstream.items()):
        if name in docs:
            write(upstream_snapshot_path(name), dump_document(upstream_snapshot_json(project)))
    pages = render_index({name: (doc, upstream.get(name)) for name, doc in docs.items()})
    for path, data in sorted(pages.items()):
        if path.count("/") == 2:
            write(path, data)
    same = (
        previous is not None
        and previous.generated_at
        and previous.mirror_name == mirror_name
        and previous.refs == {name: ref.sha256 for name, ref in refs.items()}
    )
    root = RootManifest(
        mirror_name=mirror_name,
        index_url="simple/",
        generated_at=previous.generated_at
        if same and previous is not None
        else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        packages=refs,
    )
    write(ROOT_MANIFEST_PATH, dump_document(root_manifest_json(root)))
    write("simple/index.html", pages["simple/index.html"])
    write("simple/index.json", pages["simple/index.json"])
    return written
