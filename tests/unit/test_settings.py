"""settings.py: [tool.poetry-wheelmirror], environment variables and defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomlkit

from poetry_wheelmirror.config import DEFAULT_MIRROR_REPOSITORY
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import DEFAULT_MIRROR_WORKFLOW
from poetry_wheelmirror.config import DEFAULT_URL_ENV
from poetry_wheelmirror.config import write_user_setting
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.selection import supported_tags
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.settings import cache_dir_for
from poetry_wheelmirror.settings import load_settings
from poetry_wheelmirror.settings import tool_table


def table(text: str) -> object:
    return tool_table(tomlkit.parse(text).unwrap())


def test_defaults() -> None:
    settings = load_settings(None, {})
    assert settings.url == PluginSettings().url == DEFAULT_MIRROR_URL
    assert settings.url_source == "default"
    assert settings.builtin_default
    assert settings.enabled
    # Nobody configured the default: only wheels its pinned workflow built are used.
    assert (settings.provenance, settings.expected_repository(), settings.provenance_workflow) == (
        "require",
        DEFAULT_MIRROR_REPOSITORY,
        DEFAULT_MIRROR_WORKFLOW,
    )


@pytest.mark.parametrize(
    "toml",
    [
        '[tool.poetry-wheelmirror]\nprovenance = "off"\n',
        '[tool.poetry-wheelmirror]\nprovenance = "warn"\nprovenance-repository = "evil/fork"\n',
        '[tool.poetry-wheelmirror]\nprovenance-workflow = ".github/workflows/other.yml"\n',
    ],
)
def test_the_default_mirror_is_always_held_to_the_pinned_identity(toml: str) -> None:
    for environ in ({}, {"POETRY_WHEELMIRROR_PROVENANCE": "off"}, {DEFAULT_URL_ENV: "http://127.0.0.1:9/"}):
        settings = load_settings(table(toml), environ)  # type: ignore[arg-type]
        assert settings.builtin_default
        assert settings.provenance == "require"
        assert settings.expected_repository() == DEFAULT_MIRROR_REPOSITORY
        assert settings.provenance_workflow == DEFAULT_MIRROR_WORKFLOW
    moved = load_settings(table(toml), {DEFAULT_URL_ENV: "http://127.0.0.1:9/"})  # type: ignore[arg-type]
    assert moved.url == "http://127.0.0.1:9/"


def test_a_configured_mirror_keeps_its_own_provenance_settings(tmp_path: Path) -> None:
    toml = '[tool.poetry-wheelmirror]\nurl = "https://m/"\nprovenance = "off"\n'
    settings = load_settings(table(toml), {})  # type: ignore[arg-type]
    assert (settings.url_source, settings.provenance) == ("pyproject", "off")


def test_the_user_config_file_sits_between_the_project_and_the_default(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    assert load_settings(None, environ).url_source == "default"
    path = write_user_setting("url", "https://mine.example/m/", environ)
    assert path == tmp_path / "xdg" / "poetry-wheelmirror" / "config.toml"
    settings = load_settings(None, environ)
    assert (settings.url, settings.url_source, settings.provenance) == (
        "https://mine.example/m/",
        "user",
        "off",
    )
    project = load_settings(table('[tool.poetry-wheelmirror]\nurl = "https://p/"\n'), environ)  # type: ignore[arg-type]
    assert project.url_source == "pyproject"
    assert load_settings(None, {**environ, "POETRY_WHEELMIRROR_URL": "https://e/"}).url_source == "env"
    write_user_setting("url", None, environ)
    assert load_settings(None, environ).url_source == "default"
    path.write_text("url = [1]\n")
    with pytest.raises(ConfigError, match="url must be a non-empty string"):
        load_settings(None, environ)


@pytest.mark.parametrize(
    ("toml", "environ", "url", "source"),
    [
        ('[tool.poetry-wheelmirror]\nurl = "https://m/"\n', {}, "https://m/", "pyproject"),
        ("", {"POETRY_WHEELMIRROR_URL": "file:///m"}, "file:///m", "env"),
        (
            '[tool.poetry-wheelmirror]\nurl = "https://m/"\n',
            {"POETRY_WHEELMIRROR_URL": " http://127.0.0.1:8/ "},
            "http://127.0.0.1:8/",
            "env",
        ),
        (
            '[tool.poetry-wheelmirror]\nurl = "https://m/"\n',
            {"POETRY_WHEELMIRROR_URL": ""},
            "https://m/",
            "pyproject",
        ),
        ("[tool.other]\nx = 1\n", {}, DEFAULT_MIRROR_URL, "default"),
    ],
)
def test_url_precedence_env_over_pyproject_over_default(
    toml: str, environ: dict[str, str], url: str, source: str
) -> None:
    settings = load_settings(table(toml), environ)  # type: ignore[arg-type]
    assert (settings.url, settings.url_source) == (url, source)


@pytest.mark.parametrize(
    ("toml", "environ", "enabled", "reason"),
    [
        ("[tool.poetry-wheelmirror]\nenabled = false\n", {}, False, "enabled = false"),
        (
            "[tool.poetry-wheelmirror]\nenabled = true\n",
            {"POETRY_WHEELMIRROR_DISABLE": "1"},
            False,
            "POETRY_WHEELMIRROR_DISABLE=1",
        ),
        ("", {"POETRY_WHEELMIRROR_DISABLE": "true"}, False, "POETRY_WHEELMIRROR_DISABLE=true"),
        ("", {"POETRY_WHEELMIRROR_DISABLE": "0"}, True, ""),
        ("", {"POETRY_WHEELMIRROR_DISABLE": ""}, True, ""),
        ("[tool.poetry-wheelmirror]\nenabled = true\n", {}, True, ""),
    ],
)
def test_enabled(toml: str, environ: dict[str, str], enabled: bool, reason: str) -> None:
    settings = load_settings(table(toml), environ)  # type: ignore[arg-type]
    assert settings.enabled is enabled
    assert reason in settings.disabled_reason


def test_packages_allow_deny() -> None:
    settings = load_settings(
        table(
            '[tool.poetry-wheelmirror]\npackages = { allow = ["MarkupSafe", "grpc_io"], deny = ["lxml"] }\n'
        ),  # type: ignore[arg-type]
        {},
    )
    assert settings.package_problem("markupsafe") is None
    assert settings.package_problem("GRPC-IO") is None
    assert "packages.deny" in (settings.package_problem("LXML") or "")
    assert "packages.allow" in (settings.package_problem("six") or "")
    as_list = load_settings(table('[tool.poetry-wheelmirror]\npackages = ["markupsafe"]\n'), {})  # type: ignore[arg-type]
    assert as_list.package_problem("six") is not None
    assert as_list.package_problem("markupsafe") is None


def test_platforms() -> None:
    linux = supported_tags("3.11", "manylinux_2_28_x86_64")
    mac = supported_tags("3.11", "macosx_14_0_arm64")
    settings = load_settings(table('[tool.poetry-wheelmirror]\nplatforms = ["macos-arm64"]\n'), {})  # type: ignore[arg-type]
    assert settings.platform_problem(mac) is None
    assert "not in [tool.poetry-wheelmirror] platforms (macos-arm64)" in (
        settings.platform_problem(linux) or ""
    )
    tagged = load_settings(
        table('[tool.poetry-wheelmirror]\nplatforms = ["manylinux_2_17_x86_64"]\n'), {}
    )  # type: ignore[arg-type]
    assert tagged.platform_problem(linux) is None
    assert tagged.platform_problem(mac) is not None
    assert PluginSettings().platform_problem(linux) is None


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.poetry-wheelmirror]\nurl = 3\n", "url must be a non-empty string"),
        ('[tool.poetry-wheelmirror]\nurl = "  "\n', "url must be a non-empty string"),
        ('[tool.poetry-wheelmirror]\nenabled = "no"\n', "enabled must be true or false"),
        ('[tool.poetry-wheelmirror]\nmirror = "x"\n', "unknown key 'mirror'"),
        (
            '[tool.poetry-wheelmirror]\npackages = "markupsafe"\n',
            "packages must be a list or a table",
        ),
        (
            '[tool.poetry-wheelmirror]\npackages = ["bad name!"]\n',
            "invalid package name 'bad name!'",
        ),
        (
            "[tool.poetry-wheelmirror]\npackages = { allow = [1] }\n",
            "packages.allow must be a list",
        ),
        ('[tool.poetry-wheelmirror]\npackages = { only = ["x"] }\n', "unknown key 'only'"),
        ('[tool.poetry-wheelmirror]\nplatforms = "linux"\n', "platforms must be a list"),
        (
            '[tool.poetry-wheelmirror]\nplatforms = ["macosx_x_arm64"]\n',
            "platforms: unknown platform 'macosx_x_arm64'",
        ),
        (
            '[tool.poetry-wheelmirror]\nplatforms = ["macos-arm"]\n',
            "platforms: unknown platform 'macos-arm'; did you mean 'macos-arm64'",
        ),
        (
            '[tool.poetry-wheelmirror]\nplatforms = ["linux-x86_64", "windows"]\n',
            "unknown platform 'windows'; did you mean 'windows-arm64' or 'windows-x86_64'?",
        ),
        (
            '[tool.poetry-wheelmirror]\nplatforms = ["macosx_300_0_arm64"]\n',
            "macOS version out of range",
        ),
        ('[tool]\npoetry-wheelmirror = "x"\n', "must be a table"),
    ],
)
def test_invalid_settings_raise_config_error(toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(table(toml), {})  # type: ignore[arg-type]


def test_invalid_disable_value() -> None:
    with pytest.raises(ConfigError, match="POETRY_WHEELMIRROR_DISABLE='maybe' is not a boolean"):
        load_settings(None, {"POETRY_WHEELMIRROR_DISABLE": "maybe"})


def test_cache_dir_under_poetrys_cache_dir(tmp_path: Path) -> None:
    assert cache_dir_for(tmp_path) == tmp_path / "wheelmirror"
    assert cache_dir_for(str(tmp_path)) == tmp_path / "wheelmirror"
    assert cache_dir_for(None) is None
