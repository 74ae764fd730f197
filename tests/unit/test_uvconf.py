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
