"""``wheelmirror cibw-config`` and ``wheelmirror fetch-sdist``: the CI build job's steps.

Both run the same on a laptop: ``fetch-sdist`` downloads a version's sdist from PyPI and
checks its sha256, ``cibw-config`` writes the recipe as a cibuildwheel config file.

A recipe's ``build.requires``, ``regenerate-cython`` and ``cpython-compat`` cannot be said
in cibuildwheel's options, so when the recipe has any, ``fetch-sdist`` also writes a
patched copy of the sdist (``DEST/patched/``, the same changes ``wheelmirror build``
makes: see ``poetry_wheelmirror.mirror.sdist_patch``, ``mirror.build.cython_regen`` and
``mirror.build.cpython_compat``, whose headers go into the copy) and names
that as the ``path`` to build; the ``sha256`` output stays PyPI's. Cython's output is
the same C for every platform (it branches on the CPython version at compile time), so
regenerating it once on the runner serves every build of the matrix.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import parse_name_or_pin
from poetry_wheelmirror.cli.recipes_opt import add_recipes_option
from poetry_wheelmirror.errors import BuildError
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import RecipeError

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror.recipes import BuildSettings

__all__ = ["register", "source_date_epoch", "write_github_output"]


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
    add_recipes_option(config)
    config.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write the config here (default: print it)",
    )
    config.add_argument(
        "--default-recipe",
        action="store_true",
        help="a NAME==VERSION without a recipe gets the default build settings (the "
        "jobs of `plan --lock`, whose packages need no recipe)",
    )
    config.add_argument(
        "--identifiers",
        action="store_true",
        help="print the recipe's build identifiers instead, one a line",
    )
    _add_github_output(config, "path (the config file) and timeout-minutes (the recipe's)")
    config.set_defaults(handler=_cibw_config)

    sdist = sub.add_parser(
        "fetch-sdist",
        help="download a version's sdist from PyPI and check its sha256",
        description=(
            "Download the sdist of NAME==VERSION from the index (PyPI by default) into "
            "DEST, verify its sha256 against the index, and print its path. When the "
            "package's recipe has build.requires, also write a copy with them added to "
            "its [build-system] requires (DEST/patched/, reproducible) and print that "
            "path instead: the sdist cibuildwheel should build."
        ),
    )
    sdist.add_argument("package", metavar="NAME==VERSION")
    add_recipes_option(sdist)
    sdist.add_argument("--dest", type=Path, default=Path("sdist"), metavar="DIR")
    sdist.add_argument(
        "--index-url",
        default=None,
        metavar="URL",
        help="PEP 691 index (default: PyPI's simple API)",
    )
    sdist.add_argument(
        "--sha256",
        default=None,
        metavar="HEX",
        help="also require this sha256 (e.g. the one the planner saw)",
    )
    _add_github_output(
        sdist,
        "path (the sdist to build), sha256 (the index's sdist, verified) and "
        "source-date-epoch (the sdist's upload time)",
    )
    add_client_options(sdist)
    sdist.set_defaults(handler=_fetch_sdist)


def _add_github_output(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--github-output",
        action="store_true",
        help=f"also append {what} as step outputs to the file named by $GITHUB_OUTPUT",
    )


def write_github_output(outputs: dict[str, str]) -> None:
    """Append ``key=value`` lines to ``$GITHUB_OUTPUT`` (GitHub Actions step outputs)."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        msg = "--github-output: $GITHUB_OUTPUT is not set (it is on GitHub Actions runners)"
        raise ConfigError(msg)
    for key, value in outputs.items():
        if "\n" in value or "\r" in value:
            msg = f"step output {key} would span lines"
            raise ConfigError(msg)
    with open(target, "a", encoding="utf-8") as f:
        f.writelines(f"{key}={value}\n" for key, value in outputs.items())


def source_date_epoch(upload_time: str | None) -> int:
    """SOURCE_DATE_EPOCH from an sdist's upload time, as ``wheelmirror build`` sets it:
    the same for every rebuild (1980-01-01, the earliest a zip can hold, when unknown).

    >>> source_date_epoch("2021-05-18T20:15:31.123Z"), source_date_epoch(None)
    (1621368931, 315532800)
    """
    from poetry_wheelmirror.mirror.sdist_patch import sdist_epoch

    return sdist_epoch(upload_time)


def _cibw_config(args: argparse.Namespace) -> int:
    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.cli.recipes_opt import default_recipes_dir
    from poetry_wheelmirror.fs import atomic_write
    from poetry_wheelmirror.mirror.cibw import build_identifiers
    from poetry_wheelmirror.mirror.cibw import render_cibw_config
    from poetry_wheelmirror.mirror.recipes import load_recipe

    name, version = parse_name_or_pin(args.package)
    folder = args.recipes or default_recipes_dir()
    path = folder / f"{canonicalize_name(name)}.toml" if folder is not None else None
    if folder is None and not args.default_recipe:
        msg = "no recipe folder: pass --recipes DIR or set $WHEELMIRROR_RECIPES"
        raise RecipeError(msg)
    if (path is None or not path.is_file()) and args.default_recipe and version is not None:
        from poetry_wheelmirror.cli.lock_plan import default_recipe

        recipe = default_recipe(name, [version])  # a lock-planned package
    elif path is None or not path.is_file():
        msg = f"no recipe for {name} in {folder}"
        raise RecipeError(msg)
    else:
        recipe = load_recipe(path)
    if version is not None and not recipe.wants(version):
        msg = f"the recipe for {recipe.name} does not carry version {version}"
        raise RecipeError(msg)
    if args.identifiers:
        print("\n".join(build_identifiers(recipe)))
        return 0
    text = render_cibw_config(recipe)
    if args.output is None:
        if args.github_output:
            msg = "--github-output needs --output FILE"
            raise ConfigError(msg)
        print(text, end="")
        return 0
    out = Path(os.path.abspath(args.output))
    atomic_write(out, text.encode())
    if args.github_output:
        write_github_output(
            {"path": str(out), "timeout-minutes": str(recipe.build.timeout_minutes)}
        )
    print(out)
    return 0


def _fetch_sdist(args: argparse.Namespace) -> int:
    import sys

    from poetry_wheelmirror.cli.common import make_client
    from poetry_wheelmirror.errors import FetchError
    from poetry_wheelmirror.errors import HashMismatchError
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.names import filename_problem
    from poetry_wheelmirror.urls import PYPI_SIMPLE

    name, version = parse_name_or_pin(args.package, need_version=True)
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
    if args.sha256 and args.sha256.lower() != sdist.sha256:
        msg = f"{sdist.filename}: the index now says sha256 {sdist.sha256}, not {args.sha256}"
        raise HashMismatchError(msg)
    dest = (args.dest / sdist.filename).resolve()
    print(f"wheelmirror: downloading {sdist.filename} ({sdist.size} bytes)", file=sys.stderr)
    client.download(sdist.url, dest, sha256=sdist.sha256)
    print(f"wheelmirror: sha256 {sdist.sha256} ok", file=sys.stderr)
    epoch = source_date_epoch(sdist.upload_time)
    build_path = dest
    settings = _recipe_build(args, name)
    if settings is not None and (
        settings.requires or settings.regenerate_cython or settings.cpython_compat
    ):
        from poetry_wheelmirror.mirror.sdist_patch import patch_sdist

        mtime = _env_epoch() or epoch
        build_path = patch_sdist(
            dest,
            settings.requires,
            dest.parent / "patched",
            epoch=mtime,
            prepare=_prepare(settings, dest.parent, name),
        )
        changes = []
        if settings.requires:
            changes.append(f"build requires {', '.join(settings.requires)} added")
        if settings.regenerate_cython:
            changes.append("Cython C regenerated")
        if settings.cpython_compat:
            changes.append("CPython compatibility headers added")
        print(f"wheelmirror: {'; '.join(changes)}: {build_path}", file=sys.stderr)
    if args.github_output:
        write_github_output(
            {"path": str(build_path), "sha256": sdist.sha256, "source-date-epoch": str(epoch)}
        )
    print(build_path)
    return 0


def _prepare(settings: BuildSettings, folder: Path, name: str) -> Callable[[Path], None]:
    """What fetch-sdist changes in the unpacked sdist before repacking it."""
    regenerate = _regenerate(folder, name) if settings.regenerate_cython else None

    def prepare(top: Path) -> None:
        if regenerate is not None:
            regenerate(top)
        if settings.cpython_compat:
            from poetry_wheelmirror.mirror.build.cpython_compat import copy_compat_headers

            copy_compat_headers(top)

    return prepare


def _regenerate(folder: Path, name: str) -> Callable[[Path], None]:
    """Regenerate the unpacked sdist's Cython C as ``wheelmirror build`` does, logging to
    ``FOLDER/NAME-regenerate-cython.log``."""
    import sys
    import tempfile

    from poetry_wheelmirror.mirror.build.cython_regen import regenerate_cython
    from poetry_wheelmirror.mirror.build.job import StepLog
    from poetry_wheelmirror.mirror.build.job import tool_env
    from poetry_wheelmirror.mirror.build.job import uv_binary

    log_path = folder / f"{name}-regenerate-cython.log"

    def prepare(top: Path) -> None:
        log_path.unlink(missing_ok=True)
        log = StepLog(log_path, name, lambda line: print(f"wheelmirror: {line}", file=sys.stderr))
        with tempfile.TemporaryDirectory(prefix="wheelmirror-cython-") as work:
            count = regenerate_cython(
                top,
                log=log,
                env=tool_env(),
                work=Path(work),
                uv=uv_binary(),
                interpreter=Path(sys.executable),
            )
        if count == 0:
            msg = (
                f"{name}: the recipe says regenerate-cython, but the sdist ships no .pyx "
                "next to its generated C"
            )
            raise BuildError(msg, log_path=str(log_path))

    return prepare


def _recipe_build(args: argparse.Namespace, name: str) -> BuildSettings | None:
    """The build settings of *name*'s recipe; None without a recipe (fetch-sdist also
    fetches packages the mirror does not carry)."""
    import sys

    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.cli.recipes_opt import default_recipes_dir
    from poetry_wheelmirror.mirror.recipes import load_recipe

    folder = args.recipes or default_recipes_dir()
    path = folder / f"{canonicalize_name(name)}.toml" if folder is not None else None
    if path is None or not path.is_file():
        where = folder if folder is not None else "no recipe folder"
        print(f"wheelmirror: no recipe for {name} ({where}): sdist used as is", file=sys.stderr)
        return None
    return load_recipe(path).build


def _env_epoch() -> int | None:
    """``$SOURCE_DATE_EPOCH`` when set to a whole number, else None."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value.isdigit():
        return None
    return max(int(value), 315532800)
