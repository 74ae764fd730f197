"""Options and helpers shared by several subcommands.

The ``*_arg`` functions are argparse ``type=`` validators: a bad value is refused while
the command line is parsed, before anything is fetched, built or written, with one
line and exit status 2 (see errors.EXIT_CODES).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.client import default_cache_dir
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import MIRROR_ENV
from poetry_wheelmirror.errors import ConfigError

_T = TypeVar("_T")

__all__ = [
    "add_client_options",
    "add_mirror_dir_option",
    "add_mirror_url_option",
    "configured_mirror_url",
    "existing_dir_arg",
    "existing_mirror_arg",
    "make_client",
    "mirror_dir_from",
    "mirror_location_arg",
    "new_or_existing_dir_arg",
    "non_negative_number_arg",
    "parse_name_or_pin",
    "parse_pin",
    "platform_arg",
    "port_arg",
    "positive_seconds_arg",
    "python_version_arg",
    "refuse_routing_to_directory",
]


def add_mirror_url_option(parser: argparse.ArgumentParser) -> None:
    """``--mirror URL`` for client-side commands."""
    parser.add_argument(
        "--mirror",
        metavar="URL",
        type=mirror_location_arg,
        help=f"mirror base URL or local mirror directory (default: ${MIRROR_ENV}, else "
        f"the user config (wheelmirror config set url), else {DEFAULT_MIRROR_URL})",
    )


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """Cache and network options."""
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="HTTP cache folder (default: $WHEELMIRROR_CACHE_DIR or the user cache folder)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="use cached documents only, never the network"
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds_arg,
        default=15.0,
        metavar="SECONDS",
        help="read timeout (default 15)",
    )


def make_client(args: argparse.Namespace) -> CachedClient:
    """A CachedClient configured from the common options."""
    cache_dir = getattr(args, "cache_dir", None) or default_cache_dir()
    timeout = float(getattr(args, "timeout", 15.0))
    return CachedClient(
        cache_dir,
        offline=bool(getattr(args, "offline", False)),
        timeout=(min(5.0, timeout), timeout),
    )


def parse_name_or_pin(value: str, *, need_version: bool = False) -> tuple[str, str | None]:
    """``NAME==VERSION``, or a bare ``NAME`` unless *need_version*; ConfigError for
    anything else (other operators, extras, markers, URLs)."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement

    try:
        req: Requirement | None = Requirement(value)
    except InvalidRequirement:
        req = None
    specs = list(req.specifier) if req else []
    pinned = len(specs) == 1 and specs[0].operator in ("==", "===") and _exact(specs[0].version)
    if (
        req is None
        or req.extras
        or req.marker is not None
        or req.url is not None
        or not (pinned or (not specs and not need_version))
    ):
        expected = "NAME==VERSION" if need_version else "NAME or NAME==VERSION"
        msg = f"expected {expected}, got {value!r}"
        raise ConfigError(msg)
    return req.name, specs[0].version if pinned else None


def parse_pin(value: str) -> tuple[str, str]:
    """Split ``NAME==VERSION``; ConfigError for anything else."""
    name, version = parse_name_or_pin(value, need_version=True)
    assert version is not None  # need_version guarantees it
    return name, version


def _exact(version: str) -> bool:
    """Whether *version* names one release (``1.7``), not a range (``1.*``)."""
    from packaging.version import InvalidVersion
    from packaging.version import Version

    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


# -- argparse type= validators ------------------------------------------------------------


def _valid(value: str, parse: Callable[[str], _T], ok: Callable[[_T], bool], problem: str) -> _T:
    """``parse(value)`` when it parses and passes *ok*, else argparse's error
    ``'VALUE' PROBLEM``."""
    try:
        parsed: _T | None = parse(value)
    except ValueError:
        parsed = None
    if parsed is None or not ok(parsed):
        msg = f"{value!r} {problem}"
        raise argparse.ArgumentTypeError(msg)
    return parsed


def positive_seconds_arg(value: str) -> float:
    """A finite number of seconds above zero."""
    return _valid(
        value, float, lambda s: math.isfinite(s) and s > 0, "is not a positive number of seconds"
    )


def non_negative_number_arg(value: str) -> float:
    """A finite number, zero or more."""
    return _valid(value, float, lambda n: math.isfinite(n) and n >= 0, "is not a number >= 0")


def port_arg(value: str) -> int:
    """A TCP port, 0-65535 (0: any free port)."""
    return _valid(
        value, int, lambda p: 0 <= p <= 65535, "is not a port number (0-65535; 0 picks a free one)"
    )


def _checked(check: Callable[[str], _T], value: str) -> _T:
    """``check(value)``, its ConfigError turned into argparse's error (same message)."""
    try:
        return check(value)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def platform_arg(value: str) -> str:
    """A known platform name or a well-formed platform tag; suggests the closest name."""
    from poetry_wheelmirror.selection import check_platform

    return _checked(check_platform, value)


def python_version_arg(value: str) -> str:
    """``X.Y`` (a CPython version)."""
    parts = value.split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or parts[0] != "3":
        msg = f"{value!r} is not a CPython version X.Y (e.g. 3.12)"
        raise argparse.ArgumentTypeError(msg)
    return value


def mirror_location_arg(value: str) -> str:
    """A mirror URL (https, http on loopback, file) or an existing directory, as a base URL."""
    from poetry_wheelmirror.config import check_mirror_location

    return _checked(check_mirror_location, value)


def existing_mirror_arg(value: str) -> str:
    """Like :func:`mirror_location_arg`; kept as the text given when it is a directory."""
    mirror_location_arg(value)
    return value


def existing_dir_arg(value: str) -> Path:
    """An existing directory."""
    path = Path(value).expanduser()
    if not path.is_dir():
        what = "a file" if path.exists() else "not found"
        msg = f"{value!r} is not a directory ({what})"
        raise argparse.ArgumentTypeError(msg)
    return path


def new_or_existing_dir_arg(value: str) -> Path:
    """A directory that exists, or can be created: its nearest existing parent is a
    writable directory. Checked before any work, so a build never ends on it."""
    path = Path(value).expanduser()
    if path.exists():
        if not path.is_dir():
            msg = f"{value!r} is a file, not a directory"
            raise argparse.ArgumentTypeError(msg)
        if not os.access(path, os.W_OK | os.X_OK):
            msg = f"{value!r} is not writable"
            raise argparse.ArgumentTypeError(msg)
        return path
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        msg = f"{value!r} cannot be created: {parent} is a file"
        raise argparse.ArgumentTypeError(msg)
    # A real probe, not os.access: root passes every access check, and some file
    # systems (/proc, read-only mounts) refuse what the permission bits allow.
    import tempfile

    try:
        os.rmdir(tempfile.mkdtemp(prefix=".wheelmirror-probe-", dir=parent))
    except OSError as e:
        msg = f"{value!r} cannot be created: {parent}: {e.strerror or e}"
        raise argparse.ArgumentTypeError(msg) from None
    return path


def refuse_routing_to_directory(mirror: str, option: str) -> None:
    """ConfigError when routing mode points at a static mirror (a directory or file: URL):
    a routing index answers for every package, a static mirror only for its own, so
    every other package would fail to install."""
    from poetry_wheelmirror.urls import to_base_url

    if to_base_url(mirror).lower().startswith("file:"):
        msg = (
            f"{option} needs a routing index (wheelmirror serve --mirror DIR --upstream"
            f" https://pypi.org/simple/), not the static mirror directory {mirror}:"
            " every package it does not carry would fail to install"
        )
        raise ConfigError(msg)


def configured_mirror_url(cli_value: str | None, what: str) -> str:
    """The mirror to write into *what* (pip's or uv's configuration, a hashed
    requirements file): one the user chose. The built-in default is refused: pip and uv
    cannot check its wheels' provenance, so only the Poetry plugin (with sigstore)
    uses it (docs/security.md)."""
    from poetry_wheelmirror.config import choose_mirror

    choice = choose_mirror(cli_value)
    if choice.builtin_default:
        msg = (
            f"no mirror chosen for {what}: name the mirror you trust with --mirror URL,"
            " $WHEELMIRROR_URL or `wheelmirror config set url URL` (the built-in default is"
            " used only where its provenance is verified, by the Poetry plugin)"
        )
        raise ConfigError(msg)
    return choice.url


def add_mirror_dir_option(parser: argparse.ArgumentParser, *, help: str) -> None:
    """``--mirror DIR`` for a command that works on a local mirror directory; the older
    positional ``DIR`` still works as a deprecated spelling (see mirror_dir_from)."""
    parser.add_argument(
        "legacy_mirror_dir",
        nargs="?",
        type=existing_dir_arg,
        metavar="DIR",
        help="deprecated spelling of --mirror DIR",
    )
    parser.add_argument(
        "--mirror", dest="mirror_dir", type=existing_dir_arg, metavar="DIR", help=help
    )


def mirror_dir_from(args: argparse.Namespace, command: str) -> Path:
    """The directory given by ``--mirror`` or, deprecated, positionally (with a warning)."""
    import sys

    chosen: Path | None = args.mirror_dir
    legacy: Path | None = args.legacy_mirror_dir
    if chosen is not None and legacy is not None and chosen != legacy:
        msg = f"two mirror directories given: --mirror {chosen} and {legacy}"
        raise ConfigError(msg)
    if chosen is None and legacy is None:
        msg = f"no mirror directory: wheelmirror {command} --mirror DIR"
        raise ConfigError(msg)
    if chosen is None:
        print(
            f"wheelmirror: warning: `wheelmirror {command} DIR` is deprecated:"
            f" use `wheelmirror {command} --mirror DIR`",
            file=sys.stderr,
        )
    result = chosen or legacy
    assert result is not None
    return result
