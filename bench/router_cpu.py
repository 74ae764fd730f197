"""Where the routing index's time goes: server CPU per request next to req/s, for
wheelmirror, nginx and granian's own floor, on the pages of bench/bench_router.py.

    .venv/bin/python -m bench.router_cpu [--rounds 3] [--duration 5]

Three servers answer the same bytes (each page's JSON, identity and gzip):

* wheelmirror serve DIR --upstream <loopback> (as bench_router runs it);
* nginx, one worker, serving those bytes (bench/router_check.py);
* "granian floor": granian embedded exactly as ``wheelmirror serve`` runs it (RSGI,
  uvloop, websockets off) with an app that only hands over the same bytes and headers
  (``response_bytes``), with no routing, negotiation or cache at all. No app on granian
  can do less per request, so it is the ceiling for any routing index built on granian.

req/s depends on how much of the two shared cores a server gets; CPU microseconds per
request (user + system time of the server's processes during the wrk run, over wrk's
req/s times the duration) is what each answer costs, and moves much less with background
load. wrk settings and the answer sampling are bench_router's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from pathlib import Path

from bench.bench_router import CACHE
from bench.bench_router import MODES
from bench.bench_router import PACKAGES
from bench.bench_router import REPO
from bench.bench_router import _clean_env
from bench.bench_router import make_mirror
from bench.bench_router import prerender_for_nginx
from bench.bench_router import save_pages
from bench.bench_router import upstream_server
from bench.bench_router import warm_up
from bench.bench_router import wrk
from bench.router_check import Sampler
from bench.router_check import free_port
from bench.router_check import nginx_binary
from bench.router_check import nginx_conf
from bench.router_check import run_server
from bench.router_check import wait_ok

SERVERS = ("wheelmirror", "nginx", "granian floor")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of *pid* and its direct children (nginx's worker)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def floor_app(port: int, root: Path) -> None:
    """The granian floor (run in a subprocess): /simple/<name>/ answers the bytes nginx
    serves from *root*, gzip when the request's Accept-Encoding mentions it."""
    from granian.constants import Interfaces
    from granian.server.embed import Server

    answers: dict[tuple[str, bool], tuple[list[tuple[str, str]], bytes]] = {}
    for name in PACKAGES:
        folder = root / "html" / "simple" / name
        for gz, file in ((False, "index.json"), (True, "index.json.gz")):
            body = (folder / file).read_bytes()
            headers = [
                ("content-type", "application/vnd.pypi.simple.v1+json"),
                ("content-length", str(len(body))),
                ("etag", '"floor"'),
                ("vary", "Accept, Accept-Encoding"),
                ("cache-control", "max-age=60"),
                *([("content-encoding", "gzip")] if gz else []),
            ]
            answers[f"/simple/{name}/", gz] = (headers, body)

    async def app(scope: object, proto: object) -> None:
        gz = "gzip" in (scope.headers.get("accept-encoding") or "")  # type: ignore[attr-defined]
        headers, body = answers.get((scope.path, gz), ([], b""))  # type: ignore[attr-defined]
        proto.response_bytes(200 if body else 404, headers, body)  # type: ignore[attr-defined]

    async def main() -> None:
        server = Server(app, address="127.0.0.1", port=port, interface=Interfaces.RSGI,
                        websockets=False, log_enabled=False)  # fmt: skip
        await server.serve()

    import uvloop

    uvloop.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--floor", nargs=2, metavar=("PORT", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor_app(int(args.floor[0]), Path(args.floor[1]))
        return 0
    args.threads, args.connections = 2, 64
    nginx = nginx_binary()
    if nginx is None:
        print("nginx is not installed: apt-get install -y nginx", file=sys.stderr)
        return 2
    save_pages()
    work = CACHE / "router-cpu"
    make_mirror(work / "mirror")
    ports = {server: free_port() for server in SERVERS}
    urls = {server: f"http://127.0.0.1:{port}/simple/{{name}}/" for server, port in ports.items()}
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(upstream_server())
        pids = {}
        pids["wheelmirror"] = stack.enter_context(run_server(
            [sys.executable, "-m", "poetry_wheelmirror.cli.main", "serve", "--mirror",
             str(work / "mirror"), "--port", str(ports["wheelmirror"]), "--upstream", upstream,
             "--cache-dir", str(work / "wm-cache")], _clean_env(), REPO))  # fmt: skip
        root = work / "nginx"
        expects = prerender_for_nginx(urls["wheelmirror"], root)
        conf = nginx_conf(root, ports["nginx"])
        pids["nginx"] = stack.enter_context(run_server(
            [nginx, "-c", str(conf), "-p", str(root), "-e", str(root / "logs" / "error.log")],
            _clean_env(), work))  # fmt: skip
        pids["granian floor"] = stack.enter_context(run_server(
            [sys.executable, "-m", "bench.router_cpu", "--floor", str(ports["granian floor"]),
             str(root)], _clean_env(), REPO))  # fmt: skip
        for server in SERVERS:
            for name in PACKAGES:
                wait_ok(urls[server].format(name=name), MODES["identity"])
                warm_up(urls[server].format(name=name), args)
        results: dict[str, list[tuple[float, float]]] = {}
        wrong = 0
        for i in range(args.rounds):
            print(f"round {i + 1}/{args.rounds} (load {os.getloadavg()[0]:.1f}) ...",
                  file=sys.stderr, flush=True)  # fmt: skip
            for name in PACKAGES:
                for mode, headers in MODES.items():
                    for server in SERVERS:
                        url = urls[server].format(name=name)
                        sampler = Sampler(url, headers, expects[name][mode], interval=1.0)
                        before = cpu_seconds(pids[server])
                        with sampler.during():
                            out = wrk(url, args, headers)
                        cpu = cpu_seconds(pids[server]) - before
                        requests = out["rps"] * args.duration
                        wrong += len(sampler.problems)
                        results.setdefault(f"{name} {mode} {server}", []).append(
                            (out["rps"], cpu / requests * 1e6)
                        )
    print("| page | mode | server | req/s | CPU us/request | req/s vs nginx | CPU vs nginx |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name in PACKAGES:
        for mode in MODES:
            base = results[f"{name} {mode} nginx"]
            for server in SERVERS:
                runs = results[f"{name} {mode} {server}"]
                rps = statistics.median(r for r, _ in runs)
                us = statistics.median(c for _, c in runs)
                ratio = statistics.median(r[0] / b[0] for r, b in zip(runs, base, strict=True))
                cost = statistics.median(r[1] / b[1] for r, b in zip(runs, base, strict=True))
                print(f"| {name} | {mode} | {server} | {rps:.0f} | {us:.0f} | {ratio:.2f}x "
                      f"| {cost:.2f}x |")  # fmt: skip
    if wrong:
        print(f"\n{wrong} sampled answer(s) were wrong: these figures do not count")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
