"""``wheelmirror build`` for real: PyPI sdists, uv build, auditwheel, pip from a static host.

One session fixture builds MarkupSafe 2.0.1 and crcmod 1.7 (neither has a wheel for
CPython 3.11+ on PyPI) for this interpreter; the tests read and reuse that mirror.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import REPO
from devtools.cli import run_source_cli
from devtools.static_server import serve_static

pytestmark = pytest.mark.e2e

CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"
PINS = ["markupsafe==2.0.1", "crcmod==1.7"]


def _env() -> dict[str, str]:
    # No machine-wide pip.conf (find-links, extra indexes) in pip/uv subprocesses.
    return clean_env(PIP_CONFIG_FILE=os.devnull)


def wheelmirror(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return run_source_cli(*args, cache=cache, timeout=900)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@dataclass
class Built:
    mirror: Path
    cache: Path
    first: subprocess.CompletedProcess[str]
    snapshot: dict[str, tuple[bytes, int]]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("build")
    mirror, cache = base / "mirror", base / "cache"
    first = wheelmirror("build", *PINS, "--mirror", str(mirror), cache=cache)
    assert first.returncode == 0, first.stderr
    return Built(mirror, cache, first, snapshot(mirror))


def test_builds_manylinux_wheels_for_this_interpreter(built: Built) -> None:
    for name in ("markupsafe", "crcmod"):
        wheels = sorted((built.mirror / "files" / name).glob("*.whl"))
        assert len(wheels) == 1, wheels
        tags = wheels[0].name[: -len(".whl")].split("-")[-3:]
        assert tags[:2] == [CP, CP]
        platforms = tags[2].split(".")
        assert all(p.startswith("manylinux") for p in platforms), platforms
        assert (wheels[0].parent / (wheels[0].name + ".metadata")).is_file()
    assert "[markupsafe 2.0.1 " in built.first.stderr  # progress on stderr
    row = next(ln for ln in built.first.stdout.splitlines() if ln.startswith("markupsafe==2.0.1"))
    assert row.split()[1:3] == [f"{sys.version_info[0]}.{sys.version_info[1]}", "built"]
    assert f"{CP}-{CP}-manylinux" in row


def test_manifest_records_the_sdist_and_passes_check(built: Built) -> None:
    doc = json.loads((built.mirror / "packages" / "markupsafe.json").read_text())
    source = doc["versions"]["2.0.1"]["source"]
    assert source["filename"] == "MarkupSafe-2.0.1.tar.gz"
    assert source["sha256"] == "594c67807fb16238b30c44bdf74f36c02cdf22d1c8cda91ef8a0ed8dabf5620a"
    assert source["url"].startswith("https://files.pythonhosted.org/")
    wheel = doc["versions"]["2.0.1"]["wheels"][0]
    assert wheel["build"]["python"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}.")
    check = wheelmirror("manifest", "check", str(built.mirror), "--files", cache=built.cache)
    assert check.returncode == 0, check.stderr
    assert "2 package(s), 2 version(s), 2 wheel(s)" in check.stdout


def test_pip_installs_from_the_served_index_without_building(built: Built, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    with serve_static(built.mirror) as url:
        result = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--index-url",
                f"{url}simple/",
                "--no-deps",
                "--only-binary",
                ":all:",
                "markupsafe==2.0.1",
            ],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{url}files/markupsafe/markupsafe-2.0.1-{CP}-" in result.stdout
    speedups = subprocess.run(
        [str(python), "-c", "import markupsafe._speedups, markupsafe; print(markupsafe.__file__)"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert speedups.returncode == 0, speedups.stderr
    assert str(venv) in speedups.stdout


def test_index_page_also_lists_pypi_files(built: Built) -> None:
    page = json.loads((built.mirror / "simple" / "markupsafe" / "index.json").read_text())
    names = [f["filename"] for f in page["files"]]
    assert names[0].startswith("markupsafe-2.0.1-")
    assert "MarkupSafe-2.0.1.tar.gz" in names
    assert "MarkupSafe-2.0.1-cp39-cp39-manylinux2010_x86_64.whl" in names
    pypi = next(f for f in page["files"] if f["filename"] == "MarkupSafe-2.0.1.tar.gz")
    assert pypi["url"].startswith("https://files.pythonhosted.org/")
    assert pypi["size"] > 0


def test_second_run_changes_no_byte(built: Built) -> None:
    again = wheelmirror("build", *PINS, "--mirror", str(built.mirror), cache=built.cache)
    assert again.returncode == 0, again.stderr
    assert "nothing new" in again.stdout
    assert again.stdout.count("already in the mirror") == 2
    assert snapshot(built.mirror) == built.snapshot


def test_index_regeneration_is_offline_and_deterministic(built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "mirror"
    shutil.copytree(built.mirror, copy)
    shutil.rmtree(copy / "simple")
    result = wheelmirror(
        "index", "--mirror", str(copy), "--offline", cache=tmp_path / "empty-cache"
    )
    assert result.returncode == 0, result.stderr
    for page in sorted((built.mirror / "simple").rglob("*")):
        if page.is_file():
            assert (copy / page.relative_to(built.mirror)).read_bytes() == page.read_bytes()


def test_failed_build_leaves_the_mirror_untouched(built: Built, tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "markupsafe.toml").write_text(
        'name = "markupsafe"\nversions = ["2.0.1"]\n'
        '[build]\nbefore-build = ["echo recipe-step-broke-here; exit 3"]\n'
    )
    result = wheelmirror(
        "build",
        "markupsafe==2.0.1",
        "--rebuild",
        "--mirror",
        str(built.mirror),
        "--recipes",
        str(recipes),
        cache=built.cache,
    )
    assert result.returncode == 7, result.stderr
    # One classified line: class, the decisive log line as evidence, and the fix.
    line = next(ln for ln in result.stderr.splitlines() if "markupsafe==2.0.1 failed:" in ln)
    assert "unclassified: 'recipe-step-broke-here'" in line
    assert "before-build failure" in line
    log = result.stderr.split("full log: ")[1].split()[0]
    assert "recipe-step-broke-here" in Path(log).read_text()
    assert snapshot(built.mirror) == built.snapshot


def test_rebuild_is_reproducible_and_never_overwrites(built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "mirror"
    shutil.copytree(built.mirror, copy)
    before = snapshot(copy)
    result = wheelmirror(
        "build", "crcmod==1.7", "--rebuild", "--mirror", str(copy), cache=built.cache
    )
    assert result.returncode == 0, result.stderr
    after = snapshot(copy)
    for path, (data, _mtime) in before.items():
        assert after[path][0] == data, path  # no published byte changed
    # SOURCE_DATE_EPOCH and a fixed source path make the rebuild byte-identical.
    assert "nothing new" in result.stdout


def test_plan_counts_the_mirror_wheel(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "matrix.json"
    result = wheelmirror(
        "plan",
        "--recipes",
        str(REPO / "recipes"),
        "--package",
        "markupsafe",
        "--mirror",
        str(built.mirror),
        "--json",
        str(out),
        cache=built.cache,
    )
    assert result.returncode == 0, result.stderr
    builds = {job["build"] for job in json.loads(out.read_text())["include"]}
    if CP == "cp311":
        assert "cp311-manylinux_x86_64" not in builds
    assert "cp312-manylinux_x86_64" in builds
    assert "cp311-macosx_arm64" in builds
    assert "PACKAGE" in result.stdout


def test_python_option_builds_for_another_interpreter(built: Built, tmp_path: Path) -> None:
    from poetry_wheelmirror.errors import ConfigError
    from poetry_wheelmirror.mirror.build import find_interpreter

    other = "3.12" if CP != "cp312" else "3.11"
    try:
        interp = find_interpreter(other)
    except ConfigError:
        pytest.skip(f"no CPython {other} on this machine")
    copy = tmp_path / "mirror"
    shutil.copytree(built.mirror, copy)
    result = wheelmirror(
        "build",
        "crcmod==1.7",
        "--python",
        str(interp.executable),
        "--mirror",
        str(copy),
        cache=built.cache,
    )
    assert result.returncode == 0, result.stderr
    wheels = sorted(p.name for p in (copy / "files" / "crcmod").glob("*.whl"))
    assert len(wheels) == 2
    assert any(f"-{interp.cp}-{interp.cp}-manylinux" in w for w in wheels)
    check = wheelmirror("manifest", "check", str(copy), "--files", cache=built.cache)
    assert check.returncode == 0, check.stderr
