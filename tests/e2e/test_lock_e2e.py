"""From a lock to installs from the mirror, with the real tools: Poetry (and the plugin
added by ``poetry self add``), uv and pip.

One project, seven dependencies: six, idna, PyYAML (wheels everywhere), MarkupSafe
2.0.1 and crcmod 1.7 (no CPython 3.11/3.12 wheel on Linux or macOS), msgpack 1.0.5
(cp311 wheels only: builds from source on macOS arm64 with 3.12) and colorama (Windows
only). For each lock kind: ``wheelmirror plan --lock`` names exactly what builds from
source on linux-x86_64/3.11 and macos-arm64/3.12, ``wheelmirror build --lock`` builds
the local ones into a fresh mirror, and the installer, configured the way the project
documents, installs each of them from the mirror.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.cli import run_wheelmirror
from devtools.passthrough import PassthroughIndex
from devtools.pipuv_mirror import installed_tags
from devtools.pipuv_mirror import pip_env
from devtools.pipuv_mirror import serve_mirror
from devtools.pipuv_mirror import venv_python
from devtools.poetry_env import build_plugin_wheel
from devtools.poetry_env import ensure_plain_poetry
from devtools.poetry_env import ensure_plugin_poetry
from devtools.poetry_env import project_env
from poetry_wheelmirror.simple_index import parse_project_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UV = str(Path(sys.executable).parent / "uv")
DEPS = (
    "six==1.17.0",
    "idna==3.10",
    "pyyaml==6.0.2",
    "markupsafe==2.0.1",
    "crcmod==1.7",
    "msgpack==1.0.5",
    "colorama==0.4.6 ; sys_platform == 'win32'",
)
TARGETS = ("--target", "linux-x86_64/3.11", "--target", "macos-arm64/3.12")
EXPECTED = {
    "linux-x86_64/3.11": ["crcmod", "markupsafe"],
    "macos-arm64/3.12": ["crcmod", "markupsafe", "msgpack"],
}
LOCAL = EXPECTED["linux-x86_64/3.11"]
POETRY = "2.5.1"


def test_the_expectation_follows_pypis_file_lists(pypi_index: PassthroughIndex) -> None:
    """msgpack 1.0.5 builds only on the other target, and the two sdist-only pins have
    no wheel for either, according to PyPI's pages as served today."""

    def files(name: str, version: str) -> list[str]:
        page = parse_project_page(pypi_index.page(name)[1], f"{pypi_index.url}{name}/", name)
        return [f.filename for f in page.files if f"-{version}" in f.filename]

    msgpack = files("msgpack", "1.0.5")
    assert any("cp311-cp311-manylinux_2_17_x86_64" in f for f in msgpack)
    assert not any("cp312" in f or "abi3" in f or "py3-none" in f for f in msgpack)
    for name, version in (("markupsafe", "2.0.1"), ("crcmod", "1.7")):
        wheels = [f for f in files(name, version) if f.endswith(".whl")]
        assert not any(t in f for f in wheels for t in ("cp311", "cp312", "abi3", "none-any"))


def _plan(lock: Path, *extra: str) -> dict[str, list[str]]:
    result = run_wheelmirror("plan", "--lock", str(lock), *TARGETS, "--json", "-", *extra)
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)["locks"]
    return {
        t["target"]: sorted(p["name"] for p in t["packages"] if p["answer"] == "build")
        for t in entry["targets"]
    }


def _build(lock: Path, mirror: Path, cache: Path, *extra: str) -> None:
    result = run_wheelmirror(
        "build", "--lock", str(lock), "--mirror", str(mirror), "--cache-dir", str(cache), *extra
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = sorted(line.split()[0] for line in result.stdout.splitlines() if " built " in line)
    assert built == LOCAL, result.stdout
    assert sorted(p.name for p in (mirror / "files").iterdir()) == LOCAL


def _from_mirror(venv: Path) -> None:
    for name in LOCAL:
        tags = installed_tags(venv, name)
        # Built here by the installer it would be linux_x86_64; the mirror's is manylinux.
        assert any("manylinux" in t for t in tags), (name, tags)


def test_poetry_lock_plan_build_install(
    pypi_index: PassthroughIndex, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("poetry-lock")
    project = work / "project"
    project.mkdir()
    listed = ", ".join(f'"{d}"' for d in DEPS)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "lockdemo"\nversion = "0.1.0"\n'
        'requires-python = ">=3.11,<3.13"\n'
        f"dependencies = [{listed}]\n\n"
        "[tool.poetry]\npackage-mode = false\n\n"
        '[[tool.poetry.source]]\nname = "loopback"\n'
        f'url = "{pypi_index.url}"\npriority = "primary"\n'
    )
    env = project_env(work)
    ensure_plain_poetry(POETRY).run("lock", cwd=project, env=env)
    lock = project / "poetry.lock"
    locked = lock.read_bytes()
    proxy = ("--pypi-proxy", pypi_index.url)
    assert _plan(lock, *proxy) == EXPECTED
    mirror = work / "mirror"
    _build(lock, mirror, work / "cache", *proxy)
    plugin = ensure_plugin_poetry(POETRY, build_plugin_wheel(work / "wheel"), pypi_index.url)
    result = plugin.run(
        "install", cwd=project, env=project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri())
    )
    out = result.stdout + result.stderr
    assert "wheelmirror: 2 packages from the mirror: crcmod 1.7, markupsafe 2.0.1" in out, out
    _from_mirror(project / ".venv")
    assert lock.read_bytes() == locked
    # The same per-target answer inside Poetry, now with the mirror's wheels counted.
    status = plugin.run(
        "wheelmirror", "status", "--target", "linux-x86_64/3.11", "--target",
        "macos-arm64/3.12", "--pypi-proxy", pypi_index.url, cwd=project,
        env=project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri()),
    ).stdout  # fmt: skip
    linux, mac = status.split("poetry.lock: macos-arm64/3.12")
    for name in LOCAL:
        assert any(name in row and "mirror wheel" in row for row in linux.splitlines()), status
    for name in EXPECTED["macos-arm64/3.12"]:
        assert any(name in row and "builds from source" in row for row in mac.splitlines()), status
    assert lock.read_bytes() == locked


def _uv_project(path: Path) -> Path:
    path.mkdir(parents=True)
    deps = ", ".join(f'"{d}"' for d in DEPS)
    (path / "pyproject.toml").write_text(
        '[project]\nname = "lockdemo"\nversion = "0.1.0"\nrequires-python = ">=3.11,<3.13"\n'
        f"dependencies = [{deps}]\n\n[tool.uv]\npackage = false\n"
    )
    return path


def _uv(project: Path, home: Path, *args: str) -> None:
    result = subprocess.run(
        [UV, *args],
        cwd=project,
        env=pip_env(home, UV_PYTHON_DOWNLOADS="never", UV_PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


def test_uv_lock_plan_build_sync(tmp_path: Path) -> None:
    project = _uv_project(tmp_path / "project")
    _uv(project, tmp_path, "lock")
    lock = project / "uv.lock"
    assert _plan(lock) == EXPECTED
    mirror = tmp_path / "mirror"
    _build(lock, mirror, tmp_path / "cache")
    with serve_mirror(mirror) as served:
        env = pip_env(tmp_path, WHEELMIRROR_CACHE_DIR=str(tmp_path / "wm-cache"))
        result = subprocess.run(
            [sys.executable, "-m", "poetry_wheelmirror.cli.main", "uv-config", "--mirror",
             served.url],
            cwd=project, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        _uv(project, tmp_path, "sync")
    _from_mirror(project / ".venv")


def test_requirements_plan_build_pip_install(pypi_index: PassthroughIndex, tmp_path: Path) -> None:
    project = _uv_project(tmp_path / "project")
    requirements = project / "requirements.txt"
    _uv(
        project, tmp_path, "pip", "compile", "-q", "--generate-hashes", "--universal",
        "pyproject.toml", "-o", str(requirements),
    )  # fmt: skip
    assert _plan(requirements) == EXPECTED
    mirror = tmp_path / "mirror"
    _build(requirements, mirror, tmp_path / "cache")
    cache = tmp_path / "routing-cache"
    with serve_mirror(mirror, "--upstream", pypi_index.url, "--cache-dir", str(cache)) as served:
        env = pip_env(tmp_path, WHEELMIRROR_CACHE_DIR=str(tmp_path / "wm-cache"))
        hashed = tmp_path / "hashed.txt"
        venv = tmp_path / "venv"
        python = venv_python(venv)
        for args in (
            ["hashes", "-r", str(requirements), "--mirror", served.url, "-o", str(hashed)],
            ["pip-config", "--mode", "routing", "--mirror", served.url],
        ):
            result = subprocess.run(
                [sys.executable, "-m", "poetry_wheelmirror.cli.main", *args],
                env={**env, "VIRTUAL_ENV": str(venv)},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stderr
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--require-hashes", "-r", str(hashed)],
            env=pip_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    _from_mirror(venv)


def test_a_refused_pin_is_not_built_and_the_rest_are(tmp_path: Path) -> None:
    """crcmod's sdist hash in the lock is not PyPI's: refused in one line, MarkupSafe still
    built and added; the exit status says something was not built."""
    project = _uv_project(tmp_path / "project")
    _uv(project, tmp_path, "lock")
    lock = project / "uv.lock"
    crcmod_sha = "dc7051a0db5f2bd48665a990d3ec1cc305a466a77358ca4492826f41f283601e"
    lock.write_text(lock.read_text().replace(crcmod_sha, "0" * 64))
    mirror = tmp_path / "mirror"
    result = run_wheelmirror(
        "build", "--lock", str(lock), "--mirror", str(mirror), "--cache-dir", str(tmp_path / "c")
    )
    assert result.returncode == 7, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.strip()}
    assert " built " in rows["markupsafe"]
    assert " refused " in rows["crcmod"]
    assert "crcmod-1.7.tar.gz has sha256 000000000000" in rows["crcmod"]
    assert sorted(p.name for p in (mirror / "files").iterdir()) == ["markupsafe"]
