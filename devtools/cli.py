"""Run the installed `wheelmirror` console script as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devtools.cleanenv import clean_env

__all__ = ["WHEELMIRROR", "run_wheelmirror"]

WHEELMIRROR = Path(sys.executable).parent / "wheelmirror"


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
