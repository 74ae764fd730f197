"""`wheelmirror doctor` as a user runs it: each problem it checks for, created for real.

* no plugin: a real Poetry 2.5.1 (pip-installed once under .cache/poetry and shared)
  without the plugin, on PATH;
* unreachable manifest: a loopback port with nothing listening;
* overriding environment variable: PIP_INDEX_URL set;
* wrong platform: a mirror with only a macOS arm64 wheel for a locked package, checked
  on this Linux host;
* stale cache: the mirror served once on loopback, then stopped.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.tags import sys_tags

from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.doctor_mirror import write_lock
from devtools.doctor_mirror import write_mirror
from devtools.passthrough import PassthroughIndex
from devtools.poetry_env import POETRY_VERSIONS
from devtools.poetry_env import PoetryInstall
from devtools.poetry_env import build_plugin_wheel
from devtools.poetry_env import ensure_plain_poetry
from devtools.poetry_env import ensure_plugin_poetry
from devtools.static_server import serve_static

pytestmark = pytest.mark.e2e

MAC_ONLY = "crcmod-1.7-cp311-cp311-macosx_11_0_arm64.whl"


def _host_wheel(name: str, version: str) -> str:
    """A wheel filename this interpreter accepts (its best manylinux tag, else its best)."""
    tags = list(sys_tags())
    tag = next((t for t in tags if t.platform.startswith("manylinux")), tags[0])
    return f"{name}-{version}-{tag.interpreter}-{tag.abi}-{tag.platform}.whl"


@pytest.fixture(scope="session", params=POETRY_VERSIONS)
def plain_poetry(request: pytest.FixtureRequest) -> PoetryInstall:
    """Poetry without the plugin (the lowest supported and the newest 2.x): the machine
    that forgot `poetry self add`."""
    return ensure_plain_poetry(str(request.param))


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment with its own home, config dirs and cache (no Poetry on PATH)."""
    home = tmp_path / "home"
    home.mkdir()
    bare_path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if not (Path(p) / "poetry").exists()
    )
    return clean_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CONFIG_DIRS=str(tmp_path / "xdg"),
        XDG_CACHE_HOME=str(home / ".cache"),
        WHEELMIRROR_CACHE_DIR=str(tmp_path / "wm-cache"),
        PATH=bare_path,
    )


def doctor(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, dict[str, Any], str]:
    """Run `wheelmirror doctor` twice (JSON and text); return the code, JSON and text."""
    as_json = run_wheelmirror("doctor", "--json", *args, env=env, cwd=cwd, timeout=180)
    data = json.loads(as_json.stdout)
    as_text = run_wheelmirror("doctor", *args, env=env, cwd=cwd, timeout=180)
    assert as_text.returncode == as_json.returncode, as_text.stderr
    return as_json.returncode, data, as_text.stdout


def named(data: dict[str, Any], name: str) -> dict[str, str]:
    found = [c for c in data["checks"] if c["name"] == name]
    assert found, f"no check named {name!r} in {[c['name'] for c in data['checks']]}"
    return found[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Poetry project locking markupsafe 2.0.1 and crcmod 1.7 (sdists only, as on PyPI)."""
    proj = tmp_path / "proj"
    write_lock(proj, {"markupsafe": ("2.0.1", []), "crcmod": ("1.7", [])})
    return proj


def test_healthy_machine(tmp_path: Path, user_env: dict[str, str], project: Path) -> None:
    mirror = write_mirror(
        tmp_path / "mirror",
        {
            "markupsafe": {"2.0.1": [_host_wheel("markupsafe", "2.0.1")]},
            "crcmod": {"1.7": [_host_wheel("crcmod", "1.7")]},
        },
        generated_at=_recent(),
        with_files=True,
    )
    code, data, text = doctor("--mirror", str(mirror), env=user_env, cwd=project)
    assert code == 0, text
    assert named(data, "manifest")["status"] == "ok"
    assert named(data, "freshness")["status"] == "ok"
    assert named(data, "package markupsafe")["status"] == "ok"
    assert "from the mirror" in named(data, "package markupsafe")["detail"]
    assert "2 package(s) from the mirror" in named(data, "project")["detail"]
    assert not [c for c in data["checks"] if c["name"].startswith("env ")]
    assert (
        f"{sys.version_info.major}.{sys.version_info.minor}" in named(data, "interpreter")["detail"]
    )
    assert "wheelmirror doctor: " in text.splitlines()[-1]


def _recent() -> str:
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_no_plugin(
    tmp_path: Path, user_env: dict[str, str], project: Path, plain_poetry: PoetryInstall
) -> None:
    mirror = write_mirror(tmp_path / "mirror", {}, generated_at=_recent())
    env = {**user_env, "PATH": f"{plain_poetry.poetry.parent}{os.pathsep}{user_env['PATH']}"}
    code, data, text = doctor("--mirror", str(mirror), env=env, cwd=project)
    assert named(data, "poetry")["status"] == "ok"
    assert f"Poetry {plain_poetry.version}" in named(data, "poetry")["detail"]
    plugin = named(data, "plugin")
    assert plugin["status"] == "fail"
    assert "the poetry-wheelmirror plugin is not" in plugin["detail"]
    assert "poetry self add poetry-wheelmirror" in plugin["fix"]
    assert code == 1
    assert "FAIL  plugin" in text
    assert "fix: `poetry self add poetry-wheelmirror`" in text


def test_unreachable_manifest(user_env: dict[str, str], project: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on that port any more.
    code, data, text = doctor("--mirror", f"http://127.0.0.1:{port}/", env=user_env, cwd=project)
    manifest = named(data, "manifest")
    assert manifest["status"] == "fail"
    assert (
        f"cannot fetch the mirror's manifest http://127.0.0.1:{port}/manifest.json"
        in manifest["detail"]
    )
    assert "nothing answers on that loopback port" in manifest["fix"]
    assert "without the manifest" in named(data, "project")["detail"]
    assert code == 1
    assert "FAIL  manifest" in text


def test_overriding_environment_variable(
    tmp_path: Path, user_env: dict[str, str], project: Path
) -> None:
    mirror = write_mirror(tmp_path / "mirror", {}, generated_at=_recent())
    index = mirror.as_uri() + "/simple/"
    conf = tmp_path / "home" / ".config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f"[global]\nindex-url = {index}\n")
    env = {**user_env, "PIP_INDEX_URL": "https://corp.example/simple/"}
    code, data, text = doctor("--mirror", str(mirror), env=env, cwd=project)
    assert code == 0  # pip still works: it only misses the mirror
    override = named(data, "env PIP_INDEX_URL")
    assert override["status"] == "warn"
    assert (
        "PIP_INDEX_URL=https://corp.example/simple/ overrides pip's config files"
        in override["detail"]
    )
    assert "unset PIP_INDEX_URL" in override["fix"]
    pip = named(data, "pip")
    assert "https://corp.example/simple/ (from $PIP_INDEX_URL)" in pip["detail"]
    assert "not set up for the mirror" in pip["detail"]
    assert "WARN  env PIP_INDEX_URL" in text
    # Without the variable, the same pip.conf points pip at the mirror.
    _, data, _ = doctor("--mirror", str(mirror), env=user_env, cwd=project)
    assert "pip uses the mirror as its index" in named(data, "pip")["detail"]


def test_wrong_platform(tmp_path: Path, user_env: dict[str, str], project: Path) -> None:
    if sys.platform == "darwin":
        pytest.skip("needs a host that is not macOS")
    mirror = write_mirror(
        tmp_path / "mirror",
        {"crcmod": {"1.7": [MAC_ONLY]}},
        generated_at=_recent(),
        with_files=True,
    )
    code, data, text = doctor("--mirror", str(mirror), env=user_env, cwd=project)
    crcmod = named(data, "package crcmod")
    assert crcmod["status"] == "warn"
    assert "wrong platform" in crcmod["detail"]
    assert "cp311-macosx_11_0_arm64" in crcmod["detail"]
    assert "built from source" in crcmod["detail"]
    assert "the mirror does not carry markupsafe" in named(data, "package markupsafe")["detail"]
    assert "WARN  package crcmod" in text
    assert code == 0  # a source build is slow, not broken
    # The same mirror is right for a macOS arm64 target.
    _, data, _ = doctor(
        "--mirror",
        str(mirror),
        "--platform",
        "macos-arm64",
        "--python",
        "3.11",
        env=user_env,
        cwd=project,
    )
    assert named(data, "package crcmod")["status"] == "ok"
    assert MAC_ONLY in named(data, "package crcmod")["detail"]


def test_stale_cache_fallback(tmp_path: Path, user_env: dict[str, str], project: Path) -> None:
    mirror = write_mirror(
        tmp_path / "mirror", {"crcmod": {"1.7": [MAC_ONLY]}}, generated_at=_recent()
    )
    with serve_static(mirror) as url:
        _, data, _ = doctor("--mirror", url, env=user_env, cwd=project)
        assert named(data, "manifest")["status"] == "ok"
    code, data, _ = doctor("--mirror", url, env=user_env, cwd=project)
    assert code == 0
    manifest = named(data, "manifest")
    assert manifest["status"] == "warn"
    assert "from the local cache" in manifest["detail"]
    assert named(data, "package crcmod")["status"] == "warn"  # still judged from the cache


@pytest.mark.slow
def test_plugin_installed(
    tmp_path: Path, user_env: dict[str, str], project: Path, pypi_index: PassthroughIndex
) -> None:
    """The other side of test_no_plugin: Poetry with the plugin added by `poetry self add`
    (slow: the plugin is added again whenever the working tree's wheel changes)."""
    wheel = build_plugin_wheel(tmp_path / "wheel")
    poetry = ensure_plugin_poetry("2.5.1", wheel, pypi_index.url)
    mirror = write_mirror(tmp_path / "mirror", {}, generated_at=_recent())
    env = {**user_env, "PATH": f"{poetry.poetry.parent}{os.pathsep}{user_env['PATH']}"}
    code, data, _ = doctor("--mirror", str(mirror), env=env, cwd=project)
    plugin = named(data, "plugin")
    assert plugin["status"] == "ok", plugin
    assert "poetry-wheelmirror 0.1.0 is installed" in plugin["detail"]
    assert code == 0
