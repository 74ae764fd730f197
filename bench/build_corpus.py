"""Build the corpus in bench/build_corpus.toml and print the table in docs/benchmarks.md.

Two columns side by side, each a separate run on the same machine:

- ``wheelmirror``: one ``wheelmirror build PIN ... --mirror DIR --recipes recipes
  --install-system-packages --report FILE`` over the whole corpus (shipped recipes,
  automatic fixes, repair, import check of every extension module);
- ``pip``: plain ``pip wheel --no-deps --no-binary NAME NAME==VERSION`` per release, in a
  clean environment (no machine pip.conf). ``--no-binary NAME`` rather than ``:all:``:
  ``:all:`` would also compile the build tools (Cython, setuptools) from source, which
  says nothing about the package itself and takes many minutes per release.

    .venv/bin/python -m bench.build_corpus --verify            # no wheel for cp311 on PyPI?
    .venv/bin/python -m bench.build_corpus --pip --out DIR      # baseline only
    .venv/bin/python -m bench.build_corpus --wheelmirror --out DIR
    .venv/bin/python -m bench.build_corpus --table --out DIR    # the markdown table

Results go to DIR/pip.json and DIR/wheelmirror.json; ``--table`` joins them.
``--rerun-failed`` builds the pins that failed again (after fixes were added), into
DIR/wheelmirror-rerun.json; the table then shows those rows marked "(re-run)".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.cleanenv import clean_env
from poetry_wheelmirror.tomlfile import parse_toml

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "bench" / "build_corpus.toml"

_PIP_TIMEOUT = 1800


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    kind: str

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def load_corpus(path: Path = CORPUS) -> list[Release]:
    doc = parse_toml(path.read_text(), str(path))
    return [Release(r["name"], r["version"], r["kind"]) for r in doc["release"]]


def verify(releases: list[Release]) -> int:
    """Each release has an sdist and no wheel this interpreter (on this host) would use."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename
    from packaging.version import Version

    from poetry_wheelmirror.client import CachedClient
    from poetry_wheelmirror.client import default_cache_dir
    from poetry_wheelmirror.mirror.pypi import PypiClient

    tags = set(sys_tags())
    pypi = PypiClient(CachedClient(cache_dir=default_cache_dir()))
    bad = 0
    for r in releases:
        project = pypi.project(r.name, revalidate=True)
        problem = ""
        if project is None:
            problem = "not on PyPI"
        elif project.sdist_for(r.version) is None:
            problem = "no sdist"
        else:
            usable = [
                f.filename
                for f in project.files
                if f.is_wheel
                and f.version() == Version(r.version)
                and tags & set(parse_wheel_filename(f.filename)[3])
            ]
            problem = f"usable wheel {usable[0]}" if usable else ""
        bad += bool(problem)
        print(f"{r.pin:32} {problem or 'ok: sdist only for this interpreter'}")
    return 1 if bad else 0


def run_pip(releases: list[Release], out: Path) -> None:
    env = clean_env(PIP_CONFIG_FILE="/dev/null")
    results: list[dict[str, object]] = []
    logs = out / "pip-logs"
    logs.mkdir(parents=True, exist_ok=True)
    for r in releases:
        with tempfile.TemporaryDirectory(prefix="bench-pip-") as tmp:
            argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-binary", r.name]
            argv += ["--no-cache-dir", "-w", tmp, r.pin]
            started = time.monotonic()
            log = logs / f"{r.name}-{r.version}.log"
            with log.open("w") as fh:
                try:
                    code = subprocess.run(
                        argv,
                        env=env,
                        stdout=fh,
                        stderr=subprocess.STDOUT,
                        timeout=_PIP_TIMEOUT,
                        check=False,
                    ).returncode
                except subprocess.TimeoutExpired:
                    code = -1
            seconds = time.monotonic() - started
            wheels = sorted(Path(tmp).glob("*.whl"))
            outcome = "built" if code == 0 and wheels else "failed"
            tag = wheels[0].name.rsplit("-", 1)[-1][: -len(".whl")] if wheels else ""
            checked = _check_pip_wheel(wheels[0], r.name, Path(tmp), log) if wheels else None
        row = {"pin": r.pin, "outcome": outcome, "seconds": round(seconds, 1), "tag": tag}
        if checked is not None:
            row["check"] = checked
        results.append(row)
        print(f"pip  {r.pin:32} {outcome:7} {seconds:7.1f} s {tag} {checked or ''}", flush=True)
        # Merge by pin: a run over some pins (--only) keeps the others' earlier rows.
        merged = _load(out / "pip.json") | {str(x["pin"]): x for x in results}
        rows = [merged[p.pin] for p in load_corpus() if p.pin in merged]
        (out / "pip.json").write_text(json.dumps(rows, indent=1))


def _check_pip_wheel(wheel: Path, name: str, work: Path, log: Path) -> str:
    """What pip's wheel is worth, by the builder's own import check: "imports" when every
    extension module imports in a fresh venv, else "no extension module" (a setup.py that
    fell back to pure Python) or "import fails"."""
    from poetry_wheelmirror.mirror.build.importcheck import import_check
    from poetry_wheelmirror.mirror.build.job import StepFailed
    from poetry_wheelmirror.mirror.build.job import StepLog
    from poetry_wheelmirror.mirror.build.job import uv_binary
    from poetry_wheelmirror.mirror.build.wheelfile import extension_modules

    if not extension_modules(wheel):
        return "no extension module"
    steps = StepLog(log, name, lambda _line: None)
    try:
        import_check(
            wheel,
            name=name,
            recipe_module=None,
            interpreter=Path(sys.executable),
            uv=uv_binary(),
            log=steps,
            env=clean_env(PIP_CONFIG_FILE="/dev/null"),
            work=work,
        )
    except StepFailed:
        return "import fails"
    return "imports"


def run_wheelmirror(
    releases: list[Release], out: Path, report: str = "wheelmirror.json", mirror: str = "mirror"
) -> int:
    """One ``wheelmirror build`` over *releases* into DIR/*mirror*; its exit status."""
    env = clean_env(PIP_CONFIG_FILE="/dev/null")
    argv = [sys.executable, "-m", "poetry_wheelmirror.cli.main", "build"]
    argv += [r.pin for r in releases]
    argv += ["--mirror", str(out / mirror), "--recipes", str(REPO / "recipes")]
    argv += ["--install-system-packages", "--report", str(out / report)]
    argv += ["--cache-dir", str(out / "cache")]
    print("$ " + " ".join(argv[1:]), flush=True)
    return subprocess.run(argv, env=env, cwd=REPO, check=False).returncode


def _load(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    rows = data["outcomes"] if isinstance(data, dict) else data
    return {str(r["pin"]): r for r in rows}


def _fixes(row: dict[str, Any]) -> str:
    tried = [str(a).split("retry with: ", 1)[-1] for a in row.get("attempts") or []]
    return "; ".join(t for t in tried if not t.endswith(": built"))


def table(releases: list[Release], out: Path) -> str:
    """The markdown table: one row per release, wheelmirror and pip side by side. Rows
    of wheelmirror-rerun.json (failed pins re-run after new fixes) replace the first run's."""
    first, rerun = _load(out / "wheelmirror.json"), _load(out / "wheelmirror-rerun.json")
    pip = _load(out / "pip.json")
    lines = [
        "| release | kind | wheelmirror | class, or automatic fixes applied | s | wheel tag "
        "| pip wheel | s |",
        "|---|---|---|---|---:|---|---|---:|",
    ]
    built = {"wheelmirror": 0, "pip": 0}
    failures = []
    for r in releases:
        m, p = rerun.get(r.pin) or first.get(r.pin, {}), pip.get(r.pin, {})
        outcome = str(m.get("outcome", "-")) + (" (re-run)" if r.pin in rerun else "")
        if m.get("outcome") == "failed":
            cls = str(m.get("class")) + (" (not fixable)" if m.get("not_fixable") else "")
            failures.append(f"- {r.pin}: {m.get('class')}: {m.get('fix')}")
        else:
            cls = _fixes(m) or "-"
        built["wheelmirror"] += m.get("outcome") == "built"
        built["pip"] += p.get("outcome") == "built"
        pip_outcome = str(p.get("outcome", "-")) + (f" ({p['check']})" if p.get("check") else "")
        lines.append(
            f"| {r.pin} | {r.kind} | {outcome} | {cls} | {m.get('seconds', '-')} | "
            f"{m.get('wheel_tag') or '-'} | {pip_outcome} | {p.get('seconds', '-')} |"
        )
    n = len(releases)
    lines += [
        "",
        f"wheelmirror built and import-checked {built['wheelmirror']}/{n} "
        f"({100 * built['wheelmirror'] / n:.0f}%); plain pip wheel built {built['pip']}/{n} "
        f"({100 * built['pip'] / n:.0f}%; linux_x86_64 wheels, not repaired; where a row "
        "says so in brackets, the builder's import check was run on pip's wheel).",
        "",
        "Failures and their fixes:",
        "",
        *failures,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / ".cache" / "bench" / "corpus")
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--pip", action="store_true", help="run the pip wheel baseline")
    parser.add_argument("--wheelmirror", action="store_true", help="run wheelmirror build")
    parser.add_argument(
        "--rerun-failed",
        action="store_true",
        help="re-run the pins wheelmirror.json has as failed, into wheelmirror-rerun.json",
    )
    parser.add_argument("--table", action="store_true", help="print the markdown table")
    parser.add_argument("--only", nargs="*", default=None, metavar="NAME")
    args = parser.parse_args(argv)
    releases = load_corpus()
    if args.only:
        releases = [r for r in releases if r.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    if args.verify:
        return verify(releases)
    if args.pip:
        run_pip(releases, args.out)
    code = run_wheelmirror(releases, args.out) if args.wheelmirror else 0
    if args.rerun_failed:
        first = _load(args.out / "wheelmirror.json")
        failed = [r for r in releases if first.get(r.pin, {}).get("outcome") == "failed"]
        code = run_wheelmirror(
            failed, args.out, report="wheelmirror-rerun.json", mirror="mirror-rerun"
        )
    if args.table or not (args.pip or args.wheelmirror or args.rerun_failed):
        print(table(releases, args.out))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
