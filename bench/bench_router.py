"""Routing index vs proxpi vs simpleindex: cached project pages under wrk, on loopback.

    .venv/bin/python -m bench.bench_router [--rounds 3] [--duration 10] [--threads 2]
                                           [--connections 64]

Each server serves the same upstream pages, taken once from PyPI and then served by a
loopback "upstream" (a threaded http.server), so every server answers from its cache:

* wheelmirror serve DIR --upstream <loopback>: for a package on the mirror it merges the
  mirror's wheel into the upstream page and answers PEP 691 JSON to pip's Accept header
  (HTML to a plain request); granian embedded, one Python process.
* proxpi (gunicorn, one worker, 2 threads as in its Docker image), upstream <loopback>,
  in-memory index cache (default 30 min TTL); pip's Accept header gets JSON there too.
* simpleindex (Starlette + uvicorn[standard], one process) with a ``path`` route to the
  saved page files: HTML only, read from disk per request.

Every request carries pip's own headers (its Accept, and ``Accept-Encoding: gzip,
deflate``); each server answers what it can: wheelmirror sends a precomputed gzip body,
the peers send identity. wheelmirror is also measured without gzip, for JSON and HTML.
All servers run at once and are measured back to back in each round, so background load
hits them alike; the ratio within a round is what to read.

proxpi and simpleindex are installed from PyPI into a separate venv
(.cache/bench-venv), never into the dev venv. Pages: ``crcmod`` (small, ~2 KB) and
``markupsafe`` (large, ~360 KB HTML, hundreds of files). wrk runs with a bounded duration
against 127.0.0.1 only. Results: a Markdown table on stdout and .cache/bench-router.json.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache"
BENCH_VENV = CACHE / "bench-venv"
PAGES = CACHE / "bench-pages"
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
#: What pip 26 sends for a project page (its vendored urllib3 has no brotli/zstd).
PIP_HEADERS = {"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip, deflate"}
OURS = "wheelmirror (JSON, merged)"
PACKAGES = ("crcmod", "markupsafe")
PEERS = ("proxpi==1.3.1", "simpleindex==0.6.3", "gunicorn", "uvicorn[standard]")


def _clean_env(**extra: str) -> dict[str, str]:
    sys.path.insert(0, str(REPO))
    from devtools.cleanenv import clean_env

    empty = CACHE / "bench-xdg"
    (empty / "etc").mkdir(parents=True, exist_ok=True)
    (empty / "home").mkdir(parents=True, exist_ok=True)
    # No machine or user pip config (this machine adds local wheel folders): PyPI only.
    return clean_env(
        XDG_CONFIG_DIRS=str(empty / "etc"), XDG_CONFIG_HOME=str(empty / "home"), **extra
    )


def ensure_bench_venv() -> Path:
    marker = BENCH_VENV / ".wheelmirror-bench"
    python = BENCH_VENV / "bin" / "python"
    if not marker.exists() or marker.read_text() != "\n".join(PEERS):
        shutil.rmtree(BENCH_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PEERS], check=True, env=_clean_env()
        )
        marker.write_text("\n".join(PEERS))
    return python


def save_pages() -> None:
    PAGES.mkdir(parents=True, exist_ok=True)
    for name in PACKAGES:
        path = PAGES / f"{name}.html"
        if not path.exists():
            req = urllib.request.Request(
                f"https://pypi.org/simple/{name}/", headers={"Accept": "text/html"}
            )
            with urllib.request.urlopen(req, timeout=60) as resp:
                path.write_bytes(resp.read())


def make_mirror(root: Path) -> None:
    """A mirror carrying one (synthetic) wheel for each benchmarked package."""
    sys.path.insert(0, str(REPO))
    from devtools.wheels import make_wheel
    from poetry_wheelmirror.manifest import SourceDist
    from tests.e2e.pipuv_mirror import write_mirror

    shutil.rmtree(root, ignore_errors=True)
    # write_mirror writes a one-package mirror; merge two by writing each into its own
    # folder and combining the documents.
    roots = []
    for name, version in (("crcmod", "1.7"), ("markupsafe", "2.0.1")):
        part = root.parent / f"{root.name}-{name}"
        shutil.rmtree(part, ignore_errors=True)
        wheel = make_wheel(part / "src", f"{name}-{version}-cp311-cp311-manylinux_2_17_x86_64.whl")
        sdist = SourceDist(
            filename=f"{name}-{version}.tar.gz", sha256="0" * 64, url=f"https://x/{name}.tar.gz"
        )
        write_mirror(part, wheel, sdist=sdist)
        roots.append(part)
    root.mkdir(parents=True)
    manifest: dict[str, object] = {}
    for part in roots:
        data = json.loads((part / "manifest.json").read_text())
        if not manifest:
            manifest = data
        else:
            manifest["packages"].update(data["packages"])  # type: ignore[index]
        for sub in ("files", "packages"):
            shutil.copytree(part / sub, root / sub, dirs_exist_ok=True)
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def upstream_server() -> Iterator[str]:
    handler = functools.partial(_PageHandler, directory=str(PAGES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = [p for p in self.path.split("/") if p]
        if len(parts) == 2 and parts[0] == "simple" and (PAGES / f"{parts[1]}.html").exists():
            body = (PAGES / f"{parts[1]}.html").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, headers: dict[str, str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(req, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    msg = f"server at {url} did not answer"
    raise RuntimeError(msg)


@contextlib.contextmanager
def run_server(cmd: list[str], env: dict[str, str], cwd: Path) -> Iterator[None]:
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk(url: str, args: argparse.Namespace, headers: dict[str, str]) -> dict[str, float]:
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_match = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99_match is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_match.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p99_ms": float(p99_match.group(1)) * scale,
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def warm_up(url: str, args: argparse.Namespace) -> None:
    """A short discarded wrk run: the first seconds after start-up are not steady state."""
    short = argparse.Namespace(**{**vars(args), "duration": 2})
    wrk(url, short, PIP_HEADERS)


@contextlib.contextmanager
def all_servers(peer_python: Path, mirror: Path, work: Path) -> Iterator[dict[str, str]]:
    """Start the upstream and the three servers; yield {label: page URL template}.

    All run for the whole benchmark and are measured back to back, round after round,
    so a slowly varying background load (other engineers' tests on the same 2 cores)
    hits each of them alike and the ratios within a round stay meaningful.
    """
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(upstream_server())
        ours, proxpi, simpleindex = free_port(), free_port(), free_port()
        cmd = [
            sys.executable,
            "-m",
            "poetry_wheelmirror.cli.main",
            "serve",
            "--mirror",
            str(mirror),
            "--port",
            str(ours),
            "--upstream",
            upstream,
            "--cache-dir",
            str(work / "wm-cache"),
        ]
        stack.enter_context(run_server(cmd, _clean_env(), REPO))
        env = _clean_env(PROXPI_INDEX_URL=upstream, PROXPI_LOGGING_LEVEL="WARNING")
        cmd = [
            str(peer_python),
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{proxpi}",
            "--workers",
            "1",
            "--threads",
            "2",
            "--log-level",
            "warning",
            "proxpi.server:app",
        ]
        stack.enter_context(run_server(cmd, env, work))
        config = work / "simpleindex.toml"
        shutil.copytree(PAGES, work / "pages", dirs_exist_ok=True)
        config.write_text(
            '[routes."{project}"]\nsource = "path"\nto = "pages/{project}.html"\n\n'
            f'[server]\nhost = "127.0.0.1"\nport = {simpleindex}\nlog-level = "warning"\n'
            "access-log = false\n"
        )
        cmd = [str(peer_python), "-m", "simpleindex", str(config)]
        stack.enter_context(run_server(cmd, _clean_env(), work))
        yield {
            "wheelmirror": f"http://127.0.0.1:{ours}/simple/{{name}}/",
            "proxpi": f"http://127.0.0.1:{proxpi}/index/{{name}}/",
            "simpleindex": f"http://127.0.0.1:{simpleindex}/{{name}}/",
        }


#: (label, server, request headers) measured for each page, in this order.
TARGETS: tuple[tuple[str, str, dict[str, str]], ...] = (
    (OURS, "wheelmirror", PIP_HEADERS),
    ("simpleindex (HTML)", "simpleindex", PIP_HEADERS),
    ("proxpi (JSON)", "proxpi", PIP_HEADERS),
    ("wheelmirror (JSON, merged, identity)", "wheelmirror", {"Accept": PIP_ACCEPT}),
    ("wheelmirror (HTML, merged, identity)", "wheelmirror", {}),
)


def run_round(args: argparse.Namespace, urls: dict[str, str]) -> dict:
    results: dict[str, dict[str, float]] = {}
    for name in PACKAGES:
        for label, server, headers in TARGETS:
            results[f"{label} {name}"] = wrk(urls[server].format(name=name), args, headers)
    return results


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    peer_python = ensure_bench_venv()
    save_pages()
    work = CACHE / "bench-router"
    mirror = work / "mirror"
    make_mirror(mirror)
    rounds = []
    with all_servers(peer_python, mirror, work) as urls:
        for template in urls.values():
            for name in PACKAGES:
                wait_http(template.format(name=name), {"Accept": PIP_ACCEPT})
                warm_up(template.format(name=name), args)
        for i in range(args.rounds):
            print(f"round {i + 1}/{args.rounds} ...", file=sys.stderr, flush=True)
            rounds.append(run_round(args, urls))
    keys = list(rounds[0])
    summary = {}
    for key in keys:
        rps = [r[key]["rps"] for r in rounds]
        p99 = [r[key]["p99_ms"] for r in rounds]
        bad = sum(r[key]["non_2xx"] + r[key]["socket_errors"] for r in rounds)
        summary[key] = {
            "rps_median": statistics.median(rps),
            "p99_ms_median": statistics.median(p99),
            "rps_rounds": rps,
            "errors": bad,
        }
    machine = f"{_cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    command = (
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --timeout 5s --latency "
        f"-H 'Accept: {PIP_ACCEPT}' -H 'Accept-Encoding: gzip, deflate' URL"
    )
    print(f"machine: {machine}\ncommand: {command}\nrounds: {args.rounds}\n")
    print("| server (page) | req/s (median) | p99 ms (median) | req/s per round | errors |")
    print("|---|---:|---:|---|---:|")
    for key, s in summary.items():
        per = ", ".join(f"{v:.0f}" for v in s["rps_rounds"])
        print(
            f"| {key} | {s['rps_median']:.0f} | {s['p99_ms_median']:.2f} | {per} | "
            f"{s['errors']:.0f} |"
        )
    print()
    for name in PACKAGES:
        ours = summary[f"{OURS} {name}"]["rps_median"]
        for peer in ("simpleindex (HTML)", "proxpi (JSON)"):
            theirs = summary[f"{peer} {name}"]["rps_median"]
            ratios = [r[f"{OURS} {name}"]["rps"] / r[f"{peer} {name}"]["rps"] for r in rounds]
            print(
                f"{name}: wheelmirror JSON vs {peer}: {ours / theirs:.2f}x (per round: "
                + ", ".join(f"{x:.2f}x" for x in ratios)
                + ")"
            )
    (CACHE / "bench-router.json").write_text(
        json.dumps(
            {"machine": machine, "command": command, "summary": summary, "rounds": rounds}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
