"""Run the fuzz tests and print how many examples each property tried (markdown table).

    .venv/bin/python -m bench.fuzz_counts                              # wm-default: 300 each
    WHEELMIRROR_FUZZ_PROFILE=ci-long .venv/bin/python -m bench.fuzz_counts   # 5,000 each
    WHEELMIRROR_FUZZ_PROFILE=fuzz .venv/bin/python -m bench.fuzz_counts      # 50,000 each

The counts come from hypothesis' own ``--hypothesis-show-statistics`` report: the
examples run in every phase (explicit, reuse, generate, shrink), split into passing
and invalid (rejected by ``assume`` or a filter). Exits non-zero when a test fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

MODULES = [
    "tests/property/test_fuzz_manifest.py",
    "tests/property/test_fuzz_names_tags.py",
    "tests/property/test_fuzz_recipes.py",
    "tests/property/test_fuzz_index.py",
    "tests/property/test_fuzz_config_writers.py",
    "tests/property/test_hostile_documents.py",
    "tests/property/test_hostile_router.py",
]
_TEST = re.compile(r"^(tests/\S+::\S+):$")
_COUNTS = re.compile(r"- (\d+) passing, (\d+) failing, and (\d+) invalid")


def main() -> int:
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *MODULES,
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
        ],
        capture_output=True,
        text=True,
        cwd=repo,
        check=False,
    )
    counts: dict[str, list[int]] = {}
    current = None
    for line in proc.stdout.splitlines():
        match = _TEST.match(line.strip())
        if match:
            current = match.group(1)
            counts[current] = [0, 0, 0]
            continue
        match = _COUNTS.search(line)
        if match and current is not None:
            for index, value in enumerate(match.groups()):
                counts[current][index] += int(value)
    profile = os.environ.get("WHEELMIRROR_FUZZ_PROFILE", "wm-default")
    print(f"Profile `{profile}`:\n")
    print("| property | passing | failing | invalid |")
    print("|---|---:|---:|---:|")
    total = [0, 0, 0]
    for name, (passing, failing, invalid) in counts.items():
        print(f"| `{name.split('/', 2)[-1]}` | {passing} | {failing} | {invalid} |")
        total = [total[0] + passing, total[1] + failing, total[2] + invalid]
    print(f"| **total ({len(counts)} properties)** | {total[0]} | {total[1]} | {total[2]} |")
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    print(f"\npytest: {summary}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
