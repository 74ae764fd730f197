"""Planner time for the shipped recipes on a cold and a warm HTTP cache, plus the pure
planner on a synthetic set of hundreds of packages.

    .venv/bin/python -m bench.bench_plan

Cold: an empty cache, so every PyPI page is fetched (PEP 691 JSON). Warm: the same cache
within its max-age, so no request is made. Synthetic: make_plan alone over N packages,
each with PyPI's file list of a real project (MarkupSafe's ~650 files).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from packaging.utils import canonicalize_name

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.mirror.plan import make_plan
from poetry_wheelmirror.mirror.pypi import PypiClient
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.recipes import load_recipes
from poetry_wheelmirror.mirror.recipes import parse_recipe

REPO = Path(__file__).resolve().parents[1]


def timed_plan(cache: Path) -> tuple[float, int]:
    recipes = load_recipes(REPO / "recipes")
    started = time.perf_counter()
    pypi = PypiClient(CachedClient(cache))
    upstream = {name: pypi.project(name) for name in recipes}
    plan = make_plan(recipes, upstream, {})
    return time.perf_counter() - started, len(plan.missing)


def synthetic(count: int, cache: Path) -> float:
    page = PypiClient(CachedClient(cache)).project("markupsafe")
    assert page is not None
    recipes, upstream = {}, {}
    for i in range(count):
        name = canonicalize_name(f"pkg{i}")
        recipes[name] = parse_recipe(
            f'name = "{name}"\nspecifier = ">=2.0,<2.2"\n'
            'python = ["3.10", "3.11", "3.12", "3.13"]\n'
        )
        upstream[name] = UpstreamProject(name=name, files=page.files)
    started = time.perf_counter()
    plan = make_plan(recipes, upstream, {})
    seconds = time.perf_counter() - started
    print(f"  synthetic: {count} packages, {len(plan.missing)} missing: {seconds:.2f} s")
    return seconds


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        cold, missing = timed_plan(cache)
        warm, _ = timed_plan(cache)
        print(f"plan ({missing} missing wheels over the shipped recipes)")
        print(f"  cold cache: {cold:.2f} s")
        print(f"  warm cache: {warm:.3f} s")
        synthetic(int(sys.argv[1]) if len(sys.argv) > 1 else 300, cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
