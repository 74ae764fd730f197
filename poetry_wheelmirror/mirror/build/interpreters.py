"""The CPython interpreters a build targets: found on PATH, in pyenv, or by path."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag
from packaging.tags import compatible_tags
from packaging.tags import cpython_tags
from packaging.tags import platform_tags
from packaging.version import Version

from poetry_wheelmirror.errors import ConfigError

__all__ = ["Interpreter", "find_interpreter"]

_PROBE = (
    "import json, platform, sys, sysconfig; print(json.dumps({"
    "'version': list(sys.version_info[:3]), 'implementation': sys.implementation.name,"
    "'platform': sysconfig.get_platform(), 'executable': sys.executable}))"
)


@dataclass(frozen=True)
class Interpreter:
    """A CPython found on this machine and the tags a wheel for it must match."""

    executable: Path
    version: tuple[int, int, int]
    tags: tuple[Tag, ...]

    @property
    def python(self) -> str:
        """``X.Y``."""
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def full_version(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def cp(self) -> str:
        return f"cp{self.version[0]}{self.version[1]}"


def _candidates(spec: str) -> list[Path]:
    if os.sep in spec or spec.startswith("."):
        return [Path(spec)]
    if not re.fullmatch(r"3\.\d{1,2}", spec):
        msg = f"--python wants X.Y or an interpreter path, got {spec!r}"
        raise ConfigError(msg)
    found = [Path(p) for p in [shutil.which(f"python{spec}")] if p]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        versions = [p for p in pyenv.iterdir() if re.fullmatch(rf"{re.escape(spec)}\.\d+", p.name)]
        versions.sort(key=lambda p: Version(p.name), reverse=True)
        found += [p / "bin" / f"python{spec}" for p in versions]
    return found


def find_interpreter(spec: str | None = None) -> Interpreter:
    """The running interpreter (*spec* None), ``X.Y`` from PATH or pyenv, or a path."""
    candidates = [Path(sys.executable)] if spec is None else _candidates(spec)
    for exe in candidates:
        try:
            out = subprocess.run(
                [str(exe), "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        info = json.loads(out)
        if info["implementation"] != "cpython":
            msg = f"{exe} is {info['implementation']}, not CPython"
            raise ConfigError(msg)
        major, minor, micro = (int(v) for v in info["version"])
        if spec and "." in spec and os.sep not in spec and spec != f"{major}.{minor}":
            continue
        platforms = list(platform_tags())  # same machine: the running interpreter's view
        tags = list(cpython_tags(python_version=(major, minor), platforms=platforms))
        tags += compatible_tags(python_version=(major, minor), platforms=platforms)
        return Interpreter(executable=exe, version=(major, minor, micro), tags=tuple(tags))
    msg = f"no CPython {spec} found (looked on PATH and in pyenv)"
    raise ConfigError(msg)
