"""plugin/listener.py and the checks in plugin/poetry_internals.py: what an installing
command's listener checks, wraps and restores, with stand-ins for Poetry's objects."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from devtools.poetry_standins import IO
from devtools.poetry_standins import SDIST
from devtools.poetry_standins import WHEEL
from devtools.poetry_standins import Link
from devtools.poetry_standins import Package
from devtools.poetry_standins import command_for
from devtools.poetry_standins import write_mirror
from poetry_wheelmirror.plugin import poetry_internals
from poetry_wheelmirror.plugin.listener import on_command


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return write_mirror(tmp_path / "mirror")


@pytest.fixture
def fake_poetry_core(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("poetry", "poetry.core", "poetry.core.packages", "poetry.core.packages.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    link_module = types.ModuleType("poetry.core.packages.utils.link")
    link_module.Link = Link  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "poetry.core.packages.utils.link", link_module)
    monkeypatch.setattr(poetry_internals, "poetry_version_problem", lambda: None)


@pytest.mark.usefixtures("fake_poetry_core")
def test_listener_wraps_execute_and_restores_files(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POETRY_WHEELMIRROR_URL", raising=False)
    monkeypatch.delenv("POETRY_WHEELMIRROR_DISABLE", raising=False)
    command = command_for(tmp_path, mirror.as_uri())
    io = IO()
    on_command(types.SimpleNamespace(command=command, io=io), "console.command", None)
    executor = command._installer.executor
    package = Package()
    before = package.files
    op = types.SimpleNamespace(job_type="install", skipped=False, package=package)
    assert executor.execute([op]) == 0
    assert [f["file"] for f in executor.seen_files[0]] == [SDIST, WHEEL]
    assert package.files is before
    assert io.out == ["wheelmirror: 1 package from the mirror: markupsafe 2.0.1"]
    assert io.err == []


@pytest.mark.usefixtures("fake_poetry_core")
@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda c: setattr(c, "_installer", None), "the command has no installer"),
        (lambda c: delattr(c._installer.executor, "_chooser"), "Executor._chooser is missing"),
        (
            lambda c: setattr(c._installer.executor, "_download_archive", lambda *a: None),
            "Executor._download_archive",
        ),
        (
            lambda c: delattr(c._installer.executor._chooser, "_no_binary_policy"),
            "Chooser._no_binary_policy is missing",
        ),
    ],
)
def test_changed_internals_give_one_warning(
    tmp_path: Path, mirror: Path, damage: Any, detail: str
) -> None:
    command = command_for(tmp_path, mirror.as_uri())
    damage(command)
    io = IO()
    on_command(types.SimpleNamespace(command=command, io=io), "console.command", None)
    (warning,) = io.err
    assert f"Poetry internals changed ({detail}" in warning
    assert warning.endswith("installing without the mirror</warning>")


@pytest.mark.usefixtures("fake_poetry_core")
def test_invalid_settings_warn_and_do_nothing(tmp_path: Path) -> None:
    command = command_for(tmp_path, "x")
    command.poetry.pyproject.data["tool"]["poetry-wheelmirror"]["colour"] = "red"
    original = command._installer.executor.execute
    io = IO()
    on_command(types.SimpleNamespace(command=command, io=io), "console.command", None)
    assert command._installer.executor.execute == original
    (warning,) = io.err
    assert "unknown key 'colour'" in warning
