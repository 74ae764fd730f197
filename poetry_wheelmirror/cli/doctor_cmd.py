"""``wheelmirror doctor``: what works on this machine and what to fix, in plain words."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import add_mirror_url_option
from poetry_wheelmirror.cli.common import non_negative_number_arg
from poetry_wheelmirror.cli.common import platform_arg
from poetry_wheelmirror.cli.common import python_version_arg
from poetry_wheelmirror.selection import PLATFORM_ALIASES

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check this machine: Poetry plugin, mirror, pip/uv config, the project's packages",
        description=(
            "Check the interpreter and its wheel tags, Poetry and the plugin, the mirror's "
            "manifest, pip's and uv's index configuration and the environment variables that "
            "override it, and where each package of the project's poetry.lock would come "
            "from. Says what works and what to fix. Exits 1 when a check fails, else 0."
        ),
    )
    add_mirror_url_option(parser)
    parser.add_argument(
        "--project",
        type=Path,
        metavar="DIR",
        help="project folder with pyproject.toml / poetry.lock (default: the current one)",
    )
    parser.add_argument(
        "--platform",
        metavar="P",
        type=platform_arg,
        help="check for another platform: a tag such as macosx_11_0_arm64, or one of "
        + ", ".join(sorted(PLATFORM_ALIASES)),
    )
    parser.add_argument(
        "--python", metavar="X.Y", type=python_version_arg, help="check for another CPython version"
    )
    parser.add_argument("--poetry", metavar="PATH", help="the Poetry to check (default: on PATH)")
    parser.add_argument(
        "--max-age",
        type=non_negative_number_arg,
        default=7.0,
        metavar="DAYS",
        help="warn when the manifest is older than this (default 7)",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    add_client_options(parser)
    parser.set_defaults(handler=_doctor, timeout=10.0)


def _doctor(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.doctor.model import DoctorOptions
    from poetry_wheelmirror.doctor.report import exit_status
    from poetry_wheelmirror.doctor.report import format_report
    from poetry_wheelmirror.doctor.report import report_json
    from poetry_wheelmirror.doctor.run import run_doctor

    options = DoctorOptions(
        mirror=args.mirror,
        project=args.project,
        python=args.python,
        platform=args.platform,
        environ=dict(os.environ),
        cache_dir=args.cache_dir,
        offline=args.offline,
        timeout=args.timeout,
        poetry=args.poetry,
        max_age_days=args.max_age,
    )
    checks = run_doctor(options)
    if args.json:
        print(json.dumps(report_json(checks), indent=2))
    else:
        print("\n".join(format_report(checks)))
    return exit_status(checks)
