"""``wheelmirror plan --lock`` as a user runs it, on the real lock files in
tests/fixtures/locks and PyPI's real file lists (PEP 691 pages)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from devtools.cli import run_wheelmirror

pytestmark = pytest.mark.e2e

LOCKS = Path(__file__).resolve().parents[1] / "fixtures" / "locks"
TARGET_ARGS = ("--target", "linux-x86_64/3.11", "--target", "macos-arm64/3.12")
BUILDS = {
    "linux-x86_64/3.11": ["crcmod", "markupsafe"],
    "macos-arm64/3.12": ["crcmod", "markupsafe", "msgpack"],
}
CRCMOD_SHA = "dc7051a0db5f2bd48665a990d3ec1cc305a466a77358ca4492826f41f283601e"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("http-cache")


def _proxy(path: Path) -> list[str]:
    """The loopback pass-through the Poetry fixtures were locked against stands for PyPI."""
    text = path.read_text()
    start = text.find("http://127.0.0.1:")
    if start < 0:
        return []
    url = text[start:].split()[0].strip('"')
    return ["--pypi-proxy", url]


def plan_json(lock: Path, cache: Path, *extra: str) -> dict:
    result = run_wheelmirror(
        "plan",
        "--lock",
        str(lock),
        *TARGET_ARGS,
        "--json",
        "-",
        "--cache-dir",
        str(cache),
        *_proxy(lock),
        *extra,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def builds(report: dict) -> dict[str, list[str]]:
    (lock,) = report["locks"]
    return {
        t["target"]: sorted(p["name"] for p in t["packages"] if p["answer"] == "build")
        for t in lock["targets"]
    }


@pytest.mark.parametrize(
    "path",
    ["uv.lock", "requirements-uv.txt", "poetry/poetry.lock", "poetry/requirements-export.txt"],
)
def test_plan_lists_what_builds_from_source_per_target(path: str, cache: Path) -> None:
    assert builds(plan_json(LOCKS / path, cache)) == BUILDS


def test_table_and_matrix(cache: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.json"
    result = run_wheelmirror(
        "plan",
        "--lock",
        str(LOCKS / "uv.lock"),
        *TARGET_ARGS,
        "--matrix",
        str(matrix),
        "--cache-dir",
        str(cache),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{LOCKS / 'uv.lock'}: macos-arm64/3.12") for line in lines)
    assert any("msgpack" in line and "builds from source" in line for line in lines)
    jobs = json.loads(matrix.read_text())["include"]
    assert sorted((j["package"], j["build"]) for j in jobs) == [
        ("crcmod", "cp311-manylinux_x86_64"),
        ("crcmod", "cp312-macosx_arm64"),
        ("markupsafe", "cp311-manylinux_x86_64"),
        ("markupsafe", "cp312-macosx_arm64"),
        ("msgpack", "cp312-macosx_arm64"),
    ]
    assert {j["runner"] for j in jobs} == {"ubuntu-24.04", "macos-15"}


@pytest.mark.parametrize("path", ["poetry/poetry.lock", "uv.lock", "requirements-uv.txt"])
def test_a_lock_whose_sdist_hash_differs_is_refused_for_that_package(
    path: str, cache: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / Path(path).name
    tampered.write_text((LOCKS / path).read_text().replace(CRCMOD_SHA, "0" * 64))
    result = run_wheelmirror(
        "plan",
        "--lock",
        str(tampered),
        *TARGET_ARGS,
        "--json",
        "-",
        "--cache-dir",
        str(cache),
        *_proxy(tampered),
    )
    assert result.returncode == 0, result.stderr
    refused = [line for line in result.stderr.splitlines() if "refused" in line]
    assert len(refused) == 1, result.stderr
    assert refused[0].startswith("wheelmirror: refused: crcmod 1.7: ")
    planned = builds(json.loads(result.stdout))
    assert planned == {t: [n for n in names if n != "crcmod"] for t, names in BUILDS.items()}


def test_targets_come_from_the_project_config(cache: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(LOCKS / "uv.lock", project / "uv.lock")
    (project / "wheelmirror.toml").write_text('targets = ["macos-arm64/3.12"]\n')
    result = run_wheelmirror(
        "plan", "--lock", str(project / "uv.lock"), "--json", "-", "--cache-dir", str(cache)
    )
    assert result.returncode == 0, result.stderr
    assert builds(json.loads(result.stdout)) == {"macos-arm64/3.12": BUILDS["macos-arm64/3.12"]}
    (project / "wheelmirror.toml").unlink()
    result = run_wheelmirror("plan", "--lock", str(project / "uv.lock"), "--cache-dir", str(cache))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("wheelmirror: error: no targets")
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_input_is_one_line(cache: Path, tmp_path: Path) -> None:
    for args in (
        ["--lock", str(tmp_path / "missing.lock"), "--target", "linux-x86_64/3.11"],
        ["--lock", str(LOCKS / "uv.lock"), "--target", "windows-x86_64/3.11"],
    ):
        result = run_wheelmirror("plan", *args, "--cache-dir", str(cache))
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_a_team_mirror_config_lists_locks_and_targets(cache: Path, tmp_path: Path) -> None:
    """What the workflow's plan job runs when the repository has a wheelmirror.toml."""
    team = tmp_path / "team"
    (team / "locks" / "data").mkdir(parents=True)
    shutil.copy(LOCKS / "uv.lock", team / "locks" / "data" / "uv.lock")
    shutil.copy(LOCKS / "requirements-uv.txt", team / "locks" / "requirements.txt")
    (team / "wheelmirror.toml").write_text(
        'locks = ["locks/data/uv.lock", "locks/requirements.txt"]\n'
        'targets = ["linux-x86_64/3.11", "macos-arm64/3.12"]\n'
    )
    result = run_wheelmirror(
        "plan", "--locks-config", "wheelmirror.toml", "--matrix", "plan.json",
        "--cache-dir", str(cache), cwd=team,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    jobs = json.loads((team / "plan.json").read_text())["include"]
    # Both locks pin the same versions: one job per (package, version, python, platform).
    assert len(jobs) == 5
    assert {j["package"] for j in jobs} == {"crcmod", "markupsafe", "msgpack"}


def test_cibw_config_and_collect_take_lock_planned_packages(tmp_path: Path) -> None:
    """The workflow's build and publish steps for a package that has no recipe."""
    from devtools.wheels import make_wheel

    recipes = tmp_path / "recipes"
    recipes.mkdir()
    refused = run_wheelmirror("cibw-config", "crcmod==1.7", "--recipes", str(recipes))
    assert refused.returncode == 3
    assert "no recipe for crcmod" in refused.stderr
    config = run_wheelmirror(
        "cibw-config", "crcmod==1.7", "--recipes", str(recipes), "--default-recipe"
    )
    assert config.returncode == 0, config.stderr
    assert "[tool.cibuildwheel]" in config.stdout
    wheel = make_wheel(tmp_path / "wheelhouse", "crcmod-1.7-cp311-cp311-manylinux_2_17_x86_64.whl")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"include": [{"package": "crcmod", "version": "1.7"}]}))
    mirror = tmp_path / "mirror"
    args = ["collect", str(wheel.parent), "--mirror", str(mirror), "--recipes", str(recipes)]
    without = run_wheelmirror(*args, "--cache-dir", str(tmp_path / "c"))
    assert without.returncode != 0
    assert "no recipe for crcmod" in without.stderr
    collected = run_wheelmirror(*args, "--plan", str(plan), "--cache-dir", str(tmp_path / "c"))
    assert collected.returncode == 0, collected.stderr
    doc = json.loads((mirror / "packages" / "crcmod.json").read_text())
    source = doc["versions"]["1.7"]["source"]
    assert (source["filename"], source["sha256"]) == ("crcmod-1.7.tar.gz", CRCMOD_SHA)


def test_build_needs_pins_or_a_lock(tmp_path: Path) -> None:
    result = run_wheelmirror("build", "--mirror", str(tmp_path / "m"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "wheelmirror: error: nothing to build: give NAME==VERSION pins or --lock FILE"
    )
    both = run_wheelmirror(
        "build", "crcmod==1.7", "--lock", str(LOCKS / "uv.lock"), "--mirror", str(tmp_path / "m")
    )
    assert both.returncode == 2
    assert "either NAME==VERSION pins or --lock" in both.stderr
    assert not (tmp_path / "m").exists()
