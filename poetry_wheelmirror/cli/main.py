"""Entry point of the ``wheelmirror`` console script.

Each subcommand lives in its own module exposing ``register(subparsers)``; heavy
imports happen inside the handlers so ``wheelmirror --help`` stays instant.

Whatever goes wrong ends in one line on stderr and a status from errors.EXIT_CODES,
never a traceback (``WHEELMIRROR_TRACEBACK=1`` shows one for an internal error).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from poetry_wheelmirror import __version__
from poetry_wheelmirror.cli.output import QuietStderr
from poetry_wheelmirror.cli.output import add_verbosity_options
from poetry_wheelmirror.cli.output import apply_verbosity
from poetry_wheelmirror.errors import EXIT_CODES
from poetry_wheelmirror.errors import INTERNAL_ERROR_EXIT
from poetry_wheelmirror.errors import WheelmirrorError

__all__ = ["build_parser", "exit_code_epilog", "main"]

_TRACEBACK_ENV = "WHEELMIRROR_TRACEBACK"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with where to look), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def exit_code_epilog() -> str:
    lines = ["exit status (the same in every command):"]
    lines += [f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES]
    return "\n".join(lines)


def command_modules() -> list[str]:
    """Every ``poetry_wheelmirror.cli.*_cmd`` module: each one adds its own subcommands."""
    import pkgutil

    from poetry_wheelmirror import cli

    return sorted(m.name for m in pkgutil.iter_modules(cli.__path__) if m.name.endswith("_cmd"))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = OneLineParser(
        prog="wheelmirror",
        description=(
            "Build, publish and use a mirror of prebuilt wheels for packages that publish "
            "none for your platform."
        ),
        epilog=exit_code_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in command_modules():
        module = importlib.import_module(f"poetry_wheelmirror.cli.{name}")
        module.register(sub)
    for child in sub.choices.values():
        add_verbosity_options(child)
    return parser


def _os_error_line(e: OSError) -> str:
    where = f": {e.filename}" if e.filename else ""
    return f"{e.strerror or e}{where}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) a status scripts can rely on."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    apply_verbosity(args)
    stderr = sys.stderr
    if getattr(args, "quiet", False):
        sys.stderr = QuietStderr(stderr)
    try:
        return _run(args)
    finally:
        sys.stderr.flush()
        sys.stderr = stderr


def _run(args: argparse.Namespace) -> int:
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
    except OSError as e:  # the file system: a folder that is a file, no permission, full disk
        print(f"wheelmirror: error: {_os_error_line(e)}", file=sys.stderr)
        code = 1
    except Exception as e:
        if os.environ.get(_TRACEBACK_ENV):
            raise
        print(
            f"wheelmirror: internal error: {type(e).__name__}: {e} (a bug: please report it;"
            f" {_TRACEBACK_ENV}=1 shows the traceback)",
            file=sys.stderr,
        )
        code = INTERNAL_ERROR_EXIT
    return code


def run() -> None:
    """Console-script wrapper."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
