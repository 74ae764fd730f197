"""Run every fault of devtools/faulty_server.py against each component; print a table.

    .venv/bin/python -m bench.fault_table > /tmp/faults.md

    WHEELMIRROR_FAULT_LOG=/tmp/plugin.jsonl .venv/bin/python -m pytest \
        tests/e2e/test_faults_plugin.py -m "e2e"     # the plugin matrix, real Poetry
    .venv/bin/python -m bench.fault_table --plugin-log /tmp/plugin.jsonl

Columns: CachedClient.get, CachedClient.download (with the manifest's sha256 and size),
MirrorReader with the fault on the root manifest and on the package document, the
``wheelmirror select`` CLI (fault on the root), and the routing index
(``wheelmirror serve --upstream``, fault on the upstream page, nothing cached yet).
Each cell is the observed outcome and the time it took. The assertions behind these
outcomes are in tests/e2e/test_faults_client.py and tests/e2e/test_faults_router.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devtools.cleanenv import clean_env
from devtools.fault_mirror import mirror_docs
from devtools.fault_mirror import publish
from devtools.faulty_server import CASES
from devtools.faulty_server import FaultyServer
from devtools.faulty_server import apply_case
from devtools.faulty_server import serve_faulty
from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.mirror_client import MirrorReader

WHEELMIRROR = Path(sys.executable).with_name("wheelmirror")
_URL = re.compile(r"(file|https?)://\S+")


def short(message: str) -> str:
    text = _URL.sub("URL", message).replace("|", "/")
    text = re.sub(r"[0-9a-f]{64}", "…", text)
    return text if len(text) <= 70 else text[:67] + "…"


def timed(action: Callable[[], str]) -> str:
    start = time.monotonic()
    try:
        outcome = action()
    except Exception as e:
        outcome = f"{type(e).__name__}: {short(str(e))}"
    return f"{outcome} ({time.monotonic() - start:.1f} s)"


def client(cache: Path | None) -> CachedClient:
    return CachedClient(cache, timeout=(0.5, 0.5), deadline=4.0, retries=1, warn=lambda _: None)


def column_get(main: FaultyServer, other: FaultyServer, case_index: int) -> str:
    item = CASES[case_index]
    body = mirror_docs().files["manifest.json"]
    url = apply_case(main, f"/get/{item.id}", body, item, other)

    def run() -> str:
        got = client(None).get(url).body
        return "body returned" if got == body else "other bytes returned (no hash at this layer)"

    return timed(run)


def column_download(main: FaultyServer, other: FaultyServer, case_index: int) -> str:
    item = CASES[case_index]
    docs = mirror_docs()
    wheel = docs.files[docs.wheel_path]
    url = apply_case(main, f"/dl/{item.id}", wheel, item, other)
    folder = Path(tempfile.mkdtemp())

    def run() -> str:
        try:
            client(None).download(
                url, folder / "w.whl", sha256=docs.wheel_sha256, max_bytes=len(wheel)
            )
            return "verified file"
        finally:
            left = [p.name for p in folder.iterdir() if p.name != "w.whl"]
            if left:
                raise AssertionError(f"partial files left: {left}")

    return timed(run)


def column_reader(document: str) -> Callable[[FaultyServer, FaultyServer, int], str]:
    def column(main: FaultyServer, other: FaultyServer, case_index: int) -> str:
        item = CASES[case_index]
        docs = mirror_docs()
        prefix = f"/r{document.count('/')}/{item.id}/"
        base = publish(main, docs, prefix)
        apply_case(main, prefix + document, docs.files[document], item, other)

        def run() -> str:
            doc = MirrorReader(base, client(Path(tempfile.mkdtemp()))).package("demo")
            assert doc is not None
            return "verified document"

        return timed(run)

    return column


def column_cli(main: FaultyServer, other: FaultyServer, case_index: int) -> str:
    item = CASES[case_index]
    docs = mirror_docs()
    prefix = f"/cli/{item.id}/"
    base = publish(main, docs, prefix)
    apply_case(main, prefix + "manifest.json", docs.files["manifest.json"], item, other)

    def run() -> str:
        proc = subprocess.run(
            [str(WHEELMIRROR), "select", "demo==1.0", "--mirror", base, "--timeout", "1"],
            capture_output=True,
            text=True,
            env=clean_env(WHEELMIRROR_CACHE_DIR=tempfile.mkdtemp()),
            timeout=300,
            check=False,
        )
        if "Traceback" in proc.stderr:
            return "TRACEBACK"
        if proc.returncode == 0:
            return "exit 0, wheel selected"
        lines = proc.stderr.strip().splitlines()
        last = lines[-1].replace("wheelmirror: error: ", "") if lines else ""
        return f"exit {proc.returncode} ({len(lines)} line): {short(last)}"

    return timed(run)


def column_router(cases: list[int]) -> dict[int, str]:
    """All cases at once against one real router (one project per case)."""
    import json
    import urllib.error
    import urllib.request

    from devtools.router_process import project
    from devtools.router_process import start_router
    from devtools.router_process import stop
    from devtools.router_process import upstream_page

    work = Path(tempfile.mkdtemp())
    mirror = work / "mirror"
    names = tuple(project(CASES[i].id) for i in cases)
    for relative, data in mirror_docs(names=names).files.items():
        (mirror / relative).parent.mkdir(parents=True, exist_ok=True)
        (mirror / relative).write_bytes(data)
    results: dict[int, str] = {}
    with serve_faulty() as upstream, serve_faulty("127.0.0.2") as other:
        url, proc = start_router(mirror, upstream, work / "cache", ttl=300.0)
        try:
            for i in cases:
                name = project(CASES[i].id)
                apply_case(upstream, f"/simple/{name}/", upstream_page(name), CASES[i], other)

            def ask(i: int) -> str:
                name = project(CASES[i].id)
                request = urllib.request.Request(
                    f"{url}simple/{name}/",
                    headers={"Accept": "application/vnd.pypi.simple.v1+json"},
                )
                start = time.monotonic()
                try:
                    with urllib.request.urlopen(request, timeout=120) as resp:
                        state = resp.headers.get("x-wheelmirror-upstream", "")
                        files = json.loads(resp.read())["files"]
                        outcome = f"200 upstream={state}, {len(files)} file(s)"
                except urllib.error.HTTPError as e:
                    outcome = f"{e.code} {short(e.read().decode(errors='replace').strip())}"
                    e.close()
                return f"{outcome} ({time.monotonic() - start:.1f} s)"

            with ThreadPoolExecutor(len(cases)) as pool:
                results = dict(zip(cases, pool.map(ask, cases)))
        finally:
            err = stop(proc)
            if "Traceback" in err:
                results = {i: "TRACEBACK in serve" for i in cases}
    return results


COLUMNS: list[tuple[str, Callable[[FaultyServer, FaultyServer, int], str]]] = [
    ("CachedClient.get", column_get),
    ("CachedClient.download", column_download),
    ("MirrorReader, fault on root", column_reader("manifest.json")),
    ("MirrorReader, fault on package doc", column_reader("packages/demo.json")),
    ("`wheelmirror select`, fault on root", column_cli),
]


def plugin_table(log: Path) -> int:
    """Render the outcomes tests/e2e/test_faults_plugin.py recorded in *log*
    (``WHEELMIRROR_FAULT_LOG``) as a table: faults x (Poetry version, faulted file)."""
    import json

    rows: dict[str, dict[str, str]] = {}
    columns: list[str] = []
    for line in log.read_text().splitlines():
        version, target, case_id, outcome = json.loads(line)
        column = f"Poetry {version}, fault on {target}"
        if column not in columns:
            columns.append(column)
        rows.setdefault(case_id, {})[column] = outcome
    print("| fault | " + " | ".join(columns) + " |")
    print("|" + "---|" * (len(columns) + 1))
    for item in CASES:
        if item.id in rows:
            cells = [rows[item.id].get(c, "not run") for c in columns]
            print(f"| `{item.id}` | " + " | ".join(cells) + " |")
    return 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--plugin-log":
        return plugin_table(Path(sys.argv[2]))
    indexes = list(range(len(CASES)))
    table: dict[int, list[str]] = {i: [] for i in indexes}
    with serve_faulty() as main_server, serve_faulty("127.0.0.2") as other:
        for _, column in COLUMNS:
            # Cases run in parallel within a column (each on its own path): the slowest
            # fault bounds a column, not the sum of them.
            with ThreadPoolExecutor(6) as pool:
                cells = list(pool.map(lambda i, c=column: c(main_server, other, i), indexes))
            for i, cell in zip(indexes, cells):
                table[i].append(cell)
    router = column_router(indexes)
    headers = ["fault", *(name for name, _ in COLUMNS), "routing index, fault on upstream"]
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for i in indexes:
        row = [f"`{CASES[i].id}`: {CASES[i].description}", *table[i], router[i]]
        print("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
