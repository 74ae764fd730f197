"""The provenance policy with the real Poetry (fixtures from test_poetry_plugin.py).

The session's mirror records no attestation for its MarkupSafe wheel, and the plugin's
Poetry has no sigstore (the verify extra): ``warn`` installs the mirror wheel with one
warning, ``require`` refuses it and Poetry builds from the sdist as without the plugin.
Verifying a genuine bundle at the same decision point is tests/e2e/test_provenance.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.passthrough import PassthroughIndex
from devtools.poetry_env import project_env
from devtools.poetry_project import Poetries
from devtools.poetry_project import assert_built_from_sdist
from devtools.poetry_project import assert_from_mirror
from devtools.poetry_project import make_project
from devtools.poetry_project import warnings

pytestmark = pytest.mark.e2e


def test_provenance_policy_in_a_real_install(
    poetries: Poetries,
    pypi_index: PassthroughIndex,
    mirror: Path,
    tmp_path: Path,
) -> None:
    # warn, from pyproject.toml: the unattested wheel is used, with one warning.
    table = f'\n[tool.poetry-wheelmirror]\nurl = "{mirror.as_uri()}"\nprovenance = "warn"\n'
    project = make_project(tmp_path / "warn", pypi_index.url, poetries.lock, extra=table)
    result = poetries.plugin.run("install", cwd=project, env=project_env(tmp_path / "w"))
    out = result.stdout + result.stderr
    (warning,) = warnings(out)
    assert (
        "markupsafe 2.0.1: no provenance attestation is recorded: using the mirror wheel unverified (provenance = warn)"
        in warning
    )
    assert_from_mirror(project, out)

    # require, from the environment (over the project's warn): refused, normal install.
    project = make_project(tmp_path / "require", pypi_index.url, poetries.lock, extra=table)
    env = project_env(tmp_path / "r", POETRY_WHEELMIRROR_PROVENANCE="require")
    result = poetries.plugin.run("install", cwd=project, env=env)
    out = result.stdout + result.stderr
    (warning,) = warnings(out)
    assert (
        "markupsafe 2.0.1: no provenance attestation is recorded: refusing the mirror wheel"
        " (provenance = require); installing as without the plugin" in warning
    ), warning
    assert_built_from_sdist(project, out)
    assert (project / "poetry.lock").read_bytes() == poetries.lock
