"""``wheelmirror plan``: list the wheels PyPI lacks and the mirror has not built yet."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import existing_mirror_arg
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.cli.lock_plan import add_lock_options
from poetry_wheelmirror.cli.recipes_opt import add_recipes_option
from poetry_wheelmirror.cli.recipes_opt import recipes_from_args

if TYPE_CHECKING:
    from collections.abc import Callable

    from packaging.utils import NormalizedName

    from poetry_wheelmirror.client import CachedClient
    from poetry_wheelmirror.manifest import PackageDocument

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "plan",
        help="list missing wheels per (version, python, platform); JSON is a GitHub matrix",
        description=(
            "Read the recipes and PyPI's simple JSON API (PEP 691) and list every "
            "(package, version, python, platform) where PyPI has an sdist but no wheel a "
            "client on that platform would install, and the mirror has none either. "
            '--json writes {"include": [...]} for a GitHub Actions matrix. '
            "With --lock: for each package a lock pins and each --target, whether PyPI "
            "or the mirror has a wheel for it, or it builds from source (and whether the "
            "mirror could build it); --json then writes that report, --matrix the matrix."
        ),
    )
    add_recipes_option(parser)
    parser.add_argument(
        "--mirror",
        metavar="DIR|URL",
        default=None,
        type=existing_mirror_arg,
        help="the mirror whose published wheels count as built",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        default=None,
        help="write the matrix JSON here ('-' for stdout, then no table)",
    )
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="NAME",
        help="plan only these packages (repeatable)",
    )
    parser.add_argument(
        "--index-url",
        default=None,
        metavar="URL",
        help="PEP 691 index to read (default: https://pypi.org/simple/)",
    )
    add_lock_options(parser)
    add_client_options(parser)
    parser.set_defaults(handler=_plan)


def mirror_lookup(
    location: str | None, client: CachedClient
) -> Callable[[NormalizedName], PackageDocument | None]:
    """A package's mirror document (None: not in the mirror) from a directory or URL."""
    if location is None:
        return lambda name: None
    if "://" not in location and not location.startswith("file:"):
        from poetry_wheelmirror.mirror.store import MirrorStore

        store = MirrorStore(Path(location))
        if store.root() is None:
            return lambda name: None  # a mirror not built yet has published nothing
        return store.package
    from poetry_wheelmirror.mirror_client import MirrorReader

    return MirrorReader(location, client).package


def _mirror_docs(
    location: str | None, names: list[NormalizedName], client: CachedClient
) -> dict[NormalizedName, PackageDocument | None]:
    lookup = mirror_lookup(location, client)
    return {n: lookup(n) for n in names}


def _plan(args: argparse.Namespace) -> int:
    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.errors import RecipeError
    from poetry_wheelmirror.mirror.plan import MAX_MATRIX_JOBS
    from poetry_wheelmirror.mirror.plan import make_plan
    from poetry_wheelmirror.mirror.plan import matrix_json
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.urls import PYPI_SIMPLE

    if args.lock or args.locks_config:
        from poetry_wheelmirror.cli.lock_plan import run_lock_plan

        return run_lock_plan(args)
    recipes = recipes_from_args(args, required=True)
    if args.package:
        wanted = {canonicalize_name(p) for p in args.package}
        unknown = sorted(wanted - set(recipes))
        if unknown:
            msg = f"no recipe for {', '.join(unknown)}"
            raise RecipeError(msg)
        recipes = {n: r for n, r in recipes.items() if n in wanted}
    client = make_client(args)
    pypi = PypiClient(client, args.index_url or PYPI_SIMPLE)
    names = sorted(recipes)
    upstream = {n: pypi.project(n) for n in names}
    plan = make_plan(recipes, upstream, _mirror_docs(args.mirror, names, client))
    matrix = matrix_json(plan)
    if args.json is not None:
        text = json.dumps(matrix, indent=2) + "\n"
        if str(args.json) == "-":
            sys.stdout.write(text)
        else:
            args.json.write_text(text, encoding="utf-8")
    if str(args.json) != "-":
        _print_table(plan)
    for note in plan.notes:
        print(
            f"wheelmirror: note: {note.package} {note.version}: {note.reason}".replace("  ", " "),
            file=sys.stderr,
        )
    if len(plan.missing) > MAX_MATRIX_JOBS:
        print(
            f"wheelmirror: warning: {len(plan.missing)} jobs exceed GitHub's "
            f"{MAX_MATRIX_JOBS}-job matrix limit; plan with --package in batches",
            file=sys.stderr,
        )
    return 0


def _print_table(plan: object) -> None:
    from poetry_wheelmirror.mirror.plan import Plan

    assert isinstance(plan, Plan)
    header = ("PACKAGE", "VERSION", "PYTHON", "PLATFORM", "RUNNER", "BUILD")
    rows = [(m.package, m.version, m.python, m.platform, m.runner, m.build) for m in plan.missing]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"{len(plan.missing)} missing wheel(s); {plan.covered} already on PyPI or the mirror")
