"""plugin/plugin.py, the entry class Poetry imports on every run: what it registers,
which commands its listener passes on, and how little it imports."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from devtools.poetry_standins import IO
from devtools.poetry_standins import command_for


@pytest.fixture
def plugin_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    """plugin.py imported against stand-ins for poetry.plugins and cleo."""
    import importlib

    stubs = {
        "poetry": {},
        "poetry.plugins": {},
        "poetry.plugins.application_plugin": {"ApplicationPlugin": object},
        "cleo": {},
        "cleo.events": {},
        "cleo.events.console_events": {"COMMAND": "console.command"},
    }
    for name, attrs in stubs.items():
        module = types.ModuleType(name)
        for key, value in attrs.items():
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, "poetry_wheelmirror.plugin.plugin", raising=False)
    return importlib.import_module("poetry_wheelmirror.plugin.plugin")


def test_plugin_registers_commands_and_a_low_priority_listener(plugin_module: Any) -> None:
    registered: dict[str, Any] = {}
    listeners: list[tuple[str, Any, int]] = []
    app = types.SimpleNamespace(
        command_loader=types.SimpleNamespace(register_factory=registered.__setitem__),
        event_dispatcher=types.SimpleNamespace(
            add_listener=lambda event, fn, priority=0: listeners.append((event, fn, priority))
        ),
    )
    plugin_module.WheelmirrorPlugin().activate(app)
    assert sorted(registered) == [
        "wheelmirror doctor",
        "wheelmirror refresh",
        "wheelmirror status",
        "wheelmirror use",
    ]
    ((event, listener, priority),) = listeners
    assert event == "console.command"
    assert priority < 0  # after Poetry's configure_installer_for_event (priority 0)
    # Other commands cost one attribute read and import nothing.
    before = set(sys.modules)
    listener(types.SimpleNamespace(command=types.SimpleNamespace(name="show")), "x", None)
    listener(types.SimpleNamespace(command=types.SimpleNamespace(name="self install")), "x", None)
    assert set(sys.modules) == before


def test_plugin_module_imports_no_mirror_side_code() -> None:
    """In a fresh interpreter, importing plugin.py loads only tiny modules of ours."""
    import subprocess

    code = (
        "import sys, types\n"
        "for n in ('poetry', 'poetry.plugins', 'poetry.plugins.application_plugin'):\n"
        "    sys.modules[n] = types.ModuleType(n)\n"
        "sys.modules['poetry.plugins.application_plugin'].ApplicationPlugin = object\n"
        "import poetry_wheelmirror.plugin.plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith('poetry_wheelmirror')))\n"
        "print('requests' in sys.modules, 'packaging.tags' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == str(
        ["poetry_wheelmirror", "poetry_wheelmirror.plugin", "poetry_wheelmirror.plugin.plugin"]
    )
    assert out[1] == "False False"


@pytest.mark.parametrize("name", ["self install", "self add", "lock", "show", "build"])
def test_only_installing_commands_are_hooked(plugin_module: Any, tmp_path: Path, name: str) -> None:
    command = command_for(tmp_path, "http://127.0.0.1:9/", name=name)
    original = command._installer.executor.execute
    io = IO()
    plugin_module._on_command(
        types.SimpleNamespace(command=command, io=io), "console.command", None
    )
    assert command._installer.executor.execute == original
    assert io.err == []
