"""``wheelmirror list``, ``wheelmirror cache`` and ``wheelmirror completion``: the small
everyday commands."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any
from typing import Final

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import add_mirror_url_option
from poetry_wheelmirror.cli.common import make_client

__all__ = ["CACHE_PARTS", "cache_stats", "mirror_listing", "register"]

#: What the CLI keeps in its cache folder; `cache clean` removes these and nothing else.
CACHE_PARTS: Final = ("http", "upstream", "sdists", "logs")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = sub.add_parser(
        "list",
        help="what a mirror carries: packages, versions, platforms, Pythons",
        description="List every package version the mirror carries, with the Python "
        "versions and platforms its wheels are for.",
    )
    listing.add_argument("packages", nargs="*", metavar="NAME", help="only these packages")
    listing.add_argument("--json", action="store_true", help="print the listing as JSON")
    add_mirror_url_option(listing)
    add_client_options(listing)
    listing.set_defaults(handler=_list)

    cache = sub.add_parser(
        "cache",
        help="where the download cache is, how big, and cleaning it",
        description="dir: print the cache folder; info: its size per part; clean: remove "
        f"the cached downloads ({', '.join(CACHE_PARTS)}) and nothing else. The Poetry "
        "plugin keeps its own cache under Poetry's cache-dir (`poetry cache` handles it).",
    )
    cache.add_argument("action", choices=("dir", "info", "clean"))
    cache.add_argument("--cache-dir", type=Path, default=None, help="another cache folder")
    cache.add_argument("--json", action="store_true", help="info as JSON")
    cache.set_defaults(handler=_cache)

    completion = sub.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description="Print a completion script for the shell: "
        "`eval \"$(wheelmirror completion bash)\"` in ~/.bashrc, or for zsh "
        '`eval "$(wheelmirror completion zsh)"` in ~/.zshrc.',
    )
    completion.add_argument("shell", choices=("bash", "zsh"))
    completion.set_defaults(handler=_completion)


# -- list ---------------------------------------------------------------------------------


def mirror_listing(reader: Any, only: list[str]) -> list[dict[str, Any]]:
    """One entry per package version: its wheels' Pythons and platforms."""
    from packaging.utils import canonicalize_name
    from packaging.utils import parse_wheel_filename

    from poetry_wheelmirror.errors import ConfigError

    carried = reader.root().packages
    wanted = [canonicalize_name(n) for n in only] or sorted(carried)
    missing = [n for n in wanted if n not in carried]
    if missing:
        msg = f"the mirror does not carry {', '.join(missing)}"
        raise ConfigError(msg)
    rows = []
    for name in wanted:
        doc = reader.package(name)
        if doc is None:
            continue
        for key in sorted(doc.versions):
            entry = doc.versions[key]
            pythons: set[str] = set()
            platforms: set[str] = set()
            for wheel in entry.wheels:
                for tag in parse_wheel_filename(wheel.filename)[3]:
                    pythons.add(tag.interpreter)
                    platforms.add(tag.platform)
            rows.append(
                {
                    "name": str(name),
                    "version": entry.version,
                    "wheels": len(entry.wheels),
                    "pythons": sorted(pythons),
                    "platforms": sorted(platforms),
                }
            )
    return rows


def _list(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.config import mirror_url
    from poetry_wheelmirror.mirror_client import MirrorReader

    reader = MirrorReader(mirror_url(args.mirror), make_client(args))
    rows = mirror_listing(reader, args.packages)
    if args.json:
        print(json.dumps({"mirror": reader.base_url, "packages": rows}, indent=2))
        return 0
    if not rows:
        print(f"{reader.base_url} carries no packages", file=sys.stderr)
        return 0
    width = max(len(f"{r['name']} {r['version']}") for r in rows)
    for r in rows:
        label = f"{r['name']} {r['version']}"
        print(f"{label:<{width}}  {' '.join(r['pythons'])}  {' '.join(r['platforms'])}")
    print(f"{len(rows)} version(s) from {reader.base_url}", file=sys.stderr)
    return 0


# -- cache --------------------------------------------------------------------------------


def cache_stats(folder: Path) -> dict[str, dict[str, int]]:
    """Files and bytes per cache part that exists."""
    stats = {}
    for part in CACHE_PARTS:
        root = folder / part
        if not root.is_dir():
            continue
        files = [p for p in root.rglob("*") if p.is_file()]
        stats[part] = {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}
    return stats


def _cache(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.client import default_cache_dir

    folder: Path = args.cache_dir or default_cache_dir()
    if args.action == "dir":
        print(folder)
        return 0
    stats = cache_stats(folder)
    total = sum(s["bytes"] for s in stats.values())
    if args.action == "info":
        if args.json:
            print(json.dumps({"dir": str(folder), "parts": stats, "bytes": total}, indent=2))
            return 0
        print(f"{folder}: {_size(total)}")
        for part, s in stats.items():
            print(f"  {part:<10} {s['files']:>6} file(s)  {_size(s['bytes'])}")
        return 0
    for part in stats:
        shutil.rmtree(folder / part)
    print(f"removed {_size(total)} from {folder} ({', '.join(stats) or 'nothing cached'})")
    return 0


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover


# -- completion ---------------------------------------------------------------------------

_BASH: Final = """# bash completion for wheelmirror (generated by `wheelmirror completion bash`)
_wheelmirror() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "%(commands)s --help --version" -- "$cur"))
        return
    fi
    case "$cmd" in
%(cases)s
    esac
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o default -F _wheelmirror wheelmirror
"""

_ZSH: Final = """#compdef wheelmirror
# zsh completion for wheelmirror (generated by `wheelmirror completion zsh`)
autoload -U bashcompinit && bashcompinit
%(bash)s"""


def completion_script(shell: str, parser: argparse.ArgumentParser) -> str:
    """A completion script listing every command and each command's options."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cases = []
    for name, child in sorted(sub.choices.items()):
        words = sorted(
            {s for a in child._actions for s in a.option_strings if s.startswith("--")}
            | {c for a in child._actions if a.choices and not a.option_strings for c in a.choices}
        )
        cases.append(
            f'        {name}) COMPREPLY=($(compgen -W "{" ".join(words)}" -- "$cur"))'
            ' ; [ "${cur#-}" = "$cur" ] && COMPREPLY+=($(compgen -f -- "$cur")) ; return ;;'
        )
    bash = _BASH % {"commands": " ".join(sorted(sub.choices)), "cases": "\n".join(cases)}
    return bash if shell == "bash" else _ZSH % {"bash": bash}


def _completion(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.cli.main import build_parser

    print(completion_script(args.shell, build_parser()), end="")
    return 0
