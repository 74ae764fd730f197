"""One exit-status table: errors.EXIT_CODES, `wheelmirror --help` and the docs agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from poetry_wheelmirror import errors
from poetry_wheelmirror.cli.main import build_parser
from poetry_wheelmirror.cli.main import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"


def test_every_error_class_has_a_documented_status() -> None:
    documented = dict(errors.EXIT_CODES)
    classes = [getattr(errors, n) for n in errors.__all__ if n.endswith("Error")]
    for cls in classes:
        assert cls.exit_code in documented, cls
    assert len(documented) == len(errors.EXIT_CODES)  # no status listed twice


def test_help_epilog_and_docs_list_the_same_table() -> None:
    help_text = build_parser().format_help()
    for code, meaning in errors.EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", help_text, re.M), code
    doc_rows = re.findall(r"^\| (\d+) \| (.+) \|$", DOC.read_text(), re.M)
    assert [(int(c), m) for c, m in doc_rows] == list(errors.EXIT_CODES)


def test_an_unexpected_exception_is_one_line_and_status_70(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A bug stand-in: the config command's handler fails in a way nobody planned for.
    monkeypatch.setattr(
        "poetry_wheelmirror.cli.config_cmd.effective_settings",
        lambda *a: {}["no such key"],
    )
    monkeypatch.delenv("WHEELMIRROR_TRACEBACK", raising=False)
    assert main(["config"]) == errors.INTERNAL_ERROR_EXIT
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("wheelmirror: internal error: KeyError: 'no such key' (a bug")


def test_a_broken_user_config_path_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("WHEELMIRROR_CONFIG", str(blocker / "config.toml"))
    assert main(["config", "set", "url", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot read the user config" in err
    assert err.rstrip().endswith("Not a directory")
    assert blocker.read_text() == "x"


def test_a_file_system_error_is_one_line_and_status_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: object) -> None:
        raise PermissionError(13, "Permission denied", "/srv/mirror/manifest.json")

    monkeypatch.setattr("poetry_wheelmirror.cli.config_cmd.effective_settings", denied)
    assert main(["config"]) == 1
    assert capsys.readouterr().err == (
        "wheelmirror: error: Permission denied: /srv/mirror/manifest.json\n"
    )
