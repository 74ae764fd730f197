"""Where the mirror is, and the user-level settings shared by the CLI and the plugin.

Which mirror, first match wins:

* the command line (``--mirror``), for the ``wheelmirror`` commands;
* the environment (``$WHEELMIRROR_URL`` for the CLI, ``$POETRY_WHEELMIRROR_URL`` and
  ``[tool.poetry-wheelmirror] url`` for the plugin, see settings.py);
* the user's own setting, written once for all their projects by
  ``wheelmirror config set url URL`` (or ``poetry wheelmirror use URL``) into
  :func:`user_config_path`;
* the built-in default. Unlike the others it is *not* trusted as configured: the plugin
  uses its wheels only when their Sigstore attestation verifies as made by
  :data:`DEFAULT_MIRROR_REPOSITORY`'s :data:`DEFAULT_MIRROR_WORKFLOW` (docs/security.md).
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from poetry_wheelmirror.errors import ConfigError

__all__ = [
    "CONFIG_FILE_ENV",
    "DEFAULT_MIRROR_REPOSITORY",
    "DEFAULT_MIRROR_URL",
    "DEFAULT_MIRROR_WORKFLOW",
    "DEFAULT_URL_ENV",
    "MIRROR_ENV",
    "USER_KEYS",
    "MirrorChoice",
    "check_mirror_location",
    "choose_mirror",
    "default_mirror_url",
    "mirror_url",
    "read_user_config",
    "user_config_path",
    "write_user_setting",
]

#: The project's public mirror (GitHub Pages for documents and index, Releases for wheels).
DEFAULT_MIRROR_URL: Final = "https://poetry-wheelmirror.github.io/mirror/"
#: Who must have built the default mirror's wheels: pinned here, never read from the
#: mirror or from a setting (a setting that could change it could sign its own wheels).
DEFAULT_MIRROR_REPOSITORY: Final = "poetry-wheelmirror/mirror"
DEFAULT_MIRROR_WORKFLOW: Final = ".github/workflows/build.yml"
#: Where the built-in default is looked for (tests; a local copy of the public mirror).
#: What answers there is still held to the pinned identity above.
DEFAULT_URL_ENV: Final = "WHEELMIRROR_DEFAULT_URL"
#: Environment variable naming the mirror for the client-side commands.
MIRROR_ENV: Final = "WHEELMIRROR_URL"
#: Environment variable naming the user config file (default: see user_config_path).
CONFIG_FILE_ENV: Final = "WHEELMIRROR_CONFIG"
#: The keys the user config file may hold.
USER_KEYS: Final = ("url",)
_APP: Final = "poetry-wheelmirror"


def default_mirror_url(environ: Mapping[str, str] | None = None) -> str:
    """The built-in default's address (``$WHEELMIRROR_DEFAULT_URL`` moves it)."""
    env = os.environ if environ is None else environ
    return env.get(DEFAULT_URL_ENV, "").strip() or DEFAULT_MIRROR_URL


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$WHEELMIRROR_CONFIG``, else ``poetry-wheelmirror/config.toml`` in the user's
    config folder (``$XDG_CONFIG_HOME`` or ``~/.config``; ``%APPDATA%`` on Windows;
    ``~/Library/Application Support`` on macOS)."""
    env = os.environ if environ is None else environ
    if env.get(CONFIG_FILE_ENV, "").strip():
        return Path(env[CONFIG_FILE_ENV].strip())
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    if sys.platform == "win32":
        base = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return base / _APP / "config.toml"


def read_user_config(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user config file's settings ({} when there is none); ConfigError when it
    cannot be read or holds something else than the known string keys."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = user_config_path(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        msg = f"cannot read the user config {path}: {getattr(e, 'strerror', None) or e}"
        raise ConfigError(msg) from None
    try:
        data = tomlkit.parse(text).unwrap()
    except TOMLKitError as e:
        msg = f"the user config {path} is not valid TOML: {e}"
        raise ConfigError(msg) from None
    result: dict[str, str] = {}
    for key, value in data.items():
        if key not in USER_KEYS:
            msg = f"the user config {path}: unknown key {key!r} (known: {', '.join(USER_KEYS)})"
            raise ConfigError(msg)
        if not isinstance(value, str) or not value.strip():
            msg = f"the user config {path}: {key} must be a non-empty string"
            raise ConfigError(msg)
        result[key] = value.strip()
    return result


def write_user_setting(
    key: str, value: str | None, environ: Mapping[str, str] | None = None
) -> Path:
    """Set (or with None remove) *key* in the user config file, keeping the rest."""
    import tomlkit

    if key not in USER_KEYS:
        msg = f"unknown setting {key!r} (known: {', '.join(USER_KEYS)})"
        raise ConfigError(msg)
    read_user_config(environ)  # refuse to rewrite a file this would misread
    path = user_config_path(environ)
    doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else tomlkit.document()
    if value is None:
        doc.pop(key, None)
    else:
        doc[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        msg = f"cannot write the user config {path}: {e.strerror or e}"
        raise ConfigError(msg) from None
    return path


@dataclass(frozen=True)
class MirrorChoice:
    """A mirror URL and where it came from."""

    url: str
    #: ``"cli"``, ``"env"``, ``"user"`` or ``"default"``.
    source: str
    #: For messages: ``--mirror``, ``$WHEELMIRROR_URL``, the config file, ...
    label: str

    @property
    def builtin_default(self) -> bool:
        return self.source == "default"


def choose_mirror(
    cli_value: str | None = None, environ: Mapping[str, str] | None = None
) -> MirrorChoice:
    """The CLI's mirror: ``--mirror``, ``$WHEELMIRROR_URL``, the user config, the default."""
    env = os.environ if environ is None else environ
    if cli_value:
        return MirrorChoice(cli_value, "cli", "--mirror")
    if env.get(MIRROR_ENV, "").strip():
        return MirrorChoice(env[MIRROR_ENV].strip(), "env", f"${MIRROR_ENV}")
    user = read_user_config(env).get("url")
    if user:
        return MirrorChoice(user, "user", str(user_config_path(env)))
    return MirrorChoice(default_mirror_url(env), "default", "the built-in default")


def mirror_url(cli_value: str | None = None) -> str:
    """The mirror base URL the CLI uses (see :func:`choose_mirror`)."""
    return choose_mirror(cli_value).url


def check_mirror_location(value: str) -> str:
    """*value* as a mirror base URL: an http(s)/file URL, or an existing directory.

    ConfigError (one line) for anything else, e.g. ``"not a url"`` or a missing folder:
    a typo must not become a ``file:`` URL of a directory that does not exist.
    """
    from poetry_wheelmirror.urls import path_to_url
    from poetry_wheelmirror.urls import to_base_url
    from poetry_wheelmirror.urls import url_scheme_problem
    from poetry_wheelmirror.urls import url_to_path

    text = value.strip()
    if "://" in text or text.startswith("file:"):
        # Whether plain http may be fetched is the client's rule (loopback only); here
        # only the shape: a scheme this project reads, and a host for http(s).
        problem = url_scheme_problem(text)
        if problem and not problem.startswith("plain http"):
            msg = f"mirror {value!r}: {problem}"
            raise ConfigError(msg)
        if text.lower().startswith("http") and not urllib.parse.urlsplit(text).hostname:
            msg = f"mirror {value!r}: URL has no host"
            raise ConfigError(msg)
        if text.lower().startswith("file:") and not url_to_path(text).is_dir():
            msg = f"mirror {value!r}: no such directory {url_to_path(text)}"
            raise ConfigError(msg)
        return to_base_url(text)
    path = Path(text).expanduser()
    if text and path.is_dir():
        return path_to_url(path)
    if text and path.exists():
        msg = f"mirror {value!r} is a file, not a mirror directory or URL"
        raise ConfigError(msg)
    msg = (
        f"mirror {value!r} is neither a URL (https://..., http://localhost/..., file:///...)"
        " nor an existing directory"
    )
    raise ConfigError(msg)
