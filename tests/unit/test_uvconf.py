from __future__ import annotations

import pytest
import tomllib

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.installers.hashes import add_hashes
from poetry_wheelmirror.installers.uvconf import configure_uv
from poetry_wheelmirror.installers.uvconf import project_dependencies
from poetry_wheelmirror.installers.uvconf import remove_uv

URL = "http://127.0.0.1:8000/simple/"

PYPROJECT = """\
# my project
[project]
name = "demo"  # the name
version = "0.1"
dependencies = [
    "MarkupSafe==2.0.1",  # pinned: old Jinja
    "six>=1.16",
]

[project.optional-dependencies]
speed = ["crcmod==1.7; sys_platform == 'linux'"]

[dependency-groups]
dev = ["pytest", {include-group = "lint"}]
lint = ["ruff"]

[tool.ruff]
line-length = 88

[tool.uv]
# keep this comment
package = false
"""


def test_project_dependencies_covers_groups_and_extras():
    assert project_dependencies(PYPROJECT) == ["markupsafe", "six", "crcmod", "pytest", "ruff"]


def test_explicit_index_and_sources():
    change = configure_uv(PYPROJECT, URL, supported=["markupsafe", "crcmod"])
    assert change.changed
    assert change.text.startswith(PYPROJECT)  # every user line kept, ours appended
    uv = tomllib.loads(change.text)["tool"]["uv"]
    assert uv["index"] == [{"name": "wheelmirror", "url": URL, "explicit": True}]
    assert uv["sources"] == {"markupsafe": {"index": "wheelmirror"}, "crcmod": {"index": "wheelmirror"}}
    assert uv["package"] is False
    assert change.routed == ("markupsafe", "crcmod")


def test_idempotent_and_remove_round_trips():
    once = configure_uv(PYPROJECT, URL, supported=["markupsafe"])
    twice = configure_uv(once.text, URL, supported=["markupsafe"])
    assert not twice.changed
    assert twice.text == once.text
    assert remove_uv(once.text).text == PYPROJECT
    assert not remove_uv(PYPROJECT).changed


def test_routing_default_index_and_removal_of_created_tables():
    change = configure_uv("[project]\nname = 'x'\n", URL, routing=True)
    uv = tomllib.loads(change.text)["tool"]["uv"]
    assert uv == {"index": [{"name": "wheelmirror", "url": URL, "default": True}]}
    assert remove_uv(change.text).text == "[project]\nname = 'x'\n"


def test_existing_indexes_and_sources_are_kept():
    text = (
        '[tool.uv]\n[[tool.uv.index]]\nname = "corp"\nurl = "https://corp.example/simple/"\n\n'
        '[tool.uv.sources]\nmarkupsafe = { git = "https://example.com/markupsafe" }\n'
    )
    change = configure_uv(text, URL, supported=["markupsafe"])
    uv = tomllib.loads(change.text)["tool"]["uv"]
    assert [i["name"] for i in uv["index"]] == ["wheelmirror", "corp"]  # the mirror first
    assert uv["sources"]["markupsafe"] == {"git": "https://example.com/markupsafe"}
    assert any("already has a source" in n for n in change.notes)
    removed = tomllib.loads(remove_uv(change.text).text)["tool"]["uv"]
    assert [i["name"] for i in removed["index"]] == ["corp"]


def test_uv_toml_has_no_sources():
    change = configure_uv("", URL, supported=["markupsafe"], in_pyproject=False)
    data = tomllib.loads(change.text)
    assert data == {"index": [{"name": "wheelmirror", "url": URL}]}
    assert remove_uv(change.text, in_pyproject=False).text == ""


def test_invalid_toml_is_a_config_error():
    with pytest.raises(ConfigError, match="not valid TOML"):
        configure_uv("[tool\n", URL)


# -- wheelmirror hashes -------------------------------------------------------------------

EXPORTED = (
    "# poetry export --with-hashes\n"
    'markupsafe==2.0.1 ; python_version >= "3.9" \\\n'
    "    --hash=sha256:aaaa\n"
    'six==1.16.0 ; python_version >= "3.9" \\\n'
    "    --hash=sha256:bbbb \\\n"
    "    --hash=sha256:cccc\n"
)
MIRROR = {"markupsafe": {"2.0.1": ["1111", "2222"]}, "crcmod": {"1.7": ["3333"]}}


def test_hashes_are_appended_to_the_pinned_requirement():
    report = add_hashes(EXPORTED, MIRROR)
    assert report.text == (
        "# poetry export --with-hashes\n"
        'markupsafe==2.0.1 ; python_version >= "3.9" \\\n'
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:1111 \\\n"
        "    --hash=sha256:2222\n"
        'six==1.16.0 ; python_version >= "3.9" \\\n'
        "    --hash=sha256:bbbb \\\n"
        "    --hash=sha256:cccc\n"
    )
    assert report.added == (("markupsafe", "2.0.1", 2),)
    assert add_hashes(report.text, MIRROR).text == report.text  # idempotent


def test_hashes_other_versions_and_unhashed_lines():
    text = "MarkupSafe===2.0.0 --hash=sha256:aaaa\ncrcmod==1.7\n"
    report = add_hashes(text, MIRROR)
    assert report.not_on_mirror == ("markupsafe==2.0.0",)
    assert report.unhashed == ("crcmod==1.7",)
    assert report.text == "MarkupSafe===2.0.0 --hash=sha256:aaaa\ncrcmod==1.7 \\\n    --hash=sha256:3333\n"


def test_hashes_skip_a_requirement_ending_in_a_comment():
    report = add_hashes("markupsafe==2.0.1 --hash=sha256:aaaa  # pinned\n", MIRROR)
    assert report.skipped == ("markupsafe==2.0.1",)
    assert report.text == "markupsafe==2.0.1 --hash=sha256:aaaa  # pinned\n"


# -- issue 12: hostile shapes of the files uv-config edits -----------------------------------

INLINE_SHAPES = {
    "empty inline array": '[project]\nname = "x"\n\n[tool.uv]\nindex = []\n',
    "inline array with a user index": (
        '[tool.uv]\nindex = [{ name = "corp", url = "https://corp.example/simple/" }]\n'
    ),
    "multi-line inline array": (
        '[tool.uv]\nindex = [  # ours\n  { name = "corp", url = "https://corp.example/simple/" },\n]\n'
    ),
    "dotted key under [tool]": '[tool]\nuv.index = []\nuv.package = false\n',
    "dotted key at the top": 'tool.uv.index = [\n]\n',
}


@pytest.mark.parametrize("routing", [False, True])
@pytest.mark.parametrize("shape", sorted(INLINE_SHAPES))
def test_issue12_inline_index_arrays_stay_valid_toml(shape, routing):
    text = INLINE_SHAPES[shape]
    before = tomllib.loads(text)
    change = configure_uv(text, URL, supported=["six"], routing=routing)
    after = tomllib.loads(change.text)  # valid TOML
    indexes = after["tool"]["uv"]["index"]
    assert indexes[0]["name"] == "wheelmirror"
    assert indexes[0]["url"] == URL
    assert indexes[1:] == before["tool"]["uv"]["index"]
    assert not configure_uv(change.text, URL, supported=["six"], routing=routing).changed
    assert remove_uv(change.text).text == text  # byte for byte


@pytest.mark.parametrize("text", ["index = []\n", 'index = [{ name = "a", url = "https://a/" }]'])
def test_issue12_inline_index_arrays_in_uv_toml(text):
    change = configure_uv(text, URL, in_pyproject=False)
    assert tomllib.loads(change.text)["index"][0] == {"name": "wheelmirror", "url": URL}
    assert not configure_uv(change.text, URL, in_pyproject=False).changed
    assert remove_uv(change.text, in_pyproject=False).text == text


def test_issue12_crlf_bom_comments_and_no_final_newline_are_kept():
    text = "\ufeff# top\r\n[tool.uv]\r\npackage = false  # keep\r\nindex = []"
    change = configure_uv(text, URL, supported=["six"])
    assert change.text.startswith("\ufeff")
    assert "\n" not in change.text.replace("\r\n", "")  # every line ending is CRLF
    assert tomllib.loads(change.text[1:])["tool"]["uv"]["sources"] == {"six": {"index": "wheelmirror"}}
    assert remove_uv(change.text).text == text


def test_issue12_a_users_own_wheelmirror_index_is_never_touched():
    text = '[[tool.uv.index]]\nname = "wheelmirror"\nurl = "https://mine.example/simple/"\n'
    with pytest.raises(ConfigError, match="already has an index named 'wheelmirror'"):
        configure_uv(text, URL)
    assert not remove_uv(text).changed
    assert remove_uv(text).text == text


def test_issue12_a_hand_edited_block_is_not_removed_blindly():
    change = configure_uv('[project]\nname = "x"\n', URL, supported=["six"])
    edited = change.text.replace('explicit = true\n', 'explicit = true\nauthenticate = "always"\n')
    with pytest.raises(ConfigError, match="edited by hand"):
        remove_uv(edited)


def test_issue12_odd_pyproject_shapes_do_not_crash():
    odd = '[project]\ndependencies = "six"\noptional-dependencies = ["x"]\n[dependency-groups]\ndev = 5\n'
    assert project_dependencies(odd) == []
    with pytest.raises(ConfigError, match="not a table"):
        configure_uv("tool = 5\n", URL)
    with pytest.raises(ConfigError, match="not an array"):
        configure_uv("[tool.uv.index]\nname = 'x'\n", URL)


def test_issue12_hashes_on_a_file_ending_in_a_bare_backslash():
    report = add_hashes("crcmod==1.7 \\", MIRROR)
    assert report.text == "crcmod==1.7 \\\n    --hash=sha256:3333"
    assert "\\ \\" not in report.text
    report = add_hashes("crcmod==1.7 \\\n", MIRROR)
    assert report.text == "crcmod==1.7 \\\n    --hash=sha256:3333\n"
    assert add_hashes(report.text, MIRROR).text == report.text


# -- the uv-config command: file errors are one line, and the file is backed up ----------


def _uv(tmp_path, *args: str) -> int:
    from poetry_wheelmirror.cli.main import main

    return main(["uv-config", "--project", str(tmp_path), "--routing", "--mirror", "http://h:1/", *args])


def test_issue12_uv_config_backs_up_and_remove_restores_bytes(tmp_path, capsys):
    original = b'[project]\r\nname = "x"\r\n\r\n[tool.uv]\r\nindex = []'
    (tmp_path / "pyproject.toml").write_bytes(original)
    assert _uv(tmp_path) == 0
    assert (tmp_path / "pyproject.toml.bak").read_bytes() == original
    tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert _uv(tmp_path) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert _uv(tmp_path, "--remove") == 0
    assert (tmp_path / "pyproject.toml").read_bytes() == original


def test_issue12_uv_toml_created_and_deleted_but_an_empty_one_is_kept(tmp_path):
    assert _uv(tmp_path, "--uv-toml") == 0
    assert _uv(tmp_path, "--uv-toml", "--remove") == 0
    assert not (tmp_path / "uv.toml").exists()
    (tmp_path / "uv.toml").write_bytes(b"")
    assert _uv(tmp_path, "--uv-toml") == 0
    assert _uv(tmp_path, "--uv-toml", "--remove") == 0
    assert (tmp_path / "uv.toml").read_bytes() == b""


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b'[project]\nname = "\xff"\n'), "not UTF-8"),
        (lambda p: p.write_text("[tool\n"), "not valid TOML"),
        (lambda p: p.write_text("tool = 5\n"), "not a table"),
        (lambda p: p.write_text("a = " + "[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (lambda p: (p.write_text("[tool.uv]\n"), p.chmod(0o444)), "read-only"),
    ],
)
@pytest.mark.parametrize("remove", [False, True])
def test_issue12_uv_config_file_errors_are_one_line(tmp_path, capsys, make, expect, remove):
    make(tmp_path / "pyproject.toml")
    before = sorted((p.name, p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir())
    code = _uv(tmp_path, *(["--remove"] if remove else []))
    err = capsys.readouterr().err
    if remove and expect in ("not a table", "read-only"):
        assert code == 0  # nothing of ours in it: nothing to do, nothing changed
    else:
        assert code == 2
        assert expect in err
        assert len(err.strip().splitlines()) == 1, err
    assert sorted((p.name, p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir()) == before


def test_issue12_a_key_added_under_our_table_is_not_moved_by_a_rerun():
    change = configure_uv('[project]\nname = "x"\n', URL, routing=True)
    edited = change.text + 'authenticate = "always"\n'  # lands in our [[tool.uv.index]]
    with pytest.raises(ConfigError, match="move some of your settings"):
        configure_uv(edited, URL, routing=True)
    with pytest.raises(ConfigError, match="move some of your settings"):
        remove_uv(edited)


def test_issue12_a_file_damaged_by_the_old_writer_gets_a_precise_message():
    # Exactly what uv-config wrote before the fix for `[tool.uv]` / `index = []`.
    damaged = '[tool.uv]\nindex = [name = "wheelmirror"\nurl = "http://h/simple/"\ndefault = true\n]\n'
    for call in (lambda: configure_uv(damaged, URL), lambda: remove_uv(damaged)):
        with pytest.raises(ConfigError, match="an older wheelmirror uv-config wrote") as e:
            call()
        assert "\n" not in str(e.value)


def test_a_comment_line_ending_in_a_backslash_does_not_swallow_the_next_requirement():
    # Found by tests/property: pip does not continue a comment line (req_file.join_lines).
    report = add_hashes("# note \\\ncrcmod==1.7\n", MIRROR)
    assert report.text == "# note \\\ncrcmod==1.7 \\\n    --hash=sha256:3333\n"
