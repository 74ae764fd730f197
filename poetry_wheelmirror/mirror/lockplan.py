"""Planning from a lock (pure apart from the page look-ups it is handed): for each pinned
package and install target, what that machine's installer will do with it.

Answers, in the order they are checked:

* ``pypi-wheel``: a wheel the lock allows fits the target (the installer only takes
  files whose hashes the lock records, so a wheel uploaded after locking does not count);
* ``mirror-wheel``: the mirror has a wheel for the pinned version that fits;
* ``build``: the installer will build the locked sdist, and the mirror can build it
  too: PyPI's sdist has the sha256 the lock records;
* ``refused``: PyPI's sdist differs from the lock's (one-line reason); never built;
* ``no-source``: no fitting wheel and no sdist the lock allows.

Pins from git, URLs, paths or other indexes are listed as notes, not planned. PyPI pages
are asked for lazily (only pins that need a build, or requirement files' hash-only pins).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Literal

from packaging.utils import InvalidWheelFilename
from packaging.utils import NormalizedName
from packaging.utils import parse_wheel_filename

from poetry_wheelmirror.mirror.plan import Missing
from poetry_wheelmirror.mirror.plan import Note
from poetry_wheelmirror.mirror.plan import Plan
from poetry_wheelmirror.mirror.recipes import TARGETS

if TYPE_CHECKING:
    from packaging.tags import Tag

    from poetry_wheelmirror.locks.model import Lock
    from poetry_wheelmirror.locks.model import LockedDist
    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.mirror.pypi import UpstreamFile
    from poetry_wheelmirror.targets import InstallTarget

__all__ = [
    "ANSWER_LABELS",
    "Answer",
    "LockPlan",
    "PackageAnswer",
    "TargetPlan",
    "as_matrix_plan",
    "plan_lock",
    "table_lines",
]

Answer = Literal["pypi-wheel", "mirror-wheel", "build", "refused", "no-source"]

#: PyPI's files of a version of a project; None when PyPI does not know the project.
#: How the table names each answer, in the order rows are listed.
ANSWER_LABELS: dict[Answer, str] = {
    "pypi-wheel": "PyPI wheel",
    "mirror-wheel": "mirror wheel",
    "build": "builds from source",
    "refused": "REFUSED",
    "no-source": "no source",
}

Upstream = Callable[[NormalizedName, str], "Sequence[UpstreamFile] | None"]
MirrorDocs = Callable[[NormalizedName], "PackageDocument | None"]


@dataclass(frozen=True)
class PackageAnswer:
    name: NormalizedName
    version: str
    answer: Answer
    #: The wheel's filename, or the sdist's, or why not.
    detail: str
    #: For ``build``: PyPI's sdist (same sha256 as the lock's).
    sdist: UpstreamFile | None = None


@dataclass(frozen=True)
class TargetPlan:
    target: InstallTarget
    answers: tuple[PackageAnswer, ...]
    #: Pins this target does not install (their markers exclude it).
    not_installed: int

    def by_answer(self, answer: Answer) -> list[PackageAnswer]:
        return [a for a in self.answers if a.answer == answer]


@dataclass(frozen=True)
class LockPlan:
    targets: tuple[TargetPlan, ...]
    notes: tuple[str, ...]


@functools.lru_cache(maxsize=65536)
def _wheel_tags(filename: str) -> frozenset[Tag]:
    try:
        return frozenset(parse_wheel_filename(filename)[3])
    except InvalidWheelFilename:
        return frozenset()


def _fitting(filenames: Sequence[str], tags: frozenset[Tag]) -> str | None:
    for filename in filenames:
        if filename.endswith(".whl") and not _wheel_tags(filename).isdisjoint(tags):
            return filename
    return None


class _Planner:
    def __init__(self, upstream: Upstream, mirror: MirrorDocs) -> None:
        self._upstream = functools.cache(upstream)
        self._mirror = functools.cache(mirror)

    def _pypi_files(self, dist: LockedDist) -> Sequence[UpstreamFile]:
        return self._upstream(dist.name, dist.version) or ()

    def _locked_wheels(self, dist: LockedDist) -> list[str]:
        if all(f.filename for f in dist.files):
            return [f.filename for f in dist.files if f.is_wheel]
        # Hash-only pins (requirements files): PyPI's files with the lock's hashes.
        allowed = dist.hashes
        return [
            f.filename
            for f in self._pypi_files(dist)
            if f.is_wheel and not f.yanked and (not allowed or f.sha256 in allowed)
        ]

    def _mirror_wheel(self, dist: LockedDist, tags: frozenset[Tag]) -> str | None:
        doc = self._mirror(dist.name)
        entry = doc.entry_for(dist.version) if doc else None
        if entry is None:
            return None
        return _fitting([w.filename for w in entry.wheels if not w.yanked], tags)

    def _source(self, dist: LockedDist) -> PackageAnswer:
        def answer(kind: Answer, detail: str, sdist: UpstreamFile | None = None) -> PackageAnswer:
            return PackageAnswer(dist.name, dist.version, kind, detail, sdist)

        locked = [f for f in dist.files if f.is_sdist]
        pypi = [f for f in self._pypi_files(dist) if f.is_sdist and not f.yanked]
        if any(not f.filename for f in dist.files) or not dist.files:
            # Hash-only (or hash-less) pins: the lock allows PyPI's sdist when it lists its hash.
            allowed = dist.hashes
            for f in pypi:
                if not allowed or f.sha256 in allowed:
                    return answer("build", f.filename, f)
            if pypi:
                return answer(
                    "refused",
                    f"PyPI's {pypi[0].filename} (sha256 {pypi[0].sha256[:12]}…) "
                    "is not among the lock's hashes",
                )
            return answer("no-source", "no wheel for this target and no sdist on PyPI")
        if not locked:
            return answer("no-source", "no wheel for this target and the lock names no sdist")
        by_name = {f.filename: f for f in pypi}
        for lf in locked:
            up = by_name.get(lf.filename)
            if up is not None and up.sha256 == lf.sha256:
                return answer("build", lf.filename, up)
        lf = locked[0]
        up = by_name.get(lf.filename)
        if up is None:
            return answer("no-source", f"the lock's {lf.filename} is not on PyPI")
        return answer(
            "refused",
            f"the lock's {lf.filename} has sha256 {lf.sha256[:12]}…, PyPI's "
            f"{up.sha256[:12]}…; not built",
        )

    def answer(self, dist: LockedDist, tags: frozenset[Tag]) -> PackageAnswer:
        wheel = _fitting(self._locked_wheels(dist), tags)
        if wheel is not None:
            return PackageAnswer(dist.name, dist.version, "pypi-wheel", wheel)
        mirror_wheel = self._mirror_wheel(dist, tags)
        if mirror_wheel is not None:
            return PackageAnswer(dist.name, dist.version, "mirror-wheel", mirror_wheel)
        return self._source(dist)


def plan_lock(
    lock: Lock,
    targets: Sequence[InstallTarget],
    *,
    upstream: Upstream,
    mirror: MirrorDocs,
    pypi_proxies: Sequence[str] = (),
) -> LockPlan:
    """Every target's answer for every PyPI pin the target installs; pins locked from an
    index in *pypi_proxies* (one serving PyPI's files) count as PyPI pins."""
    planner = _Planner(upstream, mirror)
    notes = list(lock.notes)
    proxies = {p.rstrip("/") for p in pypi_proxies}
    if proxies:
        lock = lock.with_pypi(proxies)
    for dist in lock.dists:
        if dist.source not in ("pypi", "project"):
            what = f"{dist.name} {dist.version}".strip()
            notes.append(
                f"{what}: from {dist.source} {dist.source_detail}".rstrip() + "; not planned"
            )
    plans = []
    for target in targets:
        installed = lock.installed(target.marker_env())
        planned = [d for d in installed if d.source == "pypi"]
        answers = tuple(planner.answer(d, target.tags()) for d in planned)
        relevant = sum(1 for d in lock.dists if d.source != "project")
        plans.append(TargetPlan(target, answers, not_installed=relevant - len(installed)))
    return LockPlan(targets=tuple(plans), notes=tuple(notes))


def as_matrix_plan(plans: Sequence[LockPlan]) -> Plan:
    """The ``build`` answers as the recipe planner's Plan, so ``matrix_json`` gives the same
    GitHub Actions matrix; one job per (package, version, python, platform)."""
    missing: dict[tuple[str, str, str, str], Missing] = {}
    covered = 0
    notes: list[Note] = []
    for plan in plans:
        for tp in plan.targets:
            t = TARGETS[tp.target.platform]
            for a in tp.answers:
                if a.answer in ("pypi-wheel", "mirror-wheel"):
                    covered += 1
                elif a.answer == "build" and a.sdist is not None:
                    cp = "cp" + tp.target.python.replace(".", "")
                    key = (a.name, a.version, tp.target.python, t.name)
                    missing.setdefault(
                        key,
                        Missing(
                            package=a.name,
                            version=a.version,
                            python=tp.target.python,
                            platform=t.name,
                            runner=t.runner,
                            build=f"{cp}-{t.cibw_platform}",
                            sdist=a.sdist.filename,
                            sdist_url=a.sdist.url,
                            sdist_sha256=a.sdist.sha256,
                        ),
                    )
                else:
                    notes.append(Note(a.name, a.version, f"{tp.target.label}: {a.detail}"))
    return Plan(missing=tuple(missing.values()), notes=tuple(notes), covered=covered)


def table_lines(title: str, plan: LockPlan) -> list[str]:
    """The plan as text: per target a heading, one row per pin, and the counts."""
    order = list(ANSWER_LABELS)
    lines = []
    for tp in plan.targets:
        lines.append(
            f"{title}: {tp.target.label} ({len(tp.answers)} installed from PyPI, "
            f"{tp.not_installed} not installed there)"
        )
        answers = sorted(tp.answers, key=lambda a: (order.index(a.answer), a.name))
        rows = [(a.name, a.version, ANSWER_LABELS[a.answer], a.detail) for a in answers]
        header = ("PACKAGE", "VERSION", "ANSWER", "DETAIL")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            cells = [c.ljust(w) for c, w in zip(row[:3], widths)]
            lines.append("  " + "  ".join([*cells, row[3]]).rstrip())
        counts = ", ".join(f"{len(tp.by_answer(k))} {v}" for k, v in ANSWER_LABELS.items())
        lines.extend([f"  {counts}", ""])
    return lines
