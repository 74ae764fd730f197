"""README "Install": the `wheelmirror` command installed as a user would, with
`uv tool install`, from a wheel of this checkout (the package is not on PyPI yet), into
a throwaway tool folder; the recipes travel inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.poetry_env import REPO

pytestmark = pytest.mark.e2e

UV = Path(sys.executable).parent / "uv"


@pytest.fixture(scope="module")
def wheel(plugin_wheel: Path) -> Path:
    """The session's wheel of this checkout (tests/e2e/conftest.py)."""
    return plugin_wheel


def test_the_wheel_carries_every_recipe(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packed = {
            Path(n).name: archive.read(n)
            for n in archive.namelist()
            if n.startswith("poetry_wheelmirror/recipes/")
        }
    recipes = {p.name: p.read_bytes() for p in (REPO / "recipes").glob("*.toml")}
    assert recipes
    assert packed == recipes


def test_uv_tool_install_gives_a_working_command(wheel: Path, tmp_path: Path) -> None:
    tools, bin_dir, home, elsewhere = (tmp_path / n for n in ("tools", "bin", "home", "cwd"))
    for folder in (home, elsewhere):
        folder.mkdir()
    env = clean_env(
        UV_TOOL_DIR=str(tools),
        UV_TOOL_BIN_DIR=str(bin_dir),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        WHEELMIRROR_CACHE_DIR=str(tmp_path / "cache"),
    )
    subprocess.run(
        [str(UV), "tool", "install", str(wheel)],
        env=env, check=True, capture_output=True, text=True, timeout=600,
    )
    command = bin_dir / "wheelmirror"
    assert command.is_file()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), *args], env=env, cwd=elsewhere, capture_output=True, text=True,
            timeout=120, check=False,
        )

    help_ = run("--help")
    assert help_.returncode == 0, help_.stderr
    assert "exit status (the same in every command):" in help_.stdout
    # Far from any checkout, the packaged recipes are found.
    config = run("config")
    (recipes,) = [line for line in config.stdout.splitlines() if line.startswith("recipes ")]
    assert str(tools) in recipes, config.stdout
    assert "poetry_wheelmirror/recipes" in recipes, config.stdout
    cibw = run("cibw-config", "crcmod==1.7")
    assert cibw.returncode == 0, cibw.stderr
    assert "[tool.cibuildwheel]" in cibw.stdout, cibw.stdout
    # The user-level mirror setting, as the README's "Using a mirror" writes it.
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    assert run("config", "set", "url", str(mirror)).returncode == 0
    assert (home / ".config" / "poetry-wheelmirror" / "config.toml").read_text() == (
        f'url = "{mirror.as_uri()}/"\n'
    )
