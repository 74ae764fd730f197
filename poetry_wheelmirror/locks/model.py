"""The lock model shared by the poetry.lock, uv.lock and requirements readers (pure).

A lock pins distributions. Which of them a machine installs is decided either by a
marker on each pin (poetry.lock 2.1, requirements files) or by walking the dependency
graph from the project with the markers on its edges (uv.lock).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Final
from typing import Literal

from packaging.markers import InvalidMarker
from packaging.markers import Marker

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

__all__ = [
    "PYPI_HOSTS",
    "Edge",
    "Lock",
    "LockKind",
    "LockedDist",
    "LockedFile",
    "SourceKind",
    "marker_holds",
]

LockKind = Literal["poetry", "uv", "requirements"]
#: Where a pin comes from: PyPI (planned), another index, or a non-index source (not planned).
SourceKind = Literal["pypi", "index", "git", "url", "path", "project"]

#: Index URLs that mean PyPI itself.
PYPI_HOSTS: Final = ("https://pypi.org/simple", "https://pypi.python.org/simple")


@dataclass(frozen=True)
class LockedFile:
    """One file a pin allows; *filename* is "" when the lock records only the hash."""

    filename: str
    sha256: str

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def is_sdist(self) -> bool:
        return self.filename.endswith((".tar.gz", ".zip", ".tar.bz2"))


@dataclass(frozen=True)
class Edge:
    """A dependency edge in a graph lock (uv.lock): taken when *marker* holds."""

    name: NormalizedName
    marker: str = ""
    #: Set when the lock pins several versions of *name* (uv's resolution forks).
    version: str = ""
    extras: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockedDist:
    """One pinned distribution."""

    name: NormalizedName
    version: str
    files: tuple[LockedFile, ...] = ()
    source: SourceKind = "pypi"
    #: The index URL, or the git/url/path reference, for the notes.
    source_detail: str = ""
    #: Installed when any of these holds (poetry.lock 2.1, requirements); () = always.
    markers: tuple[str, ...] = ()
    #: Graph locks: the dependency edges, plain and per extra or group.
    edges: tuple[Edge, ...] = ()
    extra_edges: Mapping[str, tuple[Edge, ...]] = field(default_factory=dict)

    @property
    def hashes(self) -> frozenset[str]:
        return frozenset(f.sha256 for f in self.files if f.sha256)

    @property
    def key(self) -> tuple[NormalizedName, str]:
        return (self.name, self.version)


@functools.lru_cache(maxsize=4096)
def _marker(text: str) -> Marker | None:
    try:
        return Marker(text)
    except InvalidMarker:
        return None


def marker_holds(text: str, env: Mapping[str, str]) -> bool:
    """Whether *text* holds in *env*; a marker that cannot be evaluated counts as holding
    (better to plan a package too many than to miss one that compiles)."""
    if not text.strip():
        return True
    marker = _marker(text)
    if marker is None:
        return True
    try:
        return marker.evaluate(dict(env))
    except Exception:  # packaging's UndefinedComparison/UndefinedEnvironmentName
        return True


@dataclass(frozen=True)
class Lock:
    """A parsed lock file."""

    kind: LockKind
    dists: tuple[LockedDist, ...]
    #: Graph locks: the project's own entries (uv workspace members), the walk's roots.
    roots: tuple[LockedDist, ...] = ()
    #: Root groups installed by default (uv: "dev").
    default_groups: tuple[str, ...] = ()
    #: Things the reader could not model, shown to the user (never fatal).
    notes: tuple[str, ...] = ()

    def with_pypi(self, proxies: set[str]) -> Lock:
        """This lock with pins from the *proxies* indexes (they serve PyPI's files) as
        PyPI pins."""

        def fix(d: LockedDist) -> LockedDist:
            if d.source == "index" and d.source_detail.rstrip("/") in proxies:
                return dataclasses.replace(d, source="pypi", source_detail="")
            return d

        return dataclasses.replace(
            self, dists=tuple(map(fix, self.dists)), roots=tuple(map(fix, self.roots))
        )

    def installed(self, env: Mapping[str, str]) -> list[LockedDist]:
        """The pins a machine with marker environment *env* installs, in lock order."""
        if not self.roots:
            return [
                d
                for d in self.dists
                if not d.markers or any(marker_holds(m, env) for m in d.markers)
            ]
        return self._walk(env)

    def _walk(self, env: Mapping[str, str]) -> list[LockedDist]:
        by_name: dict[NormalizedName, list[LockedDist]] = {}
        for dist in self.dists:
            by_name.setdefault(dist.name, []).append(dist)
        seen: set[tuple[NormalizedName, str, str]] = set()
        reached: set[tuple[NormalizedName, str]] = set()
        stack: list[tuple[LockedDist, str]] = []
        for root in self.roots:
            stack.append((root, ""))
            stack.extend((root, f"group:{g}") for g in self.default_groups)
        while stack:
            dist, part = stack.pop()
            if (dist.name, dist.version, part) in seen:
                continue
            seen.add((dist.name, dist.version, part))
            reached.add(dist.key)
            edges: Sequence[Edge] = dist.edges if not part else dist.extra_edges.get(part, ())
            for edge in edges:
                if not marker_holds(edge.marker, {**env, "extra": ""}):
                    continue
                for target in _edge_targets(by_name.get(edge.name, []), edge):
                    stack.append((target, ""))
                    stack.extend((target, f"extra:{e}") for e in edge.extras)
        root_keys = {r.key for r in self.roots}
        return [d for d in self.dists if d.key in reached and d.key not in root_keys]


def _edge_targets(candidates: Sequence[LockedDist], edge: Edge) -> Sequence[LockedDist]:
    # uv names the version when it locked several (forks); otherwise there is one.
    if edge.version:
        return [c for c in candidates if c.version == edge.version]
    return candidates
