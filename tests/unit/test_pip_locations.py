"""Where pip reads and writes its config files: one source of truth (indexconfig), checked
against what the real pip here lists (`pip config debug`) and edits (`pip config set`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from poetry_wheelmirror.indexconfig import pip_config_files
from poetry_wheelmirror.installers.pipfiles import config_path

KINDS = ("global", "site", "user")


def _pip_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "XDG_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def _pip_config_debug(env: dict[str, str], cwd: Path) -> dict[str, list[Path]]:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "debug"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    listed: dict[str, list[Path]] = {}
    kind = ""
    for line in out.splitlines():
        if not line.startswith(" "):
            kind = line.rstrip(":")
        elif kind in KINDS and line.startswith("  ") and not line.startswith("    "):
            listed.setdefault(kind, []).append(Path(line.strip().rsplit(", exists:", 1)[0]))
    return listed


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"XDG_CONFIG_HOME": "{home}/xdg-home"},
        {"XDG_CONFIG_HOME": " ", "XDG_CONFIG_DIRS": " "},
        {"XDG_CONFIG_DIRS": "~/sys-a::/opt/sys-b"},
    ],
)
def test_issue12_pip_config_files_are_the_ones_pip_lists(tmp_path: Path, extra: dict[str, str]):
    env = _pip_env(tmp_path, **{k: v.format(home=tmp_path) for k, v in extra.items()})
    expected = _pip_config_debug(env, tmp_path)
    ours: dict[str, list[Path]] = {}
    for kind, path in pip_config_files(env, home=tmp_path, prefix=Path(sys.prefix)):
        ours.setdefault(kind, []).append(path)
    assert ours == expected


@pytest.mark.parametrize("xdg", [None, "xdg-home"])
def test_issue12_user_target_is_the_file_pip_config_set_edits(tmp_path: Path, xdg: str | None):
    env = _pip_env(tmp_path, **({"XDG_CONFIG_HOME": str(tmp_path / xdg)} if xdg else {}))
    subprocess.run(
        [sys.executable, "-m", "pip", "config", "--user", "set", "global.timeout", "7"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        check=True,
        timeout=120,
    )
    written = [p for p in tmp_path.rglob("pip.conf")]
    assert written == [config_path("user", env)]


def test_issue12_venv_and_global_targets_are_pips_last_file_of_that_kind(tmp_path: Path):
    env = _pip_env(tmp_path, VIRTUAL_ENV=str(tmp_path / "venv"))
    files = pip_config_files(env, home=tmp_path, prefix=tmp_path / "venv")
    assert config_path("venv", env) == [p for k, p in files if k == "site"][-1]
    assert config_path("global", env) == [p for k, p in files if k == "global"][-1]
    assert config_path("global", env) == Path("/etc/pip.conf")


def test_issue12_macos_user_file_follows_pips_rule(tmp_path: Path):
    from poetry_wheelmirror.indexconfig import pip_config_target

    # pip: ~/Library/Application Support/pip when that folder exists, else ~/.config/pip,
    # whatever $XDG_CONFIG_HOME says (pip/_internal/utils/appdirs.py).
    env = {"XDG_CONFIG_HOME": str(tmp_path / "x")}
    mac = {"home": tmp_path, "prefix": tmp_path, "platform": "darwin"}
    assert pip_config_target("user", env, **mac) == tmp_path / ".config/pip/pip.conf"
    (tmp_path / "Library/Application Support/pip").mkdir(parents=True)
    assert (
        pip_config_target("user", env, **mac)
        == tmp_path / "Library/Application Support/pip/pip.conf"
    )
