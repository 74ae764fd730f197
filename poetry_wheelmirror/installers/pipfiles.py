"""Which pip config file to edit; reading and writing the files the config commands edit.

Every failure is a one-line ConfigError that leaves the file as it was: a missing
parent folder, a directory or a read-only file in the way, bytes that are not UTF-8.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.indexconfig import pip_config_target

__all__ = ["Target", "backup_path", "config_path", "decode_config", "read_config", "write_config"]

Target = Literal["venv", "user", "global"]


def config_path(target: Target, env: Mapping[str, str] | None = None) -> Path:
    """The file pip-config edits for *target*: the one ``pip config --site/--user/--global
    set`` edits (pip's own locations, from :func:`indexconfig.pip_config_target`), the
    site being the active virtual environment."""
    env = dict(os.environ) if env is None else env
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    if target == "venv":
        venv = env.get("VIRTUAL_ENV")
        if not venv:
            msg = "no virtual environment is active: activate one, or pass --user or --global"
            raise ConfigError(msg)
        return pip_config_target("site", env, home=home, prefix=Path(venv))
    return pip_config_target(target, env, home=home, prefix=Path(sys.prefix))


def read_config(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        msg = f"{path} is a directory, not a file: not changed"
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror or e}: not changed"
    raise ConfigError(msg)


def decode_config(raw: bytes, path: Path) -> str:
    """*raw* as UTF-8 text (pip on a UTF-8 system and every TOML parser require it)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        msg = f"{path} is not UTF-8 text (byte {e.start}): not changed"
        raise ConfigError(msg) from None


def backup_path(path: Path) -> Path:
    """``pip.conf.bak``, or a timestamped name when that one is already taken."""
    plain = path.with_name(path.name + ".bak")
    if not plain.exists():
        return plain
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return path.with_name(f"{path.name}.{stamp}.bak")


def write_config(
    path: Path, text: str, *, backup: bool = True, delete: bool = False
) -> Path | None:
    """Write *text* to *path* atomically (temp file + rename in the same folder), keeping
    the file's mode and a backup of the old content; returns the backup's path.

    A symlinked config (dotfile managers) is written through to its target. *delete*
    removes the file instead (one this tool created). A read-only file is refused: the
    rename would replace it although its owner made it read-only.
    """
    path = path.resolve() if path.is_symlink() else path
    try:
        return _write(path, text, backup=backup, delete=delete)
    except OSError as e:
        msg = f"cannot write {path}: {e.strerror or e}: not changed"
        raise ConfigError(msg) from None


def _write(path: Path, text: str, *, backup: bool, delete: bool) -> Path | None:
    old = read_config(path)
    if old is not None:
        mode = stat.S_IMODE(path.stat().st_mode)
        if not mode & 0o222 or not os.access(path, os.W_OK):
            msg = f"{path} is read-only: not changed (make it writable first)"
            raise ConfigError(msg)
    saved: Path | None = None
    if old is not None and backup:
        saved = backup_path(path)
        shutil.copy2(path, saved)
    if delete:
        if old is not None:
            path.unlink()
        return saved
    mode = stat.S_IMODE(path.stat().st_mode) if old is not None else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
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
