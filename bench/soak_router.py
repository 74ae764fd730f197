"""Load soak of the routing index: wrk for 10 minutes on loopback, RSS sampled throughout.

    .venv/bin/python -m bench.soak_router [--duration 600] [--threads 2] [--connections 64]
                                          [--interval 5] [--warmup 10] [--upstream-ttl 300]
                                          [--rss-bound-mb 16] [--rss-bound-pct 25]

The same setup as ``bench.bench_router`` (its functions, imported): a mirror carrying one
wheel for ``crcmod`` and one for ``markupsafe``, a loopback upstream serving the PyPI pages
saved once in .cache/bench-pages, and ``wheelmirror serve MIRROR --upstream <loopback>``
as a real process (granian embedded, one Python process). After ``--warmup`` seconds of
the same load, wrk runs for ``--duration`` seconds at the benchmark load (``-t2 -c64``,
``--timeout 5s``, 127.0.0.1 only, so it stops by itself). A small wrk Lua script rotates
through a mix of requests and tallies every response's status code (``response()``):

* ``/simple/markupsafe/`` and ``/simple/crcmod/`` with pip's headers (PEP 691 JSON,
  gzip): 200;
* the same two pages as HTML (``Accept: text/html``, gzip): 200;
* ``/simple/markupsafe/`` with pip's headers and the page's ETag in ``If-None-Match``: 304;
* ``/simple/requests/``, a package the mirror does not carry: 301 to the upstream;
* ``/simple/MarkupSafe/``, a non-normalised name: 301 to ``/simple/markupsafe/``.

Meanwhile the server's RSS (VmRSS of its process plus any child processes; threads share
it) is sampled every ``--interval`` seconds from /proc. The baseline is the sample taken
after the warm-up, when every page variant has been rendered and the allocator has seen
the full concurrency.

Exit status 1 when anything is wrong: a response other than the expected 200/301/304
(5xx, 4xx), a wrk socket error (connect, read, write, timeout), an expected status that
never appeared, the server dying or not stopping cleanly (exit 0 on SIGINT), a traceback
on its stderr, or RSS beyond the bound. The bound: the peak RSS during the soak may exceed
the baseline by at most ``max(--rss-bound-mb, --rss-bound-pct % of the baseline)``
(default ``max(16 MB, 25 %)``; the baseline is about 50 MB, so 16 MB). This mix runs at
25-39k req/s on 2 shared cores, 15-23 million requests in 10 minutes: a leak of a single
byte per request would cross the bound. It leaves room for what is not a leak: the
background refresh of an upstream page (every variant of the ~360 KB markupsafe page
rendered anew while the old one may still be in flight) and allocator slack, which
together moved RSS by up to 4 MB in trial runs with a 1 s TTL (a refresh per second).
The slope of RSS over the second half of the soak is reported too (not checked).

Prints a Markdown table; the samples and wrk's figures go to soak-router.json in the work
folder (``--work``, default .cache/soak-router; bench_router's own folder is left alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from bench.bench_router import CACHE
from bench.bench_router import PIP_HEADERS
from bench.bench_router import _clean_env
from bench.bench_router import _cpu_model
from bench.bench_router import make_mirror
from bench.bench_router import save_pages
from bench.bench_router import upstream_server
from bench.bench_router import wait_http

WHEELMIRROR = Path(sys.executable).with_name("wheelmirror")
HTML_HEADERS = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate"}
EXPECTED = (200, 301, 304)
RESULT_MARK = "SOAK-RESULT "

# One wrk Lua script for warm-up and soak. Each wrk thread has its own Lua state:
# ``request()`` rotates through the prepared requests (offset per thread), ``response()``
# tallies status codes and the routing header, ``done()`` (main state) merges the
# threads' tallies and prints one JSON line.
LUA = r"""
local threads = {}
local requests = {}
local counter = 0
statuses = {}
upstream = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for _, r in ipairs(MIX) do
    table.insert(requests, wrk.format("GET", r.path, r.headers))
  end
  counter = id or 0
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local u = headers["x-wheelmirror-upstream"] or headers["X-Wheelmirror-Upstream"]
  if u then upstream[u] = (upstream[u] or 0) + 1 end
end

local function jsonmap(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, string.format('"%s": %d', tostring(k), v))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local st, up = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses") or {}) do st[k] = (st[k] or 0) + v end
    for k, v in pairs(t:get("upstream") or {}) do up[k] = (up[k] or 0) + v end
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
    '"statuses": %s, "upstream": %s}\n',
    MARK, summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, jsonmap(st), jsonmap(up)))
end
"""


def _lua_str(value: str) -> str:
    assert "]==]" not in value
    return f"[==[{value}]==]"


def lua_script(mix: list[tuple[str, str, dict[str, str]]]) -> str:
    rows = []
    for _, path, headers in mix:
        hdrs = ", ".join(f"[ {_lua_str(k)} ] = {_lua_str(v)}" for k, v in headers.items())
        rows.append(f"  {{path = {_lua_str(path)}, headers = {{{hdrs}}}}},")
    return f"MARK = {_lua_str(RESULT_MARK)}\nMIX = {{\n" + "\n".join(rows) + "\n}\n" + LUA


def etag_of(url: str, headers: dict[str, str]) -> str:
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        etag = resp.headers.get("ETag")
    assert etag, f"no ETag from {url}"
    return str(etag)


def request_mix(base: str) -> list[tuple[str, str, dict[str, str]]]:
    """(label, path, headers) in rotation order; the weights are the repetitions."""
    etag = etag_of(f"{base}/simple/markupsafe/", PIP_HEADERS)
    json_ms = ("markupsafe JSON", "/simple/markupsafe/", PIP_HEADERS)
    json_crc = ("crcmod JSON", "/simple/crcmod/", PIP_HEADERS)
    return [
        json_ms,
        json_crc,
        ("markupsafe HTML", "/simple/markupsafe/", HTML_HEADERS),
        json_ms,
        ("requests (not on the mirror): 301", "/simple/requests/", PIP_HEADERS),
        json_crc,
        ("crcmod HTML", "/simple/crcmod/", HTML_HEADERS),
        (
            "markupsafe JSON If-None-Match: 304",
            "/simple/markupsafe/",
            {**PIP_HEADERS, "If-None-Match": etag},
        ),
        ("MarkupSafe (not normalised): 301", "/simple/MarkupSafe/", PIP_HEADERS),
    ]


def describe_mix(mix: list[tuple[str, str, dict[str, str]]]) -> str:
    counts: dict[str, int] = {}
    for label, _, _ in mix:
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n}/{len(mix)} {label}" for label, n in counts.items())


# -- the server process and its memory ---------------------------------------------------


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


# -- wrk ---------------------------------------------------------------------------------


def run_wrk(url: str, script: Path, args: argparse.Namespace, duration: float) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{int(duration)}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    # wrk stops by itself after -d; the timeout is a safety net only.
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 60)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK) and not proc.stderr.strip():
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK) :])
            result["stdout"] = proc.stdout
            return result
    # wrk exits 0 even when its Lua script fails: its stderr says so.
    msg = f"no result line from wrk:\n{proc.stdout}\n{proc.stderr}"
    raise RuntimeError(msg)


# -- report ------------------------------------------------------------------------------


def _ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def _mb(kb: float) -> str:
    return f"{kb / 1024:.1f}"


def _slope_mb_per_min(samples: list[Sample]) -> float:
    """Least-squares slope of RSS over the second half of the samples."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return 0.0
    mean_t = sum(s.t for s in half) / len(half)
    mean_r = sum(s.rss_kb for s in half) / len(half)
    var = sum((s.t - mean_t) ** 2 for s in half)
    if var == 0:
        return 0.0
    cov = sum((s.t - mean_t) * (s.rss_kb - mean_r) for s in half)
    return cov / var * 60 / 1024


def evaluate(
    result: dict[str, Any],
    samples: list[Sample],
    server: Server,
    args: argparse.Namespace,
    mix_size: int,
    traceback_lines: int,
    stderr_lines: int = 0,
) -> tuple[list[tuple[str, str]], list[str]]:
    """(table rows, problems)."""
    problems: list[str] = []
    statuses = {int(k): v for k, v in result["statuses"].items()}
    errors = result["errors"]
    socket_errors = sum(errors[k] for k in ("connect", "read", "write", "timeout"))
    bad = {s: n for s, n in statuses.items() if s not in EXPECTED}
    if bad:
        problems.append(f"unexpected responses: {bad}")
    if socket_errors:
        problems.append(f"socket errors: {errors}")
    missing = [s for s in EXPECTED if not statuses.get(s)]
    if missing:
        problems.append(f"expected statuses never seen: {missing}")
    if server.died:
        problems.append("the server died during the soak")
    if server.exit_status != 0:
        problems.append(f"server did not stop cleanly on SIGINT: exit {server.exit_status}")
    if traceback_lines:
        problems.append(f"{traceback_lines} traceback(s) on the server's stderr")
    start, end = samples[0].rss_kb, samples[-1].rss_kb
    peak = max(s.rss_kb for s in samples)
    bound_kb = max(args.rss_bound_mb * 1024, start * args.rss_bound_pct / 100)
    if peak - start > bound_kb:
        problems.append(
            f"RSS grew {_mb(peak - start)} MB over the post-warm-up {_mb(start)} MB "
            f"(bound {_mb(bound_kb)} MB)"
        )
    seconds = result["duration_us"] / 1e6
    lat = result["latency_us"]
    tally = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
    upstream = ", ".join(f"{k}: {v}" for k, v in sorted(result["upstream"].items()))
    rows = [
        ("duration", f"{seconds:.0f} s (after {args.warmup} s warm-up)"),
        ("load", f"wrk -t{args.threads} -c{args.connections}, {mix_size} requests in rotation"),
        ("total requests", f"{result['requests']}"),
        ("req/s", f"{result['requests'] / seconds:.0f}"),
        ("read (MB)", f"{result['bytes'] / 2**20:.0f}"),
        (
            "latency p50 / p99 / max (ms)",
            f"{_ms(lat['p50'])} / {_ms(lat['p99'])} / {_ms(lat['max'])}",
        ),
        ("responses by status", tally),
        ("X-Wheelmirror-Upstream on pages", upstream or "-"),
        ("non-2xx/3xx responses", f"{sum(n for s, n in statuses.items() if s >= 400)}"),
        (
            "socket errors (connect/read/write/timeout)",
            f"{errors['connect']}/{errors['read']}/{errors['write']}/{errors['timeout']}",
        ),
        ("RSS after warm-up (MB)", _mb(start)),
        ("RSS max (MB)", _mb(peak)),
        ("RSS at the end (MB)", _mb(end)),
        ("RSS growth end / peak (MB)", f"{_mb(end - start)} / {_mb(peak - start)}"),
        (
            "RSS bound (peak over warm-up)",
            f"{_mb(bound_kb)} MB (max of {args.rss_bound_mb} MB, {args.rss_bound_pct} %)",
        ),
        ("RSS trend, second half (MB/min)", f"{_slope_mb_per_min(samples):+.2f}"),
        ("server processes / threads", f"{samples[-1].processes} / {samples[-1].threads}"),
        ("RSS samples", f"{len(samples)}, every {args.interval} s"),
        ("server stop on SIGINT", f"exit {server.exit_status}"),
        ("server stderr", f"{stderr_lines} line(s), {traceback_lines} traceback(s)"),
        ("verdict", "PASS" if not problems else "FAIL: " + "; ".join(problems)),
    ]
    return rows, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=600, help="soak seconds (600)")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up seconds (10)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--interval", type=float, default=5.0, help="RSS sample seconds")
    parser.add_argument(
        "--upstream-ttl",
        type=float,
        default=300.0,
        help="the server's --upstream-ttl (300, its default)",
    )
    parser.add_argument("--rss-bound-mb", type=float, default=16.0)
    parser.add_argument("--rss-bound-pct", type=float, default=25.0)
    parser.add_argument(
        "--work",
        type=Path,
        default=CACHE / "soak-router",
        help="work folder (mirror, server cache, results)",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    save_pages()
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    mirror = work / "mirror"
    make_mirror(mirror)
    shutil.rmtree(work / "wm-cache", ignore_errors=True)
    with (
        upstream_server() as upstream,
        routing_index(mirror, upstream, work, args.upstream_ttl) as server,
    ):
        for name in ("crcmod", "markupsafe"):
            wait_http(f"{server.base}/simple/{name}/", PIP_HEADERS)
        mix = request_mix(server.base)
        script = work / "soak.lua"
        script.write_text(lua_script(mix))
        url = f"{server.base}/"
        print(f"warm-up {args.warmup} s ...", file=sys.stderr, flush=True)
        run_wrk(url, script, args, args.warmup)
        time.sleep(1)
        sampler = Sampler(server.proc.pid, args.interval)
        sampler.start()
        print(f"soak {args.duration} s against {url} ...", file=sys.stderr, flush=True)
        try:
            result = run_wrk(url, script, args, args.duration)
        finally:
            sampler.stop()
        server.died = server.proc.poll() is not None
    stderr = server.stderr.read_text()
    traceback_lines = stderr.count("Traceback")
    rows, problems = evaluate(
        result, sampler.samples, server, args, len(mix), traceback_lines, len(stderr.splitlines())
    )
    machine = f"{_cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"machine: {machine}")
    print(f"command: .venv/bin/python -m bench.soak_router {' '.join(argv or sys.argv[1:])}")
    print(f"mix: {describe_mix(mix)}")
    print()
    print("| soak | value |")
    print("|---|---|")
    for key, value in rows:
        print(f"| {key} | {value} |")
    (work / "soak-router.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "args": {k: str(v) for k, v in vars(args).items()},
                "wrk": {k: v for k, v in result.items() if k != "stdout"},
                "samples": [vars(s) for s in sampler.samples],
                "problems": problems,
            },
            indent=2,
        )
        + "\n"
    )
    if problems:
        for p in problems:
            print(f"soak: FAIL: {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
