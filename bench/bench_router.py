"""Routing index vs nginx vs simpleindex vs proxpi: cached project pages under wrk, on loopback.

    .venv/bin/python -m bench.bench_router [--rounds 3] [--duration 10] [--threads 2]
                                           [--connections 64]

Each server serves the same upstream pages, taken once from PyPI and then served by a
loopback "upstream" (a threaded http.server), so every server answers from its cache:

* wheelmirror serve DIR --upstream <loopback>: for a package on the mirror it merges the
  mirror's wheel into the upstream page and answers PEP 691 JSON to pip's Accept header,
  gzip (a precomputed body) when asked; granian embedded, one Python process.
* nginx (Debian's package), one worker, serving the very bytes wheelmirror answers
  (fetched from it at start), identity and, with gzip_static, its gzip body: the ceiling
  for sending those bytes (bench/router_check.py).
* simpleindex (Starlette + uvicorn[standard], one process) with a ``path`` route to the
  saved page files: HTML only, read from disk per request, never compressed.
* proxpi (gunicorn, one worker, 2 threads as in its Docker image), upstream <loopback>,
  in-memory index cache; JSON to pip's Accept header, gzip when asked.

Every server is measured twice per page: "identity" (pip's Accept header only) and
"gzip" (pip's Accept and ``Accept-Encoding: gzip, deflate``, what pip and uv send); a
server that does not compress answers identity to both. All servers run at once and are
measured back to back in each round, so background load hits them alike; the ratio within
a round is what to read. wrk counts 3xx answers as success, so during every wrk run a
sampler fetches a few answers itself (no redirects followed) and checks the status (200),
the Content-Encoding and the decoded body length; readiness is a 200, not a redirect.

proxpi and simpleindex are installed from PyPI into a separate venv
(.cache/bench-venv), never into the dev venv. Pages: ``crcmod`` (small) and
``markupsafe`` (large, hundreds of files); the byte sizes are printed with the results.
wrk runs with a bounded duration against 127.0.0.1 only. Results: a Markdown table on
stdout and .cache/bench-router.json. Exit status 1 when any sampled answer was wrong.
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
import statistics
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.router_check import Expect
from bench.router_check import Sampler
from bench.router_check import fetch
from bench.router_check import free_port
from bench.router_check import nginx_binary
from bench.router_check import nginx_conf
from bench.router_check import require
from bench.router_check import run_server
from bench.router_check import wait_ok

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
IDENTITY_HEADERS = {"Accept": PIP_ACCEPT}
MODES = {"identity": IDENTITY_HEADERS, "gzip": PIP_HEADERS}
SERVERS = ("wheelmirror", "nginx", "simpleindex", "proxpi")
LABELS = {
    "wheelmirror": "wheelmirror (JSON, merged)",
    "nginx": "nginx (the same JSON bytes)",
    "simpleindex": "simpleindex (HTML)",
    "proxpi": "proxpi (JSON)",
}
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
    from devtools.pipuv_mirror import write_mirror
    from devtools.wheels import make_wheel
    from poetry_wheelmirror.manifest import SourceDist

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
    sys.path.insert(0, str(REPO))
    from devtools.loopback import serving

    handler = functools.partial(_PageHandler, directory=str(PAGES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with serving(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"


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


def wait_http(url: str, headers: dict[str, str], timeout: float = 30.0) -> None:
    """Ready means a 200 from *url* itself (redirects are not followed)."""
    wait_ok(url, headers, timeout)


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


def _anchors(html: bytes) -> int:
    return html.count(b"<a ")


def prerender_for_nginx(ours: str, root: Path) -> dict[str, dict[str, Expect]]:
    """Fetch wheelmirror's identity and gzip answers for each page, check them, and lay
    them out for nginx; returns the expected answer per page and mode."""
    expects: dict[str, dict[str, Expect]] = {}
    for name in PACKAGES:
        plain = wait_ok(ours.format(name=name), IDENTITY_HEADERS)
        packed = fetch(ours.format(name=name), PIP_HEADERS)
        require(packed.status == 200, f"{name}: gzip answer HTTP {packed.status}")
        require(packed.encoding == "gzip", f"{name}: asked for gzip, got {packed.encoding!r}")
        require(packed.decoded() == plain.body, f"{name}: gzip and identity bodies differ")
        files = json.loads(plain.body)["files"]
        upstream = _anchors((PAGES / f"{name}.html").read_bytes())
        require(len(files) == upstream + 1, f"{name}: {len(files)} files, not {upstream} + 1")
        folder = root / "html" / "simple" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.json").write_bytes(plain.body)
        (folder / "index.json.gz").write_bytes(packed.body)
        expects[name] = {
            "identity": Expect("", len(plain.body)),
            "gzip": Expect("gzip", len(plain.body)),
            "gzip-size": Expect("gzip", len(packed.body)),
        }
    return expects


@contextlib.contextmanager
def all_servers(
    peer_python: Path, mirror: Path, work: Path
) -> Iterator[tuple[dict[str, str], dict[str, dict[str, dict[str, Expect]]]]]:
    """Start the upstream and the four servers; yield ({server: page URL template},
    {server: {page: {mode: expected answer}}}).

    All run for the whole benchmark and are measured back to back, round after round,
    so a slowly varying background load (other engineers' tests on the same 2 cores)
    hits each of them alike and the ratios within a round stay meaningful.
    """
    nginx = nginx_binary()
    if nginx is None:
        msg = "nginx is not installed: apt-get update && apt-get install -y nginx"
        raise RuntimeError(msg)
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(upstream_server())
        ports = {server: free_port() for server in SERVERS}
        cmd = [sys.executable, "-m", "poetry_wheelmirror.cli.main", "serve", "--mirror", str(mirror),
               "--port", str(ports["wheelmirror"]), "--upstream", upstream,
               "--cache-dir", str(work / "wm-cache")]  # fmt: skip
        stack.enter_context(run_server(cmd, _clean_env(), REPO))
        env = _clean_env(PROXPI_INDEX_URL=upstream, PROXPI_LOGGING_LEVEL="WARNING")
        cmd = [str(peer_python), "-m", "gunicorn", "--bind", f"127.0.0.1:{ports['proxpi']}",
               "--workers", "1", "--threads", "2", "--log-level", "warning",
               "proxpi.server:app"]  # fmt: skip
        stack.enter_context(run_server(cmd, env, work))
        config = work / "simpleindex.toml"
        shutil.copytree(PAGES, work / "pages", dirs_exist_ok=True)
        config.write_text(
            '[routes."{project}"]\nsource = "path"\nto = "pages/{project}.html"\n\n'
            f'[server]\nhost = "127.0.0.1"\nport = {ports["simpleindex"]}\n'
            'log-level = "warning"\naccess-log = false\n'
        )
        cmd = [str(peer_python), "-m", "simpleindex", str(config)]
        stack.enter_context(run_server(cmd, _clean_env(), work))
        urls = {
            "wheelmirror": f"http://127.0.0.1:{ports['wheelmirror']}/simple/{{name}}/",
            "nginx": f"http://127.0.0.1:{ports['nginx']}/simple/{{name}}/",
            "proxpi": f"http://127.0.0.1:{ports['proxpi']}/index/{{name}}/",
            "simpleindex": f"http://127.0.0.1:{ports['simpleindex']}/{{name}}/",
        }
        nginx_root = work / "nginx"
        shutil.rmtree(nginx_root, ignore_errors=True)
        ours = prerender_for_nginx(urls["wheelmirror"], nginx_root)
        conf = nginx_conf(nginx_root, ports["nginx"])
        stack.enter_context(run_server([nginx, "-c", str(conf), "-p", str(nginx_root),
                                        "-e", str(nginx_root / "logs" / "error.log")],
                                       _clean_env(), work))  # fmt: skip
        expects: dict[str, dict[str, dict[str, Expect]]] = {"wheelmirror": ours, "nginx": ours}
        simple: dict[str, dict[str, Expect]] = {}
        proxpi: dict[str, dict[str, Expect]] = {}
        for name in PACKAGES:
            page = (PAGES / f"{name}.html").read_bytes()
            plain = Expect("", len(page))
            simple[name] = {"identity": plain, "gzip": plain}
            answer = wait_ok(urls["proxpi"].format(name=name), IDENTITY_HEADERS)
            files = json.loads(answer.body)["files"]
            require(len(files) == _anchors(page), f"proxpi {name}: {len(files)} files")
            # proxpi compresses when asked (observed: Content-Encoding gzip).
            proxpi[name] = {
                "identity": Expect("", len(answer.body)),
                "gzip": Expect("gzip", len(answer.body)),
            }
            got = wait_ok(urls["simpleindex"].format(name=name), IDENTITY_HEADERS)
            require(got.body == page, f"simpleindex {name}: not the saved page")
            wait_ok(urls["nginx"].format(name=name), IDENTITY_HEADERS)
        expects |= {"simpleindex": simple, "proxpi": proxpi}
        yield urls, expects


def run_round(
    args: argparse.Namespace,
    urls: dict[str, str],
    expects: dict[str, dict[str, dict[str, Expect]]],
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for name in PACKAGES:
        for mode, headers in MODES.items():
            for server in SERVERS:
                url = urls[server].format(name=name)
                sampler = Sampler(url, headers, expects[server][name][mode],
                                  interval=max(0.2, args.duration / 7))  # fmt: skip
                with sampler.during():
                    result = wrk(url, args, headers)
                result["sampled"] = float(sampler.checked)
                result["sample_problems"] = float(len(sampler.problems))
                for problem in sampler.problems[:3]:
                    print(f"  {server} {name} {mode}: {problem}", file=sys.stderr)
                results[f"{server} {name} {mode}"] = result
    return results


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def _ratio_line(rounds: list[dict], name: str, mode: str, peer: str, goal: float) -> str:
    ratios = [
        r[f"wheelmirror {name} {mode}"]["rps"] / r[f"{peer} {name} {mode}"]["rps"] for r in rounds
    ]
    median = statistics.median(ratios)
    verdict = "met" if median >= goal else "MISSED"
    per = ", ".join(f"{x:.2f}x" for x in ratios)
    return (
        f"{name} {mode}: wheelmirror vs {peer}: {median:.2f}x (per round: {per}; "
        f"goal >= {goal:.1f}x: {verdict})"
    )


#: (mode, peer, goal): identity >= 1.5x simpleindex and >= 1.0x nginx; gzip ahead of all.
GOALS = (
    ("identity", "simpleindex", 1.5),
    ("identity", "nginx", 1.0),
    ("identity", "proxpi", 1.0),
    ("gzip", "simpleindex", 1.0),
    ("gzip", "nginx", 1.0),
    ("gzip", "proxpi", 1.0),
)


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
    with all_servers(peer_python, mirror, work) as (urls, expects):
        for server in SERVERS:
            for name in PACKAGES:
                warm_up(urls[server].format(name=name), args)
        for i in range(args.rounds):
            print(f"round {i + 1}/{args.rounds} ...", file=sys.stderr, flush=True)
            rounds.append(run_round(args, urls, expects))
    summary: dict[str, dict[str, object]] = {}
    for key in rounds[0]:
        summary[key] = {
            "rps_median": statistics.median(r[key]["rps"] for r in rounds),
            "p99_ms_median": statistics.median(r[key]["p99_ms"] for r in rounds),
            "rps_rounds": [r[key]["rps"] for r in rounds],
            "errors": sum(r[key]["non_2xx"] + r[key]["socket_errors"] for r in rounds),
            "sampled": sum(r[key]["sampled"] for r in rounds),
            "sample_problems": sum(r[key]["sample_problems"] for r in rounds),
        }
    machine = f"{_cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    command = (
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --timeout 5s --latency "
        f"-H 'Accept: {PIP_ACCEPT}' [-H 'Accept-Encoding: gzip, deflate'] URL"
    )
    print(f"machine: {machine}\ncommand: {command}\nrounds: {args.rounds}\n")
    for name in PACKAGES:
        sizes = expects["wheelmirror"][name]
        print(
            f"{name}: wheelmirror/nginx JSON {sizes['identity'].length} bytes identity, "
            f"{sizes['gzip-size'].length} bytes gzip; simpleindex HTML "
            f"{expects['simpleindex'][name]['identity'].length} bytes; proxpi JSON "
            f"{expects['proxpi'][name]['identity'].length} bytes"
        )
    print()
    print("| page | server | identity req/s | gzip req/s | identity p99 ms | gzip p99 ms "
          "| answers sampled (wrong) | wrk errors |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    wrong = 0.0
    for name in PACKAGES:
        for server in SERVERS:
            ident, gz = summary[f"{server} {name} identity"], summary[f"{server} {name} gzip"]
            sampled = float(ident["sampled"]) + float(gz["sampled"])  # type: ignore[arg-type]
            bad = float(ident["sample_problems"]) + float(gz["sample_problems"])  # type: ignore[arg-type]
            wrong += bad
            errors = float(ident["errors"]) + float(gz["errors"])  # type: ignore[arg-type]
            print(
                f"| {name} | {LABELS[server]} | {ident['rps_median']:.0f} | {gz['rps_median']:.0f}"
                f" | {ident['p99_ms_median']:.2f} | {gz['p99_ms_median']:.2f}"
                f" | {sampled:.0f} ({bad:.0f}) | {errors:.0f} |"
            )
    print()
    for name in PACKAGES:
        for mode, peer, goal in GOALS:
            print(_ratio_line(rounds, name, mode, peer, goal))
    if wrong:
        print(f"\n{wrong:.0f} sampled answer(s) were wrong: these figures do not count")
    (CACHE / "bench-router.json").write_text(
        json.dumps(
            {"machine": machine, "command": command, "summary": summary, "rounds": rounds},
            indent=2,
        )
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
