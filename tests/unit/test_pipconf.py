from __future__ import annotations

import configparser
import os
from pathlib import Path

import pytest

from poetry_wheelmirror.cli.main import main
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.installers.pipconf import ADDED_MARK
from poetry_wheelmirror.installers.pipconf import DISABLED_MARK
from poetry_wheelmirror.installers.pipconf import add_mirror
from poetry_wheelmirror.installers.pipconf import remove_mirror
from poetry_wheelmirror.installers.pipfiles import config_path
from poetry_wheelmirror.installers.pipfiles import write_config

URL = "http://127.0.0.1:8000/simple/"

REALISTIC = """\
# pip configuration for the data team
; maintained by hand, please keep the comments

[global]
# corporate proxy and CA
timeout = 60
cert = /etc/ssl/certs/corp-ca.pem
extra-index-url =
    https://pkgs.corp.example/simple/
    # the ML team's index
    https://ml.corp.example/simple/
trusted-host = pkgs.corp.example

[install]
; never build from source on CI
prefer-binary = true
no-warn-script-location = true

[freeze]
timeout = 10
"""


def _pip_read(text: str) -> configparser.RawConfigParser:
    # How pip reads its files (pip/_internal/configuration.py).
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def _values(value: str) -> list[str]:
    return value.split()


@pytest.mark.parametrize("mode", ["extra", "routing"])
def test_add_to_empty_file_and_remove(mode):
    change = add_mirror("", URL, mode)  # type: ignore[arg-type]
    key = "extra-index-url" if mode == "extra" else "index-url"
    assert _pip_read(change.text)["global"][key] == URL
    assert remove_mirror(change.text).text == ""


def test_realistic_file_keeps_every_line_and_is_read_by_pip():
    change = add_mirror(REALISTIC, URL, "extra")
    assert change.changed
    new_lines = change.text.splitlines()
    # Every original line is still there, in order.
    it = iter(new_lines)
    assert all(any(line == n for n in it) for line in REALISTIC.splitlines())
    parsed = _pip_read(change.text)
    assert _values(parsed["global"]["extra-index-url"]) == [
        "https://pkgs.corp.example/simple/",
        "https://ml.corp.example/simple/",
        URL,
    ]
    assert parsed["install"]["prefer-binary"] == "true"
    assert remove_mirror(change.text).text == REALISTIC


def test_idempotent():
    once = add_mirror(REALISTIC, URL, "extra")
    twice = add_mirror(once.text, URL, "extra")
    assert not twice.changed
    assert twice.text == once.text


def test_new_url_replaces_ours_only():
    once = add_mirror(REALISTIC, URL, "extra")
    other = add_mirror(once.text, "https://mirror.example/simple/", "extra")
    assert URL not in other.text
    assert other.text.count(ADDED_MARK) == 1
    assert remove_mirror(other.text).text == REALISTIC


def test_routing_disables_and_restores_users_index_url():
    text = "[global]\nindex-url = https://corp.example/simple/\ntimeout = 5\n"
    change = add_mirror(text, URL, "routing")
    assert change.replaced == ("index-url = https://corp.example/simple/",)
    assert DISABLED_MARK + "index-url = https://corp.example/simple/" in change.text
    assert _pip_read(change.text)["global"]["index-url"] == URL
    assert remove_mirror(change.text).text == text


def test_underscore_and_case_spelling_is_the_same_option():
    text = "[global]\nExtra_Index_URL = https://corp.example/simple/\n"
    change = add_mirror(text, URL, "extra")
    assert _values(_pip_read(change.text)["global"]["extra_index_url"])[-1] == URL


@pytest.mark.parametrize(
    "text",
    [
        "[install]\nprefer-binary = yes",  # no newline at the end, no [global]
        "[global]\r\ntimeout = 5\r\n",  # CRLF
        "[global]\nextra-index-url = https://a.example/simple/",  # value on the last line
        "\n\n# only comments\n",
        "[global]",  # found by tests/property: the header is the last line, no newline
        "[ global ]\r\ntimeout = 5",
    ],
)
def test_round_trip_is_byte_exact(text):
    change = add_mirror(text, URL, "extra")
    _pip_read(change.text)
    assert remove_mirror(change.text).text == text


def test_crlf_is_kept():
    change = add_mirror("[global]\r\ntimeout = 5\r\n", URL, "extra")
    assert "\n" not in change.text.replace("\r\n", "")


def test_user_edits_after_add_survive_remove():
    change = add_mirror("", URL, "extra")
    edited = change.text + "timeout = 30\n"
    removed = remove_mirror(edited).text
    assert _pip_read(removed)["global"]["timeout"] == "30"
    assert URL not in removed


def test_command_section_override_is_reported():
    text = "[install]\nextra-index-url = https://x.example/simple/\n"
    change = add_mirror(text, URL, "extra")
    assert any("[install]" in note for note in change.notes)


def test_remove_without_marks_changes_nothing():
    assert not remove_mirror(REALISTIC).changed


def test_bad_url():
    with pytest.raises(ConfigError):
        add_mirror("", "http://a b/", "extra")


# -- writing the file and the command ----------------------------------------------------


def test_write_is_atomic_keeps_mode_and_backs_up(tmp_path: Path, monkeypatch):
    conf = tmp_path / "pip.conf"
    conf.write_text(REALISTIC)
    conf.chmod(0o640)

    def boom(src: str, dst: str) -> None:
        raise OSError("killed midway")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ConfigError, match="killed midway"):
        write_config(conf, "[global]\n")
    assert conf.read_text() == REALISTIC  # the user's file is intact
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    (tmp_path / "pip.conf.bak").unlink()
    saved = write_config(conf, "[global]\n")
    assert saved == tmp_path / "pip.conf.bak"
    assert saved.read_text() == REALISTIC
    assert conf.stat().st_mode & 0o777 == 0o640
    second = write_config(conf, "[global]\ntimeout = 1\n")
    assert second is not None
    assert second.name.startswith("pip.conf.")
    assert second != saved


def test_symlinked_config_is_written_through(tmp_path: Path):
    real = tmp_path / "dotfiles" / "pip.conf"
    real.parent.mkdir()
    real.write_text("[global]\n")
    link = tmp_path / "pip.conf"
    link.symlink_to(real)
    write_config(link, "[global]\ntimeout = 5\n", backup=False)
    assert link.is_symlink()
    assert real.read_text() == "[global]\ntimeout = 5\n"


def test_venv_target_needs_an_active_venv():
    with pytest.raises(ConfigError, match="no virtual environment is active"):
        config_path("venv", {})
    assert config_path("venv", {"VIRTUAL_ENV": "/v"}) == Path("/v/pip.conf")


def test_cli_print_and_warnings(capsys, monkeypatch):
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://other.example/simple/")
    assert main(["pip-config", "--print", "--mirror", "http://127.0.0.1:8000"]) == 0
    out, err = capsys.readouterr()
    assert out == "[global]\nextra-index-url = http://127.0.0.1:8000/simple/\n"
    assert "PIP_EXTRA_INDEX_URL is set" in err
    assert "replaces" in err
    assert "wheelmirror hashes" in err
    assert main(["pip-config", "--print", "--mode", "routing", "--mirror", "http://h:1/"]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("index-url = http://h:1/simple/\n")
    assert "no dependency confusion" in err


def test_cli_file_round_trip(tmp_path: Path, capsys):
    conf = tmp_path / "pip.conf"
    conf.write_text(REALISTIC)
    args = ["pip-config", "--file", str(conf), "--mirror", "http://127.0.0.1:8000/"]
    assert main(args) == 0
    assert main(args) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert main(["pip-config", "--file", str(conf), "--remove"]) == 0
    assert conf.read_text() == REALISTIC


# -- issue 12 ----------------------------------------------------------------------------


def _pip_read_like_pip(text: str) -> configparser.RawConfigParser:
    # pip opens the file in text mode (universal newlines) and reads it with RawConfigParser.
    import io

    parser = configparser.RawConfigParser()
    parser.read_file(io.StringIO(text, newline=None))
    return parser


@pytest.mark.parametrize("mode", ["extra", "routing"])
def test_issue12_spaced_section_name_is_another_section_for_pip(mode):
    text = "[ global ]\ntimeout = 5\n"
    change = add_mirror(text, URL, mode)  # type: ignore[arg-type]
    parsed = _pip_read_like_pip(change.text)
    key = "extra-index-url" if mode == "extra" else "index-url"
    assert parsed["global"][key] == URL  # pip reads [global], not "[ global ]"
    assert dict(parsed[" global "]) == {"timeout": "5"}
    assert remove_mirror(change.text).text == text


def test_issue12_a_line_added_right_after_the_marker_survives_remove():
    change = add_mirror("[global]\ntimeout = 5\n", URL, "extra")
    lines = change.text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(ADDED_MARK)) + 1
    edited = "".join([*lines[:at], "retries = 9\n", *lines[at:]])
    removed = remove_mirror(edited).text
    assert URL not in removed
    assert _pip_read_like_pip(removed)["global"]["retries"] == "9"


def _cli(*args: str) -> int:
    return main(["pip-config", *args, "--mirror", "http://127.0.0.1:8000/"])


def test_issue12_read_only_pip_conf_is_refused(tmp_path: Path, capsys):
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\ntimeout = 5\n")
    conf.chmod(0o444)
    assert _cli("--file", str(conf)) == 2
    err = capsys.readouterr().err
    assert "read-only" in err
    assert len(err.strip().splitlines()) == 1
    assert conf.read_text() == "[global]\ntimeout = 5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pip.conf"]


def test_issue12_a_pre_existing_empty_pip_conf_is_kept_by_remove(tmp_path: Path):
    conf = tmp_path / "pip.conf"
    conf.write_bytes(b"")
    assert _cli("--file", str(conf), "--no-backup") == 0
    assert main(["pip-config", "--file", str(conf), "--remove", "--no-backup"]) == 0
    assert conf.read_bytes() == b""
    created = tmp_path / "new" / "pip.conf"
    assert _cli("--file", str(created)) == 0
    assert main(["pip-config", "--file", str(created), "--remove"]) == 0
    assert not created.exists()  # the file pip-config created is deleted again


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"[global]\ntimeout = \xff\n"), "not UTF-8"),
        (lambda p: p.write_text("[global\ntimeout = 5\n"), "not a valid pip configuration"),
        (lambda p: p.write_text("[global]\na = 1\na = 2\n"), "not a valid pip configuration"),
    ],
)
@pytest.mark.parametrize("remove", [False, True])
def test_issue12_file_errors_are_one_line_and_change_nothing(
    tmp_path: Path, capsys, make, expect, remove
):
    conf = tmp_path / "pip.conf"
    make(conf)
    before = sorted((p.name, p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir())
    args = ["pip-config", "--file", str(conf)] + (
        ["--remove"] if remove else ["--mirror", "http://h:1/"]
    )
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expect in err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted((p.name, p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir()) == before


def test_issue12_parent_is_a_file_is_one_line(tmp_path: Path, capsys):
    (tmp_path / "f").write_text("x")
    assert _cli("--file", str(tmp_path / "f" / "pip.conf")) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_issue12_remove_refuses_when_it_would_change_a_users_setting():
    change = add_mirror("[global]\ntimeout = 5\n", URL, "extra")
    # The user continued *our* value with their own index: removing our line would turn
    # theirs into a stray option; refuse, say so in one line, keep the file.
    edited = change.text.replace(
        f"extra-index-url = {URL}\n",
        f"extra-index-url = {URL}\n    https://theirs.example/simple/\n",
    )
    with pytest.raises(ConfigError, match="change how pip reads your own settings"):
        remove_mirror(edited)
    with pytest.raises(ConfigError, match="change how pip reads your own settings"):
        add_mirror(edited, URL, "extra")


# Files written by pip-config before issue 12 (markers without the URL): exactly what
# the previous version wrote for each original text.
_MARK = "# wheelmirror: added the next line (undo: wheelmirror pip-config --remove)"
LEGACY = [
    ("[global]\ntimeout = 5\n", f"[global]\n{_MARK}\nextra-index-url = {URL}\ntimeout = 5\n"),
    ("", f"{_MARK}\n[global]\n{_MARK}\nextra-index-url = {URL}\n"),
    (
        "[global]\nindex-url = https://corp.example/simple/\n",
        f"[global]\n{_MARK}\nindex-url = {URL}\n"
        "#wheelmirror-disabled# index-url = https://corp.example/simple/\n",
    ),
    (
        "[global]\nextra-index-url = https://a.example/simple/",
        "[global]\nextra-index-url = https://a.example/simple/\n"
        f"    {_MARK} [no newline at end of file before]\n    {URL}\n",
    ),
]


@pytest.mark.parametrize(("original", "written"), LEGACY)
def test_files_from_the_previous_version_are_still_undone(original, written):
    assert remove_mirror(written).text == original
    # A re-run after the upgrade rewrites the markers (with the URL); still undone exactly.
    again = add_mirror(written, URL, "extra" if "extra-index" in written else "routing")
    assert remove_mirror(again.text).text == original


def test_issue12_an_unreadable_file_is_one_line(capsys):
    # Root reads anything, so permission denied cannot be staged here; /proc/self/mem
    # gives a real read error (EIO) through the same path.
    assert _cli("--file", "/proc/self/mem") == 2
    err = capsys.readouterr().err
    assert err.startswith("wheelmirror: error: cannot read /proc/self/mem:")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["http://[::1]:8000/simple/", "http://[::1]:8000/x]/simple/"])
def test_ipv6_mirror_urls_round_trip(url):
    for text in ("", "[global]\nextra-index-url = https://a.example/simple/\n"):
        change = add_mirror(text, url, "extra", new_file=not text)
        assert _values(_pip_read(change.text)["global"]["extra-index-url"])[-1] == url
        assert not add_mirror(change.text, url, "extra").changed
        removed = remove_mirror(change.text)
        assert removed.text == text
        assert removed.delete_file == (not text)


def test_a_user_option_inserted_after_our_continuation_marker_is_kept_by_remove():
    # Found by tests/property (ci-long): the user's option now owns our URL line as its
    # continuation; taking our line out leaves their value exactly as they wrote it.
    text = "[global]\nextra-index-url = 60"
    lines = add_mirror(text, URL, "extra").text.splitlines(keepends=True)
    edited = "".join([*lines[:3], "retries = 9\n", *lines[3:]])
    assert _pip_read_like_pip(edited)["global"]["retries"] == f"9\n{URL}"
    removed = remove_mirror(edited).text
    assert URL not in removed
    assert _pip_read_like_pip(removed)["global"] == {"extra-index-url": "60", "retries": "9"}


def test_remove_refuses_when_a_user_line_splits_their_disabled_index_url():
    # Found by tests/property: the user put a line between their own index-url (switched
    # off by routing mode) and its continuation line. Put back as they were, the
    # continuation would belong to the new line (configparser: retries "9\n60", index-url
    # "60"), so no removal keeps both the user's line and their index-url: refuse.
    text = "[global]\ntimeout = 60\nindex-url = 60\n    60\nextra-index-url = 60"
    lines = add_mirror(text, URL, "routing").text.splitlines(keepends=True)
    assert lines[4:6] == [f"{DISABLED_MARK}index-url = 60\n", f"{DISABLED_MARK}    60\n"]
    edited = "".join([*lines[:5], "retries = 9\n", *lines[5:]])
    assert _pip_read_like_pip(edited)["global"]["retries"] == "9"
    users_own = "[global]\ntimeout = 60\nindex-url = 60\nretries = 9\n    60\nextra-index-url = 60"
    assert _pip_read_like_pip(users_own)["global"]["index-url"] == "60"
    assert _pip_read_like_pip(users_own)["global"]["retries"] == "9\n60"
    with pytest.raises(ConfigError, match="change how pip reads your own settings") as refused:
        remove_mirror(edited)
    assert "\n" not in str(refused.value)
    # The same line above the user's index-url splits nothing: removed, line kept.
    edited = "".join([*lines[:4], "retries = 9\n", *lines[4:]])
    kept = "[global]\ntimeout = 60\nretries = 9\nindex-url = 60\n    60\nextra-index-url = 60"
    assert remove_mirror(edited).text == kept
