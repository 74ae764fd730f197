"""``wheelmirror build --lock FILE --mirror DIR``: build what the lock would compile on
this machine (the ``--lock`` half of ``build``; ``build_cmd`` hands over to it)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from poetry_wheelmirror.errors import ConfigError

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror.lockbuild import LockBuildRow
    from poetry_wheelmirror.mirror.lockbuild import Status
    from poetry_wheelmirror.mirror.store import AddResult

__all__ = ["add_lock_build_options", "local_platform", "run_lock_build"]

#: Exit status when a build failed or a pin was refused (BuildError's).
FAILED_EXIT = 7


def add_lock_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lock",
        type=Path,
        default=None,
        metavar="FILE",
        help="build every package this poetry.lock, uv.lock or hashed requirements file "
        "would build from source here, from the exact sdist it locks (instead of pins)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="with --lock: builds at once, each given its share of the cores "
        "(default: the number of cores)",
    )
    parser.add_argument(
        "--pypi-proxy",
        action="append",
        default=[],
        metavar="URL",
        help="with --lock: an index serving PyPI's files; its pins count as PyPI's",
    )


def local_platform() -> str:
    """This machine as a target platform name (linux-x86_64, macos-arm64, ...)."""
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "arm64" if sys.platform == "darwin" else "aarch64"}.get(
        machine, machine
    )
    os_name = {"linux": "linux", "darwin": "macos"}.get(sys.platform, sys.platform)
    name = f"{os_name}-{machine}"
    from poetry_wheelmirror.targets import PLATFORMS

    if name not in PLATFORMS:
        msg = f"this machine ({name}) is not a platform the mirror builds for"
        raise ConfigError(msg)
    return name


def _table(rows: list[LockBuildRow], added: AddResult, mirror: Path) -> None:
    header = ("PACKAGE", "VERSION", "PYTHON", "RESULT", "SECONDS", "DETAIL")
    cells = [
        (r.name, r.version, r.python, r.status, f"{r.seconds:.1f}" if r.seconds else "-", r.detail)
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(5)]
    for row in [header, *cells]:
        print("  ".join([*(c.ljust(w) for c, w in zip(row[:5], widths)), row[5]]).rstrip())
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
    print(f"{summary}; {len(added.added)} file(s) added to {mirror}")


def run_lock_build(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.cli.common import make_client
    from poetry_wheelmirror.cli.plan_cmd import mirror_lookup
    from poetry_wheelmirror.cli.recipes_opt import recipes_from_args
    from poetry_wheelmirror.client import default_cache_dir
    from poetry_wheelmirror.locks.read import read_lock_file
    from poetry_wheelmirror.mirror.build import build_pins
    from poetry_wheelmirror.mirror.build import find_interpreter
    from poetry_wheelmirror.mirror.lockbuild import BuildTask
    from poetry_wheelmirror.mirror.lockbuild import LockBuildRow
    from poetry_wheelmirror.mirror.lockbuild import build_tasks
    from poetry_wheelmirror.mirror.lockpages import VersionFiles
    from poetry_wheelmirror.mirror.lockplan import plan_lock
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.store import MirrorStore
    from poetry_wheelmirror.mirror.store import sha256_file
    from poetry_wheelmirror.targets import InstallTarget

    if args.pins:
        msg = "give either NAME==VERSION pins or --lock, not both"
        raise ConfigError(msg)
    if args.jobs < 1:
        msg = f"--jobs must be at least 1, got {args.jobs}"
        raise ConfigError(msg)
    here = local_platform()
    interpreters = [find_interpreter(p) for p in args.python] or [find_interpreter()]
    targets = [InstallTarget(here, i.python, i.full_version) for i in interpreters]
    client = make_client(args)
    cache_dir = args.cache_dir or default_cache_dir()
    store = MirrorStore(args.mirror, mirror_name=args.mirror_name)
    plan = plan_lock(
        read_lock_file(args.lock),
        targets,
        upstream=VersionFiles(PypiClient(client)).files,
        mirror=mirror_lookup(str(args.mirror), client),
        pypi_proxies=args.pypi_proxy,
    )
    for note in plan.notes:
        print(f"wheelmirror: note: {note}", file=sys.stderr)
    tasks: list[BuildTask] = []
    rows: list[LockBuildRow] = []
    for tp, interp in zip(plan.targets, interpreters):
        for a in tp.answers:
            if a.answer == "build" and a.sdist is not None:
                tasks.append(BuildTask(a.name, a.version, a.sdist, interp, interp.python))
            elif a.answer in ("refused", "no-source"):
                status: Status = "refused" if a.answer == "refused" else "failed"
                rows.append(LockBuildRow(a.name, a.version, interp.python, status, a.detail))

    def download(sdist: Any, dest: Path) -> None:
        if not (dest.is_file() and sha256_file(dest) == sdist.sha256):
            print(f"wheelmirror: downloading {sdist.filename}", file=sys.stderr, flush=True)
            client.download(sdist.url, dest, sha256=sdist.sha256)

    def engine_args() -> dict[str, Any]:
        own = make_client(args)
        return {"pypi": PypiClient(own), "client": own, "backend": args.backend}

    def progress(message: str) -> None:
        print(f"wheelmirror: {message}", file=sys.stderr, flush=True)

    built, added = build_tasks(
        tasks,
        store=store,
        recipes=recipes_from_args(args, required=False),
        build_pins=build_pins,
        engine_args=engine_args,
        download=download,
        cache_dir=cache_dir,
        jobs=args.jobs,
        progress=progress,
    )
    rows = built + rows
    _table(rows, added, args.mirror)
    return FAILED_EXIT if any(r.status in ("failed", "refused") for r in rows) else 0
