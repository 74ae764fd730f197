"""A local mirror directory (docs/layout.md): add wheels atomically, keep documents and
the static index current.

Every write goes through a temporary file and a rename, and only when the bytes change,
so a no-op run leaves the tree byte-for-byte (and mtime-for-mtime) as it was. Order:
wheels and their ``.metadata`` files, package documents, upstream snapshots, project
pages, then the root manifest and the project list, so a reader never sees a document
naming a file that is not there yet. Writers hold an exclusive ``flock`` on the mirror
directory itself: two builds at once serialise their commits and neither loses the
other's wheels, and no lock file is left in the published tree.

Crash safety: while the lock is held, every new file is first written to a staging
folder *next to* the mirror (``.<name>.wheelmirror-staging``, same filesystem, so the
final rename is atomic), never inside it. Only when everything is staged does the
writer record a journal of the renames and deletions, then apply them in the order
above. A writer killed before the journal leaves the mirror byte-for-byte as it was;
one killed while applying it is rolled forward by the next writer (``locked()``
recovers before anything else), so no half-added wheel stays behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
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

from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.fs import atomic_write
from poetry_wheelmirror.manifest import ROOT_MANIFEST_PATH
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_path
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.manifest import parse_root_manifest
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.pypi import parse_upstream_snapshot
from poetry_wheelmirror.mirror.pypi import upstream_snapshot_json
from poetry_wheelmirror.mirror.tree import PreviousRoot
from poetry_wheelmirror.mirror.tree import document_bytes
from poetry_wheelmirror.mirror.tree import render_index_tree
from poetry_wheelmirror.mirror.tree import upstream_snapshot_path
from poetry_wheelmirror.mirror.tree import utc_now
from poetry_wheelmirror.names import filename_problem

__all__ = [
    "AddResult",
    "MirrorStore",
    "NewWheel",
    "sha256_file",
    "wheel_key",
]


def wheel_key(filename: str) -> tuple[object, ...]:
    """What makes two wheel filenames the same file for an installer: normalised name,
    version, build tag and tag set (``MarkupSafe-2.0.1-...`` equals ``markupsafe-2.0.1-...``).
    """
    try:
        name, version, build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return (filename,)
    return (name, version, build, tags)


def _wheel_keys(upstream: UpstreamProject | None) -> set[tuple[object, ...]]:
    """The wheel_key of every wheel PyPI lists for a project (none when unknown)."""
    if upstream is None:
        return set()
    return {wheel_key(f.filename) for f in upstream.files if f.is_wheel}


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
        # The open transaction: relative path -> staged file (None: delete), in order.
        self._staged: dict[str, Path | None] | None = None

    @property
    def staging_dir(self) -> Path:
        """Where writes wait until they are committed (beside the mirror, not in it)."""
        resolved = self.path.resolve()
        return resolved.parent / f".{resolved.name}.wheelmirror-staging"

    def _read(self, relative: str) -> bytes:
        """A file's bytes as the open transaction will leave them (FileNotFoundError)."""
        if self._staged is not None and relative in self._staged:
            staged = self._staged[relative]
            if staged is None:
                raise FileNotFoundError(relative)
            return staged.read_bytes()
        return (self.path / relative).read_bytes()

    # -- reading ------------------------------------------------------------------------

    def root(self) -> RootManifest | None:
        path = self.path / ROOT_MANIFEST_PATH
        try:
            data = self._read(ROOT_MANIFEST_PATH)
        except FileNotFoundError:
            return None
        return parse_root_manifest(data, source=str(path))

    def package(self, name: str) -> PackageDocument | None:
        key = canonicalize_name(name)
        path = self.path / package_document_path(key)
        try:
            data = self._read(package_document_path(key))
        except FileNotFoundError:
            return None
        doc = parse_package_document(data, source=str(path), expected_name=key)
        self._doc_sha256[key] = hashlib.sha256(data).hexdigest()
        return doc

    def upstream(self, name: str) -> UpstreamProject | None:
        relative = upstream_snapshot_path(canonicalize_name(name))
        path = self.path / relative
        try:
            data = self._read(relative)
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
            if self._staged is not None:  # re-entered by the same writer
                yield
                return
            self._recover()
            self._staged = {}
            try:
                yield
                self._apply(self._journal())
            finally:
                self._staged = None
                shutil.rmtree(self.staging_dir, ignore_errors=True)
        finally:
            os.close(fd)  # closing releases the lock

    # -- the transaction ------------------------------------------------------------------

    def _stage_path(self, relative: str) -> Path:
        assert self._staged is not None
        staging = self.staging_dir
        staging.mkdir(exist_ok=True)
        return staging / f"{len(self._staged):06d}-{Path(relative).name}"

    def _journal(self) -> list[tuple[str, str | None]]:
        """Record the staged renames and deletions durably; return them."""
        assert self._staged is not None
        entries = [(rel, None if p is None else p.name) for rel, p in self._staged.items()]
        if entries:
            atomic_write(self.staging_dir / "journal.json", json.dumps(entries).encode())
        return entries

    def _apply(self, entries: list[tuple[str, str | None]]) -> None:
        staging = self.staging_dir
        for relative, staged in entries:
            target = self.path / relative
            if staged is None:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
                with contextlib.suppress(OSError):
                    target.parent.rmdir()  # an emptied simple/<name>/
                continue
            source = staging / staged
            if source.exists():  # already moved when rolling forward a second time
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        with contextlib.suppress(FileNotFoundError):
            (staging / "journal.json").unlink()

    def _recover(self) -> None:
        """Finish a commit a killed writer had journaled; drop what it had only staged,
        and temporary files an older writer left in the tree."""
        journal = self.staging_dir / "journal.json"
        try:
            entries = [(str(rel), staged) for rel, staged in json.loads(journal.read_bytes())]
        except (OSError, ValueError):
            entries = []
        if entries:
            self._apply(entries)
        shutil.rmtree(self.staging_dir, ignore_errors=True)
        for leftover in self.path.glob("**/.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    # -- writing ------------------------------------------------------------------------

    def _write(
        self, relative: str, data: bytes, written: list[str], *, durable: bool = True
    ) -> None:
        """Write *data* unless the file already holds it. Index pages are written
        ``durable=False`` (renamed into place without fsync): they are derived data that
        ``wheelmirror index`` rebuilds, and an fsync per page dominated large mirrors."""
        try:
            if self._read(relative) == data:
                return
        except FileNotFoundError:
            pass
        assert self._staged is not None, "writes happen inside locked()"
        staged = self._stage_path(relative)
        if durable:
            atomic_write(staged, data)
        else:
            staged.write_bytes(data)
        self._staged[relative] = staged
        written.append(relative)

    def _copy_new(self, source: Path, dest: Path) -> None:
        assert self._staged is not None, "writes happen inside locked()"
        relative = dest.relative_to(self.path).as_posix()
        staged = self._stage_path(relative)
        with staged.open("wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        self._staged[relative] = staged

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
            # Each project's PyPI snapshot is read (or taken from *upstream*) once, for the
            # checks here and for the index pages _commit renders.
            known: dict[NormalizedName, UpstreamProject] = dict(upstream)
            pypi_keys: dict[NormalizedName, set[tuple[object, ...]]] = {}
            for wheel in wheels:
                if wheel.name not in pypi_keys:
                    project = known.get(wheel.name) or self.upstream(wheel.name)
                    if project is not None:
                        known[wheel.name] = project
                    pypi_keys[wheel.name] = _wheel_keys(project)
                self._check(wheel, pypi_keys[wheel.name])
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
                data = document_bytes(docs[name], "(new package document)")
                self._write(package_document_path(name), data, written)
                self._doc_sha256[name] = hashlib.sha256(data).hexdigest()
            for name, project in sorted(upstream.items()):
                self._write(
                    upstream_snapshot_path(name),
                    dump_document(upstream_snapshot_json(project)),
                    written,
                )
            written.extend(self._commit(docs, known))
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

    def _check(self, wheel: NewWheel, pypi_keys: set[tuple[object, ...]]) -> None:
        if wheel_key(wheel.filename) in pypi_keys:
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

    def _commit(
        self,
        docs: Mapping[NormalizedName, PackageDocument],
        upstream: Mapping[NormalizedName, UpstreamProject] | None = None,
    ) -> list[str]:
        """Project pages, then the root manifest, then the project list (tree.py).
        *upstream* holds snapshots already in hand, so they are not read back and re-parsed."""
        known = upstream or {}
        written: list[str] = []
        old = self.root()
        previous = None
        if old is not None:
            refs = {name: ref.sha256 for name, ref in old.packages.items()}
            previous = PreviousRoot(old.mirror_name, old.generated_at, refs)
        files = render_index_tree(
            docs,
            self._doc_sha256,
            {name: known.get(name) or self.upstream(name) for name in docs},
            mirror_name=old.mirror_name if old else self.mirror_name,
            previous=previous,
            now=utc_now(),
        )
        for file in files:
            self._write(file.path, file.data, written, durable=file.durable)
        written.extend(self._remove_stale_pages(set(docs)))
        return written

    def _remove_stale_pages(self, keep: set[NormalizedName]) -> list[str]:
        simple = self.path / "simple"
        removed: list[str] = []
        if not simple.is_dir():
            return removed
        assert self._staged is not None, "writes happen inside locked()"
        for folder in sorted(simple.iterdir()):
            if folder.is_dir() and folder.name not in keep:
                for page in ("index.html", "index.json"):
                    relative = f"simple/{folder.name}/{page}"
                    if (folder / page).exists():
                        self._staged[relative] = None  # deleted when the commit is applied
                        removed.append(relative)
        return removed
