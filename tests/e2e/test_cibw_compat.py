"""A recipe's ``cpython-compat`` on the CI path: fetch-sdist copies the compatibility
headers into the patched sdist and cibw-config's environment puts them first on the
include path, so a build that cannot reach the installed wheelmirror still compiles.

cibuildwheel itself needs Docker images from quay.io (unreachable here), so the build
runs as cibuildwheel's ``build-frontend = "build"`` runs it inside the container:
``python -m build --wheel`` on the sdist, with the config file's ``environment``. The real
sdist is editdistance 0.6.0 from PyPI, whose Cython-generated C++ does not compile on
CPython 3.11 without the headers (the test builds it both ways)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import tomllib

from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.pipuv_mirror import venv_python

RECIPE = """name = "editdistance"
versions = ["0.6.0"]
python = ["3.11"]
platforms = ["linux-x86_64"]

[build]
cpython-compat = true
"""


def _build(sdist: Path, out: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = clean_env(PIP_CONFIG_FILE=os.devnull, **{"CFLAGS": "", "CXXFLAGS": "", **extra})
    return subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(sdist)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_the_patched_sdist_builds_with_the_config_environment_and_not_without(
    tmp_path: Path,
) -> None:
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "editdistance.toml").write_text(RECIPE)
    fetched = run_wheelmirror(
        "fetch-sdist", "editdistance==0.6.0", "--dest", str(tmp_path / "sd"),
        "--recipes", str(recipes),
    )  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr
    assert "CPython compatibility headers added" in fetched.stderr
    sdist = Path(fetched.stdout.strip())
    assert sdist.parent.name == "patched"
    config = tmp_path / "cibw.toml"
    made = run_wheelmirror(
        "cibw-config", "editdistance==0.6.0", "--recipes", str(recipes), "--output", str(config)
    )
    assert made.returncode == 0, made.stderr
    options = tomllib.loads(config.read_text())["tool"]["cibuildwheel"]
    # cibuildwheel evaluates each value as a shell word.
    environment = {k: " ".join(shlex.split(v)) for k, v in options["environment"].items()}
    assert set(environment) == {"CFLAGS", "CXXFLAGS"}

    without = _build(sdist, tmp_path / "without", {})
    assert without.returncode != 0, "editdistance 0.6.0 built without the headers"

    built = _build(sdist, tmp_path / "wheels", environment)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("editdistance-0.6.0-cp311-*.whl")
    # The import check cibuildwheel's test-command runs, in a clean venv.
    python = venv_python(tmp_path / "check")
    env = clean_env(PIP_CONFIG_FILE=os.devnull)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], env=env, check=True
    )
    run = subprocess.run(
        [str(python), "-c", "import editdistance; print(editdistance.eval('kitten', 'sitting'))"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "3"), run.stderr
