"""``wheelmirror select NAME==VERSION``: which mirror wheel an interpreter would get."""

from __future__ import annotations

import argparse
import sys

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import add_mirror_url_option
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.cli.common import mirror_location_arg
from poetry_wheelmirror.cli.common import parse_pin
from poetry_wheelmirror.cli.common import platform_arg
from poetry_wheelmirror.cli.common import python_version_arg
from poetry_wheelmirror.config import mirror_url
from poetry_wheelmirror.errors import NoCompatibleWheelError
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.selection import PLATFORM_ALIASES
from poetry_wheelmirror.selection import rank_wheels
from poetry_wheelmirror.selection import select_wheel
from poetry_wheelmirror.selection import supported_tags

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "select",
        help="show which mirror wheel an interpreter and platform would get",
        description=(
            "Print the mirror wheel pip would pick for NAME==VERSION on the given Python and "
            "platform (default: this interpreter), or say why none fits."
        ),
    )
    parser.add_argument("pin", metavar="NAME==VERSION")
    add_mirror_url_option(parser)
    parser.add_argument(
        "--manifest",
        dest="mirror",
        metavar="URL",
        type=mirror_location_arg,
        help="deprecated spelling of --mirror",
    )
    parser.add_argument(
        "--platform",
        metavar="P",
        type=platform_arg,
        help="platform tag such as macosx_11_0_arm64 or manylinux_2_28_aarch64, or one of "
        + ", ".join(sorted(PLATFORM_ALIASES)),
    )
    parser.add_argument(
        "--python",
        metavar="X.Y",
        type=python_version_arg,
        help="CPython version (default: this one)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every candidate")
    parser.add_argument("--json", action="store_true", help="print the choice as JSON")
    add_client_options(parser)
    parser.set_defaults(handler=_select)


def _select(args: argparse.Namespace) -> int:
    name, version = parse_pin(args.pin)
    reader = MirrorReader(mirror_url(args.mirror), make_client(args))
    doc = reader.package(name)
    if doc is None:
        msg = f"{name} is not on the mirror {reader.base_url}"
        raise NoCompatibleWheelError(msg)
    entry = doc.entry_for(version)
    if entry is None:
        msg = f"the mirror has no {name} {version} (it has: {', '.join(doc.versions) or 'none'})"
        raise NoCompatibleWheelError(msg)
    tags = supported_tags(args.python, args.platform)
    python = args.python or "{}.{}.{}".format(*sys.version_info[:3])
    if args.json:
        import json

        wheel = select_wheel(entry.wheels, tags, python)
        result = {
            "filename": wheel.filename,
            "url": reader.wheel_url(name, wheel),
            "sha256": wheel.sha256,
            "size": wheel.size,
            "candidates": [
                {"filename": c.wheel.filename, "reason": c.reason}
                for c in rank_wheels(entry.wheels, tags, python)
            ],
        }
        print(json.dumps(result, indent=2))
        return 0
    if args.verbose:
        for candidate in rank_wheels(entry.wheels, tags, python):
            print(f"  {candidate.wheel.filename}: {candidate.reason}")
    wheel = select_wheel(entry.wheels, tags, python)
    print(wheel.filename)
    print(f"  url: {reader.wheel_url(name, wheel)}")
    print(f"  sha256: {wheel.sha256}")
    return 0
