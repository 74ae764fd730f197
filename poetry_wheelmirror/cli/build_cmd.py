"""``wheelmirror build NAME==VERSION ... --mirror DIR``: build missing wheels locally."""

from __future__ import annotations

import argparse
import sys

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.cli.common import new_or_existing_dir_arg
from poetry_wheelmirror.cli.lock_build import add_lock_build_options
from poetry_wheelmirror.cli.recipes_opt import add_recipes_option
from poetry_wheelmirror.cli.recipes_opt import recipes_from_args
from poetry_wheelmirror.errors import BuildError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "build",
        help="build missing wheels from PyPI sdists into a local mirror directory",
        description=(
            "For each NAME==VERSION and interpreter: skip when the mirror or PyPI already has "
            "a wheel it would install; otherwise download the sdist (sha256-checked against "
            "PyPI), build it with the recipe's settings, repair it (auditwheel/delocate), "
            "import-check it in a clean venv, and add every new wheel to DIR in one commit "
            "(package documents, root manifest, static index). A failed build leaves DIR as "
            "it was. Progress goes to stderr; stdout gets one line per pin and interpreter."
        ),
    )
    parser.add_argument("pins", nargs="*", metavar="NAME==VERSION")
    add_lock_build_options(parser)
    parser.add_argument(
        "--mirror",
        required=True,
        type=new_or_existing_dir_arg,
        metavar="DIR",
        help="local mirror directory (created when missing)",
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="X.Y|PATH",
        help="interpreter to build for (repeatable; X.Y is looked up on PATH and in pyenv; "
        "default: the one running wheelmirror)",
    )
    add_recipes_option(parser)
    parser.add_argument(
        "--backend",
        choices=("uv", "build"),
        default=None,
        help="build frontend (default: uv when installed, else pypa/build)",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="build even when the mirror has a wheel (a changed wheel gets a "
        "build tag; a published filename is never overwritten)",
    )
    parser.add_argument(
        "--mirror-name",
        default="local",
        help="name recorded in a new root manifest (default: local)",
    )
    add_client_options(parser)
    parser.set_defaults(handler=_build)


def _progress(message: str) -> None:
    print(f"wheelmirror: {message}", file=sys.stderr, flush=True)


def _build(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.cli.common import parse_pin
    from poetry_wheelmirror.client import default_cache_dir
    from poetry_wheelmirror.mirror.build import build_pins
    from poetry_wheelmirror.mirror.build import find_interpreter
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.store import MirrorStore

    if args.lock is not None:
        from poetry_wheelmirror.cli.lock_build import run_lock_build

        return run_lock_build(args)
    if not args.pins:
        from poetry_wheelmirror.errors import ConfigError

        msg = "nothing to build: give NAME==VERSION pins or --lock FILE"
        raise ConfigError(msg)
    pins = [parse_pin(p) for p in args.pins]
    interpreters = [find_interpreter(p) for p in args.python] or [find_interpreter()]
    recipes = recipes_from_args(args, required=False)
    client = make_client(args)
    cache_dir = args.cache_dir or default_cache_dir()
    store = MirrorStore(args.mirror, mirror_name=args.mirror_name)
    try:
        report = build_pins(
            pins,
            store=store,
            pypi=PypiClient(client),
            client=client,
            interpreters=interpreters,
            recipes=recipes,
            cache_dir=cache_dir,
            progress=_progress,
            backend=args.backend,
            rebuild=args.rebuild,
        )
    except BuildError as e:
        if e.log_tail:
            print(f"wheelmirror: last {len(e.log_tail)} lines of the build log:", file=sys.stderr)
            for line in e.log_tail:
                print(f"  | {line}", file=sys.stderr)
        print(f"wheelmirror: the mirror at {args.mirror} was left unchanged", file=sys.stderr)
        raise
    for outcome in report.outcomes:
        pin = f"{outcome.name}=={outcome.version} (cp{outcome.python.replace('.', '')})"
        if outcome.status == "built":
            print(f"built    {pin}: {outcome.filename} in {outcome.seconds:.1f} s")
        else:
            print(f"skipped  {pin}: {outcome.reason}")
    for path in report.added.added:
        print(f"added    {path}")
    if not report.added.added:
        print(f"nothing new: {args.mirror} unchanged")
    return 0
