"""TOML parsing with one set of rules for every file the package reads (pure but for
:func:`load_toml`'s read).

Python 3.11+ has ``tomllib``; on 3.9/3.10 the parser is ``tomlkit``, which Poetry
already ships. Both recurse once per nested array or table, so a hostile file can
exhaust the stack: that is a one-line error like any other invalid TOML.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import WheelmirrorError

__all__ = ["load_toml", "parse_toml"]


def parse_toml(
    text: str, source: str, *, error: type[WheelmirrorError] = ConfigError
) -> dict[str, Any]:
    """The parsed *text*; *error* (one line naming *source*) when it is not valid TOML."""
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            msg = f"{source}: not valid TOML ({e})"
            raise error(msg) from None
        except RecursionError:  # tomllib recurses once per nested array or table
            msg = f"{source}: not valid TOML (nested too deeply)"
            raise error(msg) from None
    import tomlkit  # Python 3.9/3.10: the TOML parser Poetry already ships
    from tomlkit.exceptions import TOMLKitError

    try:
        data: dict[str, Any] = tomlkit.parse(text).unwrap()
    except TOMLKitError as e:
        msg = f"{source}: not valid TOML ({e})"
        raise error(msg) from None
    except RecursionError:
        msg = f"{source}: not valid TOML (nested too deeply)"
        raise error(msg) from None
    return data


def load_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file at *path*; ConfigError (one line) when unreadable or invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"cannot read {path}: {e}"
        raise ConfigError(msg) from None
    return parse_toml(text, str(path))
