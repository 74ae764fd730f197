from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from poetry_wheelmirror.errors import RecipeError
from poetry_wheelmirror.mirror.recipes import TARGETS
from poetry_wheelmirror.mirror.recipes import load_recipe
from poetry_wheelmirror.mirror.recipes import load_recipes
from poetry_wheelmirror.mirror.recipes import parse_recipe

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "poetry_wheelmirror" / "schema" / "recipe-v1.schema.json").read_text())


def test_shipped_recipes_parse_and_match_the_schema() -> None:
    recipes = load_recipes(REPO / "recipes")
    assert set(recipes) == {
        "grpcio",
        "grpcio-tools",
        "lxml",
        "markupsafe",
        "crcmod",
        "ruamel-yaml-clib",
    }
    for path in sorted((REPO / "recipes").glob("*.toml")):
        jsonschema.validate(tomllib.loads(path.read_text()), SCHEMA)


def test_grpcio_recipe_carries_the_known_fixes() -> None:
    grpcio = load_recipe(REPO / "recipes" / "grpcio.toml")
    assert grpcio.wants("1.48.2")
    assert not grpcio.wants("1.48.1")
    assert set(grpcio.build.constraints) == {"setuptools<70", "Cython<3"}
    assert "Cython<3" in grpcio.build.requires
    assert grpcio.build.env["GRPC_PYTHON_BUILD_WITH_CYTHON"] == "1"
    assert grpcio.build.strip


def test_specifier_and_explicit_versions_combine() -> None:
    recipe = parse_recipe('name = "Foo_Bar"\nversions = ["1.0"]\nspecifier = ">=2,<3"\n')
    assert recipe.name == "foo-bar"
    assert recipe.select_versions(["0.9", "1.0.0", "2.1", "3.0", "2.2rc1"]) == ["1.0.0", "2.1"]


def test_defaults_and_targets() -> None:
    recipe = parse_recipe('name = "x"\nversions = ["1"]\n')
    assert recipe.pythons[0] == "3.9"
    assert [t.runner for t in recipe.targets()] == [
        "ubuntu-24.04",
        "ubuntu-24.04-arm",
        "macos-15",
        "macos-15-intel",
    ]
    assert TARGETS["macos-arm64"].cibw_platform == "macosx_arm64"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n', "versions: give an explicit versions list and/or a specifier"),
        ('name = "x"\nversions = ["1"]\ncolour = 1\n', "colour: unknown key"),
        ('name = "x"\nversions = ["one"]\n', "versions: invalid version 'one'"),
        ('name = "x"\nspecifier = ">>1"\n', "specifier: invalid version specifier"),
        ('name = "x"\nversions = ["1"]\npython = ["3.11", "2.7.1"]\n', "python: expected CPython"),
        ('name = "x"\nversions = ["1"]\nplatforms = ["windows"]\n', "platforms: unknown platform"),
        ('name = "x"\nversions = ["1"]\n[build]\nstrip = "yes"\n', "build.strip: expected true"),
        (
            'name = "x"\nversions = ["1"]\n[build]\nconstraints = ["Cython<<3"]\n',
            "build.constraints: invalid requirement",
        ),
        (
            'name = "x"\nversions = ["1"]\n[build.env]\nJOBS = 2\n',
            "build.env.JOBS: expected a string",
        ),
        ('name = "x"\nversions = ["1"]\n[build]\nimport-check = "a-b"\n', "build.import-check"),
        (
            'name = "x"\nversions = ["1"]\n[build.system-packages]\nwin = []\n',
            "build.system-packages.win: unknown key",
        ),
        (
            'name = "x"\nversions = ["1"]\n[build]\ncpython-compat = 1\n',
            "build.cpython-compat: expected true or false",
        ),
        (
            'name = "x"\nversions = ["1"]\n[build]\nbackend = "pip"\n',
            'build.backend: expected "uv" or "build", got \'pip\'',
        ),
        (
            'name = "x"\nversions = ["1"]\n[build]\nimport-check-requires = ["a b"]\n',
            "build.import-check-requires: invalid requirement 'a b'",
        ),
        ('name = "-x"\nversions = ["1"]\n', "name: missing or invalid project name"),
        ('name = "x"\nversions = [1', "not valid TOML"),
    ],
)
def test_bad_recipes_fail_with_one_line(text: str, message: str) -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, source="r.toml")
    assert str(info.value).startswith("r.toml: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_file_name_must_match(tmp_path: Path) -> None:
    (tmp_path / "other.toml").write_text('name = "x"\nversions = ["1"]\n')
    with pytest.raises(RecipeError, match=r"must be named x\.toml"):
        load_recipes(tmp_path)
