"""`poetry install` with the plugin vs without, side by side, with the real Poetry.

    .venv/bin/python -m bench.bench_poetry [--poetry 2.5.1] [--runs 5] [--noop-runs 9]

Two measurements, each with the plugin (the mirror's wheel) and without (Poetry builds
MarkupSafe 2.0.1's sdist, PyPI having no cp311 wheel of it):

* cold install: a fresh project whose venv already exists (``poetry env use``, not
  timed) and a fresh Poetry cache each run, so neither side reuses a wheel it built or
  downloaded before; ``poetry install`` from the same poetry.lock;
* no-op install: everything already installed, ``poetry install`` again; the two
  Poetries run alternately on the same project so drift hits both alike.

Medians of several runs. Both sides fetch over loopback HTTP from servers that hold
everything already (warm), so only the build differs: the project's source is the
loopback PyPI pass-through, whose MarkupSafe page lists the sdist on a loopback file
server (downloaded from PyPI once, its sha256 checked); the mirror, built with
``wheelmirror build``, is served by a loopback static server (as GitHub Pages would).
Each cold run still starts with an empty Poetry cache, so Poetry downloads (from
loopback) and, without the plugin, builds; the build's own requirements (setuptools)
come through the pass-through from PyPI, as in a user's build. Targets: mirrored
install >= 3x faster than the sdist build; no-op overhead < 5%.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from devtools.passthrough import serve_passthrough
from devtools.poetry_env import PoetryInstall
from devtools.poetry_env import build_mirror
from devtools.poetry_env import build_plugin_wheel
from devtools.poetry_env import ensure_plain_poetry
from devtools.poetry_env import ensure_plugin_poetry
from devtools.poetry_env import project_env
from devtools.static_server import serve_static

PYPROJECT = """\
[project]
name = "bench"
version = "0.1.0"
requires-python = ">=3.11,<3.12"
dependencies = ["markupsafe (==2.0.1)"]

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "loopback"
url = "{index}"
priority = "primary"
"""


SDIST = "MarkupSafe-2.0.1.tar.gz"


def _pypi_file(name: str, filename: str) -> tuple[bytes, str]:
    """*filename* of project *name* from PyPI, checked against the sha256 PyPI lists."""
    req = urllib.request.Request(
        f"https://pypi.org/simple/{name}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        files = {f["filename"]: f for f in json.loads(resp.read())["files"]}
    info = files[filename]
    with urllib.request.urlopen(info["url"], timeout=120) as resp:
        data: bytes = resp.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != info["hashes"]["sha256"]:
        msg = f"{filename}: sha256 {digest} is not PyPI's {info['hashes']['sha256']}"
        raise RuntimeError(msg)
    return data, digest


@contextlib.contextmanager
def loopback_sdist(folder: Path) -> Iterator[str]:
    """Serve MarkupSafe's sdist from *folder* on loopback; yields its project page (HTML)."""
    data, digest = _pypi_file("markupsafe", SDIST)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SDIST).write_bytes(data)
    with serve_static(folder) as base:
        yield (
            "<!DOCTYPE html><html><body>\n"
            f'<a href="{base}{SDIST}#sha256={digest}" data-requires-python="&gt;=3.6">{SDIST}</a>'
            "\n</body></html>\n"
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(
    poetry: PoetryInstall, args: list[str], cwd: Path, env: dict[str, str]
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of Poetry and everything it ran)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    poetry.run(*args, cwd=cwd, env=env)
    return time.perf_counter() - started, _children_cpu() - cpu


def _cold_install(
    poetry: PoetryInstall, work: Path, index: str, lock: bytes, env_extra: dict[str, str]
) -> tuple[float, float]:
    if work.exists():
        shutil.rmtree(work)
    project = work / "project"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT.format(index=index))
    (project / "poetry.lock").write_bytes(lock)
    env = project_env(work, **env_extra)
    poetry.run("env", "use", shutil.which("python3.11") or sys.executable, cwd=project, env=env)
    return _timed(poetry, ["install"], project, env)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--poetry", default="2.5.1", help="Poetry version (default 2.5.1)")
    parser.add_argument("--runs", type=int, default=5, help="cold installs per side")
    parser.add_argument("--noop-runs", type=int, default=9, help="no-op installs per side")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-poetry-"))
        idx = stack.enter_context(serve_passthrough())
        base = Path(tmp)
        print(f"Poetry {args.poetry}; preparing Poetry venvs, plugin wheel and mirror ...")
        # The pass-through answers MarkupSafe's page from its cache: seed it with the page
        # listing the loopback copy of the sdist.
        idx.pages["markupsafe"] = (
            200,
            stack.enter_context(loopback_sdist(base / "files")).encode(),
        )
        wheel = build_plugin_wheel(base / "dist")
        plain = ensure_plain_poetry(args.poetry)
        plugin = ensure_plugin_poetry(args.poetry, wheel, idx.url)
        mirror = build_mirror("markupsafe==2.0.1", base / "mirror", base / "build-cache")
        mirror_url = stack.enter_context(serve_static(mirror))
        with_mirror = {"POETRY_WHEELMIRROR_URL": mirror_url}

        lock_dir = base / "lock"
        (lock_dir / "project").mkdir(parents=True)
        (lock_dir / "project" / "pyproject.toml").write_text(PYPROJECT.format(index=idx.url))
        plain.run("lock", cwd=lock_dir / "project", env=project_env(lock_dir))
        lock = (lock_dir / "project" / "poetry.lock").read_bytes()

        # Warm-up (PyPI pages in the pass-through, first-run pyc writes), not counted.
        _cold_install(plugin, base / "warm-plugin", idx.url, lock, with_mirror)
        _cold_install(plain, base / "warm-plain", idx.url, lock, {})

        mirrored, built = [], []
        for run in range(args.runs):
            mirrored.append(
                _cold_install(plugin, base / f"cold-plugin-{run}", idx.url, lock, with_mirror)
            )
            built.append(_cold_install(plain, base / f"cold-plain-{run}", idx.url, lock, {}))

        # No-op: one project, installed once, then `poetry install` alternately.
        noop_dir = base / "noop"
        _cold_install(plugin, noop_dir, idx.url, lock, with_mirror)
        project = noop_dir / "project"
        env = project_env(noop_dir, **with_mirror)
        for poetry in (plugin, plain):  # warm both once
            poetry.run("install", cwd=project, env=env)
        noop_plugin, noop_plain = [], []
        for _ in range(args.noop_runs):
            noop_plugin.append(_timed(plugin, ["install"], project, env))
            noop_plain.append(_timed(plain, ["install"], project, env))

    def med(runs: list[tuple[float, float]], which: int) -> float:
        return statistics.median(r[which] for r in runs)

    speedup = med(built, 0) / med(mirrored, 0)
    cpu_speedup = med(built, 1) / med(mirrored, 1)
    overhead = (med(noop_plugin, 0) - med(noop_plain, 0)) / med(noop_plain, 0) * 100
    cpu_overhead = (med(noop_plugin, 1) - med(noop_plain, 1)) / med(noop_plain, 1) * 100
    print()
    print(f"poetry install, Poetry {args.poetry}, MarkupSafe 2.0.1 on CPython 3.11 (medians)")
    print(f"{'':26}{'with plugin':>14}{'without':>12}{'ratio':>10}   runs")
    rows = [
        ("install, wall", mirrored, built, 0, f"{speedup:.1f}x", args.runs),
        ("install, CPU", mirrored, built, 1, f"{cpu_speedup:.1f}x", args.runs),
        ("no-op install, wall", noop_plugin, noop_plain, 0, f"{overhead:+.1f}%", args.noop_runs),
        ("no-op install, CPU", noop_plugin, noop_plain, 1, f"{cpu_overhead:+.1f}%", args.noop_runs),
    ]
    for label, with_runs, without_runs, which, ratio, count in rows:
        print(
            f"{label:26}{_fmt(med(with_runs, which)):>14}{_fmt(med(without_runs, which)):>12}"
            f"{ratio:>10}   {count}"
        )
    base = med(noop_plain, 0)
    work_with, work_without = med(mirrored, 0) - base, med(built, 0) - base
    if work_with > 0:
        print(
            f"{'install minus no-op, wall':26}{_fmt(work_with):>14}{_fmt(work_without):>12}"
            f"{work_without / work_with:>9.1f}x   (the part that differs: Poetry's own"
            " start-up and lock reading cost both sides the same)"
        )
    print()
    ok_speed = speedup >= 3
    ok_noop = overhead < 5
    print(
        f"mirrored install {speedup:.1f}x faster (target >= 3x): {'ok' if ok_speed else 'MISSED'}"
    )
    print(f"no-op overhead {overhead:+.1f}% (target < 5%): {'ok' if ok_noop else 'MISSED'}")
    for label, runs in (
        ("mirrored", mirrored),
        ("sdist build", built),
        ("no-op plugin", noop_plugin),
        ("no-op plain", noop_plain),
    ):
        print(f"raw {label:13} wall/CPU s: {[(round(w, 2), round(c, 2)) for w, c in runs]}")
    return 0 if ok_speed and ok_noop else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as e:  # pragma: no cover
        print(e, file=sys.stderr)
        sys.exit(2)
