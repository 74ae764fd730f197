"""The build engine on real PyPI sdists: automatic fixes with retry, the recipe that
makes a fixed build direct, many pins past a failure, and the missing builder extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import REPO
from devtools.cli import run_source_cli as wheelmirror

pytestmark = pytest.mark.e2e

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_automatic_fix_is_retried_and_its_recipe_makes_the_next_build_direct(
    tmp_path: Path,
) -> None:
    # lazy-object-proxy 1.6.0's setup.py needs pkg_resources, gone from today's setuptools.
    mirror, cache, recipes = tmp_path / "mirror", tmp_path / "cache", tmp_path / "recipes"
    args = ("build", "lazy-object-proxy==1.6.0", "--mirror", str(mirror))
    first = wheelmirror(
        *args, "--write-recipe", str(recipes), "--recipes", str(tmp_path), cache=cache
    )
    assert first.returncode == 0, first.stderr
    assert "setuptools-too-new; retrying with: build with setuptools<70" in first.stderr
    written = recipes / "lazy-object-proxy.toml"
    assert 'constraints = ["setuptools<70"]' in written.read_text()
    assert '| constraints = ["setuptools<70"]' in first.stderr  # printed too
    row = next(ln for ln in first.stdout.splitlines() if ln.startswith("lazy-object-proxy"))
    assert row.split()[2:4] == ["built", "fixed"]
    assert "manylinux" in row
    log = next(cache.glob("logs/lazy-object-proxy-*.log")).read_text()
    assert "wheelmirror: attempt 1 failed in build: setuptools-too-new" in log
    assert "wheelmirror: automatic fix: build with setuptools<70" in log
    # The written recipe makes the next build direct: one attempt, no retry.
    again = wheelmirror(*args, "--rebuild", "--recipes", str(recipes), cache=tmp_path / "c2")
    assert again.returncode == 0, again.stderr
    assert "retrying" not in again.stderr
    # Writing again never overwrites the user's recipe.
    written.write_text(written.read_text() + "# mine\n")
    third = wheelmirror(
        *args, "--rebuild", "--write-recipe", str(recipes), "--recipes", str(tmp_path), cache=cache
    )
    assert third.returncode == 0, third.stderr
    assert "exists: not overwritten" in third.stderr
    assert written.read_text().endswith("# mine\n")


def test_many_pins_go_on_past_a_failure_and_report_it(tmp_path: Path) -> None:
    # greenlet 1.1.2's C uses CPython 3.10 thread-state fields that 3.11 removed.
    mirror, report = tmp_path / "mirror", tmp_path / "report.json"
    result = wheelmirror(
        "build",
        "greenlet==1.1.2",
        "markupsafe==2.0.1",
        "--mirror",
        str(mirror),
        "--report",
        str(report),
        "--recipes",
        str(tmp_path),
        cache=tmp_path / "cache",
    )
    assert result.returncode == 7, result.stderr
    assert "1 pin(s) failed, 1 built" in result.stderr
    data = json.loads(report.read_text())
    assert data["all_built"] is False
    by_pin = {o["pin"]: o for o in data["outcomes"]}
    greenlet = by_pin["greenlet==1.1.2"]
    assert greenlet["outcome"] == "failed"
    assert greenlet["class"] == "python-api-removed"
    assert "has no member named" in greenlet["evidence"]
    assert greenlet["not_fixable"] is True
    # The first later greenlet with a wheel for this Python, read from the index.
    assert "first later release with a usable wheel: greenlet " in greenlet["fix"]
    assert by_pin["markupsafe==2.0.1"]["outcome"] == "built"
    assert by_pin["markupsafe==2.0.1"]["wheel_tag"].startswith("cp3")
    # Everything that built is in the mirror; one classified line for the failure.
    assert len(list((mirror / "files" / "markupsafe").glob("*.whl"))) == 1
    assert not (mirror / "files" / "greenlet").exists()
    failed = [ln for ln in result.stderr.splitlines() if "greenlet==1.1.2 failed:" in ln]
    assert len(failed) == 1
    assert "python-api-removed: " in failed[0]


def test_without_the_builder_extra_one_line_before_any_download(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "uv", "venv", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    python = str(venv / "bin" / "python")
    subprocess.run(
        [sys.executable, "-m", "uv", "pip", "install", "--python", python, str(REPO)],
        check=True,
        capture_output=True,
        env=clean_env(PIP_CONFIG_FILE=os.devnull),
    )
    cache = tmp_path / "cache"
    result = wheelmirror(
        "build", "markupsafe==2.0.1", "--mirror", str(tmp_path / "m"), cache=cache, python=python
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "pip install 'poetry-wheelmirror[builder]'" in lines[0]
    assert not (cache / "sdists").exists()
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pin", "cls", "fix", "recipe_line"),
    [
        # The shipped C came from Cython 0.29.24, before CPython 3.11 moved longintrepr.h.
        (
            "yarl==1.7.2",
            "old-cython-output",
            "regenerate the shipped C from .pyx with Cython<3",
            "regenerate-cython = true",
        ),
        # setup.py subclasses build_ext in a way Cython 3 no longer supports.
        (
            "pyyaml==5.4.1",
            "cython3-incompatible",
            "build with Cython<3",
            'constraints = ["Cython<3"]',
        ),
    ],
)
def test_cython_fixes_on_real_sdists(
    tmp_path: Path, pin: str, cls: str, fix: str, recipe_line: str
) -> None:
    mirror, report = tmp_path / "mirror", tmp_path / "report.json"
    result = wheelmirror(
        "build",
        pin,
        "--mirror",
        str(mirror),
        "--recipes",
        str(tmp_path),
        "--report",
        str(report),
        cache=tmp_path / "cache",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{cls}; retrying with: {fix}" in result.stderr
    outcome = json.loads(report.read_text())["outcomes"][0]
    assert outcome["outcome"] == "built"
    assert recipe_line in outcome["recipe"]
    assert "manylinux" in outcome["wheel_tag"]
    log = Path(outcome["log"]).read_text()
    assert "wheelmirror: attempt 2 with: " + fix in log
    assert "wheelmirror-import-failed" not in log
