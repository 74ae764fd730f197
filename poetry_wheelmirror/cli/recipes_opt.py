"""The ``--recipes DIR`` option shared by ``plan`` and ``build``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.cli.common import existing_dir_arg
from poetry_wheelmirror.errors import RecipeError

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.mirror.recipes import Recipe

__all__ = ["RECIPES_ENV", "add_recipes_option", "default_recipes_dir", "recipes_from_args"]

RECIPES_ENV = "WHEELMIRROR_RECIPES"


def add_recipes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recipes",
        type=existing_dir_arg,
        default=None,
        metavar="DIR",
        help=f"recipe folder (default: ${RECIPES_ENV}, else ./recipes, else the recipes "
        "installed with poetry-wheelmirror)",
    )


def default_recipes_dir() -> Path | None:
    """``$WHEELMIRROR_RECIPES``, ``./recipes``, the recipes packaged in the wheel
    (``poetry_wheelmirror/recipes``), or the source tree's ``recipes/``."""
    env = os.environ.get(RECIPES_ENV)
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    for candidate in (Path("recipes"), package / "recipes", package.parent / "recipes"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    return None


def recipes_from_args(args: argparse.Namespace, *, required: bool) -> dict[NormalizedName, Recipe]:
    from poetry_wheelmirror.mirror.recipes import load_recipes

    folder = args.recipes or default_recipes_dir()
    if folder is None:
        if required:
            msg = f"no recipe folder: pass --recipes DIR or set ${RECIPES_ENV}"
            raise RecipeError(msg)
        return {}
    return load_recipes(folder)
