"""The files ``uv-config`` and ``pip-config`` write, read by the real uv and the real pip.

The unit and property tests judge the writers with tomllib and configparser; uv has its
own TOML parser and pip its own config loader, so each hostile shape of issue 12 is also
handed to them. uv must use the mirror's index (it tries the dead loopback URL for the
pinned package, which proves it parsed our entry) and never report "Failed to parse";
pip must list the mirror's URL with the user's other settings. ``--remove`` then gives
back the original bytes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from poetry_wheelmirror.cli.main import main
from poetry_wheelmirror.installers.uvconf import configure_uv
from poetry_wheelmirror.installers.uvconf import remove_uv

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
UV = str(REPO / ".venv" / "bin" / "uv")
DEAD = "http://127.0.0.1:9/"  # nothing listens: uv fails fast, naming the URL it tried
PROJECT = (
    '[project]\nname = "demo"\nversion = "0"\nrequires-python = ">=3.9"\ndependencies = ["six"]\n'
)
PYPROJECT_SHAPES = {
    "inline empty array": PROJECT + "\n[tool.uv]\nindex = []\n",
    "inline array, no final newline": PROJECT
    + '\n[tool.uv]\nindex = [{ name = "corp", url = "http://127.0.0.1:10/simple/" }]',
    "dotted, multi-line, comments": PROJECT
    + '\n[tool]\nuv.index = [  # c\n  { name = "corp", url = "http://127.0.0.1:10/simple/" },\n]\n',
    "array inside an inline table": PROJECT + "\n[tool]\nuv = { index = [] }\n",
    "CRLF and BOM": "\ufeff" + (PROJECT + "\n[tool.uv]\nindex = []").replace("\n", "\r\n"),
    "array of tables": PROJECT
    + '\n[[tool.uv.index]]\nname = "corp"\nurl = "http://127.0.0.1:10/simple/"\n',
}


def _uv_lock(folder: Path) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        XDG_CONFIG_HOME=str(folder / "xdg"), UV_CACHE_DIR=str(folder / "cache"), UV_HTTP_RETRIES="0"
    )
    return subprocess.run(
        [UV, "lock"], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("routing", [False, True])
@pytest.mark.parametrize("shape", sorted(PYPROJECT_SHAPES))
def test_real_uv_reads_what_uv_config_wrote(tmp_path: Path, shape: str, routing: bool) -> None:
    original = PYPROJECT_SHAPES[shape]
    # Explicit mode pins six to the mirror through [tool.uv.sources], routing makes the
    # mirror uv's default index: either way uv must ask the mirror for six.
    change = configure_uv(original, DEAD + "simple/", supported=["six"], routing=routing)
    inline_uv = "uv = {" in original  # no [tool.uv.sources] lines can go into it
    assert routing or inline_uv or change.routed == ("six",)
    (tmp_path / "pyproject.toml").write_bytes(change.text.encode())
    result = _uv_lock(tmp_path)
    assert "Failed to parse" not in result.stderr, result.stderr
    if inline_uv and not routing:
        # No source names the explicit index (uv-config said so): uv does not ask it.
        assert "127.0.0.1:9/" not in result.stderr, result.stderr
    elif routing and "127.0.0.1:10" in original:
        # A user's non-default index comes before the default one: uv asked it first.
        assert "127.0.0.1:10/" in result.stderr, result.stderr
    else:
        assert "127.0.0.1:9/" in result.stderr, result.stderr  # uv asked the mirror
    assert remove_uv(change.text).text == original


@pytest.mark.parametrize(
    "text", ["index = []\n", 'index = [{ name = "a", url = "https://a.example/simple/" }]']
)
def test_real_uv_reads_a_uv_toml_with_an_inline_array(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(PROJECT)
    (tmp_path / "uv.toml").write_text(text)
    assert main(["uv-config", "--project", str(tmp_path), "--uv-toml", "--mirror", DEAD]) == 0
    result = _uv_lock(tmp_path)
    assert "Failed to parse" not in result.stderr, result.stderr
    assert "127.0.0.1:9" in result.stderr, result.stderr
    assert main(["uv-config", "--project", str(tmp_path), "--uv-toml", "--remove"]) == 0
    assert (tmp_path / "uv.toml").read_text() == text


PIP_SHAPES = {
    "spaced section name": "[ global ]\ntimeout = 5\n",
    "header as the last line": "[install]\nprefer-binary = yes\n[global]",
    "continuation with comments, CRLF": (
        "[global]\r\nextra-index-url =\r\n    https://a.example/simple/\r\n"
        "    # theirs\r\n    https://b.example/simple/\r\ntimeout = 9\r\n"
    ),
}


def _pip_config_list(conf: Path, home: Path) -> dict[str, str]:
    env = clean_env(PIP_CONFIG_FILE=str(conf), HOME=str(home), XDG_CONFIG_HOME=str(home / "x"))
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    listed = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        listed[key] = value.strip("'")
    return listed


@pytest.mark.parametrize("mode", ["extra", "routing"])
@pytest.mark.parametrize("shape", sorted(PIP_SHAPES))
def test_real_pip_reads_what_pip_config_wrote(tmp_path: Path, shape: str, mode: str) -> None:
    conf = tmp_path / "pip.conf"
    original = PIP_SHAPES[shape].encode()
    conf.write_bytes(original)
    before = _pip_config_list(conf, tmp_path)
    args = ["pip-config", "--file", str(conf), "--mirror", DEAD, "--mode", mode]
    assert main(args) == 0
    after = _pip_config_list(conf, tmp_path)
    key = "global.extra-index-url" if mode == "extra" else "global.index-url"
    urls = after[key].replace("\\n", " ").split()
    assert urls[-1] == DEAD + "simple/"
    if mode == "extra" and key in before:
        assert urls[:-1] == before[key].replace("\\n", " ").split()
    assert {k: v for k, v in after.items() if k != key} == {
        k: v for k, v in before.items() if k != key
    }
    assert main(["pip-config", "--file", str(conf), "--remove"]) == 0
    assert conf.read_bytes() == original
