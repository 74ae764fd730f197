"""poetry.lock (lock-version 1.x, 2.0 and 2.1) into the lock model (pure).

lock-version 2.1 (Poetry 2.x) records on each package the marker under which the
project installs it (absent: always), so no dependency walk is needed. Older locks
record none: every package then counts for every target, and a note says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.utils import canonicalize_name

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.locks.model import PYPI_HOSTS
from poetry_wheelmirror.locks.model import Lock
from poetry_wheelmirror.locks.model import LockedDist
from poetry_wheelmirror.locks.model import LockedFile
from poetry_wheelmirror.locks.model import SourceKind

__all__ = ["parse_poetry_lock"]


def _sha256(value: object) -> str:
    text = str(value or "")
    return text[len("sha256:") :].lower() if text.startswith("sha256:") else ""


def _source(item: Mapping[str, Any]) -> tuple[SourceKind, str]:
    source = item.get("source")
    if not isinstance(source, dict):
        return "pypi", ""
    kind = str(source.get("type", ""))
    url = str(source.get("url", ""))
    if kind in ("legacy", ""):
        if url.rstrip("/") in PYPI_HOSTS:
            return "pypi", ""
        return "index", url
    if kind == "git":
        return "git", url
    if kind == "url":
        return "url", url
    return "path", url  # file, directory


def _markers(item: Mapping[str, Any]) -> tuple[str, ...]:
    value = item.get("markers")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, dict):  # per dependency group
        return tuple(str(v) for v in value.values())
    return ()


def parse_poetry_lock(data: Mapping[str, Any], *, source: str) -> Lock:
    """The lock model of a parsed poetry.lock; ConfigError when it is not one."""
    metadata = data.get("metadata")
    packages = data.get("package", [])
    if not isinstance(metadata, dict) or not isinstance(packages, list):
        msg = f"{source}: not a poetry.lock (no [metadata] or [[package]])"
        raise ConfigError(msg)
    lock_version = str(metadata.get("lock-version", "1.0"))
    legacy_files = metadata.get("files", {}) if isinstance(metadata.get("files"), dict) else {}
    has_markers = tuple(int(p) for p in lock_version.split(".")[:2] if p.isdigit()) >= (2, 1)
    dists = []
    for item in packages:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        if item.get("optional") is True and not has_markers:
            continue  # an extra's package: not installed without the extra
        files_list = item.get("files")
        if not isinstance(files_list, list):
            files_list = legacy_files.get(item["name"], [])
        files = tuple(
            LockedFile(filename=str(f.get("file", "")), sha256=_sha256(f.get("hash")))
            for f in files_list
            if isinstance(f, dict)
        )
        kind, detail = _source(item)
        dists.append(
            LockedDist(
                name=canonicalize_name(item["name"]),
                version=str(item.get("version", "")),
                files=files,
                source=kind,
                source_detail=detail,
                markers=_markers(item),
            )
        )
    notes: tuple[str, ...] = ()
    if not has_markers:
        notes = (
            f"{source}: lock-version {lock_version} records no markers per package; every "
            "package counts for every target (Poetry 2 writes lock-version 2.1)",
        )
    return Lock(kind="poetry", dists=tuple(dists), notes=notes)
