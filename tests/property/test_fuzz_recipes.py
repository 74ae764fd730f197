"""Property tests for the recipe parser: hostile TOML only ever raises a one-line RecipeError,
and whatever parses keeps the parser's promises (the builder passes these values to
subprocesses and environment variables)."""

from __future__ import annotations

import copy
import re
from typing import Any

import tomlkit
from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st

from devtools.fuzz import FUZZ
from devtools.oracles import PEP508_NAME
from poetry_wheelmirror.errors import RecipeError
from poetry_wheelmirror.mirror.recipes import Recipe
from poetry_wheelmirror.mirror.recipes import parse_recipe

#: The platforms a recipe may name, written out here rather than read from the parser.
KNOWN_PLATFORMS = frozenset({"linux-aarch64", "linux-x86_64", "macos-arm64", "macos-x86_64"})

VALID: dict[str, Any] = {
    "name": "grpcio",
    "versions": ["1.48.2"],
    "specifier": ">=1.48,<1.49",
    "python": ["3.11", "3.12"],
    "platforms": ["linux-x86_64", "macos-arm64"],
    "build": {
        "requires": ["Cython<3"],
        "constraints": ["setuptools<70"],
        "env": {"GRPC_PYTHON_BUILD_WITH_CYTHON": "1"},
        "before-build": ["echo hi"],
        "strip": True,
        "import-check": "grpc",
        "timeout-minutes": 60,
        "system-packages": {"linux": ["libssl-dev"], "macos": ["openssl"]},
    },
}

toml_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
toml_scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | toml_text
    | st.sampled_from(["3.11\n", "FOO\n", "json\n", "a\x00b", "linux-x86_64\n", "-o", "x;y"])
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(toml_text, inner, max_size=3),
    max_leaves=10,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


PATHS = paths(VALID)


def parse_quietly(text: str) -> Recipe | None:
    try:
        return parse_recipe(text, source="fuzz.toml")
    except RecipeError as e:
        error = str(e)
    assert "\n" not in error, error
    assert error.startswith("fuzz.toml")
    return None


def check_promises(recipe: Recipe) -> None:
    assert PEP508_NAME.fullmatch(recipe.name), recipe.name
    assert recipe.versions or recipe.specifier is not None
    assert recipe.pythons
    for python in recipe.pythons:
        assert re.fullmatch(r"3\.\d{1,2}", python), python
    assert recipe.platforms
    assert set(recipe.platforms) <= KNOWN_PLATFORMS
    for key, value in recipe.build.env.items():
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), key
        assert "\x00" not in value  # os.environ / subprocess refuse NUL
    if recipe.build.import_check is not None:
        assert re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", recipe.build.import_check, re.ASCII)
    assert 1 <= recipe.build.timeout_minutes <= 360


def mutate(path: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    parent: Any = data
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@FUZZ
@given(st.text(max_size=200))
@example("a = " + "[" * 100_000)
@example("a = " + "{x=" * 100_000)
@example('name = "x\\n"\nversions = ["1.0"]')
def test_arbitrary_text_only_raises_recipe_error(text: str) -> None:
    recipe = parse_quietly(text)
    if recipe is not None:
        check_promises(recipe)


@FUZZ
@given(st.sampled_from(PATHS), toml_values, st.booleans())
@example(("build", "env"), {"FOO\n": "1"}, False)
@example(("build", "env"), {"FOO": "a\x00b"}, False)
@example(("python",), ["3.11\n"], False)
@example(("build", "import-check"), "json\n", False)
@example(("build", "unknown\nkey"), 1, False)
def test_mutated_recipe_parses_safely(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    data = mutate(path, value, delete)
    try:
        text = tomlkit.dumps(data)
    except (ValueError, TypeError):  # a value TOML cannot hold
        assume(False)
    recipe = parse_quietly(text)
    if recipe is not None:
        check_promises(recipe)


def test_valid_recipe_parses() -> None:
    recipe = parse_quietly(tomlkit.dumps(VALID))
    assert recipe is not None
    check_promises(recipe)
