"""``wheelmirror publish --to DIR`` for real: a plain directory / static site.

The source mirror is a real MarkupSafe 2.0.1 build (``wheelmirror build``); the published
directory is checked with ``wheelmirror manifest check --files`` and installed from by
real pip with ``--only-binary :all:``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.publishing import build_markupsafe
from devtools.publishing import make_source_mirror
from devtools.publishing import tree_state

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_markupsafe(tmp_path_factory.mktemp("publish-dir"))


@pytest.fixture(scope="module")
def site(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site") / "site"
    result = run_wheelmirror("publish", "--mirror", str(source), "--to", str(site))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("published 2 file(s), 0 already present")
    assert "wheelmirror: published markupsafe-2.0.1-" in result.stderr  # progress lines
    return site


def test_published_directory_passes_manifest_check(site: Path, source: Path) -> None:
    result = run_wheelmirror("manifest", "check", str(site), "--files")
    assert result.returncode == 0, result.stderr
    assert "1 package(s), 1 version(s), 1 wheel(s)" in result.stdout
    wheel = next((source / "files" / "markupsafe").glob("*.whl"))
    assert (site / "files" / "markupsafe" / wheel.name).read_bytes() == wheel.read_bytes()
    assert (site / "files" / "markupsafe" / (wheel.name + ".metadata")).is_file()
    for page in ("simple/index.html", "simple/markupsafe/index.json", "upstream/markupsafe.json"):
        assert (site / page).is_file(), page


def test_pip_installs_from_the_published_directory_without_building(
    site: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary", ":all:",
         "--index-url", (site / "simple").as_uri() + "/", "--target", str(target),
         "markupsafe==2.0.1"],
        env=clean_env(PIP_CONFIG_FILE=os.devnull),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((target / "markupsafe").glob("_speedups*.so"))


def test_publishing_again_changes_nothing(site: Path, source: Path) -> None:
    before = tree_state(site)
    result = run_wheelmirror("publish", "--mirror", str(source), "--to", str(site))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("published 0 file(s), 2 already present")
    assert "0 document(s) written" in result.stdout
    assert tree_state(site) == before  # bytes and mtimes


def test_a_conflicting_file_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    one = make_source_mirror(tmp_path / "one", ["demo-1.0-py3-none-any.whl"], body="A = 1\n")
    two = make_source_mirror(tmp_path / "two", ["demo-1.0-py3-none-any.whl"], body="A = 2\n")
    site = tmp_path / "site"
    assert run_wheelmirror("publish", "--mirror", str(one.path), "--to", str(site)).returncode == 0
    before = tree_state(site)
    result = run_wheelmirror("publish", "--mirror", str(two.path), "--to", str(site))
    assert result.returncode == 8, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("wheelmirror: error:")]
    assert len(errors) == 1
    assert "refusing to overwrite" in errors[0]
    assert tree_state(site) == before


def test_a_second_mirror_is_merged_into_the_site(tmp_path: Path, source: Path) -> None:
    site = tmp_path / "site"
    assert run_wheelmirror("publish", "--mirror", str(source), "--to", str(site)).returncode == 0
    other = make_source_mirror(tmp_path / "other", ["demo-1.0-py3-none-any.whl"])
    result = run_wheelmirror("publish", "--mirror", str(other.path), "--to", str(site))
    assert result.returncode == 0, result.stderr
    check = run_wheelmirror("manifest", "check", str(site), "--files")
    assert check.returncode == 0, check.stderr
    assert "2 package(s), 2 version(s), 2 wheel(s)" in check.stdout
    assert "markupsafe" in (site / "simple" / "index.html").read_text()


def test_publishing_a_mirror_onto_itself_is_refused(source: Path) -> None:
    result = run_wheelmirror("publish", "--mirror", str(source), "--to", str(source))
    assert result.returncode == 2
    assert "is the mirror being published" in result.stderr


ROOT = Path(__file__).resolve().parents[2]


def test_the_publish_job_runs_locally(source: Path, tmp_path: Path) -> None:
    """The workflow's publish job on a laptop: cibuildwheel artifacts -> `collect` ->
    `publish` -> `manifest check` (PyPI is asked for the sdist; the wheel is the real one)."""
    wheel = next((source / "files" / "markupsafe").glob("*.whl"))
    wheelhouse = tmp_path / "wheelhouse" / "wheel-markupsafe-2.0.1-cp311"
    wheelhouse.mkdir(parents=True)
    (wheelhouse / wheel.name).write_bytes(wheel.read_bytes())
    mirror, site, cache = tmp_path / "mirror", tmp_path / "site", tmp_path / "cache"
    common = ("--recipes", str(ROOT / "recipes"), "--cache-dir", str(cache))
    env = clean_env(GITHUB_ACTIONS="true")
    collected = run_wheelmirror(
        "collect", str(tmp_path / "wheelhouse"), "--mirror", str(mirror), *common, env=env
    )
    assert collected.returncode == 0, collected.stderr
    assert collected.stdout.strip() == f"added    files/markupsafe/{wheel.name}"
    doc = (mirror / "packages" / "markupsafe.json").read_text()
    assert '"runner": "github:ubuntu-24.04"' in doc
    assert '"tool": "cibuildwheel"' in doc
    assert '"filename": "MarkupSafe-2.0.1.tar.gz"' in doc  # the sdist PyPI has
    before = tree_state(mirror)
    again = run_wheelmirror(
        "collect", str(tmp_path / "wheelhouse"), "--mirror", str(mirror), *common, env=env
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("present ")
    assert tree_state(mirror) == before
    published = run_wheelmirror("publish", "--mirror", str(mirror), "--to", str(site))
    assert published.returncode == 0, published.stderr
    check = run_wheelmirror("manifest", "check", str(site), "--files")
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("markupsafe-2.0.1-cp311-cp311-linux_x86_64.whl", "a linux_* wheel"),
        ("markupsafe-9.9-cp311-cp311-manylinux_2_17_x86_64.whl", "does not carry 9.9"),
        ("notcarried-1.0-py3-none-any.whl", "no recipe for notcarried"),
    ],
)
def test_collect_refuses_wheels_the_mirror_must_not_publish(
    tmp_path: Path, filename: str, message: str
) -> None:
    from devtools.wheels import make_wheel

    make_wheel(tmp_path / "wheelhouse", filename)
    result = run_wheelmirror(
        "collect", str(tmp_path / "wheelhouse"), "--mirror", str(tmp_path / "mirror"),
        "--recipes", str(ROOT / "recipes"), "--cache-dir", str(tmp_path / "cache"),
    )
    assert result.returncode == 8, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "mirror").exists()
