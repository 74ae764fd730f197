"""Where pip reads its configuration, and writing a config file safely (disk I/O)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

from poetry_wheelmirror.errors import ConfigError

__all__ = ["Target", "backup_path", "config_path", "write_config"]

Target = Literal["venv", "user", "global"]


def config_path(target: Target, env: dict[str, str] | None = None) -> Path:
    """The file pip reads for *target* (pip's own locations, per platform)."""
    env = dict(os.environ) if env is None else env
    name = "pip.ini" if sys.platform == "win32" else "pip.conf"
    if target == "venv":
        venv = env.get("VIRTUAL_ENV")
        if not venv:
            msg = "no virtual environment is active: activate one, or pass --user or --global"
            raise ConfigError(msg)
        return Path(venv) / name
    if target == "user":
        if sys.platform == "win32":
            return Path(env.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "pip" / name
        if sys.platform == "darwin":
            legacy = Path.home() / ".config" / "pip" / name
            if legacy.exists():
                return legacy
            return Path.home() / "Library" / "Application Support" / "pip" / name
        base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "pip" / name
    if sys.platform == "win32":
        return Path(env.get("PROGRAMDATA", "C:\\ProgramData")) / "pip" / name
    if sys.platform == "darwin":
        return Path("/Library/Application Support/pip") / name
    return Path("/etc") / name


def backup_path(path: Path) -> Path:
    """``pip.conf.bak``, or a timestamped name when that one is already taken."""
    plain = path.with_name(path.name + ".bak")
    if not plain.exists():
        return plain
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return path.with_name(f"{path.name}.{stamp}.bak")


def write_config(path: Path, text: str, *, backup: bool = True) -> Path | None:
    """Write *text* to *path* atomically (temp file + rename in the same folder), keeping
    the file's mode and a backup of the old content; returns the backup's path.

    A symlinked config (dotfile managers) is written through to its target. An empty
    result removes a file this tool created.
    """
    path = path.resolve() if path.is_symlink() else path
    old: bytes | None = None
    with contextlib.suppress(FileNotFoundError):
        old = path.read_bytes()
    saved: Path | None = None
    if old is not None and backup:
        saved = backup_path(path)
        shutil.copy2(path, saved)
    if not text and old is not None:
        path.unlink()
        return saved
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if old is not None else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8", errors="surrogateescape"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return saved
