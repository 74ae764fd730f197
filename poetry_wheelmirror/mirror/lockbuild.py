"""Building what a lock would compile on this machine, several builds at once.

The lock plan for this machine's targets names the pins that build from source and the
exact sdist each one locks (PyPI's file with the lock's sha256; a differing hash was
refused by the plan). Each (pin, interpreter) is one task for the build engine's
``build_pins``, run into a staging mirror of its own so tasks never share a
transaction; ``jobs`` tasks run at once, each told its share of the cores
(``MAKEFLAGS=-jN`` and friends), the largest sdists first: a big build started last
would leave the other cores idle while it runs alone, so longest-first (with the sdist's
size standing in for the build's length) keeps the parallel run close to CPU time / jobs.
Build dependencies come from uv's cache, which every build shares. At the end every
wheel that built goes into the mirror in one ``MirrorStore.add`` commit; a failed task
is recorded and the others go on.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.mirror.recipes import parse_recipe
from poetry_wheelmirror.mirror.store import AddResult
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.store import NewWheel

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.mirror.pypi import UpstreamFile
    from poetry_wheelmirror.mirror.pypi import UpstreamProject
    from poetry_wheelmirror.mirror.recipes import Recipe

__all__ = [
    "BuildTask",
    "LockBuildRow",
    "build_tasks",
    "core_share_env",
    "longest_first",
    "staged_wheels",
]

Status = Literal["built", "skipped", "failed", "refused"]


@dataclass(frozen=True)
class BuildTask:
    """One locked sdist to build for one interpreter."""

    name: NormalizedName
    version: str
    sdist: UpstreamFile
    #: The build engine's Interpreter (kept opaque here).
    interpreter: Any
    python: str


@dataclass(frozen=True)
class LockBuildRow:
    name: NormalizedName
    version: str
    python: str
    status: Status
    detail: str
    seconds: float = 0.0


def core_share_env(cores: int, jobs: int) -> dict[str, str]:
    """What tells a build how many cores it may use, when *jobs* builds share *cores*."""
    share = str(max(1, cores // max(1, jobs)))
    return {
        "MAKEFLAGS": f"-j{share}",
        "CMAKE_BUILD_PARALLEL_LEVEL": share,
        "NPY_NUM_BUILD_JOBS": share,
        "MAX_JOBS": share,
        "CARGO_BUILD_JOBS": share,
    }


def _with_env(recipe: Recipe | None, task: BuildTask, env: Mapping[str, str]) -> Recipe:
    base = recipe or parse_recipe(f'name = "{task.name}"\nversions = ["{task.version}"]\n')
    settings = base.build
    merged = {**env, **settings.env}  # a recipe's own setting wins
    return dataclasses.replace(base, build=dataclasses.replace(settings, env=merged))


def staged_wheels(
    store: MirrorStore,
) -> tuple[list[NewWheel], dict[NormalizedName, UpstreamProject]]:
    """The wheels a staging mirror holds, as NewWheels for another mirror's commit."""
    from poetry_wheelmirror.manifest import BuildInfo
    from poetry_wheelmirror.mirror.collect import wheel_metadata

    root = store.root()
    new: list[NewWheel] = []
    upstreams: dict[NormalizedName, UpstreamProject] = {}
    for name in sorted(root.packages) if root else []:
        doc = store.package(name)
        upstream = store.upstream(name)
        if doc is None:
            continue
        if upstream is not None:
            upstreams[doc.name] = upstream
        for entry in doc.versions.values():
            for wheel in entry.wheels:
                path = store.wheel_path(doc.name, wheel.filename)
                new.append(
                    NewWheel(
                        name=doc.name,
                        version=entry.version,
                        path=path,
                        sha256=wheel.sha256,
                        size=wheel.size,
                        metadata=wheel_metadata(path),
                        source=entry.source,
                        build=wheel.build or BuildInfo(platform="", python=""),
                        requires_python=wheel.requires_python,
                    )
                )
    return new, upstreams


BuildPins = Callable[..., Any]


def longest_first(tasks: Sequence[BuildTask]) -> list[tuple[int, BuildTask]]:
    """(index, task) pairs, biggest sdist first (ties keep the lock's order)."""
    return sorted(enumerate(tasks), key=lambda pair: -pair[1].sdist.size)


def _run_task(
    task: BuildTask,
    index: int,
    *,
    build_pins: BuildPins,
    stage_root: Path,
    recipes: Mapping[NormalizedName, Recipe],
    env: Mapping[str, str],
    engine_args: Mapping[str, Any],
) -> tuple[list[LockBuildRow], MirrorStore]:
    """One task into its own staging mirror; *engine_args* are build_pins' other
    arguments (each task gets its own HTTP client: no client is shared by threads)."""
    stage = MirrorStore(stage_root / f"stage-{index}")
    recipe = _with_env(recipes.get(task.name), task, env)
    started = time.monotonic()
    try:
        report = build_pins(
            [(task.name, task.version)],
            store=stage,
            interpreters=[task.interpreter],
            recipes={task.name: recipe},
            **engine_args,
        )
    except WheelmirrorError as e:  # an engine that stops at the first failure
        seconds = time.monotonic() - started
        row = LockBuildRow(task.name, task.version, task.python, "failed", str(e), seconds)
        return [row], stage
    rows = []
    for outcome in report.outcomes:
        status: Status = (
            "built"
            if outcome.status == "built"
            else "skipped"
            if outcome.status == "skipped"
            else "failed"
        )
        detail = outcome.filename if status == "built" else outcome.reason
        rows.append(
            LockBuildRow(task.name, task.version, outcome.python, status, detail, outcome.seconds)
        )
    return rows, stage


def build_tasks(
    tasks: Sequence[BuildTask],
    *,
    store: MirrorStore,
    recipes: Mapping[NormalizedName, Recipe],
    build_pins: BuildPins,
    engine_args: Callable[[], Mapping[str, Any]],
    download: Callable[[UpstreamFile, Path], None],
    cache_dir: Path,
    jobs: int,
    cores: int | None = None,
    progress: Callable[[str], None],
) -> tuple[list[LockBuildRow], AddResult]:
    """Build *tasks*, *jobs* at a time, then add every wheel that built in one commit."""
    cores = cores or os.cpu_count() or 1
    env = core_share_env(cores, jobs)
    # Fetch each locked sdist once, verified, before the builds start: parallel builds
    # of one sdist for two interpreters then never download it twice.
    for sdist in {t.sdist.filename: t.sdist for t in tasks}.values():
        download(sdist, cache_dir / "sdists" / sdist.filename)
    progress(f"{len(tasks)} build(s), {jobs} at a time, {env['MAKEFLAGS']} each")
    with tempfile.TemporaryDirectory(prefix="wheelmirror-lock-build-") as tmp:
        stage_root = Path(tmp)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {
                i: pool.submit(
                    _run_task,
                    task,
                    i,
                    build_pins=build_pins,
                    stage_root=stage_root,
                    recipes=recipes,
                    env=env,
                    engine_args={**engine_args(), "cache_dir": cache_dir, "progress": progress},
                )
                for i, task in longest_first(tasks)
            }
            results = [futures[i].result() for i in range(len(tasks))]  # the lock's order
        rows = [row for task_rows, _ in results for row in task_rows]
        new: list[NewWheel] = []
        upstreams: dict[NormalizedName, UpstreamProject] = {}
        for _, stage in results:
            wheels, ups = staged_wheels(stage)
            new += wheels
            upstreams.update(ups)
        if not new:
            return rows, AddResult()
        progress(f"adding {len(new)} wheel(s) to {store.path}")
        added = store.add(new, upstreams)
        for _, stage in results:
            shutil.rmtree(stage.path, ignore_errors=True)
    return rows, added
