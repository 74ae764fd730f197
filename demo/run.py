"""The whole product on this machine in one command (`make demo`).

1. build a local mirror from real PyPI sdists that have no wheel for this interpreter
   (MarkupSafe 2.0.1, crcmod 1.7) with `wheelmirror build`;
2. serve it on loopback with `wheelmirror serve`;
3. install a real Poetry, with and without the plugin (added by `poetry self add`),
   and `poetry install` an example project both ways;
4. the same for pip (with the pip.conf `wheelmirror pip-config` writes) and uv (with
   the `[tool.uv]` `wheelmirror uv-config` writes);
5. print a table: time without and with the mirror, where each package came from,
   and whether poetry.lock changed.

Everything lives in ./demo-work. A second run reuses the mirror, the Poetry installs
and the without-mirror baselines of the first run (built from source; pass --remeasure
to build them again) and re-measures the mirrored installs.

This workplace cannot use PyPI's per-version JSON API, which Poetry locks against, so
the example project's source is a loopback pass-through of PyPI's simple pages; on a
normal machine the project needs no source at all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import venv
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from types import FrameType

from devtools.cleanenv import clean_env
from devtools.passthrough import serve_passthrough
from devtools.pipuv_mirror import pip_env
from devtools.poetry_env import build_plugin_wheel
from devtools.poetry_env import ensure_plain_poetry
from devtools.poetry_env import ensure_plugin_poetry
from devtools.poetry_env import project_env

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "demo-work"
BIN = Path(sys.executable).parent
WHEELMIRROR = BIN / "wheelmirror"
POETRY_VERSION = "2.5.1"
PINS = {"markupsafe": "2.0.1", "crcmod": "1.7", "six": "1.16.0"}
MIRRORED = ("markupsafe", "crcmod")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


@dataclass
class Outcome:
    """One install: how long it took and where each package came from."""

    seconds: float
    origins: dict[str, str] = field(default_factory=dict)
    measured: str = "now"


def run(cmd: list[str], *, env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        msg = f"{' '.join(map(str, cmd))} exited {result.returncode}:\n{tail}"
        raise SystemExit("demo failed: " + msg)
    return result.stdout


def timed(cmd: list[str], *, env: dict[str, str], cwd: Path | None = None) -> float:
    started = time.monotonic()
    run(cmd, env=env, cwd=cwd)
    return time.monotonic() - started


# -- where did each package come from? ---------------------------------------------------


def _mirror_payloads(mirror: Path) -> dict[str, set[str]]:
    """sha256 of every non-metadata file in each mirror wheel, per package."""
    payloads: dict[str, set[str]] = {}
    for wheel in (mirror / "files").glob("*/*.whl"):
        name = wheel.parent.name
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                if ".dist-info/" not in info.filename and not info.is_dir():
                    digest = hashlib.sha256(zf.read(info)).hexdigest()
                    payloads.setdefault(name, set()).add(digest)
    return payloads


def origins(site_packages: Path, mirror: Path) -> dict[str, str]:
    """For each demo package installed in *site_packages*: mirror wheel, PyPI wheel, or
    built from source (a locally built wheel carries a `linux_*` tag, which no mirror
    or PyPI wheel does)."""
    payloads = _mirror_payloads(mirror)
    found: dict[str, str] = {}
    for info in site_packages.glob("*.dist-info"):
        name = info.name.split("-")[0].lower().replace("_", "-")
        if name not in PINS:
            continue
        tags = [
            line.split(":", 1)[1].strip()
            for line in (info / "WHEEL").read_text().splitlines()
            if line.startswith("Tag:")
        ]
        if any(tag.split("-")[-1].startswith("linux_") for tag in tags):
            found[name] = "built from source"
            continue
        files = [
            line.split(",")[0]
            for line in (info / "RECORD").read_text().splitlines()
            if line and ".dist-info/" not in line.split(",")[0]
        ]
        installed = {
            hashlib.sha256((site_packages / f).read_bytes()).hexdigest()
            for f in files
            if (site_packages / f).is_file() and not f.endswith(".pyc")
        }
        found[name] = "mirror wheel" if installed & payloads.get(name, set()) else "PyPI wheel"
    return found


def site_packages(env_dir: Path) -> Path:
    (sp,) = env_dir.glob("lib/python3*/site-packages")
    return sp


# -- the three clients -------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "demo-app"
version = "0.1.0"
requires-python = ">=3.9,<4"
dependencies = [{deps}]
"""

POETRY_SOURCE = """
[tool.poetry]
package-mode = false

# Only because this workplace cannot reach PyPI's JSON API (see demo/run.py).
[[tool.poetry.source]]
name = "pypi-simple"
url = "{index}"
priority = "primary"
"""


def _deps() -> str:
    return ", ".join(f'"{n}=={v}"' for n, v in PINS.items())


def plugin_wheel() -> Path:
    """This checkout's wheel, rebuilt only when its sources changed."""
    digest = hashlib.sha256()
    for path in sorted(
        [
            REPO / "pyproject.toml",
            *REPO.glob("poetry_wheelmirror/**/*"),
        ]
    ):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    stamp = WORK / "dist" / "source-sha256"
    wheels = list((WORK / "dist").glob("poetry_wheelmirror-*.whl"))
    if len(wheels) == 1 and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return wheels[0]
    wheel = build_plugin_wheel(WORK / "dist")
    stamp.write_text(digest.hexdigest())
    return wheel


def poetry_demo(
    index_url: str, mirror_url: str, mirror: Path, baseline: dict[str, Outcome]
) -> tuple[Outcome, Outcome, bool]:
    work = WORK / "poetry"
    project = work / "project"
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(
        PYPROJECT.format(deps=_deps()) + POETRY_SOURCE.format(index=index_url)
    )
    say(f"installing Poetry {POETRY_VERSION} (plain, and with the plugin via `poetry self add`)")
    plain = ensure_plain_poetry(POETRY_VERSION, root=WORK / "poetry-installs")
    wheel = plugin_wheel()
    plugged = ensure_plugin_poetry(POETRY_VERSION, wheel, index_url, root=WORK / "poetry-installs")

    def install(poetry_install: object, label: str, **extra: str) -> Outcome:
        shutil.rmtree(project / ".venv", ignore_errors=True)
        shutil.rmtree(work / "poetry-cache", ignore_errors=True)  # a cold cache, like a new CI job
        env = project_env(work, **extra)
        started = time.monotonic()
        poetry_install.run("install", "--no-root", cwd=project, env=env)  # type: ignore[attr-defined]
        seconds = time.monotonic() - started
        outcome = Outcome(seconds, origins(site_packages(project / ".venv"), mirror))
        say(f"poetry install {label}: {seconds:.1f} s")
        return outcome

    lock = project / "poetry.lock"
    if lock.exists() and index_url.rstrip("/") not in lock.read_text():
        lock.unlink()  # the pass-through's port changed: lock again
    if not lock.exists():
        say("poetry lock (no plugin)")
        plain.run("lock", cwd=project, env=project_env(work))
    before = lock.read_bytes()
    without = baseline.get("poetry") or install(plain, "without the plugin (builds from source)")
    with_mirror = install(plugged, "with the plugin", POETRY_WHEELMIRROR_URL=mirror_url)
    return without, with_mirror, lock.read_bytes() == before


def pip_demo(
    mirror_url: str, mirror: Path, baseline: dict[str, Outcome]
) -> tuple[Outcome, Outcome]:
    work = WORK / "pip"

    def install(label: str, configure: bool) -> Outcome:
        env_dir = work / ("venv-mirror" if configure else "venv-plain")
        shutil.rmtree(env_dir, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(env_dir)
        # Only the config the demo writes counts, not this machine's own pip.conf files
        # (one of which may set extra-index-url, which pip-config would refuse to hide).
        env = pip_env(work, VIRTUAL_ENV=str(env_dir))
        if configure:
            run([str(WHEELMIRROR), "pip-config", "--mirror", mirror_url, "--venv"], env=env)
        pins = [f"{n}=={v}" for n, v in PINS.items()]
        seconds = timed([str(env_dir / "bin" / "pip"), "install", "--no-cache-dir", *pins], env=env)
        say(f"pip install {label}: {seconds:.1f} s")
        return Outcome(seconds, origins(site_packages(env_dir), mirror))

    without = baseline.get("pip") or install("without the mirror (builds from source)", False)
    return without, install("with `wheelmirror pip-config`", True)


def uv_demo(mirror_url: str, mirror: Path, baseline: dict[str, Outcome]) -> tuple[Outcome, Outcome]:
    work = WORK / "uv"
    uv = str(BIN / "uv")

    def install(label: str, configure: bool) -> Outcome:
        project = work / ("project-mirror" if configure else "project-plain")
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        (project / "pyproject.toml").write_text(
            PYPROJECT.format(deps=_deps()) + "\n[tool.uv]\npackage = false\n"
        )
        env = clean_env(
            UV_CACHE_DIR=str(work / f"cache-{project.name}"), UV_PYTHON_DOWNLOADS="never"
        )
        shutil.rmtree(env["UV_CACHE_DIR"], ignore_errors=True)
        if configure:
            run([str(WHEELMIRROR), "uv-config", "--mirror", mirror_url], env=env, cwd=project)
        seconds = timed([uv, "sync", "--python", sys.executable], env=env, cwd=project)
        say(f"uv sync {label}: {seconds:.1f} s")
        return Outcome(seconds, origins(site_packages(project / ".venv"), mirror))

    without = baseline.get("uv") or install("without the mirror (builds from source)", False)
    return without, install("with `wheelmirror uv-config`", True)


# -- orchestration -----------------------------------------------------------------------


@contextmanager
def serve(mirror: Path) -> Iterator[str]:
    """`wheelmirror serve --mirror DIR --port 0`, stopped on exit (Ctrl-C included)."""
    proc = subprocess.Popen(
        [str(WHEELMIRROR), "serve", "--mirror", str(mirror), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if " at " not in line:
            msg = f"demo failed: wheelmirror serve said {line!r}"
            raise SystemExit(msg)
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _load_baseline(remeasure: bool) -> dict[str, Outcome]:
    path = WORK / "baseline.json"
    if remeasure or not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {k: Outcome(v["seconds"], v["origins"], v["measured"]) for k, v in data.items()}


def _save_baseline(results: dict[str, tuple[Outcome, Outcome]]) -> None:
    data = {}
    for client, (without, _) in results.items():
        measured = (
            without.measured if without.measured != "now" else time.strftime("%Y-%m-%d %H:%M")
        )
        data[client] = {
            "seconds": without.seconds,
            "origins": without.origins,
            "measured": measured,
        }
    (WORK / "baseline.json").write_text(json.dumps(data, indent=2))


def table(results: dict[str, tuple[Outcome, Outcome]], lock_unchanged: bool) -> str:
    names = list(PINS)
    head = ["client", "without mirror", "with mirror", "speed-up", *names]
    rows = [head]
    for client, (without, with_mirror) in results.items():
        note = "" if without.measured == "now" else " *"
        rows.append(
            [
                client,
                f"{without.seconds:.1f} s{note}",
                f"{with_mirror.seconds:.1f} s",
                f"{without.seconds / with_mirror.seconds:.1f}x",
                *(
                    f"{without.origins.get(n, '?')} -> {with_mirror.origins.get(n, '?')}"
                    for n in names
                ),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"poetry.lock unchanged by the plugin: {'yes' if lock_unchanged else 'NO'}")
    if any(w.measured != "now" for w, _ in results.values()):
        when = next(w.measured for w, _ in results.values() if w.measured != "now")
        lines.append(f"* measured on the first run ({when}); `make demo REMEASURE=1` builds again")
    return "\n".join(lines)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--remeasure", action="store_true", help="re-measure the without-mirror installs"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    WORK.mkdir(exist_ok=True)
    mirror = WORK / "mirror"
    baseline = _load_baseline(args.remeasure or os.environ.get("REMEASURE") == "1")
    say("building the local mirror: wheelmirror build markupsafe==2.0.1 crcmod==1.7")
    build_env = clean_env(
        WHEELMIRROR_CACHE_DIR=str(WORK / "cache"), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"
    )
    print(
        run(
            [
                str(WHEELMIRROR),
                "build",
                *(f"{n}=={PINS[n]}" for n in MIRRORED),
                "--mirror",
                str(mirror),
            ],
            env=build_env,
        ),
        end="",
    )
    run([str(WHEELMIRROR), "manifest", "check", str(mirror)], env=build_env)
    port_file = WORK / "upstream-port"
    # The project's source URL is part of poetry.lock's content hash: keep the port.
    port = int(port_file.read_text()) if port_file.exists() else 0
    try:
        with serve_passthrough(port=port) as upstream, serve(mirror) as mirror_url:
            port_file.write_text(upstream.url.split(":")[2].split("/")[0])
            say(f"mirror served at {mirror_url}; PyPI pass-through at {upstream.url}")
            results: dict[str, tuple[Outcome, Outcome]] = {}
            poetry_without, poetry_with, unchanged = poetry_demo(
                upstream.url, mirror_url, mirror, baseline
            )
            results["poetry"] = (poetry_without, poetry_with)
            results["pip"] = pip_demo(mirror_url, mirror, baseline)
            results["uv"] = uv_demo(mirror_url, mirror, baseline)
    except KeyboardInterrupt:
        print("demo interrupted; servers stopped", file=sys.stderr)
        return 130
    _save_baseline(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    client: {
                        "without": {
                            "seconds": w.seconds,
                            "origins": w.origins,
                            "measured": w.measured,
                        },
                        "with": {"seconds": m.seconds, "origins": m.origins},
                    }
                    for client, (w, m) in results.items()
                }
                | {"lock_unchanged": unchanged},
                indent=2,
            )
        )
    print()
    print(table(results, unchanged))
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s (work folder: {WORK})")
    ok = unchanged and all(
        with_mirror.origins.get(n) == "mirror wheel"
        for _, with_mirror in results.values()
        for n in MIRRORED
    )
    if not ok:
        print("demo: some mirrored package did not arrive as the mirror's wheel", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
