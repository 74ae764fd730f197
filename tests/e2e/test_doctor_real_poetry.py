"""`wheelmirror doctor` against real Poetry installations in the states its checks are
for, which tests/unit/test_doctor.py covers only with recorded output:

* an old Poetry: a real Poetry 1.8.5, pip-installed (cached like the others);
* a broken plugin: a real Poetry 2.5.1 with a plugin distribution installed by pip whose
  ``poetry.application.plugin`` entry point fails to import, so Poetry cannot start
  with its plugins but starts with ``--no-plugins``;
* a timeout: the same with a plugin that hangs at import, so ``poetry --version`` does
  not answer within the doctor's 20 s.

The plugin is installed with ``pip install --target`` into a folder of its own that
only this test's ``poetry`` launcher puts on ``sys.path``, so the cached Poetry venv that
other tests share is never changed.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.doctor_mirror import write_lock
from devtools.doctor_mirror import write_mirror
from devtools.poetry_env import PoetryInstall
from devtools.poetry_env import ensure_plain_poetry
from devtools.wheels import make_wheel

pytestmark = pytest.mark.e2e

OLD_POETRY = "1.8.5"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        WHEELMIRROR_CACHE_DIR=str(tmp_path / "wm-cache"),
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    write_lock(proj, {"markupsafe": ("2.0.1", [])})
    return proj


def doctor_json(poetry: Path, tmp_path: Path, env: dict[str, str], project: Path) -> tuple[int, Any]:
    mirror = write_mirror(tmp_path / "mirror", {})
    result = run_wheelmirror(
        "doctor", "--json", "--mirror", str(mirror), "--poetry", str(poetry),
        env=env, cwd=project, timeout=180,
    )  # fmt: skip
    return result.returncode, json.loads(result.stdout)


def poetry_check(data: Any) -> dict[str, str]:
    (check,) = [c for c in data["checks"] if c["name"] == "poetry"]
    return dict(check)


def poetry_with_plugin(base: PoetryInstall, folder: Path, module_body: str) -> Path:
    """A launcher running *base*'s real Poetry with one more plugin distribution,
    installed by real pip into *folder*/site; returns the launcher's path."""
    wheel = make_wheel(
        folder / "dist",
        "brokenplugin-1.0-py3-none-any.whl",
        module_body=module_body,
        entry_points="[poetry.application.plugin]\nbroken = brokenplugin_mod:Plugin\n",
    )
    site = folder / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(site), str(wheel)],
        check=True, env=clean_env(), timeout=120,
    )  # fmt: skip
    launcher = folder / "bin" / "poetry"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{base.poetry}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return launcher


def test_an_old_real_poetry_is_refused(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    old = ensure_plain_poetry(OLD_POETRY)
    code, data = doctor_json(old.poetry, tmp_path, env, project)
    check = poetry_check(data)
    assert check["status"] == "fail", check
    assert f"Poetry {OLD_POETRY} at {old.poetry}: the plugin supports Poetry 2.x only" in (
        check["detail"]
    )
    assert "poetry self update" in check["fix"]
    assert code == 1


def test_a_real_broken_plugin_is_named(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    base = ensure_plain_poetry("2.5.1")
    poetry = poetry_with_plugin(base, tmp_path / "broken", "import no_such_module_here\n")
    # The premise, with the real Poetry: it fails with the plugin, starts without it.
    with_plugins = subprocess.run(
        [str(poetry), "--version"], capture_output=True, text=True, env=env, timeout=120
    )
    assert with_plugins.returncode != 0, with_plugins.stdout
    assert "no_such_module_here" in with_plugins.stdout + with_plugins.stderr
    code, data = doctor_json(poetry, tmp_path, env, project)
    check = poetry_check(data)
    assert check["status"] == "fail", check
    assert "fails to start with its plugins but starts without them" in check["detail"]
    assert "no_such_module_here" in check["detail"]
    assert "remove the broken plugin" in check["fix"]
    assert "\n" not in check["detail"]
    assert code == 1


def test_a_real_poetry_that_hangs_times_out(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    base = ensure_plain_poetry("2.5.1")
    poetry = poetry_with_plugin(base, tmp_path / "hangs", "import time\ntime.sleep(300)\n")
    code, data = doctor_json(poetry, tmp_path, env, project)
    check = poetry_check(data)
    assert check["status"] == "fail", check
    assert check["detail"] == f"`{poetry} --version` failed: no answer within 20 s"
    assert code == 1
