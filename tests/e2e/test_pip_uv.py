"""Real pip and real uv install from a local mirror with only the configuration that
``wheelmirror pip-config`` / ``uv-config`` / ``hashes`` generate, through the static index
(``wheelmirror serve DIR``) and the routing index (``--upstream`` = the loopback PyPI
pass-through). The mirrored package must arrive as the mirror's wheel (its installed WHEEL
tags), every other package unchanged from upstream. The mirror is the session's real
MarkupSafe 2.0.1 build (tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.passthrough import PassthroughIndex
from devtools.pipuv_mirror import MS_TAG
from devtools.pipuv_mirror import REPO
from devtools.pipuv_mirror import ServedMirror
from devtools.pipuv_mirror import installed_tags
from devtools.pipuv_mirror import pip_env
from devtools.pipuv_mirror import serve_mirror
from devtools.pipuv_mirror import venv_python
from poetry_wheelmirror.simple_index import parse_project_page

pytestmark = pytest.mark.e2e

UV = str(REPO / ".venv" / "bin" / "uv")
SIX = "six==1.16.0"
SIX_WHEEL = "six-1.16.0-py2.py3-none-any.whl"

REALISTIC_PIP_CONF = """\
# Company-wide pip settings (managed by hand; keep the comments!)
; see https://pip.pypa.io/en/stable/topics/configuration/

[global]
# our proxy is slow
timeout = 60
retries = 3
trusted-host =
    pkgs.corp.example
    ml.corp.example

[install]
; CI never builds from source
prefer-binary = true
no-warn-script-location = true

[list]
format = columns

# end of file
"""


def wheelmirror(*args: str, env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "poetry_wheelmirror.cli.main", *args],
        env=env,
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def ms_wheel(mirror: Path) -> str:
    return next((mirror / "files" / "markupsafe").glob("*.whl")).name


@pytest.fixture(scope="module")
def static_index(mirror: Path) -> Iterator[ServedMirror]:
    with serve_mirror(mirror) as served:
        yield served


@pytest.fixture(scope="module")
def routing_index(
    mirror: Path, pypi_index: PassthroughIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedMirror]:
    cache = tmp_path_factory.mktemp("routing-cache")
    with serve_mirror(mirror, "--upstream", pypi_index.url, "--cache-dir", str(cache)) as served:
        yield served


def pip_install(python: Path, home: Path, *args: str) -> dict[str, str]:
    """pip install with a report; returns {normalised name: download URL}."""
    report = home / "report.json"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--report", str(report), *args],
        env=pip_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text())
    return {
        item["metadata"]["name"].lower(): item["download_info"]["url"] for item in data["install"]
    }


def test_pip_static_index_via_extra_index_url(
    ms_wheel: str, static_index: ServedMirror, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    python = venv_python(venv)
    out = wheelmirror(
        "pip-config", "--mirror", static_index.url, env=pip_env(tmp_path, VIRTUAL_ENV=str(venv))
    )
    assert "extra-index-url" in out
    assert f"extra-index-url = {static_index.url}simple/" in (venv / "pip.conf").read_text()
    urls = pip_install(python, tmp_path, "markupsafe==2.0.1", SIX)
    assert urls["markupsafe"] == f"{static_index.url}files/markupsafe/{ms_wheel}"
    assert MS_TAG in installed_tags(venv, "markupsafe")
    assert urls["six"].startswith("https://files.pythonhosted.org/")
    assert urls["six"].endswith(SIX_WHEEL)


def test_pip_routing_index_via_index_url(
    ms_wheel: str, routing_index: ServedMirror, pypi_index: PassthroughIndex, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    python = venv_python(venv)
    out = wheelmirror(
        "pip-config",
        "--mode",
        "routing",
        "--mirror",
        routing_index.url,
        env=pip_env(tmp_path, VIRTUAL_ENV=str(venv)),
    )
    assert "index-url = a routing index" in out
    urls = pip_install(python, tmp_path, "markupsafe==2.0.1", SIX)
    assert urls["markupsafe"] == f"{routing_index.url}files/markupsafe/{ms_wheel}"
    assert MS_TAG in installed_tags(venv, "markupsafe")
    # six was redirected to the upstream, and its file is PyPI's own.
    assert "/simple/six/" in pypi_index.requests
    assert urls["six"].startswith("https://files.pythonhosted.org/")


def test_pip_require_hashes_with_wheelmirror_hashes(
    ms_wheel: str, routing_index: ServedMirror, pypi_index: PassthroughIndex, tmp_path: Path
) -> None:
    # What `poetry export --with-hashes` writes: PyPI's hashes only.
    pypi_hashes = {}
    for name in ("markupsafe", "six"):
        page = parse_project_page(pypi_index.page(name)[1], pypi_index.url + f"{name}/", name)
        pypi_hashes[name] = {f.filename: f.sha256 for f in page.files}
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        'markupsafe==2.0.1 ; python_version >= "3.9" \\\n'
        f"    --hash=sha256:{pypi_hashes['markupsafe']['MarkupSafe-2.0.1.tar.gz']}\n"
        'six==1.16.0 ; python_version >= "3.9" \\\n'
        f"    --hash=sha256:{pypi_hashes['six'][SIX_WHEEL]} \\\n"
        f"    --hash=sha256:{pypi_hashes['six']['six-1.16.0.tar.gz']}\n"
    )
    original = requirements.read_text()
    hashed = tmp_path / "hashed.txt"
    out = wheelmirror(
        "hashes",
        "-r",
        str(requirements),
        "--mirror",
        routing_index.url,
        "-o",
        str(hashed),
        env=pip_env(tmp_path, WHEELMIRROR_CACHE_DIR=str(tmp_path / "wm-cache")),
    )
    assert "markupsafe==2.0.1: added 1 mirror wheel hash" in out
    text = hashed.read_text()
    assert text.startswith(original.splitlines()[0])
    assert all(line.rstrip(" \\") in text for line in original.splitlines())
    again = tmp_path / "again.txt"
    wheelmirror(
        "hashes",
        "-r",
        str(hashed),
        "--mirror",
        routing_index.url,
        "-o",
        str(again),
        env=pip_env(tmp_path, WHEELMIRROR_CACHE_DIR=str(tmp_path / "wm-cache")),
    )
    assert again.read_text() == text  # idempotent
    venv = tmp_path / "venv"
    python = venv_python(venv)
    wheelmirror(
        "pip-config",
        "--mode",
        "routing",
        "--mirror",
        routing_index.url,
        env=pip_env(tmp_path, VIRTUAL_ENV=str(venv)),
    )
    urls = pip_install(python, tmp_path, "--require-hashes", "-r", str(hashed))
    assert urls["markupsafe"].endswith(ms_wheel)
    assert MS_TAG in installed_tags(venv, "markupsafe")
    assert urls["six"].endswith(SIX_WHEEL)


def test_pip_conf_writer_never_loses_a_line(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = venv_python(venv)
    conf = venv / "pip.conf"
    conf.write_text(REALISTIC_PIP_CONF)
    conf.chmod(0o640)
    env = pip_env(tmp_path, VIRTUAL_ENV=str(venv))
    url = "http://127.0.0.1:9/"
    wheelmirror("pip-config", "--mirror", url, env=env)
    written = conf.read_text()
    lines = iter(written.splitlines())
    assert all(any(old == new for new in lines) for old in REALISTIC_PIP_CONF.splitlines())
    assert (venv / "pip.conf.bak").read_text() == REALISTIC_PIP_CONF
    assert conf.stat().st_mode & 0o777 == 0o640
    # Real pip reads the result: our setting and every one of the user's.
    listed = subprocess.run(
        [str(python), "-m", "pip", "config", "list"],
        env=pip_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"global.extra-index-url='{url}simple/'" in listed
    for key in ("global.timeout='60'", "install.prefer-binary='true'", "list.format='columns'"):
        assert key in listed
    out = wheelmirror("pip-config", "--mirror", url, env=env)
    assert "nothing changed" in out
    assert conf.read_text() == written
    wheelmirror("pip-config", "--remove", env=env)
    assert conf.read_text() == REALISTIC_PIP_CONF


def _uv(project: Path, home: Path, *args: str) -> None:
    result = subprocess.run(
        [UV, *args, "--python", sys.executable],
        cwd=project,
        env=pip_env(home, UV_PYTHON_DOWNLOADS="never"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


def _project(path: Path) -> Path:
    path.mkdir()
    (path / "pyproject.toml").write_text(
        "# a project that pins an old MarkupSafe\n"
        "[project]\n"
        'name = "demo"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.11"\n'
        'dependencies = ["markupsafe==2.0.1", "six==1.16.0"]  # keep\n'
        "\n"
        "[tool.uv]\n"
        "package = false\n"
    )
    return path


def _lock_sources(project: Path) -> dict[str, str]:
    import tomllib

    lock = tomllib.loads((project / "uv.lock").read_text())
    return {p["name"]: p["source"].get("registry", "") for p in lock["package"]}


def test_uv_explicit_index_and_sources(static_index: ServedMirror, tmp_path: Path) -> None:
    project = _project(tmp_path / "proj")
    before = (project / "pyproject.toml").read_text()
    env = pip_env(tmp_path, WHEELMIRROR_CACHE_DIR=str(tmp_path / "wm-cache"))
    out = wheelmirror("uv-config", "--mirror", static_index.url, env=env, cwd=project)
    assert "from the mirror: markupsafe" in out
    text = (project / "pyproject.toml").read_text()
    assert text.startswith(before)  # appended: nothing of the user's moved
    assert "explicit = true" in text
    again = wheelmirror("uv-config", "--mirror", static_index.url, env=env, cwd=project)
    assert "nothing changed" in again
    _uv(project, tmp_path, "sync")
    sources = _lock_sources(project)
    assert sources["markupsafe"] == f"{static_index.url}simple/"
    assert sources["six"] == "https://pypi.org/simple"
    assert MS_TAG in installed_tags(project / ".venv", "markupsafe")
    wheelmirror("uv-config", "--remove", env=env, cwd=project)
    assert (project / "pyproject.toml").read_text() == before


def test_uv_routing_index(
    routing_index: ServedMirror, pypi_index: PassthroughIndex, tmp_path: Path
) -> None:
    project = _project(tmp_path / "proj")
    env = pip_env(tmp_path)
    wheelmirror("uv-config", "--routing", "--mirror", routing_index.url, env=env, cwd=project)
    assert "default = true" in (project / "pyproject.toml").read_text()
    _uv(project, tmp_path, "sync")
    sources = _lock_sources(project)
    assert sources["markupsafe"] == f"{routing_index.url}simple/"
    assert MS_TAG in installed_tags(project / ".venv", "markupsafe")
    lock = (project / "uv.lock").read_text()
    assert "https://files.pythonhosted.org/packages/" in lock  # six: PyPI's own file
    assert "/simple/six/" in pypi_index.requests
