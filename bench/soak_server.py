"""The routing index as a real process for the load soak (bench/soak_router.py), and its
memory: RSS (VmRSS of the process and its children, from /proc) sampled on a thread."""

from __future__ import annotations

import contextlib
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from bench.bench_router import _clean_env

__all__ = ["WHEELMIRROR", "Sample", "Sampler", "Server", "routing_index", "sample"]

WHEELMIRROR = Path(sys.executable).with_name("wheelmirror")


def _descendants(pid: int) -> list[int]:
    """*pid*'s child processes, recursively (from /proc/<pid>/task/*/children)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    for child in (task / "children").read_text().split():
                        found.append(int(child))
                        todo.append(int(child))
    return found


def _status_kb(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


@dataclass
class Sample:
    t: float  # seconds since the soak started
    rss_kb: int  # VmRSS of the server and its child processes
    processes: int
    threads: int


def sample(pid: int, t0: float) -> Sample:
    pids = [pid, *_descendants(pid)]
    return Sample(
        t=round(time.monotonic() - t0, 1),
        rss_kb=sum(_status_kb(p, "VmRSS") for p in pids),
        processes=len(pids),
        threads=sum(_status_kb(p, "Threads") for p in pids),
    )


@dataclass
class Sampler:
    pid: int
    interval: float
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        t0 = time.monotonic()

        def run() -> None:
            while True:
                self.samples.append(sample(self.pid, t0))
                if self._stop.wait(self.interval):
                    self.samples.append(sample(self.pid, t0))
                    return

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


@dataclass
class Server:
    proc: subprocess.Popen[str]
    base: str
    stderr: Path
    exit_status: int | None = None
    died: bool = False  # exited while under load


@contextlib.contextmanager
def routing_index(mirror: Path, upstream: str, work: Path, ttl: float) -> Iterator[Server]:
    """``wheelmirror serve MIRROR --upstream URL --port 0``; yields once it answers."""
    cmd = (
        [str(WHEELMIRROR)]
        if WHEELMIRROR.exists()
        else [sys.executable, "-m", "poetry_wheelmirror.cli.main"]
    )
    cmd += [
        "serve",
        "--mirror",
        str(mirror),
        "--port",
        "0",
        "--upstream",
        upstream,
        "--upstream-ttl",
        str(ttl),
        "--cache-dir",
        str(work / "wm-cache"),
    ]
    stderr = work / "server-stderr.txt"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            cmd, env=_clean_env(), stdout=subprocess.PIPE, stderr=err, text=True
        )
    assert proc.stdout is not None
    server = Server(proc, "", stderr)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        if " at http://" not in line:
            msg = f"wheelmirror serve did not start: {line!r}\n{stderr.read_text()}"
            raise RuntimeError(msg)
        server.base = line.split(" at ", 1)[1].split("/ ", 1)[0]
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                server.exit_status = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                server.exit_status = None  # did not stop on SIGINT
        else:
            server.exit_status = proc.returncode
