"""``wheelmirror pip-config``: point pip at the mirror (and ``--remove`` it again)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from poetry_wheelmirror.cli.common import add_mirror_url_option
from poetry_wheelmirror.cli.common import configured_mirror_url
from poetry_wheelmirror.cli.common import refuse_routing_to_directory
from poetry_wheelmirror.config import mirror_url
from poetry_wheelmirror.urls import to_base_url

__all__ = ["register"]

_EXPLAIN = {
    "extra": (
        "extra-index-url = the mirror's static index, next to pip's own index. pip merges "
        "all indexes with no priority: a mirror wheel is used where it is the best "
        "candidate for your platform (e.g. the only wheel for the pinned version); a newer "
        "sdist elsewhere still wins over an older mirror wheel unless you pass "
        "--prefer-binary. For index-url, run a routing index "
        "(wheelmirror serve DIR --upstream https://pypi.org/simple/) and use --mode routing."
    ),
    "routing": (
        "index-url = a routing index (wheelmirror serve DIR --upstream URL): packages the "
        "mirror carries get its wheels merged with the upstream's own files, every other "
        "package is redirected to the upstream, so there is no dependency confusion. The "
        "routing index must be running whenever pip runs."
    ),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "pip-config",
        help="write pip configuration that uses the mirror",
        description=(
            "Add the mirror to a pip configuration file, keeping every other line and "
            "comment, with a backup; running it twice changes nothing, and --remove takes "
            "out exactly what it added (and deletes the file if it created it). The result "
            "is read back the way pip reads it before it is written. The default target is "
            "the active virtual environment ($VIRTUAL_ENV/pip.conf). File errors (read-only, "
            "a directory, not UTF-8, not readable by pip): exit status 2, nothing changed."
        ),
    )
    add_mirror_url_option(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--venv",
        dest="target",
        action="store_const",
        const="venv",
        help="the active virtual environment's pip.conf (default)",
    )
    where.add_argument(
        "--user", dest="target", action="store_const", const="user", help="your user pip.conf"
    )
    where.add_argument(
        "--global",
        dest="target",
        action="store_const",
        const="global",
        help="the machine-wide pip.conf",
    )
    where.add_argument(
        "--print",
        dest="target",
        action="store_const",
        const="print",
        help="print the configuration instead of writing a file",
    )
    where.add_argument(
        "--file", dest="path", type=Path, metavar="PATH", help="edit this pip config file"
    )
    parser.add_argument("--remove", action="store_true", help="undo what this command added")
    parser.add_argument(
        "--mode",
        choices=("extra", "routing"),
        default="extra",
        help="extra: add the static index as extra-index-url (default); routing: make a "
        "routing index (wheelmirror serve --upstream) pip's index-url",
    )
    parser.add_argument("--no-backup", action="store_true", help="do not keep a .bak copy")
    parser.set_defaults(handler=_run, target=None)


def _warn(message: str) -> None:
    print(f"wheelmirror: warning: {message}", file=sys.stderr)


def _env_warnings(mode: str) -> None:
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        if os.environ.get(var):
            key = var[4:].lower().replace("_", "-")
            _warn(
                f"{var} is set in your environment: it replaces {key} from every config "
                "file (it does not add to it), so pip may not see this setting"
            )
    if os.environ.get("PIP_CONFIG_FILE"):
        _warn("PIP_CONFIG_FILE is set: pip also reads that file, and it wins over this one")
    print(
        "note: `pip install --require-hashes` (e.g. requirements from `poetry export "
        "--with-hashes`) only accepts files whose hash is listed: add the mirror wheels' "
        "hashes with `wheelmirror hashes -r requirements.txt`",
        file=sys.stderr,
    )
    _ = mode


def _run(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.installers.pipconf import add_mirror
    from poetry_wheelmirror.installers.pipconf import option_key
    from poetry_wheelmirror.installers.pipconf import remove_mirror
    from poetry_wheelmirror.installers.pipfiles import config_path
    from poetry_wheelmirror.installers.pipfiles import decode_config
    from poetry_wheelmirror.installers.pipfiles import read_config
    from poetry_wheelmirror.installers.pipfiles import write_config
    from poetry_wheelmirror.pip_layers import check_pip_target

    mirror = mirror_url(args.mirror) if args.remove else configured_mirror_url(args.mirror, "pip")
    if args.mode == "routing" and not args.remove:
        refuse_routing_to_directory(mirror, "--mode routing")
    index_url = to_base_url(mirror) + "simple/"
    if args.target == "print":
        if args.remove:
            print("wheelmirror: nothing to remove with --print", file=sys.stderr)
            return 0
        print(f"[global]\n{option_key(args.mode)} = {index_url}")
        print(_EXPLAIN[args.mode], file=sys.stderr)
        _env_warnings(args.mode)
        return 0
    path: Path = args.path or config_path(args.target or "venv")
    if not args.remove:
        check_pip_target(path, option_key(args.mode), index_url, os.environ, home=Path.home())
    # Read and check the file before anything else: a bad file changes nothing.
    raw = read_config(path)
    text = decode_config(raw, path) if raw is not None else ""
    if args.remove:
        change = remove_mirror(text)
    else:
        change = add_mirror(text, index_url, args.mode, new_file=raw is None)
    if not change.changed:
        state = "has no wheelmirror settings" if args.remove else "is already configured"
        print(f"{path} {state}: nothing changed")
        return 0
    saved = write_config(
        path, change.text, backup=not args.no_backup and raw is not None, delete=change.delete_file
    )
    if args.remove:
        print(f"removed the wheelmirror settings from {path}")
    else:
        print(f"{path}: {option_key(args.mode)} = {index_url}")
        print(_EXPLAIN[args.mode], file=sys.stderr)
        for line in change.replaced:
            print(
                f"note: your `{line}` is switched off while the routing index is pip's "
                "index (--remove restores it); serve with --upstream set to that index",
                file=sys.stderr,
            )
        for note in change.notes:
            _warn(note)
        _env_warnings(args.mode)
    if saved is not None:
        print(f"backup: {saved}")
    return 0
