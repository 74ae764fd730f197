"""Unpacking an sdist, adding a recipe's build requirements, and repacking it.

The local builder (``wheelmirror build``) unpacks the sdist and patches the folder in
place; the CI path (``wheelmirror fetch-sdist``) needs a file cibuildwheel can build, so it
repacks the patched folder as a ``.tar.gz`` with the same top-level folder and name. The
repacked file is byte-reproducible: entries sorted, every mtime the same
``SOURCE_DATE_EPOCH``, owner 0/0 without names, normalised modes, and a gzip header
without a file name or time of its own.
"""

from __future__ import annotations

import calendar
import gzip
import io
import os
import stat
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from poetry_wheelmirror.errors import BuildError

__all__ = [
    "add_build_requires",
    "patch_sdist",
    "repack_sdist",
    "sdist_epoch",
    "sdist_stem",
    "unpack_sdist",
]

_MIN_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can hold


def sdist_epoch(upload_time: str | None) -> int:
    """SOURCE_DATE_EPOCH from the sdist's upload time: the same for every rebuild."""
    if upload_time:
        try:
            stamp = time.strptime(upload_time[:19], "%Y-%m-%dT%H:%M:%S")
            return max(calendar.timegm(stamp), _MIN_EPOCH)
        except ValueError:
            pass
    return _MIN_EPOCH


def sdist_stem(filename: str) -> str:
    """*filename* without its archive suffix.

    >>> sdist_stem("grpcio-1.48.2.tar.gz"), sdist_stem("pkg-1.0.zip")
    ('grpcio-1.48.2', 'pkg-1.0')
    """
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip"):
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def unpack_sdist(archive: Path, dest: Path) -> Path:
    """Unpack an sdist refusing links and paths outside *dest*; returns its top folder."""
    dest.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.startswith("/") or ".." in Path(name).parts:
                    msg = f"{archive.name}: unsafe path in archive: {name!r}"
                    raise BuildError(msg)
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(dest, filter="data")
            else:  # pragma: no cover - Python without PEP 706
                for member in tf.getmembers():
                    if not (member.isfile() or member.isdir()) or ".." in Path(member.name).parts:
                        msg = f"{archive.name}: unsafe member in archive: {member.name!r}"
                        raise BuildError(msg)
                tf.extractall(dest)
    tops = [p for p in dest.iterdir() if p.is_dir()]
    if len(tops) != 1:
        msg = f"{archive.name}: expected one top-level folder"
        raise BuildError(msg)
    return tops[0]


def add_build_requires(src: Path, requires: Sequence[str]) -> None:
    """Append *requires* to the unpacked sdist's ``[build-system] requires``; an sdist
    without one gets setuptools' legacy backend, as frontends assume (PEP 517)."""
    if not requires:
        return
    import tomlkit

    path = src / "pyproject.toml"
    doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else tomlkit.document()
    system = doc.get("build-system")
    if system is None:
        system = tomlkit.table()
        system["requires"] = ["setuptools>=40.8.0", "wheel"]
        system["build-backend"] = "setuptools.build_meta:__legacy__"
        doc["build-system"] = system
    current = list(system.get("requires", []))
    system["requires"] = [*current, *requires]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def _entries(root: Path) -> list[Path]:
    """Everything under *root*, sorted by POSIX path (a folder before its contents)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        found += [base / d for d in dirs]
        found += [base / f for f in files]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _member(root: Path, path: Path, epoch: int) -> tuple[tarfile.TarInfo, IO[bytes] | None]:
    name = path.relative_to(root).as_posix()
    info = os.lstat(path)
    member = tarfile.TarInfo(name)
    member.mtime = epoch
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    if stat.S_ISLNK(info.st_mode):
        member.type = tarfile.SYMTYPE
        member.linkname = os.readlink(path)
        member.mode = 0o777
        return member, None
    if stat.S_ISDIR(info.st_mode):
        member.type = tarfile.DIRTYPE
        member.mode = 0o755
        return member, None
    if stat.S_ISREG(info.st_mode):
        member.mode = 0o755 if info.st_mode & 0o111 else 0o644
        member.size = info.st_size
        return member, io.BytesIO(path.read_bytes())
    msg = f"{name}: not a file, folder or link; cannot repack it"
    raise BuildError(msg)


def repack_sdist(root: Path, target: Path, *, epoch: int) -> Path:
    """Write everything under *root* (the unpack folder holding the sdist's top-level
    folder) to *target* as a reproducible ``.tar.gz``; returns *target*."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        # No file name and a fixed time in the gzip header: the bytes depend on the
        # contents alone.
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf,
        ):
            for path in _entries(root):
                tf.addfile(*_member(root, path, epoch))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def patch_sdist(
    sdist: Path,
    requires: Sequence[str],
    out_dir: Path,
    *,
    epoch: int,
    prepare: Callable[[Path], None] | None = None,
) -> Path:
    """A copy of *sdist* in *out_dir* whose ``[build-system] requires`` has *requires*
    appended (see add_build_requires) and whose unpacked top folder *prepare* (when given)
    changed first (e.g. regenerated Cython C): same top-level folder, same name (a
    ``.zip`` sdist becomes ``<stem>.tar.gz``), byte-identical for the same input, the
    same *prepare* and *epoch*."""
    target = out_dir / (sdist_stem(sdist.name) + ".tar.gz")
    if target.resolve() == sdist.resolve():
        msg = f"{sdist}: the patched copy must go to another folder"
        raise BuildError(msg)
    with tempfile.TemporaryDirectory(prefix="wheelmirror-patch-") as tmp:
        root = Path(tmp) / "unpacked"
        top = unpack_sdist(sdist, root)
        if prepare is not None:
            prepare(top)
        add_build_requires(top, requires)
        return repack_sdist(root, target, epoch=epoch)
