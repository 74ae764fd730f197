"""The everyday CLI: -q/-v everywhere, --json, list, cache, completion."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

from devtools.poetry_standins import WHEEL
from devtools.poetry_standins import write_mirror
from poetry_wheelmirror.cli.list_cmd import completion_script
from poetry_wheelmirror.cli.main import build_parser
from poetry_wheelmirror.cli.main import main


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found[f"{prefix}{name}"] = child
                found.update(_commands(child, f"{prefix}{name} "))
    return found


def test_every_command_takes_q_and_v() -> None:
    commands = _commands(build_parser())
    assert len(commands) >= 20
    for name, parser in commands.items():
        options = parser._option_string_actions
        assert "-q" in options, name
        assert "-v" in options, name


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return write_mirror(tmp_path / "mirror")


def test_list_and_quiet(mirror: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["list", "--mirror", str(mirror), *cache]) == 0
    out, err = capsys.readouterr()
    assert out == "markupsafe 2.0.1  cp311  manylinux2014_x86_64 manylinux_2_17_x86_64\n"
    assert err == f"1 version(s) from {mirror.as_uri()}/\n"
    assert main(["list", "-q", "--mirror", str(mirror), *cache]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("markupsafe 2.0.1")
    assert err == ""  # -q: the progress line is gone ...
    assert main(["list", "-q", "--mirror", str(mirror), *cache, "nope"]) == 2
    assert capsys.readouterr().err == "wheelmirror: error: the mirror does not carry nope\n"
    assert main(["list", "--json", "--mirror", str(mirror), *cache]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["packages"] == [
        {
            "name": "markupsafe",
            "version": "2.0.1",
            "wheels": 1,
            "pythons": ["cp311"],
            "platforms": ["manylinux2014_x86_64", "manylinux_2_17_x86_64"],
        }
    ]


def test_select_json(mirror: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["select", "--json", "--mirror", str(mirror), "--python", "3.11"]
    args += ["--platform", "linux-x86_64", "--cache-dir", str(tmp_path / "c"), "markupsafe==2.0.1"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["filename"] == WHEEL
    assert result["url"].endswith(f"/files/markupsafe/{WHEEL}")
    assert [c["filename"] for c in result["candidates"]] == [WHEEL]


def test_verify_json(mirror: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("sigstore")
    args = ["verify", "--json", "--mirror", str(mirror), "--repository", "o/r", "--policy", "warn"]
    assert main([*args, "--cache-dir", str(tmp_path / "c"), "markupsafe==2.0.1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["wheels"] == [
        {"status": "UNVERIFIED", "filename": WHEEL, "detail": "no provenance attestation is recorded"}
    ]
    assert result["counts"] == {"verified": 0, "failed": 0, "unattested": 1}


def test_cache_dir_info_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    (cache / "http" / "ab").mkdir(parents=True)
    (cache / "http" / "ab" / "x.body").write_bytes(b"x" * 2048)
    (cache / "mine.txt").write_text("not the cache's")
    assert main(["cache", "dir", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out == f"{cache}\n"
    assert main(["cache", "info", "--json", "--cache-dir", str(cache)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["parts"] == {"http": {"files": 1, "bytes": 2048}}
    assert main(["cache", "clean", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.startswith("removed 2.0 KiB from ")
    assert not (cache / "http").exists()
    assert (cache / "mine.txt").read_text() == "not the cache's"  # only its own parts


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("wheelmirror se", {"select", "serve"}),
        ("wheelmirror select --pl", {"--platform"}),
        ("wheelmirror cache c", {"clean"}),
        ("wheelmirror config s", {"set", "show"}),
    ],
)
def test_bash_completion_completes(tmp_path: Path, words: str, expected: set[str]) -> None:
    script = tmp_path / "wheelmirror.bash"
    script.write_text(completion_script("bash", build_parser()))
    parts = words.split()
    driver = (
        f"source {script}; COMP_WORDS=({' '.join(parts)}); COMP_CWORD={len(parts) - 1};"
        ' _wheelmirror; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        ["bash", "-c", driver], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert set(result.stdout.split()) == expected


def test_mirror_directory_is_named_by_mirror_and_positional_is_deprecated(
    mirror: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "--mirror", str(mirror)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert main(["index", str(mirror)]) == 0
    err = capsys.readouterr().err
    assert "warning: `wheelmirror index DIR` is deprecated: use `wheelmirror index --mirror DIR`" in err
    assert main(["index"]) == 2
    assert capsys.readouterr().err == "wheelmirror: error: no mirror directory: wheelmirror index --mirror DIR\n"
    assert main(["select", "--manifest", str(mirror), "--help"]) == 0
    assert "deprecated spelling of --mirror" in capsys.readouterr().out
