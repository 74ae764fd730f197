"""``wheelmirror hashes -r requirements.txt [--mirror URL] [-o OUT]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import add_mirror_url_option
from poetry_wheelmirror.cli.common import configured_mirror_url
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.errors import ConfigError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "hashes",
        help="add the mirror wheels' hashes to a hashed requirements file",
        description=(
            "Add each mirror wheel's --hash=sha256: entry to the pinned requirements of a "
            "requirements file (e.g. from `poetry export --with-hashes`), so that "
            "`pip install --require-hashes` accepts the mirror's wheels. Other lines are "
            "kept byte-for-byte; running it twice changes nothing."
        ),
    )
    parser.add_argument(
        "-r", "--requirement", dest="requirement", type=Path, required=True, metavar="FILE"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="where to write the result (default: update FILE in place; '-' for stdout)",
    )
    add_mirror_url_option(parser)
    add_client_options(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.installers.hashes import add_hashes
    from poetry_wheelmirror.installers.pipfiles import write_config
    from poetry_wheelmirror.mirror_client import MirrorReader

    try:
        text = args.requirement.read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError as e:
        msg = f"cannot read {args.requirement}: {e.strerror}"
        raise ConfigError(msg) from None
    mirror = configured_mirror_url(args.mirror, "pip's hash-checking mode")
    reader = MirrorReader(mirror, make_client(args))
    wheels: dict[str, dict[str, list[str]]] = {}
    for name in reader.root().packages:
        doc = reader.package(name)
        if doc is not None:
            wheels[name] = {v: [w.sha256 for w in e.wheels] for v, e in doc.versions.items()}
    report = add_hashes(text, wheels)
    for project, version, count in report.added:
        print(f"{project}=={version}: added {count} mirror wheel hash(es)", file=sys.stderr)
    for req in report.not_on_mirror:
        print(f"{req}: the mirror has no wheel for this version", file=sys.stderr)
    for req in report.skipped:
        print(
            f"wheelmirror: warning: {req}: not changed, its last line ends in a comment",
            file=sys.stderr,
        )
    if report.added and report.unhashed:
        print(
            "wheelmirror: warning: these requirements have no hashes, so pip will refuse "
            f"the file in hash-checking mode: {', '.join(report.unhashed)}",
            file=sys.stderr,
        )
    if args.output == "-":
        sys.stdout.write(report.text)
        return 0
    out = Path(args.output) if args.output else args.requirement
    if args.output or report.text != text:
        write_config(out, report.text, backup=False)
    if not report.added:
        print("no mirror hashes to add", file=sys.stderr)
    return 0
