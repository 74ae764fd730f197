"""``wheelmirror uv-config``: point uv at the mirror for the project in this directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import add_mirror_url_option
from poetry_wheelmirror.cli.common import configured_mirror_url
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.cli.common import refuse_routing_to_directory
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.urls import to_base_url

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "uv-config",
        help="write uv configuration ([tool.uv] or uv.toml) that uses the mirror",
        description=(
            "Configure uv for the project in the current directory. By default: an "
            "explicit index named 'wheelmirror' plus a [tool.uv.sources] entry for each "
            "dependency the mirror carries, so only those come from the mirror and uv.lock "
            "stays portable. With --routing: the routing index (wheelmirror serve "
            "--upstream) as uv's default index. Only whole blocks of lines fenced by marker "
            "comments are added (every byte you wrote stays; the result must parse as TOML "
            "to exactly your settings plus the mirror's, else nothing is written), after a "
            ".bak copy of the old file. Running it twice changes nothing; --remove takes "
            "the blocks out, byte for byte. An index named 'wheelmirror' outside the blocks "
            "is yours: it is never touched, and the command refuses. File errors: exit "
            "status 2, nothing changed."
        ),
    )
    add_mirror_url_option(parser)
    parser.add_argument(
        "--routing", action="store_true", help="use a routing index as uv's default index"
    )
    parser.add_argument(
        "--uv-toml",
        action="store_true",
        help="write ./uv.toml instead of pyproject.toml's [tool.uv] (uv.toml cannot hold "
        "per-package sources: the mirror becomes the first index there)",
    )
    parser.add_argument(
        "--remove", action="store_true", help="undo what this command added, byte for byte"
    )
    parser.add_argument(
        "--project", type=Path, default=Path(), metavar="DIR", help="project folder (default .)"
    )
    add_client_options(parser)
    parser.set_defaults(handler=_run)


def _warn(message: str) -> None:
    print(f"wheelmirror: warning: {message}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.installers.pipfiles import decode_config
    from poetry_wheelmirror.installers.pipfiles import read_config
    from poetry_wheelmirror.installers.pipfiles import write_config
    from poetry_wheelmirror.installers.uvconf import configure_uv
    from poetry_wheelmirror.installers.uvconf import project_dependencies
    from poetry_wheelmirror.installers.uvconf import remove_uv

    project: Path = args.project
    target = project / ("uv.toml" if args.uv_toml else "pyproject.toml")
    # Read and check the file before anything else: a bad file changes nothing.
    raw = read_config(target)
    if raw is None and not args.uv_toml:
        msg = f"no pyproject.toml in {project.resolve()}: run this in a project, or use --uv-toml"
        raise ConfigError(msg)
    text = decode_config(raw, target) if raw is not None else ""
    if args.remove:
        change = remove_uv(text, in_pyproject=not args.uv_toml)
        for note in change.notes:
            _warn(note)
        if not change.changed:
            print(f"{target} has no wheelmirror settings: nothing changed")
            return 0
        saved = write_config(target, change.text, delete=change.delete_file)
        gone = " (the file it had created is deleted)" if change.delete_file else ""
        print(f"removed the wheelmirror index from {target}{gone}")
        if saved is not None:
            print(f"backup: {saved}")
        return 0
    mirror = configured_mirror_url(args.mirror, "uv")
    if args.routing:
        refuse_routing_to_directory(mirror, "--routing")
    base = to_base_url(mirror)
    index_url = base + "simple/"
    supported: list[str] = []
    if not args.routing and not args.uv_toml:
        from poetry_wheelmirror.mirror_client import MirrorReader

        deps = project_dependencies(text)
        carried = set(MirrorReader(base, make_client(args)).root().packages)
        supported = [name for name in deps if name in carried]
    change = configure_uv(
        text,
        index_url,
        supported=supported,
        routing=args.routing,
        in_pyproject=not args.uv_toml,
        new_file=raw is None,
    )
    for note in change.notes:
        _warn(note)
    if not change.changed:
        print(f"{target} is already configured: nothing changed")
        return 0
    saved = write_config(target, change.text)
    if args.routing:
        print(f"{target}: default index = {index_url} (routing index)")
    elif args.uv_toml:
        print(f"{target}: first index = {index_url}")
    else:
        routed = ", ".join(change.routed) or "none of the project's direct dependencies"
        print(f"{target}: explicit index 'wheelmirror' = {index_url}; from the mirror: {routed}")
        print(
            "note: only direct dependencies can be pinned to an index; for a transitive one, "
            "add it to your dependencies (and run this again) or use --routing",
            file=sys.stderr,
        )
    if saved is not None:
        print(f"backup: {saved}")
    print("run `uv lock` (or `uv sync`) to use it", file=sys.stderr)
    return 0
