"""The built-in default mirror with the real Poetry and the plugin added by `poetry self add`.

A hostile server answers at the default's address (moved there through
``$WHEELMIRROR_DEFAULT_URL``, the setting config.py reads) and serves a complete mirror
for the install: MarkupSafe 2.0.1 wheels built from the very sdist poetry.lock lists.
The plugin's Poetry has no sigstore (no verify extra), so the wheels' origin cannot be
verified: nothing is fetched from that server, nothing from it is installed, no warning
is printed, and one quiet line says what will build from source and why. Then the user
names a mirror once (`poetry wheelmirror use`), and it is trusted as configured.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.passthrough import PassthroughIndex
from devtools.poetry_env import project_env
from devtools.poetry_project import Poetries
from devtools.poetry_project import assert_built_from_sdist
from devtools.poetry_project import assert_from_mirror
from devtools.poetry_project import make_project
from devtools.poetry_project import warnings
from devtools.static_server import serve_static

pytestmark = pytest.mark.e2e


@pytest.fixture
def hostile_default(mirror: Path, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    root = shutil.copytree(mirror, tmp_path / "hostile")
    log: list[str] = []
    with serve_static(root, log=log) as url:
        yield url, log


def test_hostile_server_at_the_default_address_gets_nothing_installed(
    poetries: Poetries,
    pypi_index: PassthroughIndex,
    mirror: Path,
    hostile_default: tuple[str, list[str]],
    tmp_path: Path,
) -> None:
    url, log = hostile_default
    user_config = tmp_path / "user-config.toml"
    env = project_env(tmp_path / "w", WHEELMIRROR_DEFAULT_URL=url, WHEELMIRROR_CONFIG=str(user_config))
    project = make_project(tmp_path / "p", pypi_index.url, poetries.lock)
    result = poetries.plugin.run("install", cwd=project, env=env)
    out = result.stdout + result.stderr
    assert_built_from_sdist(project, out)
    assert warnings(out) == [], out
    assert "cannot reach" not in out, out
    assert "Connection" not in out, out
    (quiet,) = [line for line in out.splitlines() if line.startswith("wheelmirror:")]
    assert quiet.startswith("wheelmirror: building from source: markupsafe 2.0.1 ("), quiet
    assert "needs sigstore: poetry self add 'poetry-wheelmirror[verify]'" in quiet, quiet
    assert quiet.endswith("see `poetry wheelmirror status`"), quiet
    assert log == []  # without a way to verify, the default is not even asked
    assert (project / "poetry.lock").read_bytes() == poetries.lock

    status = poetries.plugin.run("wheelmirror", "status", cwd=project, env=env)
    text = status.stdout
    assert f"Mirror: {url} (from the built-in default)" in text, text
    assert "Trust: used only for wheels whose provenance verifies as built by poetry-wheelmirror/mirror" in text, text
    (row,) = [line for line in text.splitlines() if "markupsafe 2.0.1" in line]
    assert " build " in row, text
    as_json = poetries.plugin.run("wheelmirror", "status", "--json", cwd=project, env=env)
    data = json.loads(as_json.stdout)
    assert (data["mirror"], data["source"]) == (url, "default")
    (package,) = [p for p in data["packages"] if p["package"] == "markupsafe 2.0.1"]
    assert package["from"] == "build"
    assert "needs sigstore" in package["reason"]
    assert data["counts"]["build"] == 1
    assert log == []

    # A typo is refused, and the user config is not written.
    bad = poetries.plugin.run("wheelmirror", "use", "not a url", cwd=project, env=env, check=False)
    assert bad.returncode == 2, bad
    assert bad.stderr.strip().splitlines() == [
        "wheelmirror: mirror 'not a url' is neither a URL (https://..., http://localhost/...,"
        " file:///...) nor an existing directory"
    ], bad.stderr
    assert not user_config.exists()

    # The user names a mirror once, for all projects: trusted as configured.
    poetries.plugin.run("wheelmirror", "use", str(mirror), cwd=project, env=env)
    assert user_config.read_text() == f'url = "{mirror.as_uri()}/"\n'
    other = make_project(tmp_path / "other", pypi_index.url, poetries.lock)
    result = poetries.plugin.run("install", cwd=other, env=env)
    assert_from_mirror(other, result.stdout + result.stderr)
    assert warnings(result.stdout + result.stderr) == []
    assert log == []
