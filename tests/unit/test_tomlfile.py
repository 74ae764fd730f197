"""tomlfile.py: one TOML loader with one-line errors, deep nesting included."""

from __future__ import annotations

from pathlib import Path

import pytest

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import RecipeError
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.tomlfile import load_toml
from poetry_wheelmirror.tomlfile import parse_toml


def test_valid_toml_parses() -> None:
    assert parse_toml('a = [1, {b = "c"}]', "x.toml") == {"a": [1, {"b": "c"}]}


def test_invalid_toml_is_one_line_naming_the_source() -> None:
    with pytest.raises(ConfigError, match=r"^x\.toml: not valid TOML \(") as info:
        parse_toml("a = ", "x.toml")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("error", [ConfigError, RecipeError])
def test_deep_nesting_is_an_error_not_a_recursion_traceback(error: type[WheelmirrorError]) -> None:
    with pytest.raises(error, match="nested too deeply"):
        parse_toml("a = " + "[" * 100_000, "deep.toml", error=error)


def test_a_deeply_nested_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "uv.toml"
    path.write_text("x = " + "{y = " * 50_000)
    with pytest.raises(ConfigError, match=r"uv\.toml: not valid TOML"):
        load_toml(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_toml(tmp_path / "missing.toml")
