"""A throwaway Poetry project for the real-Poetry e2e tests, and what they check in it:
where markupsafe 2.0.1 came from (the mirror's wheel or a source build) and the plugin's
warnings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devtools.poetry_env import PoetryInstall

__all__ = [
    "DEPS",
    "FROM_MIRROR",
    "MIRROR_TAG",
    "Poetries",
    "Setup",
    "assert_built_from_sdist",
    "assert_from_mirror",
    "make_project",
    "pyproject",
    "warnings",
    "wheel_tags",
]

MIRROR_TAG = "manylinux_2_17_x86_64"
DEPS = ("markupsafe==2.0.1", "six==1.16.0")
FROM_MIRROR = "wheelmirror: 1 package from the mirror: markupsafe 2.0.1"


@dataclass(frozen=True)
class Poetries:
    version: str
    plain: PoetryInstall
    plugin: PoetryInstall
    #: poetry.lock written by the plain Poetry for the standard project
    lock: bytes


def pyproject(index_url: str, deps: tuple[str, ...] = DEPS, extra: str = "") -> str:
    listed = ", ".join(f'"{d.replace("==", " (==")})"' for d in deps)
    return (
        "[project]\n"
        'name = "demo"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.11,<3.12"\n'
        f"dependencies = [{listed}]\n\n"
        "[tool.poetry]\n"
        "package-mode = false\n\n"
        "[[tool.poetry.source]]\n"
        'name = "loopback"\n'
        f'url = "{index_url}"\n'
        'priority = "primary"\n' + extra
    )


def make_project(folder: Path, index_url: str, lock: bytes | None = None, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(pyproject(index_url, extra=extra))
    if lock is not None:
        (folder / "poetry.lock").write_bytes(lock)
    return folder


def wheel_tags(project: Path, dist: str = "markupsafe") -> list[str]:
    """The ``Tag:`` lines of the installed distribution's WHEEL file."""
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    for info in site.glob("*.dist-info"):
        if info.name.lower().startswith(f"{dist}-"):
            lines = (info / "WHEEL").read_text().splitlines()
            return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]
    msg = f"{dist} is not installed in {site}"
    raise AssertionError(msg)


def assert_from_mirror(project: Path, output: str) -> None:
    tags = wheel_tags(project)
    assert f"cp311-cp311-{MIRROR_TAG}" in tags, tags
    assert FROM_MIRROR in output, output
    # No build backend ran: Poetry prints "Preparing..."/"Building" for an sdist.
    assert "Preparing" not in output, output
    assert "Building" not in output, output


def assert_built_from_sdist(project: Path, output: str) -> None:
    tags = wheel_tags(project)
    assert tags == ["cp311-cp311-linux_x86_64"], tags
    assert "from the mirror" not in output, output


def warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if "wheelmirror: warning:" in line]


@dataclass(frozen=True)
class Setup:
    """A Poetry with the plugin, and the poetry.lock its plain twin wrote."""

    plugin: PoetryInstall
    lock: bytes
