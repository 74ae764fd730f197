"""Where the locks and targets to plan come from, when not given on the command line.

* a project's own ``pyproject.toml``: ``[tool.poetry-wheelmirror] targets = [...]``;
* a ``wheelmirror.toml`` (pip/uv projects, or a team mirror's list of locks)::

      targets = ["linux-x86_64/3.11", "macos-arm64/3.12"]
      locks = ["teams/data/poetry.lock", "teams/web/uv.lock"]   # relative to this file
      pypi-proxies = ["https://devpi.example/root/pypi/+simple/"]

``pypi-proxies`` are indexes that serve PyPI's own files (devpi, Artifactory, a
pass-through): pins locked from them are planned against PyPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.targets import InstallTarget
from poetry_wheelmirror.targets import targets_from_table

__all__ = ["CONFIG_NAME", "LockSet", "find_targets", "read_lock_set"]

CONFIG_NAME: Final = "wheelmirror.toml"
_KEYS: Final = frozenset({"targets", "locks", "pypi-proxies"})


@dataclass(frozen=True)
class LockSet:
    locks: tuple[Path, ...]
    targets: tuple[InstallTarget, ...]
    pypi_proxies: tuple[str, ...] = ()


def _strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"{where}: {key} must be a list of strings"
        raise ConfigError(msg)
    return tuple(value)


def read_lock_set(path: Path) -> LockSet:
    """A wheelmirror.toml; ConfigError (one line) on unknown keys or wrong types."""
    from poetry_wheelmirror.tomlfile import load_toml

    data = load_toml(path)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        msg = f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
        raise ConfigError(msg)
    locks = tuple(path.parent / p for p in _strings(data, "locks", str(path)))
    return LockSet(
        locks=locks,
        targets=targets_from_table(data, str(path)),
        pypi_proxies=_strings(data, "pypi-proxies", str(path)),
    )


def find_targets(project_dir: Path) -> tuple[tuple[InstallTarget, ...], str]:
    """The targets configured for the project in *project_dir* and where they came from:
    ``[tool.poetry-wheelmirror]`` in pyproject.toml first, then wheelmirror.toml."""
    from poetry_wheelmirror.tomlfile import load_toml

    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        tool = load_toml(pyproject).get("tool", {})
        table = tool.get("poetry-wheelmirror") if isinstance(tool, dict) else None
        where = f"{pyproject} [tool.poetry-wheelmirror]"
        found = targets_from_table(table if isinstance(table, dict) else None, where)
        if found:
            return found, where
    config = project_dir / CONFIG_NAME
    if config.is_file():
        return read_lock_set(config).targets, str(config)
    return (), ""
