"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.client import default_cache_dir
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import MIRROR_ENV

__all__ = ["add_client_options", "add_mirror_url_option", "make_client"]


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
