"""``wheelmirror cibw-config`` and ``wheelmirror fetch-sdist``: the CI build job's steps.

Both run the same on a laptop: ``fetch-sdist`` downloads a version's sdist from PyPI and
checks its sha256, ``cibw-config`` writes the recipe as a cibuildwheel config file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import RecipeError

__all__ = ["parse_pin", "register"]

DEFAULT_RECIPES = Path("recipes")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser(
        "cibw-config",
        help="write a package's recipe as a cibuildwheel config file",
        description=(
            "Translate the recipe of NAME (and check that it carries VERSION) into a "
            "cibuildwheel config file for `cibuildwheel SDIST --config-file FILE`. Prints "
            "the file's absolute path, or the TOML itself without --output."
        ),
    )
    config.add_argument("package", metavar="NAME[==VERSION]")
    config.add_argument(
        "--recipes",
        type=Path,
        default=DEFAULT_RECIPES,
        metavar="DIR",
        help="recipe folder (default: ./recipes)",
    )
    config.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write the config here (default: print it)",
    )
    config.add_argument(
        "--identifiers",
        action="store_true",
        help="print the recipe's build identifiers instead, one a line",
    )
    config.set_defaults(handler=_cibw_config)

    sdist = sub.add_parser(
        "fetch-sdist",
        help="download a version's sdist from PyPI and check its sha256",
        description=(
            "Download the sdist of NAME==VERSION from the index (PyPI by default) into "
            "DEST, verify its sha256 against the index, and print its path."
        ),
    )
    sdist.add_argument("package", metavar="NAME==VERSION")
    sdist.add_argument("--dest", type=Path, default=Path("sdist"), metavar="DIR")
    sdist.add_argument(
        "--index-url",
        default=None,
        metavar="URL",
        help="PEP 691 index (default: PyPI's simple API)",
    )
    add_client_options(sdist)
    sdist.set_defaults(handler=_fetch_sdist)


def parse_pin(value: str, *, need_version: bool) -> tuple[str, str | None]:
    """``name==version`` (or ``name`` when *need_version* is false) into its parts."""
    from poetry_wheelmirror.names import valid_project_name

    name, sep, version = value.partition("==")
    name, version = name.strip(), version.strip()
    if not valid_project_name(name) or (sep and not version) or (need_version and not sep):
        expected = "NAME==VERSION" if need_version else "NAME or NAME==VERSION"
        msg = f"expected {expected}, got {value!r}"
        raise ConfigError(msg)
    return name, version or None


def _cibw_config(args: argparse.Namespace) -> int:
    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.client import atomic_write
    from poetry_wheelmirror.mirror.cibw import build_identifiers
    from poetry_wheelmirror.mirror.cibw import render_cibw_config
    from poetry_wheelmirror.mirror.recipes import load_recipe

    name, version = parse_pin(args.package, need_version=False)
    path = args.recipes / f"{canonicalize_name(name)}.toml"
    if not path.is_file():
        msg = f"no recipe for {name} in {args.recipes}"
        raise RecipeError(msg)
    recipe = load_recipe(path)
    if version is not None and not recipe.wants(version):
        msg = f"the recipe for {recipe.name} does not carry version {version}"
        raise RecipeError(msg)
    if args.identifiers:
        print("\n".join(build_identifiers(recipe)))
        return 0
    text = render_cibw_config(recipe)
    if args.output is None:
        print(text, end="")
        return 0
    out = Path(os.path.abspath(args.output))
    atomic_write(out, text.encode())
    print(out)
    return 0


def _fetch_sdist(args: argparse.Namespace) -> int:
    import sys

    from poetry_wheelmirror.cli.common import make_client
    from poetry_wheelmirror.errors import FetchError
    from poetry_wheelmirror.mirror.pypi import PYPI_SIMPLE
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.names import filename_problem

    name, version = parse_pin(args.package, need_version=True)
    assert version is not None
    client = make_client(args)
    project = PypiClient(client, args.index_url or PYPI_SIMPLE).project(name, revalidate=True)
    if project is None:
        msg = f"{name} is not on the index"
        raise FetchError(msg)
    sdist = project.sdist_for(version)
    if sdist is None:
        msg = f"{name} {version} has no sdist on the index"
        raise FetchError(msg)
    problem = filename_problem(sdist.filename)
    if problem:
        raise FetchError(problem)
    dest = args.dest / sdist.filename
    print(f"downloading {sdist.filename} ({sdist.size} bytes)", file=sys.stderr)
    client.download(sdist.url, dest, sha256=sdist.sha256)
    print(f"sha256 {sdist.sha256} ok", file=sys.stderr)
    print(dest.resolve())
    return 0
