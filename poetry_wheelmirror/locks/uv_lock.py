"""uv.lock (version 1) into the lock model (pure).

uv.lock keeps no marker per package: a package is installed when an edge leading to it
from the project holds, so the model keeps the edges and ``Lock.installed`` walks them
from the workspace members (``source = { editable | virtual = ... }``) with the default
``dev`` group, as ``uv sync`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.utils import canonicalize_name

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.locks.model import PYPI_HOSTS
from poetry_wheelmirror.locks.model import Edge
from poetry_wheelmirror.locks.model import Lock
from poetry_wheelmirror.locks.model import LockedDist
from poetry_wheelmirror.locks.model import LockedFile
from poetry_wheelmirror.locks.model import SourceKind

__all__ = ["parse_uv_lock"]

_ROOT_SOURCES = ("editable", "virtual")


def _file(entry: object) -> LockedFile | None:
    if not isinstance(entry, dict):
        return None
    url = str(entry.get("url") or entry.get("path") or entry.get("filename") or "")
    filename = str(entry.get("filename") or url.rsplit("/", 1)[-1].split("#", 1)[0])
    digest = str(entry.get("hash", ""))
    sha256 = digest[len("sha256:") :].lower() if digest.startswith("sha256:") else ""
    return LockedFile(filename=filename, sha256=sha256)


def _source(value: object) -> tuple[SourceKind, str]:
    if not isinstance(value, dict):
        return "pypi", ""
    if "registry" in value:
        url = str(value["registry"])
        return ("pypi", "") if url.rstrip("/") in PYPI_HOSTS else ("index", url)
    for key in _ROOT_SOURCES:
        if key in value:
            return "project", str(value[key])
    if "git" in value:
        return "git", str(value["git"])
    if "url" in value:
        return "url", str(value["url"])
    return "path", str(value.get("path") or value.get("directory") or "")


def _edges(value: object) -> tuple[Edge, ...]:
    if not isinstance(value, list):
        return ()
    edges = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            extras = item.get("extra", [])
            edges.append(
                Edge(
                    name=canonicalize_name(item["name"]),
                    marker=str(item.get("marker", "")),
                    version=str(item.get("version", "")),
                    extras=tuple(str(e) for e in extras) if isinstance(extras, list) else (),
                )
            )
    return tuple(edges)


def _extra_edges(item: Mapping[str, Any]) -> dict[str, tuple[Edge, ...]]:
    out: dict[str, tuple[Edge, ...]] = {}
    for table, prefix in (("optional-dependencies", "extra"), ("dev-dependencies", "group")):
        value = item.get(table)
        if isinstance(value, dict):
            for key, deps in value.items():
                out[f"{prefix}:{key}"] = _edges(deps)
    return out


def parse_uv_lock(data: Mapping[str, Any], *, source: str) -> Lock:
    """The lock model of a parsed uv.lock; ConfigError when it is not one."""
    packages = data.get("package", [])
    if not isinstance(data.get("version"), int) or not isinstance(packages, list):
        msg = f"{source}: not a uv.lock (no version or [[package]])"
        raise ConfigError(msg)
    dists = []
    for item in packages:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        files = [_file(item.get("sdist"))] if "sdist" in item else []
        wheels = item.get("wheels", [])
        files += [_file(w) for w in wheels] if isinstance(wheels, list) else []
        kind, detail = _source(item.get("source"))
        dists.append(
            LockedDist(
                name=canonicalize_name(item["name"]),
                version=str(item.get("version", "")),
                files=tuple(f for f in files if f is not None),
                source=kind,
                source_detail=detail,
                edges=_edges(item.get("dependencies")),
                extra_edges=_extra_edges(item),
            )
        )
    roots = tuple(d for d in dists if d.source == "project")
    notes: tuple[str, ...] = ()
    if not roots:
        notes = (f"{source}: no project entry to walk from; every package counts",)
    return Lock(kind="uv", dists=tuple(dists), roots=roots, default_groups=("dev",), notes=notes)
