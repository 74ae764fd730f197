"""README "A fresh machine, step by step", run line by line.

The README's block is read and must be exactly STEPS; each step then runs for real,
with three substitutions a test machine needs: the package is installed from a wheel
of this checkout (it is not on PyPI yet), the mirror URL is a loopback server serving a
real MarkupSafe 2.0.1 build (PyPI has no cp311 wheel of it), and `poetry self add` is
the one the Poetry fixture ran (devtools/poetry_env.py: a real `poetry self add` of
the same wheel). One HOME for every step: the mirror set in step 2 is what the plugin,
pip-config and uv-config use.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.passthrough import PassthroughIndex
from devtools.pipuv_mirror import MS_TAG
from devtools.pipuv_mirror import installed_tags
from devtools.pipuv_mirror import serve_mirror
from devtools.poetry_env import REPO
from devtools.poetry_env import project_env
from devtools.poetry_project import Poetries
from devtools.poetry_project import assert_from_mirror
from devtools.poetry_project import make_project
from devtools.poetry_project import warnings

pytestmark = pytest.mark.e2e

PLACEHOLDER = "https://your-mirror.example/mirror/"
STEPS = [
    "uv tool install poetry-wheelmirror",
    f"wheelmirror config set url {PLACEHOLDER}",
    "poetry self add poetry-wheelmirror",
    "poetry install",
    "python -m venv .venv && . .venv/bin/activate",
    "wheelmirror pip-config",
    "pip install markupsafe==2.0.1",
    "wheelmirror uv-config",
    "uv sync",
]
UV = str(Path(sys.executable).parent / "uv")


def readme_steps() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"<!-- walkthrough:start -->\n```sh\n(.*?)```", text, re.S)
    assert block, "README lost its walkthrough block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_lists_these_steps() -> None:
    assert readme_steps() == STEPS


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


# Only the Poetry step depends on Poetry's version; Poetry 2.0.1's install through the
# plugin is test_poetry_plugin.py's test_install_uses_mirror_wheel_and_keeps_lock.
@pytest.mark.newest_poetry_by_default
def test_fresh_machine_walkthrough(
    poetries: Poetries,
    plugin_wheel: Path,
    mirror: Path,
    pypi_index: PassthroughIndex,
    tmp_path: Path,
) -> None:
    assert readme_steps() == STEPS
    home = tmp_path / "home"
    (home / "xdg-dirs").mkdir(parents=True)
    tool_bin = tmp_path / "tool-bin"
    machine = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CONFIG_DIRS": str(home / "xdg-dirs"),  # no machine-wide pip config
        "UV_TOOL_DIR": str(tmp_path / "tools"),
        "UV_TOOL_BIN_DIR": str(tool_bin),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "WHEELMIRROR_CACHE_DIR": str(tmp_path / "wm-cache"),
        "PATH": f"{tool_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env = clean_env(**machine)
    with serve_mirror(mirror) as served:
        # 1. the command (from this checkout's wheel)
        run([UV, "tool", "install", str(plugin_wheel)], env, tmp_path)
        # 2. the mirror, once (the installed command, found on PATH)
        run(["wheelmirror", "config", "set", "url", served.url], env, home)
        assert f'url = "{served.url}"' in (home / ".config/poetry-wheelmirror/config.toml").read_text()
        # 3. Poetry: the plugin's Poetry, nothing but the user config names the mirror
        project = make_project(tmp_path / "poetry-project", pypi_index.url, poetries.lock)
        poetry_env = {**project_env(tmp_path / "poetry"), **machine}
        poetry_env.pop("WHEELMIRROR_CONFIG")
        result = poetries.plugin.run("install", cwd=project, env=poetry_env)
        assert_from_mirror(project, result.stdout + result.stderr)
        assert warnings(result.stdout + result.stderr) == []
        # 4. pip in a virtual environment
        pip_project = tmp_path / "pip-project"
        pip_project.mkdir()
        run([sys.executable, "-m", "venv", ".venv"], env, pip_project)
        venv_dir = pip_project / ".venv"
        active = {**env, "VIRTUAL_ENV": str(venv_dir), "PATH": f"{venv_dir / 'bin'}{os.pathsep}{env['PATH']}"}
        run(["wheelmirror", "pip-config"], active, pip_project)
        assert f"extra-index-url = {served.url}simple/" in (venv_dir / "pip.conf").read_text()
        run(["pip", "install", "markupsafe==2.0.1"], active, pip_project)
        assert MS_TAG in installed_tags(venv_dir, "markupsafe")
        # 5. uv in a uv project
        uv_project = tmp_path / "uv-project"
        uv_project.mkdir()
        (uv_project / "pyproject.toml").write_text(
            '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            'dependencies = ["markupsafe==2.0.1"]\n\n[tool.uv]\npackage = false\n'
        )
        out = run(["wheelmirror", "uv-config"], env, uv_project)
        assert "markupsafe" in out
        run([UV, "sync", "--python", sys.executable], env, uv_project)
        assert MS_TAG in installed_tags(uv_project / ".venv", "markupsafe")
