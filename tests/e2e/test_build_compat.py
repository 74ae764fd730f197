"""The cpython-compat automatic fix on real PyPI sdists that publish no wheel for
CPython 3.11: each builds into a manylinux wheel whose extension modules import, and the
extension works (not a silent pure-Python fallback).

- httptools 0.3.0 ships C from Cython 0.29.24 and no .pyx (nothing to regenerate);
- msgpack 1.0.3: its Cython C is regenerated first, then its C++ headers need the
  renamed ``_PyFloat_Pack4``;
- python-snappy 0.6.0 assigns to ``Py_SIZE()`` and parses ``y#`` arguments (needs
  libsnappy-dev, installed on the build machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import run_source_cli

pytestmark = pytest.mark.e2e

COMPAT = "build with CPython compatibility headers for removed C API"

#: Run in a venv with only the built wheel: proves the C extension does the work.
HTTPTOOLS_SMOKE = """
import traceback
import httptools
from httptools.parser import parser

class Request:
    def __init__(self):
        self.url, self.headers = None, []
    def on_url(self, url):
        self.url = url
    def on_header(self, name, value):
        self.headers.append((name, value))

request = Request()
p = httptools.HttpRequestParser(request)
p.feed_data(b"GET /a/b?c=d HTTP/1.1\\r\\nHost: example.org\\r\\n\\r\\n")
assert type(p) is parser.HttpRequestParser
print(request.url, request.headers, p.get_method(), p.get_http_version())
# An error raised in the Cython code: its traceback must format (3.11's traceback module
# reads the positions of every code object on the way).
try:
    httptools.HttpRequestParser(request).feed_data(b"\\x00\\x01 nonsense\\r\\n\\r\\n")
except httptools.HttpParserError:
    print([ln.strip() for ln in traceback.format_exc().splitlines() if "parser.pyx" in ln][:1])
"""
MSGPACK_SMOKE = """
import msgpack, msgpack._cmsgpack as c
assert msgpack.Packer is c.Packer, "msgpack fell back to pure Python"
data = {"f": 1.5, "f4": [0.25], "s": "h\\u00e9", "b": b"\\x00", "n": [1, -2, 2**40]}
packed = msgpack.packb(data)
assert msgpack.unpackb(packed) == data
single = c.Packer(use_single_float=True).pack(0.25)
print(packed.hex(), single.hex(), msgpack.unpackb(single))
"""
SNAPPY_SMOKE = """
import snappy, snappy._snappy as c
data = b"wheelmirror " * 1000
packed = c.compress(data)
assert c.uncompress(packed) == data and snappy.decompress(packed) == data
print(len(data), len(packed), c.isValidCompressed(packed))
"""


def _build(
    tmp_path: Path, pin: str, *, recipes: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    report = tmp_path / "report.json"
    result = run_source_cli(
        "build",
        pin,
        "--mirror",
        str(tmp_path / "mirror"),
        "--recipes",
        str(recipes or tmp_path),  # by default no recipe: the automatic fixes alone
        "--write-recipe",
        str(tmp_path / "written"),
        "--report",
        str(report),
        cache=tmp_path / "cache",
    )
    assert report.is_file(), result.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(report.read_text())["outcomes"][0]
    return result, outcome


def _smoke(tmp_path: Path, wheel: Path, script: str) -> str:
    """Run *script* in a fresh venv holding only *wheel* (and its dependencies)."""
    venv = tmp_path / "smoke-venv"
    env = clean_env(PIP_CONFIG_FILE=os.devnull)
    subprocess.run(
        [sys.executable, "-m", "uv", "venv", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
        env=env,
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "uv", "pip", "install", "--python", str(python), str(wheel)],
        check=True,
        capture_output=True,
        env=env,
    )
    run = subprocess.run(
        [str(python), "-I", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def _assert_built_with_compat(
    result: subprocess.CompletedProcess[str], outcome: dict[str, Any], tmp_path: Path
) -> Path:
    assert result.returncode == 0, result.stderr[-3000:]
    assert outcome["outcome"] == "built"
    assert f"retry with: {COMPAT}" in " ".join(outcome["attempts"])
    assert "cpython-compat = true" in str(outcome["recipe"])
    assert str(outcome["wheel_tag"]).split("-")[2].startswith("manylinux")
    name = str(outcome["pin"]).split("==")[0]
    written = (tmp_path / "written" / f"{name}.toml").read_text()
    assert "cpython-compat = true" in written
    log = Path(str(outcome["log"])).read_text()
    assert "wheelmirror-import-failed" not in log
    (wheel,) = (tmp_path / "mirror" / "files" / name).glob("*.whl")
    return wheel


def test_old_cython_output_without_its_pyx_builds_with_the_compat_headers(
    tmp_path: Path,
) -> None:
    result, outcome = _build(tmp_path, "httptools==0.3.0")
    wheel = _assert_built_with_compat(result, outcome, tmp_path)
    assert f"old-cython-output; retrying with: {COMPAT}" in result.stderr
    assert outcome["attempts"] == [
        f"attempt 1: old-cython-output -> retry with: {COMPAT}",
        "attempt 2: built",
    ]
    log = Path(str(outcome["log"])).read_text()
    assert "imported httptools.parser.parser" in log
    assert "imported httptools.parser.url_parser" in log
    out = _smoke(tmp_path, wheel, HTTPTOOLS_SMOKE).splitlines()
    assert out[0] == "b'/a/b?c=d' [(b'Host', b'example.org')] b'GET' 1.1"
    assert "parser.pyx" in out[1]


@pytest.mark.parametrize(
    ("pin", "script", "first_class"),
    [
        # Regenerates the Cython C first: 25-40 s.
        pytest.param("msgpack==1.0.3", MSGPACK_SMOKE, "old-cython-output", marks=pytest.mark.slow),
        ("python-snappy==0.6.0", SNAPPY_SMOKE, "python-api-removed"),
    ],
)
def test_hand_written_c_for_removed_api_builds_with_the_compat_headers(
    tmp_path: Path, pin: str, script: str, first_class: str
) -> None:
    result, outcome = _build(tmp_path, pin)
    wheel = _assert_built_with_compat(result, outcome, tmp_path)
    attempts: list[str] = outcome["attempts"]
    assert attempts[0].startswith(f"attempt 1: {first_class} -> ")
    assert (
        attempts[-2] == f"attempt {len(attempts) - 1}: python-api-removed -> retry with: {COMPAT}"
    )
    print(_smoke(tmp_path, wheel, script))
    if pin.startswith("msgpack"):
        # Regenerated from the .pyx first; the compat headers only after that.
        assert "regenerate the shipped C from .pyx" in attempts[0]
        assert "regenerate-cython = true" in str(outcome["recipe"])


@pytest.mark.slow
def test_an_extension_importing_an_undeclared_package_needs_it_for_the_check(
    tmp_path: Path,
) -> None:
    # ruamel.yaml.clib 0.2.6: Cython 0.29.23 output without .pyx, and its _ruamel_yaml
    # imports ruamel.yaml at load time (ruamel.yaml depends on the clib, not the reverse).
    result, outcome = _build(tmp_path / "plain", "ruamel.yaml.clib==0.2.6")
    assert result.returncode == 7
    assert outcome["class"] == "import-needs-package"
    assert "No module named 'ruamel'" in outcome["evidence"]
    assert "import-check-requires" in outcome["fix"]
    assert outcome["attempts"] == [f"attempt 1: old-cython-output -> retry with: {COMPAT}"]
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "ruamel-yaml-clib.toml").write_text(
        'name = "ruamel.yaml.clib"\nversions = ["0.2.6"]\n\n'
        '[build]\nimport-check-requires = ["ruamel.yaml<0.18"]\n'
    )
    result, outcome = _build(tmp_path / "recipe", "ruamel.yaml.clib==0.2.6", recipes=recipes)
    wheel = _assert_built_with_compat(result, outcome, tmp_path / "recipe")
    # The written recipe keeps the recipe's own setting next to the automatic fix.
    assert 'import-check-requires = ["ruamel.yaml<0.18"]' in outcome["recipe"]
    assert "imported _ruamel_yaml" in Path(outcome["log"]).read_text()
    assert wheel.name.startswith("ruamel")
