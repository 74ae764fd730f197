"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.client import default_cache_dir
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import MIRROR_ENV
from poetry_wheelmirror.errors import ConfigError

__all__ = [
    "add_client_options",
    "add_mirror_url_option",
    "make_client",
    "parse_name_or_pin",
    "parse_pin",
]


def add_mirror_url_option(parser: argparse.ArgumentParser) -> None:
    """``--mirror URL`` for client-side commands."""
    parser.add_argument(
        "--mirror",
        metavar="URL",
        help=f"mirror base URL or local mirror directory (default: ${MIRROR_ENV}, "
        f"else {DEFAULT_MIRROR_URL})",
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
        "--timeout", type=float, default=15.0, metavar="SECONDS", help="read timeout (default 15)"
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
    pinned = len(specs) == 1 and specs[0].operator in ("==", "===")
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
