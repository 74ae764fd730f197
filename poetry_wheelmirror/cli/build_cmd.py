"""``wheelmirror build NAME==VERSION ... --mirror DIR``: build missing wheels locally."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.cli.common import new_or_existing_dir_arg
from poetry_wheelmirror.cli.lock_build import add_lock_build_options
from poetry_wheelmirror.cli.recipes_opt import add_recipes_option
from poetry_wheelmirror.cli.recipes_opt import recipes_from_args
from poetry_wheelmirror.errors import BuildError
from poetry_wheelmirror.errors import ConfigError

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror.build import BuildReport

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "build",
        help="build missing wheels from PyPI sdists into a local mirror directory",
        description=(
            "For each NAME==VERSION and interpreter: skip when the mirror or PyPI already has "
            "a wheel it would install; otherwise download the sdist (sha256-checked against "
            "PyPI), build it with the recipe's settings, repair it (auditwheel/delocate), "
            "import-check every extension module in a clean venv, and add every new wheel to "
            "DIR in one commit (package documents, root manifest, static index). A failed "
            "build is classified from its log (class, evidence line, fix); when the class has "
            "an automatic fix the build is retried with it, one fix at a time. A pin that "
            "still fails does not stop the others. Progress goes to stderr; stdout gets a "
            "table (pin, outcome, class, seconds, wheel tag). Exit status 0 only when every "
            "pin built or was skipped."
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
        help="build frontend (default: uv when installed, else pypa/build; a recipe's "
        "backend key wins)",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="build even when the mirror has a wheel (a changed wheel gets a "
        "build tag; a published filename is never overwritten)",
    )
    parser.add_argument(
        "--install-system-packages",
        action="store_true",
        help="when a build lacks a header or *-config program, install the system package "
        "that provides it (apt-get, dnf/yum, apk as root; brew) and retry (recipes' "
        "system-packages are installed without this flag)",
    )
    parser.add_argument(
        "--write-recipe",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the recipe that makes an automatically fixed build direct to DIR/NAME.toml "
        "(an existing file is never overwritten)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the per-pin results as JSON on stdout instead of the table",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the per-pin results as JSON to FILE",
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


def _check_builder() -> None:
    from poetry_wheelmirror.mirror.build import missing_builder_tools

    missing = missing_builder_tools()
    if missing:
        msg = (
            f"building needs the builder extra ({', '.join(missing)} not installed): "
            "pip install 'poetry-wheelmirror[builder]'"
        )
        raise ConfigError(msg)


def _build(args: argparse.Namespace) -> int:
    _check_builder()  # before anything is downloaded
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
        install_system_packages=args.install_system_packages,
    )
    for outcome in report.outcomes:
        for note in outcome.notes:
            _progress(f"note: {note}")
        if outcome.recipe:
            _progress(f"{outcome.pin}: automatic fixes worked; this recipe makes it direct:")
            for line in outcome.recipe.splitlines():
                print(f"  | {line}", file=sys.stderr)
            if args.write_recipe:
                _write_recipe(args.write_recipe, outcome.name, outcome.recipe)
    if args.report:
        args.report.write_text(json.dumps(report.as_json(), indent=1) + "\n")
    if args.json:
        print(json.dumps(report.as_json(), indent=1))
    else:
        _print_table(report)
    for outcome in report.failed:
        print(f"wheelmirror: {outcome.pin} failed: {outcome.reason}", file=sys.stderr)
        if outcome.log_path:
            print(f"wheelmirror:   full log: {outcome.log_path}", file=sys.stderr)
    if report.failed:
        built = sum(o.status == "built" for o in report.outcomes)
        msg = f"{len(report.failed)} pin(s) failed, {built} built"
        raise BuildError(msg)
    return 0


def _write_recipe(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    if path.exists():
        _progress(f"{path} exists: not overwritten (merge the recipe above by hand)")
        return
    path.write_text(text)
    _progress(f"wrote {path}")


def _print_table(report: BuildReport) -> None:
    rows = [("pin", "python", "outcome", "class", "seconds", "wheel tag", "detail")]
    for o in report.outcomes:
        cls = o.diagnosis.cls if o.diagnosis else ("fixed" if o.recipe else "-")
        detail = o.reason if o.status == "skipped" else ""
        rows.append(
            (o.pin, o.python, o.status, cls, f"{o.seconds:.1f}", o.wheel_tag or "-", detail)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for path in report.added.added:
        print(f"added    {path}")
    if not report.added.added:
        print("nothing new: mirror unchanged")
