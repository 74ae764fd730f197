"""Planning a lock of ~300 packages for four targets, cold and warm HTTP cache.

    .venv/bin/python -m bench.bench_lockplan [LOCK ...]

Without arguments a throwaway project with popular data/web dependencies (pandas,
scikit-learn, jupyterlab, django, boto3, ...) is locked by ``uv lock`` (uv.lock) and
``uv pip compile --generate-hashes --universal`` (a hashed requirements file); a
poetry.lock with the same pins and files is written from the uv.lock (lock-version
2.1, no markers: every pin counts). Each lock is planned for linux-x86_64/3.11,
linux-aarch64/3.11, macos-arm64/3.12 and macos-x86_64/3.12: once on an empty cache
(every PyPI page it needs is fetched) and once warm (the same cache within its
max-age: no request). "in-process" is reading the lock plus planning; "CLI" is the
wall time of ``wheelmirror plan --lock`` (interpreter start-up included).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomllib

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.locks.read import read_lock_file
from poetry_wheelmirror.mirror.lockpages import VersionFiles
from poetry_wheelmirror.mirror.lockplan import plan_lock
from poetry_wheelmirror.mirror.pypi import PypiClient
from poetry_wheelmirror.targets import parse_targets

BIN = Path(sys.executable).parent
TARGETS = ("linux-x86_64/3.11", "linux-aarch64/3.11", "macos-arm64/3.12", "macos-x86_64/3.12")
DEPENDENCIES = (
    "jupyterlab", "pandas", "scikit-learn", "matplotlib", "seaborn", "scipy", "statsmodels",
    "django", "fastapi", "uvicorn[standard]", "flask", "sqlalchemy", "alembic", "psycopg2",
    "boto3", "google-cloud-storage", "azure-storage-blob", "requests", "httpx", "aiohttp",
    "celery[redis]", "pydantic", "pytest", "hypothesis", "black", "mypy", "ruff", "sphinx",
    "mkdocs-material", "pyarrow", "polars", "duckdb", "dask[complete]", "xgboost", "lightgbm",
    "nltk", "transformers", "openpyxl", "lxml", "pillow", "opencv-python-headless",
    "paramiko", "cryptography", "pyyaml", "rich", "typer", "click", "tqdm", "tenacity",
    "kafka-python", "pymongo", "redis", "elasticsearch", "grpcio", "protobuf",
    "markupsafe==2.0.1", "crcmod==1.7", "streamlit", "dash", "bokeh", "sentry-sdk",
    "gunicorn", "flake8", "pre-commit", "tox",
)  # fmt: skip


def _poetry_lock_from(uv_lock: Path) -> str:
    out = []
    for package in tomllib.loads(uv_lock.read_text())["package"]:
        if "registry" not in package.get("source", {}):
            continue
        files = [package["sdist"]] if "sdist" in package else []
        files += package.get("wheels", [])
        rows = ",\n".join(
            f'    {{file = "{f["url"].rsplit("/", 1)[-1]}", hash = "{f["hash"]}"}}' for f in files
        )
        out.append(
            f'[[package]]\nname = "{package["name"]}"\nversion = "{package["version"]}"\n'
            f'description = ""\noptional = false\npython-versions = "*"\ngroups = ["main"]\n'
            f"files = [\n{rows}\n]\n"
        )
    out.append('[metadata]\nlock-version = "2.1"\npython-versions = ">=3.11,<3.13"\n')
    out.append('content-hash = "bench"\n')
    return "\n".join(out)


def make_locks(folder: Path) -> list[Path]:
    deps = ", ".join(f'"{d}"' for d in DEPENDENCIES)
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0"\nrequires-python = ">=3.11,<3.13"\n'
        f"dependencies = [{deps}]\n\n[tool.uv]\npackage = false\n"
    )
    uv = str(BIN / "uv")
    subprocess.run([uv, "lock", "-q"], cwd=folder, check=True)
    subprocess.run(
        [uv, "pip", "compile", "-q", "--generate-hashes", "--universal", "pyproject.toml",
         "-o", "requirements.txt"],
        cwd=folder,
        check=True,
    )  # fmt: skip
    (folder / "poetry").mkdir()
    (folder / "poetry" / "poetry.lock").write_text(_poetry_lock_from(folder / "uv.lock"))
    return [folder / "poetry" / "poetry.lock", folder / "uv.lock", folder / "requirements.txt"]


def in_process(lock_path: Path, cache: Path) -> tuple[float, int, int]:
    started = time.perf_counter()
    lock = read_lock_file(lock_path)
    files = VersionFiles(PypiClient(CachedClient(cache))).files
    plan = plan_lock(lock, parse_targets(TARGETS), upstream=files, mirror=lambda name: None)
    seconds = time.perf_counter() - started
    builds = sum(len(tp.by_answer("build")) for tp in plan.targets)
    return seconds, len(lock.dists), builds


def cli(lock_path: Path, cache: Path) -> float:
    targets = [a for t in TARGETS for a in ("--target", t)]
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "wheelmirror"), "plan", "--lock", str(lock_path), *targets,
         "--cache-dir", str(cache), "--json", "-"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-lockplan-") as tmp:
        work = Path(tmp)
        locks = [Path(a) for a in sys.argv[1:]] or make_locks(work)
        print(f"targets: {', '.join(TARGETS)}")
        for lock_path in locks:
            cache = work / f"cache-{lock_path.name}"
            cold, pins, builds = in_process(lock_path, cache)
            warm, _, _ = in_process(lock_path, cache)
            warm_cli = cli(lock_path, cache)
            print(
                f"{lock_path.name}: {pins} pins, {builds} (pin, target) builds from source; "
                f"cold {cold:.2f} s, warm {warm:.2f} s in-process, warm CLI {warm_cli:.2f} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
