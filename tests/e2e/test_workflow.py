"""The GitHub Actions workflow, checked here since GitHub itself is unreachable.

* both static checkers the issue names pass (``check-jsonschema`` with GitHub's workflow
  schema, ``zizmor --offline``);
* every ``wheelmirror`` command in a ``run:`` step parses with the real CLI parser, so
  each step is a command that runs locally too;
* the matrix keys the workflow reads are the keys ``wheelmirror plan`` writes, and the
  step outputs it reads are the ones ``fetch-sdist`` / ``cibw-config`` write when run
  here as the runner runs them;
* every recipe's cibuildwheel config is accepted by the real cibuildwheel, which lists
  exactly the recipe's build identifiers for Linux and macOS.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools.cleanenv import clean_env
from poetry_wheelmirror.cli.main import build_parser
from poetry_wheelmirror.mirror.cibw import build_identifiers
from poetry_wheelmirror.mirror.cibw import target_for_identifier
from poetry_wheelmirror.mirror.plan import Missing
from poetry_wheelmirror.mirror.plan import Plan
from poetry_wheelmirror.mirror.plan import matrix_json
from poetry_wheelmirror.mirror.recipes import load_recipes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "build.yml"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (it is in the dev extra)")
    return found


def _run_step(
    argv: list[str], output: Path, timeout: int = 300
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """``wheelmirror ARGV --github-output`` as a workflow step runs it (GITHUB_OUTPUT set,
    no local pip settings); asserts it succeeded and returns its result and the step
    outputs it wrote."""
    result = subprocess.run(
        [str(BIN / "wheelmirror"), *argv, "--github-output"],
        env=clean_env(GITHUB_OUTPUT=str(output), PIP_CONFIG_FILE=os.devnull),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result, outputs


def _fetch_sdist(
    tmp_path: Path, spec: str, sha256: str, recipes: Path, timeout: int = 300
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The build job's fetch-sdist step for *spec*, into tmp_path/sdist (see _run_step)."""
    argv = ["fetch-sdist", spec, "--dest", str(tmp_path / "sdist"), "--sha256", sha256]
    argv += ["--recipes", str(recipes), "--cache-dir", str(tmp_path / "cache")]
    return _run_step(argv, tmp_path / "sdist.out", timeout)


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def test_check_jsonschema_accepts_the_workflow() -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout


def test_zizmor_finds_nothing() -> None:
    result = subprocess.run(
        [_tool("zizmor"), "--offline", str(WORKFLOW.parent)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout


def test_triggers_permissions_and_limits(workflow: dict) -> None:
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, job_id
        assert isinstance(job.get("timeout-minutes"), int), job_id
    # Only the jobs that need them get write grants.
    writers = {
        job_id: {k for k, v in job["permissions"].items() if v == "write"}
        for job_id, job in workflow["jobs"].items()
    }
    assert writers == {
        "plan": set(),
        "build": set(),
        "publish": {"contents", "id-token", "attestations"},
        "deploy": {"pages", "id-token"},
    }
    runners = {m.runner for m in _all_targets()}
    assert runners == {"macos-15", "macos-15-intel", "ubuntu-24.04", "ubuntu-24.04-arm"}
    assert workflow["jobs"]["build"]["runs-on"] == "${{ matrix.runner }}"


def _all_targets():
    from poetry_wheelmirror.mirror.recipes import TARGETS

    return TARGETS.values()


def test_actions_are_pinned_by_full_sha_with_a_version_comment() -> None:
    uses = re.findall(r"uses:\s*(\S+)(.*)", WORKFLOW.read_text())
    assert uses
    names = set()
    for ref, comment in uses:
        action, _, sha = ref.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", sha), ref
        assert re.fullmatch(r"\s*# v\d+(\.\d+)*", comment), (ref, comment)
        names.add(action)
    assert names == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "actions/download-artifact",
        "actions/attest-build-provenance",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
        "pypa/cibuildwheel",
    }


def test_checkout_never_persists_credentials(workflow: dict) -> None:
    checkouts = [
        s for _, s in _steps(workflow) if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) == 3
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def _wheelmirror_commands(workflow: dict) -> list[tuple[str, list[str]]]:
    commands = []
    for job_id, step in _steps(workflow):
        script = step.get("run")
        if not script:
            continue
        assert "${{" not in script, f"{job_id}: expressions go through env, not into run"
        script = script.replace("\\\n", " ")
        for line in script.splitlines():
            line = line.strip()
            if line.startswith("wheelmirror "):
                words = shlex.split(line)[1:]
                commands.append((job_id, [w for w in words if w != "$@"]))
    return commands


def _no_abbreviations(parser: argparse.ArgumentParser) -> None:
    """argparse accepts `--sha` for `--sha256`; the workflow must spell options out."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _no_abbreviations(sub)


def test_every_run_step_is_a_real_wheelmirror_command(workflow: dict) -> None:
    commands = _wheelmirror_commands(workflow)
    used = {argv[0] for _, argv in commands}
    assert used == {"plan", "fetch-sdist", "cibw-config", "collect", "publish", "manifest"}
    parser = build_parser()
    _no_abbreviations(parser)
    for job_id, argv in commands:
        # Shell variables stand for values; the parser must accept every option as written.
        concrete = [w.replace("$", "X") for w in argv]
        try:
            parser.parse_args(concrete)
        except SystemExit as e:  # argparse reports and exits on an unknown option
            pytest.fail(f"{job_id}: `wheelmirror {' '.join(argv)}` does not parse ({e})")


def test_matrix_keys_read_by_the_workflow_are_written_by_the_planner() -> None:
    text = WORKFLOW.read_text()
    read = set(re.findall(r"matrix\.([a-z_0-9-]+)", text))
    missing = Missing(
        package="markupsafe",  # type: ignore[arg-type]
        version="2.0.1",
        python="3.11",
        platform="linux-x86_64",
        runner="ubuntu-24.04",
        build="cp311-manylinux_x86_64",
        sdist="MarkupSafe-2.0.1.tar.gz",
        sdist_url="https://example.invalid/MarkupSafe-2.0.1.tar.gz",
        sdist_sha256="0" * 64,
    )
    written = set(matrix_json(Plan(missing=(missing,), notes=(), covered=0))["include"][0])
    assert read
    assert read <= written, read - written


def test_build_job_steps_run_locally_and_write_the_outputs_the_workflow_reads(
    tmp_path: Path,
) -> None:
    """The build job's two wheelmirror steps as the runner runs them (fetch-sdist asks
    PyPI and checks the sha256; cibuildwheel itself needs Docker or a Mac, so it is
    checked with --print-build-identifiers below)."""
    read = set(re.findall(r"steps\.(sdist|config)\.outputs\.([a-z0-9-]+)", WORKFLOW.read_text()))
    written = set()
    for step, argv in {
        "sdist": [
            "fetch-sdist",
            "markupsafe==2.0.1",
            "--dest",
            str(tmp_path / "sdist"),
            "--sha256",
            "594c67807fb16238b30c44bdf74f36c02cdf22d1c8cda91ef8a0ed8dabf5620a",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        "config": [
            "cibw-config",
            "markupsafe==2.0.1",
            "--recipes",
            str(ROOT / "recipes"),
            "--output",
            str(tmp_path / "c.toml"),
        ],
    }.items():
        _, outputs = _run_step(argv, tmp_path / f"{step}.out")
        assert Path(outputs["path"]).is_file()
        written |= {(step, key) for key in outputs}
    assert read == written
    sdist = tmp_path / "sdist" / "MarkupSafe-2.0.1.tar.gz"
    assert sdist.is_file()


GRPCIO_SDIST_SHA256 = "90e5da224c6b9b23658adf6f36de6f435ef7dbcc9c5c12330314d70d6f8de1f7"


def test_fetch_sdist_patches_in_the_recipes_build_requires(tmp_path: Path) -> None:
    """grpcio 1.48.2's sdist has no pyproject.toml: the recipe's `requires = ["Cython<3"]`
    reaches cibuildwheel only through the patched copy fetch-sdist writes (a real 22 MB
    download from PyPI, about 6 s), while the sha256 output stays PyPI's."""
    import hashlib
    import tarfile

    import tomlkit

    result, outputs = _fetch_sdist(
        tmp_path, "grpcio==1.48.2", GRPCIO_SDIST_SHA256, ROOT / "recipes"
    )
    assert set(outputs) == {"path", "sha256", "source-date-epoch"}
    patched = Path(outputs["path"])
    assert patched == tmp_path / "sdist" / "patched" / "grpcio-1.48.2.tar.gz"
    assert result.stdout.strip() == str(patched)
    original = tmp_path / "sdist" / "grpcio-1.48.2.tar.gz"
    assert outputs["sha256"] == GRPCIO_SDIST_SHA256
    assert hashlib.sha256(original.read_bytes()).hexdigest() == GRPCIO_SDIST_SHA256
    with tarfile.open(patched) as tf:
        member = tf.getmember("grpcio-1.48.2/pyproject.toml")
        assert member.mtime == int(outputs["source-date-epoch"])
        data = tf.extractfile(member)
        assert data is not None
        build_system = tomlkit.parse(data.read().decode())["build-system"]
        assert "grpcio-1.48.2/setup.py" in tf.getnames()
    assert "Cython<3" in list(build_system["requires"])
    assert build_system["build-backend"] == "setuptools.build_meta:__legacy__"
    with tarfile.open(original) as tf:
        assert "grpcio-1.48.2/pyproject.toml" not in tf.getnames()


FROZENLIST_SDIST_SHA256 = "ce6f2ba0edb7b0c1d8976565298ad2deba6f8064d2bebb6ffce2ca896eb35b0b"


def test_fetch_sdist_regenerates_cython_c_when_the_recipe_says_so(tmp_path: Path) -> None:
    """frozenlist 1.3.0 ships C from Cython 0.29.26, which does not compile for CPython
    3.11 (longintrepr.h): a recipe with `regenerate-cython = true` builds locally, and
    cibuildwheel on CI gets the same regenerated C through fetch-sdist's patched copy
    (real sdist from PyPI; Cython < 3 installed from PyPI into a throwaway venv)."""
    import tarfile

    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "frozenlist.toml").write_text(
        'name = "frozenlist"\nversions = ["1.3.0"]\npython = ["3.11"]\n'
        'platforms = ["linux-x86_64"]\n\n[build]\nregenerate-cython = true\n'
    )
    result, outputs = _fetch_sdist(
        tmp_path, "frozenlist==1.3.0", FROZENLIST_SDIST_SHA256, recipes, timeout=600
    )
    assert "Cython C regenerated" in result.stderr
    assert outputs["sha256"] == FROZENLIST_SDIST_SHA256
    member = "frozenlist-1.3.0/frozenlist/_frozenlist.c"
    with tarfile.open(outputs["path"]) as tf:
        data = tf.extractfile(member)
        assert data is not None
        regenerated = data.read()
    with tarfile.open(tmp_path / "sdist" / "frozenlist-1.3.0.tar.gz") as tf:
        data = tf.extractfile(member)
        assert data is not None
        shipped = data.read()
    assert shipped.startswith(b"/* Generated by Cython 0.29.26 */")
    header = regenerated.split(b"\n", 1)[0]
    assert header.startswith(b"/* Generated by Cython 0.29.")
    assert header != shipped.split(b"\n")[0]
    with tarfile.open(outputs["path"]) as tf:
        assert "frozenlist-1.3.0/setup.py" in tf.getnames()


@pytest.mark.parametrize("platform", ["linux", "macos"])
def test_cibuildwheel_accepts_every_recipe_config(tmp_path: Path, platform: str) -> None:
    cibuildwheel = _tool("cibuildwheel")
    project = tmp_path / "project"
    project.mkdir()
    (project / "setup.py").write_text("raise SystemExit('never run')\n")
    recipes = load_recipes(ROOT / "recipes")
    assert len(recipes) >= 5
    for name, recipe in recipes.items():
        config = tmp_path / f"{name}.toml"
        subprocess.run(
            [
                str(BIN / "wheelmirror"),
                "cibw-config",
                name,
                "--recipes",
                str(ROOT / "recipes"),
                "--output",
                str(config),
            ],
            check=True,
            capture_output=True,
        )
        result = subprocess.run(
            [
                cibuildwheel,
                "--print-build-identifiers",
                "--platform",
                platform,
                "--config-file",
                str(config),
                str(project),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"{name}: {result.stderr}"
        printed = set(result.stdout.split())
        expected = {i for i in build_identifiers(recipe) if target_for_identifier(i).os == platform}
        assert printed == expected, name
