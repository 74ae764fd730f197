"""``-q`` / ``-v`` for every command: how much goes to stderr.

stdout is each command's product (a table, a path, JSON, a config file) and is never
changed by these. ``-q`` keeps only the warning and error lines on stderr; ``-v`` turns
on the package's log messages (``-vv``: debug). A command with a ``-v`` of its own
(``select``: list every candidate) keeps it.
"""

from __future__ import annotations

import argparse
import logging
from typing import TextIO

__all__ = ["QuietStderr", "add_verbosity_options", "apply_verbosity"]

_KEEP = ("error", "warning", "interrupted")


def add_verbosity_options(parser: argparse.ArgumentParser) -> None:
    """Add ``-q`` and ``-v`` to *parser* and every subcommand parser below it."""
    taken = parser._option_string_actions  # argparse has no public lookup
    if "-q" not in taken and "--quiet" not in taken:
        parser.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print only warnings and errors on stderr",
        )
    if "-v" not in taken and "--verbose" not in taken:
        parser.add_argument(
            "-v",
            "--verbose",
            action="count",
            default=argparse.SUPPRESS,
            help="more detail on stderr (-vv: debug)",
        )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                add_verbosity_options(child)


class QuietStderr:
    """A stderr that lets through only the lines that report a warning or an error."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            if any(word in line.lower() for word in _KEEP):
                self._stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def apply_verbosity(args: argparse.Namespace) -> None:
    """Configure logging for ``-v`` (the quiet stream is set by the caller)."""
    verbose = getattr(args, "verbose", 0)
    if isinstance(verbose, int) and verbose > 0 and not getattr(args, "quiet", False):
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="wheelmirror: %(name)s: %(message)s",
        )
