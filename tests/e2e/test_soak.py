"""The routing index load soak (``bench.soak_router``).

``test_soak_short`` (slow) runs the real soak for a bounded 30 s of wrk on loopback, with
a 2 s upstream TTL so the background page refresh also runs under load, and requires
exit 0: no error responses, no socket errors, RSS within the bound, a clean stop. The
full 10-minute soak is a separate command (docs/reliability.md, "Load soak").
``test_verdict`` checks, without a server, that each kind of failure fails the soak.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.soak_router import evaluate
from bench.soak_server import Sample
from bench.soak_server import Server

REPO = Path(__file__).resolve().parents[2]
ARGS = argparse.Namespace(
    threads=2, connections=64, warmup=3, interval=2.0, rss_bound_mb=16.0, rss_bound_pct=25.0
)


def _result(**over: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "requests": 900,
        "duration_us": 30_000_000,
        "bytes": 1_000_000,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
        "latency_us": {"p50": 2000, "p90": 5000, "p99": 9000, "max": 20000, "mean": 2500.0},
        "statuses": {"200": 600, "301": 200, "304": 100},
        "upstream": {"ok": 700},
    }
    result.update(over)
    return result


def _samples(*mb: float) -> list[Sample]:
    return [
        Sample(t=2.0 * i, rss_kb=int(m * 1024), processes=1, threads=6) for i, m in enumerate(mb)
    ]


def _server(exit_status: int | None = 0, died: bool = False) -> Server:
    return Server(proc=None, base="", stderr=Path(), exit_status=exit_status, died=died)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("result", "samples", "server", "tracebacks", "problem"),
    [
        (_result(), _samples(50, 52, 51), _server(), 0, None),
        (
            _result(statuses={"200": 600, "301": 200, "304": 100, "503": 1}),
            _samples(50, 50),
            _server(),
            0,
            "unexpected responses",
        ),
        (
            _result(statuses={"200": 600, "301": 200, "304": 100, "404": 3}),
            _samples(50, 50),
            _server(),
            0,
            "unexpected responses",
        ),
        (
            _result(errors={"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 2}),
            _samples(50, 50),
            _server(),
            0,
            "socket errors",
        ),
        (
            _result(statuses={"200": 800, "301": 100}),
            _samples(50, 50),
            _server(),
            0,
            "never seen: [304]",
        ),
        (_result(), _samples(50, 70, 60), _server(), 0, "RSS grew 20.0 MB"),
        (_result(), _samples(50, 50), _server(exit_status=None), 0, "did not stop cleanly"),
        (_result(), _samples(50, 50), _server(exit_status=1, died=True), 0, "died during the soak"),
        (_result(), _samples(50, 50), _server(), 1, "traceback"),
    ],
)
def test_verdict(
    result: dict[str, Any],
    samples: list[Sample],
    server: Server,
    tracebacks: int,
    problem: str | None,
) -> None:
    rows, problems = evaluate(result, samples, server, ARGS, 9, tracebacks)
    verdict = dict(rows)["verdict"]
    if problem is None:
        assert problems == []
        assert verdict == "PASS"
    else:
        assert any(problem in p for p in problems), problems
        assert verdict.startswith("FAIL")


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)"
)
def test_soak_short(tmp_path: Path) -> None:
    cmd = [
        sys.executable, "-m", "bench.soak_router",
        "--duration", "30", "--warmup", "3", "--interval", "2", "--upstream-ttl", "2",
        "--work", str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    assert "| verdict | PASS |" in proc.stdout, report
    assert (tmp_path / "soak-router.json").is_file()
