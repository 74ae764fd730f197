"""Import cost of the Poetry plugin inside Poetry's own venv (target: well under 100 ms).

    .venv/bin/python -m bench.bench_import [--poetry 2.5.1] [--runs 7]

Poetry imports ``poetry_wheelmirror.plugin.plugin`` on every run, so it must import
no mirror-side code and next to nothing else. Runs
``python -X importtime -c "import poetry_wheelmirror.plugin.plugin"`` in the venv of a
Poetry with the plugin added (devtools/poetry_env.py), twice per run:

* cold: the module alone, so Poetry's own ``poetry.plugins`` import is counted too;
* in Poetry: after ``poetry.plugins.application_plugin`` and cleo are imported, as
  they are when Poetry loads plugins: what the plugin itself adds.

Also reports ``plugin.listener`` (with ``hook`` and ``poetry_internals``: imported only
by install/add/update/sync, after Poetry's installer modules are loaded) and fails
if any ``poetry_wheelmirror.mirror`` module, or the plugin's commands, are imported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools.cleanenv import clean_env
from devtools.passthrough import serve_passthrough
from devtools.poetry_env import build_plugin_wheel
from devtools.poetry_env import ensure_plugin_poetry

PRELOAD = "import poetry.plugins.application_plugin, cleo.events.console_events; "
#: What an install command has imported by the time the plugin's listener runs.
INSTALLING = (
    "import poetry.console.application, poetry.installation.installer,"
    " poetry.installation.executor, poetry.utils.env; "
)
FORBIDDEN = (
    "poetry_wheelmirror.mirror",
    "poetry_wheelmirror.plugin.commands",
    "poetry_wheelmirror.plugin.command_bodies",
)


def importtime(python: Path, code: str) -> dict[str, tuple[int, int]]:
    """module -> (self us, cumulative us) from ``-X importtime`` for the last import."""
    result = subprocess.run(
        [str(python), "-X", "importtime", "-c", code],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    times: dict[str, tuple[int, int]] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line[len("import time:") :].split("|")
        times[fields[2].strip()] = (int(fields[0]), int(fields[1]))
    return times


def ours(times: dict[str, tuple[int, int]]) -> int:
    """Self time of every poetry_wheelmirror module imported, in microseconds."""
    return sum(t[0] for name, t in times.items() if name.startswith("poetry_wheelmirror"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--poetry", default="2.5.1")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, serve_passthrough() as idx:
        wheel = build_plugin_wheel(Path(tmp))
        install = ensure_plugin_poetry(args.poetry, wheel, idx.url)
    python = install.python
    plugin = "poetry_wheelmirror.plugin.plugin"
    internals = "poetry_wheelmirror.plugin.listener"
    cold, warm, ours_warm, hook = [], [], [], []
    imported: set[str] = set()
    for _ in range(args.runs):
        t = importtime(python, f"import {plugin}")
        cold.append(t[plugin][1])
        imported |= set(t)
        t = importtime(python, PRELOAD + f"import {plugin}")
        warm.append(t[plugin][1])
        ours_warm.append(ours(t))
        t = importtime(python, INSTALLING + f"import {plugin}; import {internals}")
        hook.append(t[internals][1])
        imported |= set(t)
    bad = sorted(name for name in imported if name.startswith(FORBIDDEN))

    def ms(values: list[int]) -> str:
        return f"{statistics.median(values) / 1000:7.1f} ms"

    print(f"Plugin import time in Poetry {args.poetry}'s venv (median of {args.runs})")
    print(f"  {plugin}, cold (incl. poetry.plugins) {ms(cold)}")
    print(f"  {plugin}, inside Poetry               {ms(warm)}")
    print(f"    of which poetry_wheelmirror modules {ms(ours_warm)}")
    print(f"  {internals} (install commands only, after Poetry's installer) {ms(hook)}")
    ours_modules = sorted(n for n in imported if n.startswith("poetry_wheelmirror"))
    print(f"  poetry_wheelmirror modules imported: {', '.join(ours_modules)}")
    if bad:
        print(f"FAIL: the plugin imports {', '.join(bad)}")
        return 1
    ok = statistics.median(warm) < 100_000
    print(f"target < 100 ms inside Poetry: {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
