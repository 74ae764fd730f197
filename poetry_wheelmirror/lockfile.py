"""Reading poetry.lock (lock-version 1.x and 2.x) without Poetry, and what an installer
would pick from a locked package's files for a given tag list (pure apart from reading)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker
from packaging.markers import Marker
from packaging.utils import InvalidWheelFilename
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.utils import parse_wheel_filename

from poetry_wheelmirror.tomlfile import load_toml

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = ["LockedPackage", "applies", "best_index_file", "read_lock"]


@dataclass(frozen=True)
class LockedPackage:
    """One ``[[package]]`` of poetry.lock."""

    name: NormalizedName
    version: str
    files: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    source_type: str = ""


def read_lock(path: Path) -> list[LockedPackage]:
    """The packages of a poetry.lock (lock-version 1.x and 2.x); ConfigError when unreadable."""
    data = load_toml(path)
    legacy_files = (
        data.get("metadata", {}).get("files", {}) if isinstance(data.get("metadata"), dict) else {}
    )
    packages = []
    for item in data.get("package", []) if isinstance(data.get("package"), list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = canonicalize_name(item["name"])
        files_list = item.get("files")
        if not isinstance(files_list, list):
            files_list = legacy_files.get(item["name"], legacy_files.get(name, []))
        files = tuple(str(f.get("file", "")) for f in files_list if isinstance(f, dict))
        hashes = tuple(str(f.get("hash", "")) for f in files_list if isinstance(f, dict))
        markers_value = item.get("markers")
        if isinstance(markers_value, str):
            markers: tuple[str, ...] = (markers_value,)
        elif isinstance(markers_value, dict):
            markers = tuple(str(v) for v in markers_value.values())
        else:
            markers = ()
        source = item.get("source")
        source_type = str(source.get("type", "")) if isinstance(source, dict) else ""
        packages.append(
            LockedPackage(
                name=name,
                version=str(item.get("version", "")),
                files=files,
                hashes=hashes,
                markers=markers,
                source_type=source_type,
            )
        )
    return packages


def applies(package: LockedPackage, marker_env: Mapping[str, str]) -> bool:
    if not package.markers:
        return True
    for text in package.markers:
        try:
            if Marker(text).evaluate(dict(marker_env)):
                return True
        except (InvalidMarker, KeyError, ValueError, TypeError):
            return True  # cannot tell: count it
        except Exception:  # packaging's UndefinedComparison and friends
            return True
    return False


def best_index_file(files: Sequence[str], tags: Sequence[Tag]) -> str | None:
    """The file an installer would choose from the index: the best compatible wheel, else
    the sdist, else None."""
    priority = {tag: i for i, tag in enumerate(tags)}
    best: tuple[int, str] | None = None
    sdist = None
    for filename in files:
        if filename.endswith(".whl"):
            try:
                wheel_tags = parse_wheel_filename(filename)[3]
            except InvalidWheelFilename:
                continue
            ranks = [priority[t] for t in wheel_tags if t in priority]
            if ranks and (best is None or min(ranks) < best[0]):
                best = (min(ranks), filename)
        elif filename.endswith((".tar.gz", ".zip", ".tar.bz2")):
            sdist = sdist or filename
    return best[1] if best else sdist
