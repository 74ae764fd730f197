from __future__ import annotations

from pathlib import Path

import pytest

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.locks.config import find_targets
from poetry_wheelmirror.locks.config import read_lock_set
from poetry_wheelmirror.locks.read import read_lock_file
from poetry_wheelmirror.locks.requirements import parse_requirements
from poetry_wheelmirror.targets import parse_target

LOCKS = Path(__file__).resolve().parents[1] / "fixtures" / "locks"
LINUX_311 = parse_target("linux-x86_64/3.11")
MAC_312 = parse_target("macos-arm64/3.12")
WINDOWS_LIKE = {**LINUX_311.marker_env(), "sys_platform": "win32"}
ALL = {"six", "idna", "markupsafe", "crcmod", "msgpack", "pyyaml"}


def _names(lock, env) -> set[str]:
    return {d.name for d in lock.installed(env)}


@pytest.mark.parametrize(
    "path",
    [
        "uv.lock",
        "requirements-uv.txt",
        "poetry/poetry.lock",
        "poetry/requirements-export.txt",
    ],
)
def test_every_real_lock_installs_the_same_packages_per_platform(path: str) -> None:
    lock = read_lock_file(LOCKS / path)
    assert _names(lock, LINUX_311.marker_env()) == ALL
    assert _names(lock, MAC_312.marker_env()) == ALL
    # colorama is locked for Windows only.
    assert _names(lock, WINDOWS_LIKE) == ALL | {"colorama"}
    assert {d.name: d.version for d in lock.dists}["msgpack"] == "1.0.5"


def test_poetry_lock_files_and_hashes() -> None:
    lock = read_lock_file(LOCKS / "poetry" / "poetry.lock")
    assert lock.kind == "poetry"
    crcmod = next(d for d in lock.dists if d.name == "crcmod")
    sdist = next(f for f in crcmod.files if f.is_sdist)
    assert sdist.filename == "crcmod-1.7.tar.gz"
    assert sdist.sha256 == "dc7051a0db5f2bd48665a990d3ec1cc305a466a77358ca4492826f41f283601e"
    # Locked against the loopback pass-through: another index until named a PyPI proxy.
    assert crcmod.source == "index"
    assert crcmod.source_detail.startswith("http://127.0.0.1:")
    fixed = lock.with_pypi({crcmod.source_detail.rstrip("/")})
    assert {d.source for d in fixed.dists} == {"pypi"}


def test_uv_lock_walks_from_the_project() -> None:
    lock = read_lock_file(LOCKS / "uv.lock")
    assert lock.kind == "uv"
    assert [r.name for r in lock.roots] == ["lockdemo"]
    markupsafe = next(d for d in lock.dists if d.name == "markupsafe")
    assert markupsafe.source == "pypi"
    assert any(f.filename == "MarkupSafe-2.0.1.tar.gz" for f in markupsafe.files)


def test_uv_lock_forks_extras_and_groups() -> None:
    text = """
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "numpy", version = "1.26.4", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version < '3.12'" },
    { name = "numpy", version = "2.1.0", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version >= '3.12'" },
    { name = "req", extra = ["socks"] },
]

[package.dev-dependencies]
dev = [{ name = "pytest" }]
docs = [{ name = "sphinx" }]

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "req"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
socks = [{ name = "pysocks", marker = "sys_platform == 'linux'" }]

[[package]]
name = "pysocks"
version = "1.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "sphinx"
version = "7.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "orphan"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
"""
    import tomllib

    from poetry_wheelmirror.locks.uv_lock import parse_uv_lock

    lock = parse_uv_lock(tomllib.loads(text), source="uv.lock")
    linux = {(d.name, d.version) for d in lock.installed(LINUX_311.marker_env())}
    assert linux == {("numpy", "1.26.4"), ("req", "1.0"), ("pysocks", "1.7"), ("pytest", "8.0")}
    mac = {(d.name, d.version) for d in lock.installed(MAC_312.marker_env())}
    assert mac == {("numpy", "2.1.0"), ("req", "1.0"), ("pytest", "8.0")}


def test_requirements_hashes_markers_and_bad_lines() -> None:
    text = (
        "--index-url https://pypi.org/simple\n"
        "a==1.0 ; sys_platform == 'darwin' \\\n"
        "    --hash=sha256:AAAA \\\n"
        "    --hash=md5:ffff\n"
        "    # via x\n"
        "b>=2  # not pinned\n"
        "-r other.txt\n"
        "c @ https://example.org/c-1.0.tar.gz\n"
        "not a requirement !!\n"
        "d===3.0 --hash=sha256:bbbb\n"
    )
    lock = parse_requirements(text, source="req.txt")
    by_name = {d.name: d for d in lock.dists}
    assert by_name["a"].version == "1.0"
    assert by_name["a"].hashes == {"aaaa"}
    assert by_name["a"].markers == ('sys_platform == "darwin"',)
    assert by_name["c"].source == "url"
    assert by_name["d"].version == "3.0"
    assert "b" not in by_name
    assert len(lock.notes) == 3
    assert any("req.txt:6: b is not pinned" in n for n in lock.notes)
    assert _names(lock, LINUX_311.marker_env()) == {"c", "d"}


def test_requirements_other_index_is_not_pypi() -> None:
    lock = parse_requirements("-i https://corp.example/simple\na==1 --hash=sha256:aa\n", source="r")
    assert lock.dists[0].source == "index"


def test_unreadable_and_foreign_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        read_lock_file(tmp_path / "missing.txt")
    bad = tmp_path / "poetry.lock"
    bad.write_text("[[package]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_lock_file(bad)
    bad.write_text("[tool]\nx = 1\n")
    with pytest.raises(ConfigError, match=r"not a poetry\.lock"):
        read_lock_file(bad)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello world\n")
    with pytest.raises(ConfigError, match="no pinned requirement"):
        read_lock_file(notes)


def test_targets() -> None:
    target = parse_target("macos-arm64/3.12")
    env = target.marker_env()
    assert (env["sys_platform"], env["platform_machine"], env["python_full_version"]) == (
        "darwin",
        "arm64",
        "3.12.0",
    )
    assert parse_target("linux-arm64/3.11.4").platform == "linux-aarch64"
    assert parse_target("linux-arm64/3.11.4").python_full == "3.11.4"
    assert target.label == "macos-arm64/3.12"
    for bad in ("windows-x86_64/3.11", "linux-x86_64", "linux-x86_64/2.7", "macos-arm64/3.x"):
        with pytest.raises(ConfigError, match=r"expected OS-ARCH/X\.Y"):
            parse_target(bad)


def test_targets_agree_with_the_recipe_targets() -> None:
    from poetry_wheelmirror.mirror.recipes import TARGETS
    from poetry_wheelmirror.targets import PLATFORMS

    assert set(PLATFORMS) == set(TARGETS)
    for name, target in TARGETS.items():
        assert PLATFORMS[name].client_platform == target.client_platform


def test_targets_from_pyproject_then_wheelmirror_toml(tmp_path: Path) -> None:
    assert find_targets(tmp_path) == ((), "")
    (tmp_path / "wheelmirror.toml").write_text('targets = ["linux-x86_64/3.11"]\n')
    assert find_targets(tmp_path)[0] == (LINUX_311,)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetry-wheelmirror]\ntargets = ["macos-arm64/3.12", "macos-arm64/3.12"]\n'
    )
    assert find_targets(tmp_path)[0] == (MAC_312,)
    (tmp_path / "pyproject.toml").write_text('[tool.poetry-wheelmirror]\ntargets = "x"\n')
    with pytest.raises(ConfigError, match="targets must be a list"):
        find_targets(tmp_path)


def test_lock_set_file(tmp_path: Path) -> None:
    config = tmp_path / "wheelmirror.toml"
    config.write_text(
        'locks = ["a/poetry.lock"]\ntargets = ["linux-x86_64/3.11"]\n'
        'pypi-proxies = ["http://127.0.0.1:1/simple/"]\n'
    )
    lock_set = read_lock_set(config)
    assert lock_set.locks == (tmp_path / "a" / "poetry.lock",)
    assert lock_set.pypi_proxies == ("http://127.0.0.1:1/simple/",)
    config.write_text('lock = ["a"]\n')
    with pytest.raises(ConfigError, match="unknown key 'lock'"):
        read_lock_set(config)


def test_the_plugin_settings_accept_the_lock_plan_keys() -> None:
    """``targets`` and ``pypi-proxies`` share [tool.poetry-wheelmirror] with the plugin's
    own settings, which reject unknown keys."""
    from poetry_wheelmirror.settings import load_settings

    table = {"targets": ["linux-x86_64/3.11"], "pypi-proxies": ["http://127.0.0.1:1/simple/"]}
    assert load_settings(table, {}).enabled
