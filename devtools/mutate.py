"""Mutation check: break one critical behaviour at a time and run the tests that must
catch it (``make mutate``, or ``python -m devtools.mutate [--only ID ...] [--list]``).

Each mutation (devtools/mutations.py) edits one source file in place; the original
bytes are restored in ``finally`` and, against a hard kill, also saved under
``.mutate-backup/`` first, which the next run restores before anything else. Do not
run tests in the same checkout while it runs: they would see the mutated source.

Before mutating, every selected test must pass on the unmodified tree (else "caught"
would mean nothing). A mutation is CAUGHT when its tests fail, SURVIVED when they pass.
Exit status: 0 when every mutation was caught, 1 otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from devtools.mutations import MUTATIONS
from devtools.mutations import Mutation

REPO = Path(__file__).resolve().parents[1]
BACKUP = REPO / ".mutate-backup"


def _pytest(tests: tuple[str, ...]) -> tuple[int, str]:
    """Run *tests* (slow ones included: they are named explicitly); returncode, tail."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "", "-p", "no:cacheprovider",
           "-p", "no:randomly", *tests]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    return done.returncode, lines[-1] if lines else ""


def restore_leftovers() -> list[str]:
    """Put back files a killed run left mutated (from .mutate-backup/)."""
    restored = []
    if BACKUP.is_dir():
        for saved in sorted(p for p in BACKUP.rglob("*") if p.is_file()):
            relative = saved.relative_to(BACKUP)
            shutil.copy2(saved, REPO / relative)
            restored.append(str(relative))
        shutil.rmtree(BACKUP)
    return restored


def _apply(mutation: Mutation) -> bytes:
    """Write the mutated source; returns the original bytes. ValueError when *old* does
    not occur exactly once (the list is stale)."""
    path = REPO / mutation.path
    original = path.read_bytes()
    text = original.decode()
    count = text.count(mutation.old)
    if count != 1:
        msg = f"{mutation.id}: the text to replace occurs {count} times in {mutation.path}"
        raise ValueError(msg)
    saved = BACKUP / mutation.path
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(original)
    path.write_text(text.replace(mutation.old, mutation.new))
    return original


def run_one(mutation: Mutation) -> tuple[str, str, float]:
    """CAUGHT / SURVIVED / ERROR for one mutation, with pytest's last line and seconds."""
    start = time.monotonic()
    path = REPO / mutation.path
    try:
        original = _apply(mutation)
    except ValueError as e:
        return "ERROR", str(e), 0.0
    try:
        code, tail = _pytest(mutation.tests)
    finally:
        path.write_bytes(original)
        shutil.rmtree(BACKUP, ignore_errors=True)
    took = time.monotonic() - start
    if code == 1:
        return "CAUGHT", tail, took
    if code == 0:
        return "SURVIVED", tail, took
    return "ERROR", f"pytest exited {code}: {tail}", took


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so the finally blocks restore the source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.mutate", description=__doc__)
    parser.add_argument("--only", nargs="+", metavar="ID", help="run these mutations only")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.id in args.only]
    if args.list or not chosen:
        for m in MUTATIONS:
            print(f"{m.id:28} {m.path}: {m.behaviour}")
        return 0 if args.list else 2
    signal.signal(signal.SIGTERM, _interrupt)
    for relative in restore_leftovers():
        print(f"restored {relative} from an interrupted run")
    tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
    code, tail = _pytest(tests)
    if code != 0:
        print(f"baseline: the selected tests fail on the unmodified tree ({tail})")
        return 1
    print(f"baseline: {len(tests)} test selection(s) pass on the unmodified tree ({tail})")
    counts = {"CAUGHT": 0, "SURVIVED": 0, "ERROR": 0}
    total = time.monotonic()
    for m in chosen:
        verdict, tail, took = run_one(m)
        counts[verdict] += 1
        print(f"{verdict:8} {m.id:28} {took:5.0f} s  {m.behaviour}", flush=True)
        if verdict != "CAUGHT":
            print(f"         {tail}")
    print(
        f"{counts['CAUGHT']} caught, {counts['SURVIVED']} survived, {counts['ERROR']} error(s)"
        f" of {len(chosen)} mutation(s) in {time.monotonic() - total:.0f} s"
    )
    return 0 if counts["CAUGHT"] == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
