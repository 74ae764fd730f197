"""Reading any supported lock file from disk: the kind from its name, else its content."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.errors import ConfigError

if TYPE_CHECKING:
    from poetry_wheelmirror.locks.model import Lock

__all__ = ["read_lock_file"]


def read_lock_file(path: Path) -> Lock:
    """The lock at *path* (poetry.lock, uv.lock or a requirements file); ConfigError (one
    line) when it cannot be read or is none of these."""
    from poetry_wheelmirror.locks.poetry_lock import parse_poetry_lock
    from poetry_wheelmirror.locks.requirements import parse_requirements
    from poetry_wheelmirror.locks.uv_lock import parse_uv_lock
    from poetry_wheelmirror.tomlfile import load_toml

    if path.name.lower().endswith((".lock", ".toml")):
        data = load_toml(path)
        if isinstance(data.get("version"), int) and "metadata" not in data:
            return parse_uv_lock(data, source=str(path))
        return parse_poetry_lock(data, source=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"cannot read {path}: {getattr(e, 'strerror', None) or e}"
        raise ConfigError(msg) from None
    lock = parse_requirements(text, source=str(path))
    if not lock.dists:
        msg = (
            f"{path}: no pinned requirement found "
            "(expected poetry.lock, uv.lock or NAME==VERSION lines)"
        )
        raise ConfigError(msg)
    return lock
