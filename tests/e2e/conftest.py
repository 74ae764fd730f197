"""Fixtures shared by the end-to-end tests: real Poetry installations with and without
the plugin, and a real MarkupSafe 2.0.1 mirror built from PyPI's sdist, each made once
per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.passthrough import PassthroughIndex
from devtools.poetry_env import POETRY_VERSIONS
from devtools.poetry_env import build_mirror
from devtools.poetry_env import build_plugin_wheel
from devtools.poetry_env import ensure_plain_poetry
from devtools.poetry_env import ensure_plugin_poetry
from devtools.poetry_env import project_env
from devtools.poetry_project import Poetries
from devtools.poetry_project import Setup
from devtools.poetry_project import make_project

# -- session fixtures, built once per run and shared by every e2e module -----------------
# (A module-scoped copy of any of these repeats minutes of set-up: the MarkupSafe build,
# the plugin wheel and, per Poetry version, a `poetry lock` by the plain Poetry.)


@pytest.fixture(scope="session")
def plugin_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_plugin_wheel(tmp_path_factory.mktemp("plugin-wheel"))


@pytest.fixture(scope="session")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror carrying markupsafe 2.0.1 for cp311, built from PyPI's sdist.

    Shared by every module: a test that changes a mirror copies this one first."""
    base = tmp_path_factory.mktemp("mirror")
    return build_mirror("markupsafe==2.0.1", base / "mirror", base / "cache")


@pytest.fixture(scope="session")
def poetry_setups(
    plugin_wheel: Path, pypi_index: PassthroughIndex, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Poetries]:
    """Per Poetry version, on first use: the plain and the plugin Poetry, and the
    standard project's poetry.lock written by the plain one."""
    made: dict[str, Poetries] = {}

    def get(version: str) -> Poetries:
        if version not in made:
            plain = ensure_plain_poetry(version)
            plugin = ensure_plugin_poetry(version, plugin_wheel, pypi_index.url)
            work = tmp_path_factory.mktemp(f"lock-{version}")
            project = make_project(work / "project", pypi_index.url)
            plain.run("lock", cwd=project, env=project_env(work))
            made[version] = Poetries(version, plain, plugin, (project / "poetry.lock").read_bytes())
        return made[version]

    return get


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked ``newest_poetry_by_default`` runs on the newest Poetry in the default
    run and on every other version only in the slow run (before ``-m`` deselects)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        version = callspec.params.get("poetries") if callspec else None
        if version is None or version == POETRY_VERSIONS[-1]:
            continue
        if item.get_closest_marker("newest_poetry_by_default"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", params=POETRY_VERSIONS, ids=lambda v: f"poetry-{v}")
def poetries(
    request: pytest.FixtureRequest, poetry_setups: Callable[[str], Poetries]
) -> Poetries:
    return poetry_setups(request.param)


# -- the names tests/e2e/test_faults_plugin.py and test_concurrency.py use ---------------


@pytest.fixture(scope="session")
def mirror_dir(mirror: Path) -> Path:
    return mirror


@pytest.fixture(scope="session")
def setups(poetry_setups: Callable[[str], Poetries]) -> Callable[[str], Setup]:
    def get(version: str) -> Setup:
        found = poetry_setups(version)
        return Setup(found.plugin, found.lock)

    return get
