"""The planner (pure): which (package, version, python, platform) wheels are missing.

A combination is *missing* when PyPI has a (non-yanked) sdist for the version whose
requires-python admits the python, PyPI has no wheel a typical client on that target
would install (``Target.client_platform``), and the mirror has not published one
either. The result doubles as a GitHub Actions matrix (``matrix_json``).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from packaging.specifiers import InvalidSpecifier
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename
from packaging.utils import NormalizedName
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from poetry_wheelmirror.mirror.pypi import pick_sdist
from poetry_wheelmirror.mirror.recipes import TARGETS
from poetry_wheelmirror.selection import supported_tags

if TYPE_CHECKING:
    from packaging.tags import Tag

    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.mirror.pypi import UpstreamProject
    from poetry_wheelmirror.mirror.recipes import Recipe

__all__ = [
    "MAX_MATRIX_JOBS",
    "CandidateWheel",
    "Missing",
    "Note",
    "Plan",
    "candidate_wheels",
    "make_plan",
    "matrix_json",
    "sdist_admits",
    "serving_wheel",
]

#: GitHub Actions refuses a matrix with more jobs than this.
MAX_MATRIX_JOBS: Final = 256


@dataclass(frozen=True)
class Missing:
    """One wheel to build: a matrix entry."""

    package: NormalizedName
    version: str
    python: str
    platform: str
    runner: str
    #: cibuildwheel build identifier, e.g. ``cp311-manylinux_x86_64``.
    build: str
    sdist: str
    sdist_url: str
    sdist_sha256: str


@dataclass(frozen=True)
class Note:
    """Something the planner could not plan, and why (shown, never fatal)."""

    package: NormalizedName
    version: str
    reason: str


@dataclass(frozen=True)
class Plan:
    missing: tuple[Missing, ...]
    notes: tuple[Note, ...]
    #: Combinations already served by a PyPI or mirror wheel.
    covered: int


class _TagCache:
    """Supported tag sets per (python, client platform), computed once per plan."""

    def __init__(self) -> None:
        self._sets: dict[tuple[str, str], frozenset[Tag]] = {}

    def get(self, python: str, platform: str) -> frozenset[Tag]:
        key = (python, platform)
        if key not in self._sets:
            self._sets[key] = frozenset(supported_tags(python, platform))
        return self._sets[key]


@dataclass(frozen=True)
class CandidateWheel:
    """A wheel that may serve an installer: its tags and requires-python, parsed once."""

    filename: str
    tags: frozenset[Tag]
    requires_python: SpecifierSet | None


def _spec(value: str | None) -> SpecifierSet | None:
    if not value:
        return None
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        return None


def candidate_wheels(filenames: Iterable[tuple[str, str | None]]) -> list[CandidateWheel]:
    """(filename, requires-python) pairs parsed; malformed filenames are left out."""
    out = []
    for filename, requires_python in filenames:
        try:
            tags = parse_wheel_filename(filename)[3]
        except InvalidWheelFilename:
            continue
        out.append(CandidateWheel(filename, frozenset(tags), _spec(requires_python)))
    return out


def serving_wheel(
    wheels: Sequence[CandidateWheel], supported: frozenset[Tag], python: Version
) -> str | None:
    """The first wheel an installer with *supported* tags on *python* would accept, or
    None: then a wheel is needed here. The one rule the planner and the local builder
    share (callers leave yanked wheels out)."""
    for w in wheels:
        if not w.tags.isdisjoint(supported) and (
            w.requires_python is None or w.requires_python.contains(python, prereleases=True)
        ):
            return w.filename
    return None


def sdist_admits(requires_python: str | None, python: Version) -> bool:
    """Whether an sdist's requires-python admits *python* (an invalid one admits all)."""
    spec = _spec(requires_python)
    return spec is None or spec.contains(python, prereleases=True)


def make_plan(
    recipes: Mapping[NormalizedName, Recipe],
    upstream: Mapping[NormalizedName, UpstreamProject | None],
    mirror: Mapping[NormalizedName, PackageDocument | None],
) -> Plan:
    """The missing wheels for every recipe, in recipe-name, version, python, target order."""
    tags = _TagCache()
    missing: list[Missing] = []
    notes: list[Note] = []
    covered = 0
    for name in sorted(recipes):
        recipe = recipes[name]
        project = upstream.get(name)
        if project is None:
            notes.append(Note(name, "", "not on PyPI"))
            continue
        by_version = project.by_version()
        available = {str(v): v for v in by_version}
        for wanted in recipe.versions:
            if not any(Version(wanted) == v for v in by_version):
                notes.append(Note(name, wanted, "version not on PyPI"))
        doc = mirror.get(name)
        for version_s in recipe.select_versions(available):
            version = available[version_s]
            sdist = pick_sdist(by_version[version])
            if sdist is None:
                notes.append(Note(name, version_s, "no sdist on PyPI"))
                continue
            files = by_version[version]
            pypi_wheels = candidate_wheels(
                [(f.filename, f.requires_python) for f in files if f.is_wheel and not f.yanked]
            )
            entry = doc.entry_for(version_s) if doc else None
            mirror_wheels = candidate_wheels(
                [(w.filename, w.requires_python) for w in entry.wheels if not w.yanked]
                if entry
                else []
            )
            for python in recipe.pythons:
                python_v = Version(python)
                if not sdist_admits(sdist.requires_python, python_v):
                    continue
                for target_name in recipe.platforms:
                    target = TARGETS[target_name]
                    supported = tags.get(python, target.client_platform)
                    if serving_wheel(pypi_wheels, supported, python_v) or serving_wheel(
                        mirror_wheels, supported, python_v
                    ):
                        covered += 1
                        continue
                    cp = "cp" + python.replace(".", "")
                    missing.append(
                        Missing(
                            package=name,
                            version=version_s,
                            python=python,
                            platform=target.name,
                            runner=target.runner,
                            build=f"{cp}-{target.cibw_platform}",
                            sdist=sdist.filename,
                            sdist_url=sdist.url,
                            sdist_sha256=sdist.sha256,
                        )
                    )
    return Plan(missing=tuple(missing), notes=tuple(notes), covered=covered)


def matrix_json(plan: Plan) -> dict[str, Any]:
    """``{"include": [...]}``: a GitHub Actions matrix, one job per missing wheel."""
    return {
        "include": [
            {
                "package": m.package,
                "version": m.version,
                "python": m.python,
                "platform": m.platform,
                "runner": m.runner,
                "build": m.build,
                "sdist": m.sdist,
                "sdist_url": m.sdist_url,
                "sdist_sha256": m.sdist_sha256,
            }
            for m in plan.missing
        ]
    }
