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
            "--upstream) as uv's default index. Formatting and comments are kept; running "
            "it twice changes nothing; --remove takes it out."
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
    parser.add_argument("--remove", action="store_true", help="undo what this command added")
    parser.add_argument(
        "--project", type=Path, default=Path(), metavar="DIR", help="project folder (default .)"
    )
    add_client_options(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.installers.pipfiles import write_config
    from poetry_wheelmirror.installers.uvconf import configure_uv
    from poetry_wheelmirror.installers.uvconf import project_dependencies
    from poetry_wheelmirror.installers.uvconf import remove_uv

    project: Path = args.project
    pyproject = project / "pyproject.toml"
    target = project / "uv.toml" if args.uv_toml else pyproject
    if not args.uv_toml and not pyproject.is_file():
        msg = f"no pyproject.toml in {project.resolve()}: run this in a project, or use --uv-toml"
        raise ConfigError(msg)
    text = target.read_text(encoding="utf-8") if target.is_file() else ""
    if args.remove:
        change = remove_uv(text, in_pyproject=not args.uv_toml)
        if not change.changed:
            print(f"{target} has no wheelmirror settings: nothing changed")
            return 0
        write_config(target, change.text, backup=False)
        print(f"removed the wheelmirror index from {target}")
        return 0
    mirror = configured_mirror_url(args.mirror, "uv")
    if args.routing:
        refuse_routing_to_directory(mirror, "--routing")
    base = to_base_url(mirror)
    index_url = base + "simple/"
    supported: list[str] = []
    if not args.routing and not args.uv_toml:
        from poetry_wheelmirror.mirror_client import MirrorReader

        carried = set(MirrorReader(base, make_client(args)).root().packages)
        deps = project_dependencies(pyproject.read_text(encoding="utf-8"))
        supported = [name for name in deps if name in carried]
    change = configure_uv(
        text,
        index_url,
        supported=supported,
        routing=args.routing,
        in_pyproject=not args.uv_toml,
    )
    for note in change.notes:
        print(f"wheelmirror: warning: {note}", file=sys.stderr)
    if not change.changed:
        print(f"{target} is already configured: nothing changed")
        return 0
    write_config(target, change.text, backup=False)
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
    print("run `uv lock` (or `uv sync`) to use it", file=sys.stderr)
    return 0
