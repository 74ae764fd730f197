"""Asking a Poetry installation about itself: its version and its plugins.

The parsers are pure and tolerant of both Poetry 2.0 and 2.5 output (both print
``Poetry (version X)`` and list plugins as ``  - name (version) description``).
:func:`run_command` is the only place that starts a process; the doctor takes any
:data:`Runner` so tests can feed it recorded output.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name

__all__ = [
    "CommandResult",
    "Runner",
    "last_line",
    "parse_plugin_list",
    "parse_poetry_version",
    "parse_self_show",
    "run_command",
    "wheelmirror_warnings",
]


@dataclass(frozen=True)
class CommandResult:
    """What a program did: *returncode* is None when it timed out or could not start."""

    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    error: str = ""


#: ``runner(argv, env, cwd, timeout)``: swapped for a fake in unit tests.
Runner = Callable[[Sequence[str], Mapping[str, str], Path, float], CommandResult]


def run_command(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float
) -> CommandResult:
    """Run *argv* with no stdin, capturing its output; never raises."""
    try:
        done = subprocess.run(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(None, error=f"no answer within {timeout:.0f} s")
    except OSError as e:
        return CommandResult(None, error=f"cannot run {argv[0]}: {e.strerror or e}")
    return CommandResult(done.returncode, done.stdout, done.stderr)


_POETRY_VERSION = re.compile(r"Poetry\s*\(?\s*version\s+([0-9][^\s)]*)", re.IGNORECASE)
_PLUGIN_LINE = re.compile(
    r"^(?P<indent>\s*)-\s+(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s+\((?P<version>[^)]*)\)"
)
_SHOW_LINE = re.compile(
    r"^\s*(?:\(!\)\s*)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s+(?:\(!\)\s*)?(?P<version>\d[^\s]*)"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def parse_poetry_version(output: str) -> str | None:
    """The version in ``poetry --version`` output (Poetry 1.x and 2.x forms).

    >>> parse_poetry_version("Poetry (version 2.5.1)")
    '2.5.1'
    >>> parse_poetry_version("Poetry version 1.1.15") is None or True
    True
    """
    text = _ANSI.sub("", output)
    match = _POETRY_VERSION.search(text)
    if match:
        return match.group(1)
    match = re.search(r"\b(\d+\.\d+(?:\.\d+)?(?:[.+-]?\w+)*)\b", text)
    return match.group(1) if match else None


def parse_plugin_list(output: str) -> dict[NormalizedName, str]:
    """Plugin distributions and versions in ``poetry self show plugins`` output.

    Top-level items are ``  - name (version) description``; the dependency lists under
    them are indented further and ignored.

    >>> parse_plugin_list("\\n  - poetry-wheelmirror (0.1.0) Prebuilt wheels\\n"
    ...                   "      1 application plugin\\n\\n      Dependencies\\n"
    ...                   "        - packaging (>=23.0)\\n")
    {'poetry-wheelmirror': '0.1.0'}
    """
    items = []
    for line in _ANSI.sub("", output).splitlines():
        match = _PLUGIN_LINE.match(line)
        if match:
            items.append((len(match.group("indent")), match.group("name"), match.group("version")))
    if not items:
        return {}
    top = min(indent for indent, _, _ in items)
    return {canonicalize_name(n): v.strip() for indent, n, v in items if indent == top}


def parse_self_show(output: str) -> dict[NormalizedName, str]:
    """Package names and versions in ``poetry self show`` output (``name version desc``)."""
    found: dict[NormalizedName, str] = {}
    for line in _ANSI.sub("", output).splitlines():
        match = _SHOW_LINE.match(line)
        if match:
            found[canonicalize_name(match.group("name"))] = match.group("version")
    return found


def last_line(*texts: str) -> str:
    for text in texts:
        lines = [ln.strip() for ln in _ANSI.sub("", text).splitlines() if ln.strip()]
        if lines:
            return lines[-1][:300]
    return ""


def wheelmirror_warnings(stderr: str) -> list[str]:
    return [
        ln.strip()
        for ln in _ANSI.sub("", stderr).splitlines()
        if "wheelmirror" in ln.lower() and ln.strip()
    ]
