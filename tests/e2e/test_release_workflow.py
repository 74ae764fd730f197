""".github/workflows/release.yml: the static checkers, its shape, and its steps run locally.

GitHub is not reachable here, so the workflow is checked with check-jsonschema and
zizmor (offline), and the work its steps do (.ci/release_check.py) runs on this checkout.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.cleanenv import clean_env
from devtools.passthrough import PassthroughIndex
from poetry_wheelmirror.mirror.build.cpython_compat import COMPAT_HEADERS

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
SCRIPT = REPO / ".ci" / "release_check.py"
BIN = Path(sys.executable).parent
#: Each action at a commit read from its repository's tags (see the report of issue 7).
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    # Its tag and bundled twine 7.0.0 found from its requirements/runtime.txt at this commit
    # (v1.8.14 bundled twine 5.0.0, which cannot read Metadata-Version 2.5).
    "pypa/gh-action-pypi-publish": ("dc37677b2e1c63e2034f94d8a5b11f265b73ba33", "v1.14.2"),
}


def _run(*cmd: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def test_check_jsonschema_accepts_it() -> None:
    result = _run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing(persona: str) -> None:
    result = _run(BIN / "zizmor", "--offline", f"--persona={persona}", WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_triggers_on_version_tags_only(workflow: dict[str, Any]) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert on == {"push": {"tags": ["v*"]}}


def test_least_privilege(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    for name, job in jobs.items():
        if name == "publish":
            assert job["permissions"] == {"id-token": "write"}
            assert job["environment"]["name"] == "pypi"
            assert set(job["needs"]) == {"build", "verify"}
        else:
            assert job["permissions"] == {"contents": "read"}, name
            assert "environment" not in job


def test_actions_pinned_by_sha() -> None:
    seen = set()
    for line in WORKFLOW.read_text().splitlines():
        match = re.search(r"uses:\s*(\S+?)@(\S+)(.*)$", line)
        if not match:
            continue
        action, ref, rest = match.groups()
        assert action in PINNED, f"unexpected action {action}"
        sha, tag = PINNED[action]
        assert ref == sha, line
        assert rest.strip() == f"# {tag}", line
        seen.add(action)
    assert seen == set(PINNED)


def test_steps_are_thin(workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name
            run = step.get("run", "")
            assert "${{" not in run, f"{name}: pass expressions through env, not into run"
            assert len(run.splitlines()) <= 1, f"{name}: put logic in .ci/, not in the workflow"
    publish = workflow["jobs"]["publish"]["steps"][-1]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "password" not in publish.get("with", {})  # trusted publishing, no token


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release build step, run locally: sdist and wheel of this checkout."""
    out = tmp_path_factory.mktemp("dist")
    result = _run(sys.executable, SCRIPT, "build", out, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _version() -> str:
    match = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    assert match
    return match.group(1)


@pytest.fixture(scope="module")
def release_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release job's tools: a venv with .ci/release-requirements.txt from PyPI (uv
    installs the same pins as the job's pip, in seconds rather than a minute)."""
    target = tmp_path_factory.mktemp("release-venv")
    uv = Path(sys.executable).parent / "uv"
    made = _run(uv, "venv", "-q", "--seed", "--python", sys.executable, target)
    assert made.returncode == 0, made.stdout + made.stderr
    python = target / "bin" / "python"
    requirements = REPO / ".ci" / "release-requirements.txt"
    result = _run(uv, "pip", "install", "-q", "--python", python, "-r", requirements, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def test_the_release_tools_are_the_publish_actions(release_python: Path) -> None:
    """release-requirements.txt pins the twine and packaging the pinned action bundles."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import release_check
    finally:
        sys.path.pop(0)
    (sha, tag) = PINNED["pypa/gh-action-pypi-publish"]
    tools = release_check.publish_action_tools(WORKFLOW)
    assert tools == release_check.PUBLISH_ACTION[sha]
    assert tools["tag"] == tag
    pins = dict(
        line.split("==") for line in (REPO / ".ci" / "release-requirements.txt").read_text().split()
        if "==" in line
    )
    assert pins["twine"] == tools["twine"]
    assert pins["packaging"] == tools["packaging"]


def test_build_and_check_steps(dist: Path, release_python: Path) -> None:
    version = _version()
    result = _run(release_python, SCRIPT, "check", dist, "--tag", f"v{version}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pass twine check" in result.stdout
    bad = _run(release_python, SCRIPT, "check", dist, "--tag", "v0.0.0-not-it")
    assert bad.returncode == 1
    assert "does not match the package version" in bad.stderr
    # Any other twine/packaging than the action's (the dev venv's) is refused.
    other = _run(sys.executable, SCRIPT, "check", dist)
    import importlib.metadata

    if importlib.metadata.version("packaging") != "26.2":
        assert other.returncode == 1
        assert "but the publish action v1.14.2 runs" in other.stderr


def test_twine_check_directly(dist: Path) -> None:
    result = _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_wheel_contents(dist: Path) -> None:
    version = _version()
    (wheel,) = dist.glob("poetry_wheelmirror-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"poetry_wheelmirror-{version}.dist-info"
        entry_points = configparser.ConfigParser()
        entry_points.read_string(zf.read(f"{info}/entry_points.txt").decode())
    assert "poetry_wheelmirror/__init__.py" in names
    assert not [n for n in names if n.split("/")[0] not in {"poetry_wheelmirror", f"poetry_wheelmirror-{version}.dist-info"}]
    assert "poetry_wheelmirror/schema/manifest-v1.schema.json" in names
    assert "poetry_wheelmirror/plugin/plugin.py" in names
    # Data the build engine reads at run time: the classifier table and the headers of
    # the cpython-compat fix.
    assert "poetry_wheelmirror/mirror/build/diagnoses.toml" in names
    for header in COMPAT_HEADERS:
        assert f"poetry_wheelmirror/mirror/build/compat_include/{header}" in names
    assert not [n for n in names if n.startswith("tests/")]
    assert entry_points["console_scripts"]["wheelmirror"] == "poetry_wheelmirror.cli.main:main"
    assert (
        entry_points["poetry.application.plugin"]["wheelmirror"]
        == "poetry_wheelmirror.plugin.plugin:WheelmirrorPlugin"
    )
    (sdist,) = dist.glob("poetry_wheelmirror-*.tar.gz")
    with tarfile.open(sdist) as tf:
        members = {m.name for m in tf.getmembers()}
    assert f"poetry_wheelmirror-{version}/pyproject.toml" in members


@pytest.mark.slow
def test_verify_step_with_a_real_poetry(
    dist: Path, pypi_index: PassthroughIndex, tmp_path: Path
) -> None:
    """The verify job: fresh venv install, `poetry self add`, plugin listed, commands load.
    (About a minute: it pip-installs Poetry 2.5.1 into a new venv.)"""
    result = _run(
        sys.executable,
        SCRIPT,
        "verify",
        dist,
        "--poetry",
        "2.5.1",
        "--index-url",
        pypi_index.url,
        "--work",
        tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lists poetry-wheelmirror as a plugin" in result.stdout
