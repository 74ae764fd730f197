"""Run the installed `wheelmirror` console script as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools.cleanenv import clean_env

__all__ = ["REPO", "WHEELMIRROR", "run_source_cli", "run_wheelmirror"]

WHEELMIRROR = Path(sys.executable).parent / "wheelmirror"
REPO = Path(__file__).resolve().parents[1]


def run_wheelmirror(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `wheelmirror ARGS` and capture its output (never raises on a non-zero exit)."""
    return subprocess.run(
        [str(WHEELMIRROR), *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def run_source_cli(
    *args: str, cache: Path, python: str = sys.executable, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run ``PYTHON -m poetry_wheelmirror.cli.main ARGS --cache-dir CACHE`` from the
    repository root, as the real-build tests run ``wheelmirror build``: no pip settings of
    this machine (``PIP_CONFIG_FILE=/dev/null``, see clean_env), output captured, and
    never raises on a non-zero exit. *python* may be another interpreter that has the
    package installed."""
    return subprocess.run(
        [python, "-m", "poetry_wheelmirror.cli.main", *args, "--cache-dir", str(cache)],
        env=clean_env(PIP_CONFIG_FILE=os.devnull),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )
