"""`make bench`: run the project's benchmarks side by side and write docs/benchmarks.md.

Each benchmark runs as its own command (printed, so any figure can be reproduced);
its output goes verbatim into the generated block at the top of docs/benchmarks.md,
between the `report:start` and `report:end` markers, with the machine it ran on and a
PNG chart of install time per client with and without the mirror (from the demo,
re-measured). The hand-written analysis below the block is left as it is.

    .venv/bin/python -m bench.report [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
README = REPO / "README.md"
CHART = REPO / "docs" / "benchmarks-install.png"
DEMO_JSON = REPO / ".cache" / "bench" / "demo.json"
START, END = "<!-- report:start -->", "<!-- report:end -->"
DEMO_START, DEMO_END = "<!-- demo-table:start -->", "<!-- demo-table:end -->"
PY = sys.executable

#: name -> (command, what it shows, --quick variant)
BENCHES: dict[str, tuple[list[str], str, list[str]]] = {
    "install": (
        [PY, "-m", "demo.run", "--remeasure", "--json", str(DEMO_JSON)],
        "install time per client, without and with the mirror (the demo, re-measured)",
        [PY, "-m", "demo.run", "--json", str(DEMO_JSON)],
    ),
    "poetry": (
        [PY, "-m", "bench.bench_poetry", "--runs", "5", "--noop-runs", "9"],
        "poetry install with vs without the plugin, and the no-op install overhead",
        [PY, "-m", "bench.bench_poetry", "--runs", "2", "--noop-runs", "3"],
    ),
    "import": (
        [PY, "-m", "bench.bench_import", "--runs", "7"],
        "import time of the plugin module inside Poetry's venv",
        [PY, "-m", "bench.bench_import", "--runs", "3"],
    ),
    "plan": (
        [PY, "-m", "bench.bench_plan"],
        "planner on a cold and a warm cache",
        [PY, "-m", "bench.bench_plan"],
    ),
    "index": (
        [PY, "-m", "bench.bench_index"],
        "static index generation for a synthetic 50,000-wheel mirror",
        [PY, "-m", "bench.bench_index", "5000"],
    ),
    "lockplan": (
        [PY, "-m", "bench.bench_lockplan"],
        "planning a ~300-package lock (poetry.lock, uv.lock, hashed requirements), four targets",
        [PY, "-m", "bench.bench_lockplan"],
    ),
    "lockbuild": (
        [PY, "-m", "bench.bench_lockbuild"],
        "building a lock's six sdist-only pins: --jobs 1 vs --jobs 2, interleaved",
        [PY, "-m", "bench.bench_lockbuild"],
    ),
    "router": (
        [PY, "-m", "bench.bench_router", "--rounds", "3", "--duration", "10"],
        "routing index vs nginx, simpleindex and proxpi, identity and gzip, under wrk (loopback)",
        [PY, "-m", "bench.bench_router", "--rounds", "1", "--duration", "5"],
    ),
    "router_cpu": (
        [PY, "-m", "bench.router_cpu", "--rounds", "2", "--duration", "5"],
        "routing index: server CPU per request beside nginx and granian's floor",
        [PY, "-m", "bench.router_cpu", "--rounds", "1", "--duration", "3"],
    ),
}


def machine() -> str:
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"CPython {platform.python_version()}; load average at start {load}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def chart(data: dict[str, dict[str, dict[str, float]]]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no chart", file=sys.stderr)
        return False
    clients = [c for c in ("poetry", "pip", "uv") if c in data]
    without = [data[c]["without"]["seconds"] for c in clients]
    with_mirror = [data[c]["with"]["seconds"] for c in clients]
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    xs = range(len(clients))
    bars1 = ax.bar(
        [x - 0.2 for x in xs],
        without,
        0.4,
        label="without mirror (builds from source)",
        color="#c0504d",
    )
    bars2 = ax.bar(
        [x + 0.2 for x in xs],
        with_mirror,
        0.4,
        label="with mirror (mirror wheels)",
        color="#4f81bd",
    )
    ax.bar_label(bars1, fmt="%.1f s", fontsize=8)
    ax.bar_label(bars2, fmt="%.1f s", fontsize=8)
    ax.set_xticks(list(xs), clients)
    ax.set_ylabel("install time (s)")
    ax.set_title("MarkupSafe 2.0.1 + crcmod 1.7 + six on CPython 3.11, cold cache")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART)
    return True


def demo_table(started_at: float, code: int) -> list[str]:
    """The install table and chart, only from a demo.json this very run wrote; else a
    line saying why there is none (a stale file from an earlier run is never shown)."""
    if code != 0:
        return [f"No install table: the demo failed in this run (exit status {code}).", ""]
    if not DEMO_JSON.exists() or DEMO_JSON.stat().st_mtime < started_at:
        return ["No install table: the demo wrote no result in this run.", ""]
    data = json.loads(DEMO_JSON.read_text())
    rows = [
        "| client | without mirror | measured | with mirror | speed-up |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for client in ("poetry", "pip", "uv"):
        without, with_mirror = data[client]["without"], data[client]["with"]
        w, m = without["seconds"], with_mirror["seconds"]
        when = without.get("measured", "now")
        # Without --remeasure the demo reuses its first run's baseline: say when it was taken.
        measured = "this run" if when == "now" else f"earlier, {when} (not re-measured)"
        rows.append(f"| {client} | {w:.1f} s | {measured} | {m:.1f} s | {w / m:.1f}x |")
    lines = [*rows, "", f"poetry.lock unchanged by the plugin: {data['lock_unchanged']}", ""]
    if chart(data):
        lines += [f"![install time per client]({CHART.name})", ""]
    return lines


def between_markers(text: str, start: str, end: str, block: str) -> str | None:
    """*text* with everything from *start* to *end* (both included) replaced by *block*;
    None when *text* lacks either marker after the other."""
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        return None
    return head + block + rest.split(end, 1)[1]


def readme_demo_table(output: str) -> bool:
    """Put the demo's closing table (this run's) into the README's example; False when
    the output has no table or the README no markers (the README is left as it is)."""
    lines = output.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("client ")), None)
    last = next(
        (i for i, line in enumerate(lines) if line.startswith("poetry.lock unchanged")), None
    )
    if first is None or last is None or last < first:
        return False
    table = "\n".join(line.rstrip() for line in lines[first : last + 1])
    block = f"{DEMO_START}\n```\n{table}\n```\n{DEMO_END}"
    text = between_markers(README.read_text(), DEMO_START, DEMO_END, block)
    if text is None:
        return False
    README.write_text(text)
    return True


def run(name: str, cmd: list[str]) -> tuple[str, str, float, int]:
    shown = " ".join(Path(c).name if c == PY else c for c in cmd).replace(
        "python", ".venv/bin/python", 1
    )
    print(f"==> [{name}] {shown}", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    out = result.stdout.strip()
    if result.returncode != 0:
        out += f"\n(exit status {result.returncode})\n" + "\n".join(
            result.stderr.strip().splitlines()[-15:]
        )
    print(out, flush=True)
    return shown, out, elapsed, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write docs/benchmarks.md.")
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds (a smoke run, not for the record)"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these")
    args = parser.parse_args()
    names = args.only or list(BENCHES)
    sections = [
        START,
        "## Latest `make bench` (generated)",
        "",
        f"Machine: {machine()}. Written by `make bench` (`.venv/bin/python -m bench.report"
        f"{' --quick' if args.quick else ''}`); each figure below is the verbatim output of the command above it.",
        "",
    ]
    failed = []
    for name in names:
        cmd, what, quick = BENCHES[name]
        started_at = time.time()
        shown, output, elapsed, code = run(name, quick if args.quick else cmd)
        if code != 0:
            failed.append(name)
        sections += [f"### {what}", "", f"`{shown}` ({elapsed:.0f} s)", ""]
        if name == "install":
            sections += demo_table(started_at, code)
            if code == 0 and not args.quick and readme_demo_table(output):
                print(f"wrote the demo table into {README.relative_to(REPO)}")
        sections += ["```", output, "```", ""]
    sections.append(END)
    block = "\n".join(sections)
    old = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    text = between_markers(old, START, END, block)
    if text is None:
        title, _, body = old.partition("\n")
        text = f"{title}\n\n{block}\n{body}"
    DOC.write_text(text)
    print(
        f"wrote {DOC.relative_to(REPO)}"
        + (f" and {CHART.relative_to(REPO)}" if CHART.exists() else "")
    )
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
