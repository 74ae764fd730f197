"""The listener's work for an installing command: check Poetry's internals, read the
settings, and put the :class:`~poetry_wheelmirror.plugin.hook.Hook` around the installer.

``plugin.py`` calls :func:`on_command` for install/add/update/sync only; a mismatch or
an error here prints one warning and Poetry installs as if the plugin were absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.plugin.hook import PREFIX
from poetry_wheelmirror.plugin.hook import Hook
from poetry_wheelmirror.plugin.hook import settings_for
from poetry_wheelmirror.plugin.poetry_internals import InternalsMismatch
from poetry_wheelmirror.plugin.poetry_internals import installer_parts
from poetry_wheelmirror.plugin.poetry_internals import wrap_installer

__all__ = ["attach", "on_command"]


def attach(command: Any, io: Any) -> Hook | None:
    """Check the internals, read the settings and wrap the installer; None when off."""
    parts = installer_parts(command)
    poetry = command.poetry
    settings = settings_for(poetry)
    if not settings.enabled:
        if io.is_verbose():
            io.write_line(f"{PREFIX}: off ({settings.disabled_reason})")
        return None
    hook = Hook(
        settings=settings,
        io=io,
        env=parts.env,
        poetry=poetry,
        binary_allowed=parts.binary_allowed,
        link_factory=parts.link_factory,
        cache_dir_for_link=parts.cache_dir_for_link,
    )
    choose_for, execute, download = parts.choose_for, parts.execute, parts.download_archive

    def wrapped_choose_for(package: Any) -> Any:
        return hook.choose_for(package, choose_for)

    def wrapped_execute(operations: Any) -> Any:
        hook.begin_execution()
        status: Any = 1
        try:
            status = execute(operations)
            return status
        finally:
            hook.restore()
            hook.end_execution()
            hook.report(succeeded=status == 0)

    def wrapped_download(operation: Any, url: str, dest: Path) -> None:
        hook.download_archive(download, operation, url, dest)

    wrap_installer(
        parts,
        choose_for=wrapped_choose_for,
        execute=wrapped_execute,
        download_archive=wrapped_download,
    )
    hook.debug(f"using mirror {settings.url} (from {settings.url_origin})")
    return hook


def on_command(event: Any, event_name: str, dispatcher: Any) -> None:
    """The cleo COMMAND listener's work for an installing command (``plugin.py`` picks
    install/add/update/sync): hook its installer, or warn once and leave it alone."""
    del event_name, dispatcher
    io = event.io
    try:
        attach(event.command, io)
    except InternalsMismatch as e:
        io.write_error_line(
            f"<warning>{PREFIX}: warning: Poetry internals changed ({e});"
            " installing without the mirror</warning>"
        )
    except WheelmirrorError as e:
        io.write_error_line(
            f"<warning>{PREFIX}: warning: {e}; installing without the mirror</warning>"
        )
    except Exception as e:  # a bug in the plugin must never break the install
        io.write_error_line(
            f"<warning>{PREFIX}: warning: internal error ({type(e).__name__}: {e});"
            " installing without the mirror</warning>"
        )
