"""Fixtures shared by the end-to-end tests: real Poetry installations with and without
the plugin, and a real MarkupSafe 2.0.1 mirror built from PyPI's sdist."""

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

# -- session fixtures (tests/e2e/test_poetry_plugin.py, test_poetry_provenance.py) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def plugin_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_plugin_wheel(tmp_path_factory.mktemp("plugin-wheel"))


@pytest.fixture(scope="session")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror carrying markupsafe 2.0.1 for cp311, built from PyPI's sdist."""
    base = tmp_path_factory.mktemp("mirror")
    return build_mirror("markupsafe==2.0.1", base / "mirror", base / "cache")


@pytest.fixture(scope="session", params=POETRY_VERSIONS, ids=lambda v: f"poetry-{v}")
def poetries(
    request: pytest.FixtureRequest,
    plugin_wheel: Path,
    pypi_index: PassthroughIndex,
    tmp_path_factory: pytest.TempPathFactory,
) -> Poetries:
    version: str = request.param
    plain = ensure_plain_poetry(version)
    plugin = ensure_plugin_poetry(version, plugin_wheel, pypi_index.url)
    work = tmp_path_factory.mktemp(f"lock-{version}")
    project = make_project(work / "project", pypi_index.url)
    plain.run("lock", cwd=project, env=project_env(work))
    return Poetries(version, plain, plugin, (project / "poetry.lock").read_bytes())


# -- per-module fixtures (tests/e2e/test_faults_plugin.py, test_concurrency.py) ------


@pytest.fixture(scope="module")
def mirror_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("faults-mirror")
    return build_mirror("markupsafe==2.0.1", base / "mirror", base / "cache")


@pytest.fixture(scope="module")
def setups(
    pypi_index: PassthroughIndex, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Setup]:
    wheel = build_plugin_wheel(tmp_path_factory.mktemp("faults-plugin-wheel"))
    made: dict[str, Setup] = {}

    def get(version: str) -> Setup:
        if version not in made:
            plain = ensure_plain_poetry(version)
            plugin = ensure_plugin_poetry(version, wheel, pypi_index.url)
            work = tmp_path_factory.mktemp(f"faults-lock-{version}")
            project = make_project(work / "project", pypi_index.url)
            plain.run("lock", cwd=project, env=project_env(work))
            made[version] = Setup(plugin, (project / "poetry.lock").read_bytes())
        return made[version]

    return get
