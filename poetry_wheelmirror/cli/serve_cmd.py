"""``wheelmirror serve --mirror DIR [--host H] [--port N] [--upstream URL]``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from poetry_wheelmirror.cli.common import add_mirror_dir_option
from poetry_wheelmirror.cli.common import mirror_dir_from
from poetry_wheelmirror.cli.common import non_negative_number_arg
from poetry_wheelmirror.cli.common import port_arg
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.urls import is_loopback_host

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "serve",
        help="serve a local mirror directory, optionally as a routing index",
        description=(
            "Serve a local mirror directory over HTTP: manifest.json, packages/, files/ and "
            "the simple index (PEP 503 HTML and PEP 691 JSON). With --upstream it is a "
            "routing index: a package the mirror carries gets the mirror's wheels merged "
            "with the upstream's own files; any other package is redirected (301) to the "
            "upstream, so pip's index-url can point here."
        ),
    )
    add_mirror_dir_option(parser, help="the mirror directory")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=port_arg, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--upstream",
        metavar="URL",
        help="upstream simple index to merge with and redirect to (e.g. https://pypi.org/simple/)",
    )
    parser.add_argument(
        "--upstream-ttl",
        type=non_negative_number_arg,
        default=300.0,
        metavar="SECONDS",
        help="how long an upstream page is used before it is revalidated (default 300)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="disk cache for upstream pages (default: $WHEELMIRROR_CACHE_DIR or the user "
        "cache folder)",
    )
    parser.add_argument("--debug", action="store_true", help="log one line per request")
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.client import default_cache_dir
    from poetry_wheelmirror.serve.router import RoutingIndex
    from poetry_wheelmirror.serve.server import serve
    from poetry_wheelmirror.serve.upstream import Upstream
    from poetry_wheelmirror.urls import redact_url

    directory: Path = mirror_dir_from(args, "serve")
    if not directory.is_dir():
        msg = f"not a directory: {directory}"
        raise ConfigError(msg)
    if not (directory / "manifest.json").is_file():
        print(f"wheelmirror: warning: {directory} has no manifest.json yet", file=sys.stderr)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="wheelmirror serve: %(levelname)s: %(message)s",
    )
    upstream = None
    if args.upstream:
        cache_dir = (args.cache_dir or default_cache_dir()) / "upstream"
        upstream = Upstream(args.upstream, cache_dir=cache_dir, ttl=args.upstream_ttl)
    app = RoutingIndex(directory, upstream, log_requests=args.debug)
    if not is_loopback_host(args.host):
        print(
            f"wheelmirror: warning: listening on {args.host}: plain http off this machine is "
            "refused by wheelmirror's own clients; put TLS in front",
            file=sys.stderr,
        )

    def ready(port: int) -> None:
        host = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{host}:{port}/"
        shown = redact_url(upstream.url) if upstream else ""
        mode = f"routing index, upstream {shown}" if upstream else "static index"
        print(f"Serving {directory} at {url} ({mode}); index: {url}simple/", flush=True)

    serve(app, args.host, args.port, ready)
    # The server has stopped cleanly. Granian's Rust threads can panic while the
    # interpreter finalises (granian 2.8, "panic in a function that cannot unwind"),
    # turning a clean stop into a scary trace: flush and leave without finalising.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
