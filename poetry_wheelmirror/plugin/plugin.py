"""The Poetry application plugin's entry class (kept tiny: it imports almost nothing).

Poetry imports this module on every run, so the work lives in ``listener`` (with
``hook`` and ``poetry_internals``) and ``commands`` (with ``command_bodies``), imported
only when an installing command or ``poetry wheelmirror`` actually runs. This module
owns the list of installing commands and the listener's priority; it imports no other
module of ours, to stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from poetry.plugins.application_plugin import ApplicationPlugin

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["COMMAND_NAMES", "WheelmirrorPlugin"]

#: The plugin's commands; their classes are imported only when one is run or listed.
COMMAND_NAMES = (
    "wheelmirror status",
    "wheelmirror refresh",
    "wheelmirror doctor",
    "wheelmirror use",
)
_INSTALL_COMMANDS = frozenset({"install", "add", "update", "sync"})
#: Below Poetry's own COMMAND listeners (priority 0), which create the installer.
_PRIORITY = -100


def _on_command(event: Any, event_name: str, dispatcher: Any) -> None:
    # Cheap filter first: every other command pays only this attribute read.
    if getattr(getattr(event, "command", None), "name", None) not in _INSTALL_COMMANDS:
        return
    from poetry_wheelmirror.plugin.listener import on_command

    on_command(event, event_name, dispatcher)


def _command_factory(name: str) -> Callable[[], Any]:
    def factory() -> Any:
        from poetry_wheelmirror.plugin.commands import COMMANDS

        return COMMANDS[name]()

    return factory


class WheelmirrorPlugin(ApplicationPlugin):  # type: ignore[misc]  # Poetry is untyped here
    """Makes installs use the mirror's wheels where PyPI has only an sdist."""

    def activate(self, application: Any) -> None:
        for name in COMMAND_NAMES:
            application.command_loader.register_factory(name, _command_factory(name))
        dispatcher = application.event_dispatcher
        if dispatcher is None:  # pragma: no cover - Poetry always sets one
            return
        from cleo.events.console_events import COMMAND

        dispatcher.add_listener(COMMAND, _on_command, priority=_PRIORITY)
