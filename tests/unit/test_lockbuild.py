"""The lock build scheduler: tasks in parallel into staging mirrors, one final commit.

The build engine is replaced by a small function that writes a real wheel into the
staging mirror it is handed (the real engine runs in tests/e2e/test_lock_e2e.py)."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from packaging.utils import canonicalize_name

from devtools.wheels import make_wheel
from poetry_wheelmirror.errors import BuildError
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.mirror.build import BuildOutcome
from poetry_wheelmirror.mirror.build import BuildReport
from poetry_wheelmirror.mirror.lockbuild import BuildTask
from poetry_wheelmirror.mirror.lockbuild import LockBuildRow
from poetry_wheelmirror.mirror.lockbuild import build_tasks
from poetry_wheelmirror.mirror.lockbuild import core_share_env
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.store import NewWheel


def _task(name: str, size: int = 1) -> BuildTask:
    sdist = UpstreamFile(
        filename=f"{name}-1.0.tar.gz",
        url=f"https://f/{name}-1.0.tar.gz",
        sha256="a" * 64,
        size=size,
    )
    return BuildTask(canonicalize_name(name), "1.0", sdist, interpreter=None, python="3.11")


class FakeEngine:
    """Builds by writing a wheel; records how many run at once and the env it was given."""

    def __init__(self, tmp: Path, fail: set[str]) -> None:
        self.tmp = tmp
        self.fail = fail
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.envs: dict[str, dict[str, str]] = {}
        self.started: list[str] = []

    def __call__(self, pins, *, store: MirrorStore, recipes, **kw):  # type: ignore[no-untyped-def]
        ((name, version),) = pins
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.envs[name] = dict(recipes[name].build.env)
            self.started.append(name)
        time.sleep(0.3)
        with self.lock:
            self.running -= 1
        if name in self.fail:
            msg = f"{name}: build failed (exit 1)"
            raise BuildError(msg)
        filename = f"{name}-{version}-cp311-cp311-manylinux_2_17_x86_64.whl"
        path = make_wheel(self.tmp / name, filename)
        data = path.read_bytes()
        store.add(
            [
                NewWheel(
                    name=canonicalize_name(name),
                    version=version,
                    path=path,
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                    metadata=f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
                    source=SourceDist(f"{name}-{version}.tar.gz", "a" * 64, "https://f/x"),
                    build=BuildInfo(platform="manylinux_2_17_x86_64", python="3.11.7"),
                )
            ]
        )

        outcome = BuildOutcome(
            canonicalize_name(name), version, "3.11", "built", filename=filename, seconds=0.3
        )
        return BuildReport(outcomes=(outcome,))


def test_parallel_builds_land_in_one_commit_and_failures_do_not_stop_the_rest(
    tmp_path: Path,
) -> None:
    engine = FakeEngine(tmp_path / "wheels", fail={"bad"})
    store = MirrorStore(tmp_path / "mirror")
    downloads: list[str] = []
    rows, added = build_tasks(
        [_task(n) for n in ("alpha", "bad", "gamma", "delta")],
        store=store,
        recipes={},
        build_pins=engine,
        engine_args=dict,
        download=lambda sdist, dest: downloads.append(sdist.filename),
        cache_dir=tmp_path / "cache",
        jobs=2,
        cores=2,
        progress=lambda m: None,
    )
    assert engine.most == 2
    assert engine.envs["alpha"]["MAKEFLAGS"] == "-j1"
    assert sorted(downloads) == [f"{n}-1.0.tar.gz" for n in ("alpha", "bad", "delta", "gamma")]
    assert {(r.name, r.status) for r in rows} == {
        ("alpha", "built"),
        ("bad", "failed"),
        ("gamma", "built"),
        ("delta", "built"),
    }
    assert next(r.detail for r in rows if r.name == "bad") == "bad: build failed (exit 1)"
    root = store.root()
    assert root is not None
    assert sorted(root.packages) == ["alpha", "delta", "gamma"]
    assert sum(1 for p in added.added if p.endswith(".whl")) == 3


def _one_job(engine: FakeEngine, tasks: list[BuildTask], tmp_path: Path) -> list[LockBuildRow]:
    """build_tasks with --jobs 1 on a 2-core machine, into a mirror under *tmp_path*."""
    rows, _ = build_tasks(
        tasks,
        store=MirrorStore(tmp_path / "mirror"),
        recipes={},
        build_pins=engine,
        engine_args=dict,
        download=lambda sdist, dest: None,
        cache_dir=tmp_path / "cache",
        jobs=1,
        cores=2,
        progress=lambda m: None,
    )
    return rows


def test_one_job_runs_one_at_a_time_with_every_core(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path / "wheels", fail=set())
    _one_job(engine, [_task(n) for n in ("alpha", "gamma")], tmp_path)
    assert engine.most == 1
    assert engine.envs["gamma"]["MAKEFLAGS"] == "-j2"


def test_core_share() -> None:
    assert core_share_env(8, 3)["MAKEFLAGS"] == "-j2"
    assert core_share_env(2, 4)["CMAKE_BUILD_PARALLEL_LEVEL"] == "1"


def test_biggest_sdists_start_first_and_rows_keep_the_lock_order(tmp_path: Path) -> None:
    # A long build started last runs alone on an otherwise idle machine; starting the
    # biggest sdists first is what keeps --jobs 2 near half the sequential time.
    engine = FakeEngine(tmp_path / "wheels", fail=set())
    sizes = {"small": 10, "huge": 7_000_000, "tiny": 1, "medium": 400_000}
    rows = _one_job(engine, [_task(name, size) for name, size in sizes.items()], tmp_path)
    assert engine.started == ["huge", "medium", "small", "tiny"]
    assert [r.name for r in rows] == ["small", "huge", "tiny", "medium"]
