"""A local mirror directory (docs/layout.md): add wheels atomically, keep documents and
the static index current.

Every write goes through a temporary file and a rename, and only when the bytes change,
so a no-op run leaves the tree byte-for-byte (and mtime-for-mtime) as it was. Order:
wheels and their ``.metadata`` files, package documents, upstream snapshots, project
pages, then the root manifest and the project list, so a reader never sees a document
naming a file that is not there yet. Writers hold an exclusive ``flock`` on the mirror
directory itself: two builds at once serialise their commits and neither loses the
other's wheels, and no lock file is left in the published tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path

from packaging.utils import InvalidWheelFilename
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.utils import parse_wheel_filename

from poetry_wheelmirror.client import atomic_write
from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import package_document_path
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.manifest import parse_root_manifest
from poetry_wheelmirror.manifest import root_manifest_json
from poetry_wheelmirror.mirror.index import render_index
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.pypi import parse_upstream_snapshot
from poetry_wheelmirror.mirror.pypi import upstream_snapshot_json
from poetry_wheelmirror.names import filename_problem

__all__ = [
    "AddResult",
    "MirrorStore",
    "NewWheel",
    "sha256_file",
    "upstream_snapshot_path",
    "wheel_key",
]


def upstream_snapshot_path(name: NormalizedName) -> str:
    """Where a mirror keeps its snapshot of PyPI's file list for *name*."""
    return f"upstream/{name}.json"


def wheel_key(filename: str) -> tuple[object, ...]:
    """What makes two wheel filenames the same file for an installer: normalised name,
    version, build tag and tag set (``MarkupSafe-2.0.1-...`` equals ``markupsafe-2.0.1-...``).
    """
    try:
        name, version, build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return (filename,)
    return (name, version, build, tags)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class NewWheel:
    """A built, repaired and checked wheel waiting to be added to the mirror."""

    name: NormalizedName
    version: str
    path: Path
    sha256: str
    size: int
    #: The wheel's ``.dist-info/METADATA`` (served as the PEP 658 ``.metadata`` file).
    metadata: bytes
    source: SourceDist
    build: BuildInfo
    requires_python: str | None = None

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class AddResult:
    """What ``MirrorStore.add`` did; paths are relative to the mirror directory."""

    added: tuple[str, ...] = ()
    already_present: tuple[str, ...] = ()
    written: tuple[str, ...] = field(default=())


class MirrorStore:
    """The mirror directory at *path* (it need not exist yet)."""

    def __init__(self, path: Path, *, mirror_name: str = "local") -> None:
        self.path = path
        self.mirror_name = mirror_name
        # sha256 of each package document as last read or written: the root's refs
        # come from here instead of rendering every document again.
        self._doc_sha256: dict[NormalizedName, str] = {}

    # -- reading ------------------------------------------------------------------------

    def root(self) -> RootManifest | None:
        path = self.path / ROOT_MANIFEST_PATH
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return parse_root_manifest(data, source=str(path))

    def package(self, name: str) -> PackageDocument | None:
        key = canonicalize_name(name)
        path = self.path / package_document_path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        doc = parse_package_document(data, source=str(path), expected_name=key)
        self._doc_sha256[key] = hashlib.sha256(data).hexdigest()
        return doc

    def upstream(self, name: str) -> UpstreamProject | None:
        path = self.path / upstream_snapshot_path(canonicalize_name(name))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return parse_upstream_snapshot(data, source=str(path))

    def wheel_path(self, name: NormalizedName, filename: str) -> Path:
        problem = filename_problem(filename)
        if problem:
            raise PublishError(problem)
        return self.path / "files" / name / filename

    def filenames(self, name: str) -> set[str]:
        """Wheel filenames present under ``files/<name>/``."""
        folder = self.path / "files" / canonicalize_name(name)
        if not folder.is_dir():
            return set()
        return {p.name for p in folder.iterdir() if p.name.endswith(".whl")}

    # -- locking ------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the mirror's exclusive writer lock (creates the directory)."""
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows builds are not supported
            yield
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # -- writing ------------------------------------------------------------------------

    def _write(
        self, relative: str, data: bytes, written: list[str], *, durable: bool = True
    ) -> None:
        """Write *data* unless the file already holds it. Index pages are written
        ``durable=False`` (renamed into place without fsync): they are derived data that
        ``wheelmirror index`` rebuilds, and an fsync per page dominated large mirrors."""
        path = self.path / relative
        try:
            if path.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        if durable:
            atomic_write(path, data)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        written.append(relative)

    def _copy_new(self, source: Path, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def add(
        self,
        wheels: Sequence[NewWheel],
        upstream: Mapping[NormalizedName, UpstreamProject] | None = None,
    ) -> AddResult:
        """Add *wheels* (and refresh the given upstream snapshots), then the documents and
        the index. PublishError, before anything is written, when a filename exists with
        other bytes, is one of PyPI's own, or a version's sdist differs from the recorded one.
        """
        upstream = dict(upstream or {})
        with self.locked():
            docs: dict[NormalizedName, PackageDocument] = {}
            root = self.root()
            for name in root.packages if root else ():
                doc = self.package(name)
                if doc is not None:
                    docs[name] = doc
            added: list[str] = []
            present: list[str] = []
            to_copy: list[tuple[NewWheel, Path]] = []
            for wheel in wheels:
                self._check(wheel, upstream.get(wheel.name) or self.upstream(wheel.name))
                dest = self.wheel_path(wheel.name, wheel.filename)
                relative = f"files/{wheel.name}/{wheel.filename}"
                if dest.exists():
                    if sha256_file(dest) != wheel.sha256:
                        msg = f"{relative} exists with other bytes: a rebuild needs a build tag"
                        raise PublishError(msg)
                    present.append(relative)
                else:
                    to_copy.append((wheel, dest))
                    added.append(relative)
                docs[wheel.name] = self._with_wheel(docs.get(wheel.name), wheel)
            written: list[str] = []
            for wheel, dest in to_copy:
                self._copy_new(wheel.path, dest)
                written.append(f"files/{wheel.name}/{wheel.filename}")
            for wheel in wheels:
                self._write(
                    f"files/{wheel.name}/{wheel.filename}.metadata", wheel.metadata, written
                )
            for name in sorted({w.name for w in wheels}):
                data = self._doc_bytes(docs[name])
                self._write(package_document_path(name), data, written)
                self._doc_sha256[name] = hashlib.sha256(data).hexdigest()
            for name, project in sorted(upstream.items()):
                self._write(
                    upstream_snapshot_path(name),
                    dump_document(upstream_snapshot_json(project)),
                    written,
                )
            written.extend(self._commit(docs))
        return AddResult(added=tuple(added), already_present=tuple(present), written=tuple(written))

    def regenerate_index(
        self, upstream: Mapping[NormalizedName, UpstreamProject] | None = None
    ) -> list[str]:
        """Rewrite whatever index pages (and upstream snapshots given) changed; returns the
        paths written or removed. Offline unless the caller fetched *upstream*."""
        with self.locked():
            written: list[str] = []
            for name, project in sorted((upstream or {}).items()):
                self._write(
                    upstream_snapshot_path(name),
                    dump_document(upstream_snapshot_json(project)),
                    written,
                )
            root = self.root()
            docs = {}
            for name in root.packages if root else ():
                doc = self.package(name)
                if doc is not None:
                    docs[name] = doc
            written.extend(self._commit(docs))
            return written

    # -- internals ----------------------------------------------------------------------

    def _check(self, wheel: NewWheel, upstream: UpstreamProject | None) -> None:
        if upstream is not None and wheel_key(wheel.filename) in {
            wheel_key(f.filename) for f in upstream.files if f.is_wheel
        }:
            msg = f"PyPI already has {wheel.filename}: the mirror never publishes PyPI's filenames"
            raise PublishError(msg)

    def _with_wheel(self, doc: PackageDocument | None, wheel: NewWheel) -> PackageDocument:
        versions = dict(doc.versions) if doc else {}
        entry = (doc.entry_for(wheel.version) if doc else None) or VersionEntry(
            version=wheel.version, source=wheel.source
        )
        if entry.source.sha256 != wheel.source.sha256:
            msg = (
                f"{wheel.name} {wheel.version} was built from {entry.source.filename} "
                f"({entry.source.sha256[:12]}), not {wheel.source.sha256[:12]}"
            )
            raise PublishError(msg)
        if all(w.filename != wheel.filename for w in entry.wheels):
            listed = WheelFile(
                filename=wheel.filename,
                url=f"../files/{wheel.name}/{wheel.filename}",
                sha256=wheel.sha256,
                size=wheel.size,
                requires_python=wheel.requires_python,
                metadata_sha256=hashlib.sha256(wheel.metadata).hexdigest(),
                build=wheel.build,
            )
            entry = replace(entry, wheels=(*entry.wheels, listed))
        versions[entry.version] = entry
        name = doc.name if doc else wheel.name
        return PackageDocument(name=name, versions=versions)

    def _doc_bytes(self, doc: PackageDocument) -> bytes:
        data = dump_document(package_document_json(doc))
        parse_package_document(data, source="(new package document)", expected_name=doc.name)
        return data

    def _commit(self, docs: Mapping[NormalizedName, PackageDocument]) -> list[str]:
        """Project pages, then the root manifest, then the project list."""
        written: list[str] = []
        pages = render_index({name: (doc, self.upstream(name)) for name, doc in docs.items()})
        for path, data in sorted(pages.items()):
            if path.count("/") == 2:
                self._write(path, data, written, durable=False)
        refs = {
            name: PackageRef(
                name=name,
                url=package_document_path(name),
                sha256=self._doc_sha256[name],
            )
            for name in sorted(docs)
        }
        old = self.root()
        # generated_at moves only when the content does: a no-op run changes no byte.
        if old is None or dict(old.packages) != refs:
            root = RootManifest(
                mirror_name=old.mirror_name if old else self.mirror_name,
                index_url="simple/",
                generated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                packages=refs,
            )
            self._write(ROOT_MANIFEST_PATH, dump_document(root_manifest_json(root)), written)
        self._write("simple/index.html", pages["simple/index.html"], written, durable=False)
        self._write("simple/index.json", pages["simple/index.json"], written, durable=False)
        written.extend(self._remove_stale_pages(set(docs)))
        return written

    def _remove_stale_pages(self, keep: set[NormalizedName]) -> list[str]:
        simple = self.path / "simple"
        removed: list[str] = []
        if not simple.is_dir():
            return removed
        for folder in sorted(simple.iterdir()):
            if folder.is_dir() and folder.name not in keep:
                for page in ("index.html", "index.json"):
                    with contextlib.suppress(FileNotFoundError):
                        (folder / page).unlink()
                        removed.append(f"simple/{folder.name}/{page}")
                with contextlib.suppress(OSError):
                    folder.rmdir()
        return removed
