"""``wheelmirror build --lock`` one build at a time vs ``--jobs 2``, side by side, in one run.

    .venv/bin/python -m bench.bench_lockbuild [--no-warmup]

A throwaway project pins six packages that PyPI has no CPython 3.11 Linux wheel for
(crcmod, MarkupSafe, regex, multidict, simplejson, ujson); ``uv lock`` locks it. A warm-up
run fills the sdist and uv caches (so neither timed run downloads), then the same lock
is built into empty mirrors with ``--jobs 1`` (each build alone, with every core:
MAKEFLAGS=-j<cores>) and ``--jobs 2`` (two at a time, -j1 each), in the order 1, 2, 2, 1
so that a machine getting busier or quieter during the run weighs on both alike.
Figures are wall times of the whole command (plan, builds, repair, import checks, one
commit), the CPU time it used (all its processes) and the load average when each
started; the ratio compares the wall-time sums.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PINS = (
    "crcmod==1.7",
    "markupsafe==2.0.1",
    "regex==2022.1.18",
    "multidict==6.0.2",
    "simplejson==3.17.6",
    "ujson==5.1.0",
)
BIN = Path(sys.executable).parent


def lock(folder: Path) -> Path:
    deps = ", ".join(f'"{p}"' for p in PINS)
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0"\nrequires-python = ">=3.11,<3.12"\n'
        f"dependencies = [{deps}]\n\n[tool.uv]\npackage = false\n"
    )
    subprocess.run([str(BIN / "uv"), "lock", "-q"], cwd=folder, check=True)
    return folder / "uv.lock"


def build(lock_file: Path, mirror: Path, cache: Path, jobs: int) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + sys of the command and every process it waited
    for) and the table the command printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [
            str(BIN / "wheelmirror"),
            "build",
            "--lock",
            str(lock_file),
            "--mirror",
            str(mirror),
            "--jobs",
            str(jobs),
            "--cache-dir",
            str(cache),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr[-3000:])
        msg = f"build --jobs {jobs} exited {result.returncode}"
        raise SystemExit(msg)
    return seconds, cpu, result.stdout


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-lockbuild-") as tmp:
        work = Path(tmp)
        lock_file = lock(work)
        cache = work / "cache"
        if "--no-warmup" not in sys.argv:
            warm, _, _ = build(lock_file, work / "warmup", cache, 2)
            print(f"warm-up (--jobs 2, fills the caches): {warm:.1f} s")
            shutil.rmtree(work / "warmup")
        times: dict[int, list[float]] = {1: [], 2: []}
        for round_, jobs in enumerate((1, 2, 2, 1)):
            load = os.getloadavg()[0]
            seconds, cpu, table = build(lock_file, work / f"run{round_}", cache, jobs)
            times[jobs].append(seconds)
            print(
                f"--jobs {jobs}: {seconds:.1f} s wall, {cpu:.1f} s CPU "
                f"(load average {load:.1f} at start)"
            )
        print(table.rstrip())
        one, two = sum(times[1]), sum(times[2])
        print(f"cores: {os.cpu_count()}, builds per run: {len(PINS)}")
        print(f"--jobs 1 (one after another), two runs: {one:.1f} s")
        print(f"--jobs 2 (parallel), two runs:          {two:.1f} s")
        print(f"parallel / sequential: {two / one:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
