"""Entry point of the ``wheelmirror`` console script.

Each subcommand lives in its own module exposing ``register(subparsers)``; heavy
imports happen inside the handlers so ``wheelmirror --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from poetry_wheelmirror import __version__
from poetry_wheelmirror.errors import WheelmirrorError

__all__ = ["build_parser", "main"]


def command_modules() -> list[str]:
    """Every ``poetry_wheelmirror.cli.*_cmd`` module: each one adds its own subcommands."""
    import pkgutil

    from poetry_wheelmirror import cli

    return sorted(m.name for m in pkgutil.iter_modules(cli.__path__) if m.name.endswith("_cmd"))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="wheelmirror",
        description=(
            "Build, publish and use a mirror of prebuilt wheels for packages that publish "
            "none for your platform."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in command_modules():
        module = importlib.import_module(f"poetry_wheelmirror.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) a status scripts can rely on."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args) or 0)
    except WheelmirrorError as e:
        print(f"wheelmirror: error: {e}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        print("wheelmirror: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        code = 0
    return code


def run() -> None:
    """Console-script wrapper."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
