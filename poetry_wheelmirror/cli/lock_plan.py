"""``wheelmirror plan --lock FILE``: what each target installs from a lock, and what it
would compile (the ``--lock`` half of ``plan``; ``plan_cmd`` hands over to it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from poetry_wheelmirror.errors import ConfigError

if TYPE_CHECKING:
    from poetry_wheelmirror.locks.config import LockSet
    from poetry_wheelmirror.mirror.lockplan import LockPlan

__all__ = [
    "add_lock_options",
    "default_recipe",
    "lock_plans",
    "lock_set_from_args",
    "plan_json",
    "plan_recipes",
    "run_lock_plan",
]

def add_lock_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lock",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="plan from this poetry.lock, uv.lock or hashed requirements file instead of "
        "the recipes (repeatable)",
    )
    parser.add_argument(
        "--locks-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="a wheelmirror.toml listing locks, targets and pypi-proxies (team mirrors)",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="OS-ARCH/X.Y",
        help="with --lock: a machine to plan for, e.g. macos-arm64/3.12 (repeatable; "
        "default: targets from [tool.poetry-wheelmirror] in the lock's pyproject.toml or "
        "its wheelmirror.toml)",
    )
    parser.add_argument(
        "--pypi-proxy",
        action="append",
        default=[],
        metavar="URL",
        help="with --lock: an index serving PyPI's files; pins locked from it are planned "
        "against PyPI (repeatable)",
    )
    parser.add_argument(
        "--matrix",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --lock: write the GitHub Actions matrix of the builds ('-' for stdout)",
    )


def default_recipe(name: str, versions: list[str]) -> Any:
    """The recipe a lock-planned package without a recipe of its own builds with: the
    default build settings, for the given versions."""
    from poetry_wheelmirror.mirror.recipes import parse_recipe

    listed = ", ".join(json.dumps(v) for v in versions)
    return parse_recipe(f"name = {json.dumps(name)}\nversions = [{listed}]\n")


def plan_recipes(path: Path) -> dict[Any, Any]:
    """Default recipes for the (package, version) jobs of a matrix file written by
    ``plan --lock --matrix``; ConfigError when it is not one."""
    from packaging.utils import canonicalize_name

    try:
        jobs = json.loads(path.read_text(encoding="utf-8"))["include"]
        pairs = [(str(j["package"]), str(j["version"])) for j in jobs]
    except (OSError, ValueError, KeyError, TypeError) as e:
        msg = f"{path}: not a plan matrix ({type(e).__name__})"
        raise ConfigError(msg) from None
    versions: dict[str, list[str]] = {}
    for name, version in pairs:
        versions.setdefault(name, []).append(version)
    return {canonicalize_name(n): default_recipe(n, sorted(set(v))) for n, v in versions.items()}


def lock_set_from_args(args: argparse.Namespace) -> LockSet:
    """The locks, targets and proxies from the options, else from the config files."""
    from poetry_wheelmirror.locks.config import LockSet
    from poetry_wheelmirror.locks.config import find_targets
    from poetry_wheelmirror.locks.config import read_lock_set
    from poetry_wheelmirror.targets import parse_targets

    base = read_lock_set(args.locks_config) if args.locks_config else LockSet((), ())
    locks = tuple(args.lock) or base.locks
    if not locks:
        msg = "no lock to plan: pass --lock FILE or list locks in --locks-config"
        raise ConfigError(msg)
    targets = parse_targets(args.target) or base.targets
    if not targets:
        targets, _ = find_targets(locks[0].resolve().parent)
    if not targets:
        msg = (
            "no targets: pass --target OS-ARCH/X.Y or set targets = [...] in "
            "[tool.poetry-wheelmirror] (pyproject.toml) or wheelmirror.toml"
        )
        raise ConfigError(msg)
    return LockSet(locks, targets, (*base.pypi_proxies, *args.pypi_proxy))


def lock_plans(args: argparse.Namespace, lock_set: LockSet) -> list[tuple[Path, LockPlan]]:
    from poetry_wheelmirror.cli.common import make_client
    from poetry_wheelmirror.cli.plan_cmd import mirror_lookup
    from poetry_wheelmirror.locks.read import read_lock_file
    from poetry_wheelmirror.mirror.lockpages import VersionFiles
    from poetry_wheelmirror.mirror.lockplan import plan_lock
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.urls import PYPI_SIMPLE

    client = make_client(args)
    pypi = PypiClient(client, getattr(args, "index_url", None) or PYPI_SIMPLE)
    plans = []
    for path in lock_set.locks:
        lock = read_lock_file(path)
        docs = mirror_lookup(getattr(args, "mirror", None), client)
        plans.append(
            (
                path,
                plan_lock(
                    lock,
                    lock_set.targets,
                    upstream=VersionFiles(pypi).files,
                    mirror=docs,
                    pypi_proxies=lock_set.pypi_proxies,
                ),
            )
        )
    return plans


def plan_json(plans: list[tuple[Path, LockPlan]]) -> dict[str, Any]:
    return {
        "locks": [
            {
                "lock": str(path),
                "notes": list(plan.notes),
                "targets": [
                    {
                        "target": tp.target.label,
                        "not_installed": tp.not_installed,
                        "packages": [
                            {
                                "name": a.name,
                                "version": a.version,
                                "answer": a.answer,
                                "detail": a.detail,
                                **({"sdist_url": a.sdist.url} if a.sdist else {}),
                            }
                            for a in tp.answers
                        ],
                    }
                    for tp in plan.targets
                ],
            }
            for path, plan in plans
        ]
    }


def _write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def print_tables(plans: list[tuple[Path, LockPlan]]) -> None:
    from poetry_wheelmirror.mirror.lockplan import table_lines

    for path, plan in plans:
        for line in table_lines(str(path), plan):
            print(line)


def run_lock_plan(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.mirror.lockplan import as_matrix_plan
    from poetry_wheelmirror.mirror.plan import MAX_MATRIX_JOBS
    from poetry_wheelmirror.mirror.plan import matrix_json

    if str(args.json) == "-" and str(args.matrix) == "-":
        msg = "--json - and --matrix - would both write to stdout; give one of them a FILE"
        raise ConfigError(msg)
    lock_set = lock_set_from_args(args)
    plans = lock_plans(args, lock_set)
    if args.json is not None:
        _write(args.json, plan_json(plans))
    matrix = as_matrix_plan([p for _, p in plans])
    if args.matrix is not None:
        _write(args.matrix, matrix_json(matrix))
    if "-" not in (str(args.json), str(args.matrix)):
        print_tables(plans)
    for _, plan in plans:
        for note in plan.notes:
            print(f"wheelmirror: note: {note}", file=sys.stderr)
    refused = {
        (a.name, a.version): a.detail
        for _, plan in plans
        for tp in plan.targets
        for a in tp.by_answer("refused")
    }
    for (name, version), detail in sorted(refused.items()):
        print(f"wheelmirror: refused: {name} {version}: {detail}", file=sys.stderr)
    if len(matrix.missing) > MAX_MATRIX_JOBS:
        print(
            f"wheelmirror: warning: {len(matrix.missing)} jobs exceed GitHub's "
            f"{MAX_MATRIX_JOBS}-job matrix limit",
            file=sys.stderr,
        )
    return 0
