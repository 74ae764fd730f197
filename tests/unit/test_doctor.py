"""The doctor's checks with fake Poetry output, temporary config files and local mirrors."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

import pytest

from devtools.doctor_mirror import write_lock
from devtools.doctor_mirror import write_mirror
from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.client import FetchResult
from poetry_wheelmirror.doctor.config import check_environment
from poetry_wheelmirror.doctor.manifest_check import check_manifest
from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.doctor.model import DoctorOptions
from poetry_wheelmirror.doctor.model import PoetryFacts
from poetry_wheelmirror.doctor.poetry_check import check_poetry
from poetry_wheelmirror.doctor.poetry_probe import CommandResult
from poetry_wheelmirror.doctor.poetry_probe import parse_plugin_list
from poetry_wheelmirror.doctor.poetry_probe import parse_poetry_version
from poetry_wheelmirror.doctor.poetry_probe import parse_self_show
from poetry_wheelmirror.doctor.project import check_project_venv
from poetry_wheelmirror.doctor.report import exit_status
from poetry_wheelmirror.doctor.report import format_report
from poetry_wheelmirror.doctor.report import report_json
from poetry_wheelmirror.doctor.run import run_doctor
from poetry_wheelmirror.doctor.target import make_target
from poetry_wheelmirror.doctor.target import scarcity_note
from poetry_wheelmirror.indexconfig import is_mirror_url
from poetry_wheelmirror.indexconfig import pip_config_files
from poetry_wheelmirror.indexconfig import pip_index_settings
from poetry_wheelmirror.indexconfig import redact_url
from poetry_wheelmirror.indexconfig import uv_config_files
from poetry_wheelmirror.indexconfig import uv_index_settings
from poetry_wheelmirror.lockfile import read_lock
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.selection import supported_tags
from poetry_wheelmirror.urls import path_to_url

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)
LINUX = "manylinux_2_17_x86_64"
MAC_WHEEL = "crcmod-1.7-cp311-cp311-macosx_11_0_arm64.whl"
LINUX_WHEEL = "markupsafe-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"

# What Poetry 2.0.1 and 2.5.1 print (recorded here; both use the same layout).
PLUGINS_WITH = """
  - poetry-wheelmirror (0.1.0) Prebuilt wheels for packages that publish none for your platform.
      1 application plugin

      Dependencies
        - packaging (>=23.0)
        - requests (>=2.28)
        - tomlkit (>=0.11)
"""
PLUGINS_OTHER = """
  - poetry-plugin-export (1.9.0) Poetry plugin to export the dependencies to various formats
      1 application plugin

      Dependencies
        - poetry-wheelmirror (>=0.1)
"""


# -- Poetry output parsers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Poetry (version 2.5.1)\n", "2.5.1"),
        ("Poetry (version 2.0.1)", "2.0.1"),
        ("\x1b[39;1mPoetry\x1b[39;22m (version \x1b[36m2.5.1\x1b[39m)\n", "2.5.1"),
        ("Poetry version 1.1.15\n", "1.1.15"),
        ("Poetry (version 2.6.0.dev0)", "2.6.0.dev0"),
        ("nothing here", None),
    ],
)
def test_parse_poetry_version(output: str, expected: str | None) -> None:
    assert parse_poetry_version(output) == expected


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (PLUGINS_WITH, {"poetry-wheelmirror": "0.1.0"}),
        # A plugin that merely depends on ours does not count as ours being installed.
        (PLUGINS_OTHER, {"poetry-plugin-export": "1.9.0"}),
        ("", {}),
        (
            "\n  - \x1b[36mpoetry-wheelmirror\x1b[39m (\x1b[32m0.2.0\x1b[39m)\n",
            {"poetry-wheelmirror": "0.2.0"},
        ),
        ("  - Poetry_WheelMirror (0.1.0)\n", {"poetry-wheelmirror": "0.1.0"}),
    ],
)
def test_parse_plugin_list(output: str, expected: dict[str, str]) -> None:
    assert parse_plugin_list(output) == expected


def test_parse_self_show() -> None:
    output = (
        "poetry            2.5.1  Python dependency management\npoetry-wheelmirror 0.1.0 Prebuilt\n"
    )
    assert parse_self_show(output)["poetry-wheelmirror"] == "0.1.0"


# -- check_poetry with a fake runner ------------------------------------------------


class FakePoetry:
    """Answers like a Poetry installation would; records what was run."""

    def __init__(self, answers: Mapping[str, CommandResult]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float
    ) -> CommandResult:
        self.calls.append(list(argv))
        key = " ".join(a for a in argv[1:] if a != "--no-ansi")
        return self.answers.get(key, CommandResult(1, "", f"unexpected: {key}"))


def _poetry_options(tmp_path: Path) -> DoctorOptions:
    return DoctorOptions(poetry=str(tmp_path / "poetry"), cwd=tmp_path, environ={})


OK_VERSION = CommandResult(0, "Poetry (version 2.5.1)\n")


@pytest.mark.parametrize(
    ("answers", "poetry_project", "expected"),
    [
        pytest.param(
            {"--version": OK_VERSION, "self show plugins": CommandResult(0, PLUGINS_WITH)},
            True,
            [
                ("poetry", "ok", "Poetry 2.5.1"),
                ("plugin", "ok", "poetry-wheelmirror 0.1.0 is installed"),
            ],
            id="installed",
        ),
        pytest.param(
            {
                "--version": OK_VERSION,
                "self show plugins": CommandResult(0, ""),
                "self show": CommandResult(1, "", "Error: poetry.lock not found."),
            },
            True,
            [("poetry", "ok", "2.5.1"), ("plugin", "fail", "the poetry-wheelmirror plugin is not")],
            id="missing-in-poetry-project",
        ),
        pytest.param(
            {
                "--version": OK_VERSION,
                "self show plugins": CommandResult(0, PLUGINS_OTHER),
                "self show": CommandResult(1, "", "Error"),
            },
            False,
            [("poetry", "ok", "2.5.1"), ("plugin", "warn", "plugins: poetry-plugin-export")],
            id="missing-elsewhere",
        ),
        pytest.param(
            {
                "--version": OK_VERSION,
                "self show plugins": CommandResult(0, ""),
                "self show": CommandResult(0, "poetry-wheelmirror 0.1.0 Prebuilt\n"),
            },
            True,
            [("poetry", "ok", "2.5.1"), ("plugin", "ok", "0.1.0 is installed")],
            id="only-in-self-show",
        ),
        pytest.param(
            {
                "--version": CommandResult(
                    0,
                    "Poetry (version 2.5.1)\n",
                    "wheelmirror: warning: Poetry internals changed; installing without the mirror\n",
                ),
                "self show plugins": CommandResult(0, PLUGINS_WITH),
            },
            True,
            [
                ("poetry", "ok", "2.5.1"),
                ("plugin", "warn", "it warned at start-up: wheelmirror: warning"),
            ],
            id="plugin-warns",
        ),
        pytest.param(
            {
                "--version": CommandResult(
                    1, "", "ModuleNotFoundError: No module named 'poetry_wheelmirror.plugin.plugin'"
                ),
                "--no-plugins --version": OK_VERSION,
            },
            True,
            [("poetry", "fail", "fails to start with its plugins")],
            id="broken-plugin",
        ),
        pytest.param(
            {"--version": CommandResult(None, error="no answer within 20 s")},
            True,
            [("poetry", "fail", "no answer within 20 s")],
            id="timeout",
        ),
        pytest.param(
            {
                "--version": CommandResult(0, "Poetry (version 1.8.5)\n"),
                "self show plugins": CommandResult(0, ""),
            },
            True,
            [("poetry", "fail", "supports Poetry 2.x only")],
            id="old-poetry",
        ),
        pytest.param(
            {
                "--version": OK_VERSION,
                "self show plugins": CommandResult(1, "", "boom"),
                "--no-plugins self show plugins": CommandResult(1, "", "boom again"),
            },
            True,
            [
                ("poetry", "ok", "2.5.1"),
                (
                    "plugin",
                    "warn",
                    "cannot tell whether the plugin is installed: `poetry self show plugins` failed: boom",
                ),
            ],
            id="listing-fails",
        ),
    ],
)
def test_check_poetry(
    tmp_path: Path,
    answers: Mapping[str, CommandResult],
    poetry_project: bool,
    expected: list[tuple[str, str, str]],
) -> None:
    checks = check_poetry(
        _poetry_options(tmp_path), FakePoetry(answers), poetry_project=poetry_project, settings=None
    )
    got = [(c.name, c.status) for c in checks[: len(expected)]]
    assert got == [(n, s) for n, s, _ in expected], checks
    for check, (_, _, words) in zip(checks, expected):
        assert words in check.detail, check
    if checks[-1].status != "ok":
        assert checks[-1].fix


def test_check_poetry_not_on_path(tmp_path: Path) -> None:
    options = DoctorOptions(environ={"PATH": str(tmp_path)}, cwd=tmp_path)
    (check,) = check_poetry(options, FakePoetry({}), poetry_project=True, settings=None)
    assert (check.name, check.status) == ("poetry", "warn")
    assert "not on PATH" in check.detail
    assert "poetry self add poetry-wheelmirror" in check.fix


def test_check_poetry_with_facts_runs_nothing(tmp_path: Path) -> None:
    runner = FakePoetry({})
    options = DoctorOptions(poetry_facts=PoetryFacts(version="2.0.1"), cwd=tmp_path, environ={})
    checks = check_poetry(options, runner, poetry_project=True, settings=None)
    assert [(c.name, c.status) for c in checks] == [("poetry", "ok"), ("plugin", "ok")]
    assert runner.calls == []


# -- pip and uv config --------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _pip(tmp_path: Path, environ: dict[str, str]) -> list[tuple[str, str]]:
    files = pip_config_files(
        environ, home=tmp_path / "home", prefix=tmp_path / "venv", system_dirs=[tmp_path / "etc"]
    )
    indexes, problems = pip_index_settings(files, environ)
    assert problems == []
    return [(i.url, i.source.split(" ")[0]) for i in indexes]


def test_pip_precedence(tmp_path: Path) -> None:
    assert _pip(tmp_path, {}) == [("https://pypi.org/simple", "pip's")]
    _write(tmp_path / "etc/pip/pip.conf", "[global]\nindex-url = https://global.example/simple\n")
    assert _pip(tmp_path, {}) == [("https://global.example/simple", "global")]
    _write(
        tmp_path / "home/.config/pip/pip.conf",
        "[global]\nindex_url = https://user.example/simple\n",
    )
    assert _pip(tmp_path, {}) == [("https://user.example/simple", "user")]
    _write(
        tmp_path / "venv/pip.conf",
        "[global]\nindex-url = https://site.example/simple\n"
        "[install]\nextra-index-url =\n  https://a.example/simple\n  https://b.example/simple\n",
    )
    assert _pip(tmp_path, {}) == [
        ("https://site.example/simple", "site"),
        ("https://a.example/simple", "site"),
        ("https://b.example/simple", "site"),
    ]
    # The environment beats every file; PIP_EXTRA_INDEX_URL replaces, not appends.
    env = {
        "PIP_INDEX_URL": "https://env.example/simple",
        "PIP_EXTRA_INDEX_URL": "https://c.example/",
    }
    assert _pip(tmp_path, env) == [
        ("https://env.example/simple", "$PIP_INDEX_URL"),
        ("https://c.example/", "$PIP_EXTRA_INDEX_URL"),
    ]
    assert _pip(tmp_path, {"PIP_NO_INDEX": "1"}) == []


def test_pip_config_file_env(tmp_path: Path) -> None:
    _write(tmp_path / "home/.config/pip/pip.conf", "[global]\nindex-url = https://user.example/\n")
    chosen = _write(tmp_path / "chosen.conf", "[global]\nextra-index-url = https://x.example/\n")
    # An existing PIP_CONFIG_FILE suppresses the user file and is read last.
    assert _pip(tmp_path, {"PIP_CONFIG_FILE": str(chosen)}) == [
        ("https://pypi.org/simple", "pip's"),
        ("https://x.example/", "PIP_CONFIG_FILE"),
    ]
    assert pip_config_files({"PIP_CONFIG_FILE": "/dev/null"}, home=tmp_path, prefix=tmp_path) == []


def test_pip_bad_file_is_reported(tmp_path: Path) -> None:
    bad = _write(tmp_path / "venv/pip.conf", "index-url = no section\n")
    indexes, problems = pip_index_settings([("site", bad)], {})
    assert indexes[0].url == "https://pypi.org/simple"
    assert problems
    assert str(bad) in problems[0]


def _uv(tmp_path: Path, environ: dict[str, str], project: Path | None = None):
    files = uv_config_files(
        environ, project=project, home=tmp_path / "home", system_dirs=[tmp_path / "etc"]
    )
    return uv_index_settings(files, environ)


def test_uv_config(tmp_path: Path) -> None:
    indexes, pinned, _ = _uv(tmp_path, {})
    assert [i.url for i in indexes] == ["https://pypi.org/simple"]
    _write(
        tmp_path / "home/.config/uv/uv.toml",
        '[[index]]\nurl = "https://user.example/simple"\ndefault = true\n',
    )
    indexes, _, _ = _uv(tmp_path, {})
    assert (indexes[0].url, indexes[0].default) == ("https://user.example/simple", True)
    project = tmp_path / "proj"
    _write(
        project / "pyproject.toml",
        '[project]\nname = "x"\nversion = "1"\n\n[[tool.uv.index]]\nname = "wheelmirror"\n'
        'url = "https://mirror.example/m/simple/"\nexplicit = true\n\n'
        '[tool.uv.sources]\nmarkupsafe = { index = "wheelmirror" }\n',
    )
    indexes, pinned, problems = _uv(tmp_path, {}, project)
    assert problems == []
    assert [(i.url, i.explicit) for i in indexes] == [
        ("https://user.example/simple", False),
        ("https://mirror.example/m/simple/", True),
    ]
    assert pinned == {"wheelmirror": ["markupsafe"]}
    # uv.toml in the same folder wins over pyproject.toml.
    _write(project / "uv.toml", 'index-url = "https://uvtoml.example/simple"\n')
    indexes, pinned, _ = _uv(tmp_path, {}, project)
    assert indexes[0].url == "https://uvtoml.example/simple"
    indexes, _, _ = _uv(tmp_path, {"UV_DEFAULT_INDEX": "https://env.example/simple"}, project)
    assert (indexes[0].url, indexes[0].source) == (
        "https://env.example/simple",
        "$UV_DEFAULT_INDEX",
    )
    assert uv_config_files({"UV_NO_CONFIG": "1"}, project=project, home=tmp_path) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:secret@host.example/simple/", "https://***@host.example/simple/"),
        ("https://__token__@host.example:8443/simple/", "https://***@host.example:8443/simple/"),
        ("https://host.example/simple/", "https://host.example/simple/"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_is_mirror_url(tmp_path: Path) -> None:
    base = path_to_url(tmp_path)
    assert is_mirror_url(base + "simple/", [base])
    assert is_mirror_url("HTTPS://M.example/mirror/simple", ["https://m.example/mirror/"])
    assert not is_mirror_url("https://m.example/other/", ["https://m.example/mirror/"])


# -- environment variables ----------------------------------------------------------

MIRROR = ["https://m.example/mirror/", "https://m.example/mirror/simple/"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"PIP_INDEX_URL": "https://corp.example/simple"},
            [("env PIP_INDEX_URL", "warn", "overrides pip's config files")],
        ),
        (
            {"PIP_INDEX_URL": "https://m.example/mirror/simple/"},
            [("env PIP_INDEX_URL", "ok", "points pip at the mirror")],
        ),
        (
            {"UV_DEFAULT_INDEX": "https://corp.example/simple"},
            [("env UV_DEFAULT_INDEX", "warn", "uv uses that index")],
        ),
        (
            {"PIP_EXTRA_INDEX_URL": "https://x.example/"},
            [("env PIP_EXTRA_INDEX_URL", "warn", "replaces the extra-index-url")],
        ),
        (
            {"POETRY_WHEELMIRROR_DISABLE": "1"},
            [("env POETRY_WHEELMIRROR_DISABLE", "warn", "switched off")],
        ),
        (
            {"POETRY_WHEELMIRROR_DISABLE": "0"},
            [("env POETRY_WHEELMIRROR_DISABLE", "ok", "stays on")],
        ),
        (
            {"POETRY_WHEELMIRROR_DISABLE": "perhaps"},
            [("env POETRY_WHEELMIRROR_DISABLE", "fail", "not a boolean")],
        ),
        (
            {"POETRY_WHEELMIRROR_URL": "https://other.example/"},
            [("env POETRY_WHEELMIRROR_URL", "warn", "not the one checked here")],
        ),
        (
            {"WHEELMIRROR_URL": "https://m.example/mirror/"},
            [("env WHEELMIRROR_URL", "ok", "wheelmirror commands use")],
        ),
        ({"PIP_NO_INDEX": "yes"}, [("env PIP_NO_INDEX", "warn", "no index at all")]),
        ({"HOME": "/x", "PIP_FIND_LINKS": "/opt/wheels"}, []),
    ],
)
def test_check_environment(environ: dict[str, str], expected: list[tuple[str, str, str]]) -> None:
    checks = check_environment(environ, MIRROR, "--mirror")
    assert [(c.name, c.status) for c in checks] == [(n, s) for n, s, _ in expected]
    for check, (_, _, words) in zip(checks, expected):
        assert words in check.detail


def test_tokens_never_shown() -> None:
    checks = check_environment(
        {"PIP_INDEX_URL": "https://u:hunter2@corp.example/simple"}, MIRROR, "x"
    )
    assert "hunter2" not in json.dumps([c.as_json() for c in checks])


# -- the manifest -------------------------------------------------------------------


def _reader(base: Path | str, cache: Path | None = None) -> MirrorReader:
    return MirrorReader(str(base), CachedClient(cache, retries=0, timeout=(1, 2)))


@pytest.mark.parametrize(
    ("generated_at", "status", "words"),
    [
        ("2026-12-01T10:00:00Z", "ok", "2 h ago"),
        ("2026-11-20T12:00:00Z", "warn", "11 days ago"),
        ("2026-12-03T12:00:00Z", "warn", "in the future"),
        ("yesterday", "warn", "not an ISO 8601 time"),
    ],
)
def test_manifest_freshness(tmp_path: Path, generated_at: str, status: str, words: str) -> None:
    write_mirror(tmp_path, {"crcmod": {"1.7": [MAC_WHEEL]}}, generated_at=generated_at)
    checks, ok = check_manifest(_reader(tmp_path), "--mirror", [], now=NOW, max_age_days=7)
    assert ok
    assert checks[0].status == "ok"
    assert (checks[1].name, checks[1].status) == ("freshness", status)
    assert words in checks[1].detail


def test_manifest_missing_and_invalid(tmp_path: Path) -> None:
    checks, ok = check_manifest(
        _reader(tmp_path / "nothing"), "--mirror", [], now=NOW, max_age_days=7
    )
    assert not ok
    assert checks[0].status == "fail"
    assert "cannot fetch" in checks[0].detail
    bad = Path(__file__).parents[1] / "fixtures/manifests/bad/unknown-major"
    checks, ok = check_manifest(_reader(bad), "--mirror", [], now=NOW, max_age_days=7)
    assert not ok
    assert checks[0].status == "fail"
    assert "not valid" in checks[0].detail
    assert "wheelmirror manifest check" in checks[0].fix


def test_manifest_unreachable_loopback(unused_port: int) -> None:
    checks, ok = check_manifest(
        _reader(f"http://127.0.0.1:{unused_port}/"), "$WHEELMIRROR_URL", [], now=NOW, max_age_days=7
    )
    assert not ok
    assert checks[0].status == "fail"
    assert "nothing answers on that loopback port" in checks[0].fix


class _StaleClient(CachedClient):
    def get(self, url: str, **kwargs: object) -> FetchResult:  # type: ignore[override]
        result = super().get(url.replace("http://127.0.0.1:9/", self.real), **kwargs)  # type: ignore[arg-type]
        return FetchResult(url=url, body=result.body, from_cache=True, stale=True)

    real = ""


def test_manifest_stale_cache(tmp_path: Path) -> None:
    mirror = write_mirror(tmp_path / "m", {"crcmod": {"1.7": [MAC_WHEEL]}})
    client = _StaleClient(None)
    client.real = path_to_url(mirror)
    reader = MirrorReader("http://127.0.0.1:9/", client)
    checks, ok = check_manifest(
        reader, "--mirror", ["cannot reach 127.0.0.1:9"], now=NOW, max_age_days=7
    )
    assert ok
    assert checks[0].status == "warn"
    assert "from the local cache: cannot reach 127.0.0.1:9" in checks[0].detail


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- targets ------------------------------------------------------------------------


def test_make_target_for_another_platform() -> None:
    target = make_target(DoctorOptions(python="3.12", platform="macos-arm64"))
    assert str(target.tags[0]) == "cp312-cp312-macosx_11_0_arm64"
    assert target.marker_env["sys_platform"] == "darwin"
    assert target.marker_env["platform_machine"] == "arm64"
    assert target.marker_env["python_version"] == "3.12"
    assert not target.is_host
    assert "Apple Silicon" in scarcity_note(target.tags, target.python)


def test_scarcity_note_linux_x86_64_old_python() -> None:
    assert scarcity_note(supported_tags("3.9", LINUX), "3.9") == ""


# -- the project --------------------------------------------------------------------


def _project_checks(
    tmp_path: Path,
    mirror: dict[str, dict[str, list[str]]],
    lock: dict[str, tuple[str, list[str]]],
    *,
    platform: str = LINUX,
    python: str = "3.11",
    markers: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
) -> list[Check]:
    base = write_mirror(tmp_path / "mirror", mirror)
    write_lock(tmp_path / "proj", lock, markers=markers)
    options = DoctorOptions(
        mirror=str(base),
        project=tmp_path / "proj",
        python=python,
        platform=platform,
        environ={"PATH": str(tmp_path / "no-bin"), **(environ or {})},
        cwd=tmp_path,
        home=tmp_path / "home",
        system_config_dirs=(tmp_path / "etc",),
        prefix=tmp_path / "venv",
        now=NOW,
        cache_dir=tmp_path / "cache",
    )
    return run_doctor(options, runner=FakePoetry({}))


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_project_routes(tmp_path: Path) -> None:
    checks = _project_checks(
        tmp_path,
        {
            "markupsafe": {"2.0.1": [LINUX_WHEEL]},
            "crcmod": {"1.7": [MAC_WHEEL]},
            "lxml": {"4.9.0": []},
        },
        {
            "markupsafe": ("2.0.1", []),
            "crcmod": ("1.7", []),
            "idna": ("3.10", ["idna-3.10-py3-none-any.whl"]),
            "lxml": ("4.9.4", []),
            "grpcio": ("1.48.2", []),
            "colorama": ("0.4.6", []),
        },
        markers={"colorama": 'sys_platform == "win32"'},
    )
    named = _by_name(checks)
    assert named["package markupsafe"].status == "ok"
    assert "from the mirror: " + LINUX_WHEEL in named["package markupsafe"].detail
    crcmod = named["package crcmod"]
    assert crcmod.status == "warn"
    assert "wrong platform" in crcmod.detail
    assert "cp311-macosx_11_0_arm64" in crcmod.detail
    assert "cp311-manylinux_2_17_x86_64" in crcmod.detail
    assert "no build of this version (it has: 4.9.0)" in named["package lxml"].detail
    assert "the mirror does not carry grpcio" in named["package grpcio"].detail
    assert "package idna" not in named  # a PyPI wheel: nothing to say
    assert "package colorama" not in named  # not for this platform
    project = named["project"]
    assert project.status == "warn"
    assert "1 package(s) from the mirror, 1 PyPI wheel(s), 3 built from source" in project.detail
    assert "1 not needed here (markers)" in project.detail
    assert exit_status(checks) == 0


def test_project_refuses_a_wheel_built_from_another_sdist(tmp_path: Path) -> None:
    base = tmp_path / "x"
    checks = _project_checks(
        base, {"markupsafe": {"2.0.1": [LINUX_WHEEL]}}, {"markupsafe": ("2.0.1", [])}
    )
    assert _by_name(checks)["package markupsafe"].status == "ok"
    # Same mirror, but the lock lists a different sdist hash: the plugin refuses the wheel.
    lock = base / "proj" / "poetry.lock"
    text = lock.read_text()
    start = text.index('hash = "sha256:') + len('hash = "sha256:')
    lock.write_text(text[:start] + "f" * 64 + text[start + 64 :])
    options_checks = run_doctor(
        DoctorOptions(
            mirror=str(base / "mirror"),
            project=base / "proj",
            python="3.11",
            platform=LINUX,
            environ={"PATH": ""},
            home=base / "home",
            system_config_dirs=(),
            prefix=base / "venv",
            now=NOW,
        ),
        runner=FakePoetry({}),
    )
    check = _by_name(options_checks)["package markupsafe"]
    assert check.status == "warn"
    assert "refusing the mirror wheel" in check.detail


def test_project_plugin_disabled_and_denied(tmp_path: Path) -> None:
    checks = _project_checks(
        tmp_path,
        {"markupsafe": {"2.0.1": [LINUX_WHEEL]}},
        {"markupsafe": ("2.0.1", [])},
        environ={"POETRY_WHEELMIRROR_DISABLE": "1"},
    )
    named = _by_name(checks)
    assert named["env POETRY_WHEELMIRROR_DISABLE"].status == "warn"
    assert "plugin is disabled" in named["package markupsafe"].detail


def test_project_without_lock(tmp_path: Path) -> None:
    base = write_mirror(tmp_path / "mirror", {"markupsafe": {"2.0.1": [LINUX_WHEEL]}})
    _write(
        tmp_path / "proj/pyproject.toml",
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["markupsafe==2.0.1", "idna"]\n',
    )
    checks = run_doctor(
        DoctorOptions(
            mirror=str(base),
            project=tmp_path / "proj",
            environ={"PATH": ""},
            home=tmp_path / "home",
            system_config_dirs=(),
            prefix=tmp_path / "venv",
        ),
        runner=FakePoetry({}),
    )
    project = _by_name(checks)["project"]
    assert project.status == "warn"
    assert "1 of 2 direct dependencies are on the mirror: markupsafe (2.0.1)" in project.detail


def test_missing_project_dir_fails(tmp_path: Path) -> None:
    checks = run_doctor(
        DoctorOptions(
            mirror=str(write_mirror(tmp_path / "m", {})),
            project=tmp_path / "nope",
            environ={"PATH": ""},
            home=tmp_path,
            system_config_dirs=(),
            prefix=tmp_path,
        ),
        runner=FakePoetry({}),
    )
    assert _by_name(checks)["project"].status == "fail"
    assert exit_status(checks) == 1


def test_pip_and_uv_pointing_at_the_mirror(tmp_path: Path) -> None:
    base = write_mirror(tmp_path / "mirror", {})
    index = path_to_url(base) + "simple/"
    _write(tmp_path / "venv/pip.conf", f"[global]\nindex-url = {index}\n")
    _write(
        tmp_path / "proj/uv.toml",
        f'[[index]]\nname = "wheelmirror"\nurl = "{index}"\nexplicit = true\n',
    )
    _write(tmp_path / "proj/pyproject.toml", '[project]\nname = "x"\nversion = "1"\n')
    checks = run_doctor(
        DoctorOptions(
            mirror=str(base),
            project=tmp_path / "proj",
            environ={"PATH": ""},
            home=tmp_path / "home",
            system_config_dirs=(),
            prefix=tmp_path / "venv",
        ),
        runner=FakePoetry({}),
    )
    named = _by_name(checks)
    assert named["pip"].status == "ok"
    assert "pip uses the mirror as its index" in named["pip"].detail
    assert named["uv"].status == "warn"
    assert "no [tool.uv.sources] entry uses it" in named["uv"].detail


def test_read_lock_v1_metadata_files(tmp_path: Path) -> None:
    lock = _write(
        tmp_path / "poetry.lock",
        '[[package]]\nname = "MarkupSafe"\nversion = "2.0.1"\ncategory = "main"\n\n'
        '[metadata]\nlock-version = "1.1"\n\n[metadata.files]\n'
        'markupsafe = [\n    {file = "MarkupSafe-2.0.1.tar.gz", hash = "sha256:aa"},\n]\n',
    )
    (package,) = read_lock(lock)
    assert (package.name, package.version, package.files) == (
        "markupsafe",
        "2.0.1",
        ("MarkupSafe-2.0.1.tar.gz",),
    )


# -- reporting ----------------------------------------------------------------------


def test_report() -> None:
    checks = [
        Check("interpreter", "ok", "CPython 3.11"),
        Check("manifest", "fail", "cannot fetch", "start the server"),
        Check("pip", "ok", "not set up", "wheelmirror pip-config"),
        Check("env PIP_INDEX_URL", "warn", "overrides", "unset it"),
    ]
    lines = format_report(checks)
    assert lines[0].startswith("ok    interpreter")
    assert lines[1].startswith("FAIL  manifest")
    assert lines[2].strip() == "fix: start the server"
    assert lines[4].strip() == "hint: wheelmirror pip-config"
    assert lines[-1] == "wheelmirror doctor: 1 problem(s) to fix: 2 ok, 1 warning(s), 1 failure(s)"
    data = report_json(checks)
    assert data["status"] == "fail"
    assert data["counts"] == {"ok": 2, "warn": 1, "fail": 1}
    assert exit_status(checks) == 1
    assert exit_status(checks[:1]) == 0


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        ("home = /usr/bin\nversion_info = 3.12.1.final.0\n", "3.12.1"),
        ("home = /usr/bin\nversion = 3.11.7\n", None),
        ("home = /usr/bin\n", None),
    ],
)
def test_project_venv_python(tmp_path: Path, cfg: str, expected: str | None) -> None:
    _write(tmp_path / ".venv/pyvenv.cfg", cfg)
    target = make_target(DoctorOptions(python="3.11", platform=LINUX))
    checks = check_project_venv(tmp_path, target)
    if expected is None:
        assert checks == []
    else:
        (check,) = checks
        assert check.status == "warn"
        assert f"runs Python {expected}" in check.detail
        assert "--python 3.12" in check.fix


@pytest.mark.parametrize(
    ("inside_poetry", "expected"),
    [(False, "$WHEELMIRROR_URL"), (True, "[tool.poetry-wheelmirror] url")],
)
def test_which_mirror_is_checked(tmp_path: Path, inside_poetry: bool, expected: str) -> None:
    cli_mirror = write_mirror(tmp_path / "cli", {})
    plugin_mirror = write_mirror(tmp_path / "plugin", {})
    _write(
        tmp_path / "proj/pyproject.toml",
        f'[tool.poetry-wheelmirror]\nurl = "{path_to_url(plugin_mirror)}"\n',
    )
    checks = run_doctor(
        DoctorOptions(
            project=tmp_path / "proj",
            environ={"PATH": "", "WHEELMIRROR_URL": str(cli_mirror)},
            home=tmp_path / "home",
            system_config_dirs=(),
            prefix=tmp_path / "venv",
            poetry_facts=PoetryFacts(version="2.5.1") if inside_poetry else None,
        ),
        runner=FakePoetry({}),
    )
    named = _by_name(checks)
    assert f"(from {expected})" in named["manifest"].detail
    # Outside Poetry the doctor says the plugin uses another mirror than the one checked.
    assert ("plugin mirror" in named) is not inside_poetry
