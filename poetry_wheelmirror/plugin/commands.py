"""``poetry wheelmirror status``, ``refresh``, ``doctor`` and ``use``.

Imported only when one of them runs (or ``poetry list`` shows them); the work is in
``command_bodies``.
"""

from __future__ import annotations

from typing import Any

from cleo.helpers import argument
from cleo.helpers import option
from poetry.console.commands.command import Command
from poetry.console.commands.env_command import EnvCommand

from poetry_wheelmirror.plugin.command_bodies import doctor_command
from poetry_wheelmirror.plugin.command_bodies import refresh_command
from poetry_wheelmirror.plugin.command_bodies import status_command

__all__ = ["COMMANDS", "DoctorCommand", "RefreshCommand", "StatusCommand", "UseCommand"]


class StatusCommand(EnvCommand):  # type: ignore[misc]  # Poetry is untyped here
    name = "wheelmirror status"
    description = (
        "Show, for the lock file and this environment, which packages come from the mirror,"
        " which from PyPI as wheels and which still build from source (-v: URLs)."
    )
    options = [  # noqa: RUF012  # cleo reads a plain class attribute
        option("json", None, "Print the packages as JSON.", flag=True),
        option(
            "target",
            None,
            "Plan the lock for OS-ARCH/X.Y (e.g. macos-arm64/3.12) instead of this"
            " environment; repeatable.",
            flag=False,
            multiple=True,
        ),
        option(
            "all-targets", None, "Plan for every target in [tool.poetry-wheelmirror].", flag=True
        ),
        option("pypi-proxy", None, "A source URL serving PyPI's files.", flag=False, multiple=True),
    ]

    def handle(self) -> int:
        if self.option("target") or self.option("all-targets"):
            from poetry_wheelmirror.plugin.target_status import target_status_command

            return target_status_command(
                self,
                self.option("target"),
                all_targets=self.option("all-targets"),
                proxies=self.option("pypi-proxy"),
            )
        return status_command(self)


class RefreshCommand(EnvCommand):  # type: ignore[misc]  # Poetry is untyped here
    name = "wheelmirror refresh"
    description = "Revalidate the cached mirror manifest and this lock's package documents."

    def handle(self) -> int:
        return refresh_command(self)


class DoctorCommand(EnvCommand):  # type: ignore[misc]  # Poetry is untyped here
    name = "wheelmirror doctor"
    description = (
        "Check Poetry, the plugin, the mirror, pip/uv configuration and where this lock's"
        " packages would come from."
    )
    options = [  # noqa: RUF012  # cleo reads a plain class attribute
        option("mirror", None, "Mirror base URL or local mirror directory.", flag=False),
        option("json", None, "Print the checks as JSON.", flag=True),
    ]

    def handle(self) -> int:
        return doctor_command(self)


class UseCommand(Command):  # type: ignore[misc]  # Poetry is untyped here
    name = "wheelmirror use"
    description = (
        "Use this mirror for all your projects: writes it to your user config, where every"
        " project without its own [tool.poetry-wheelmirror] url finds it (--unset: remove it)."
    )
    arguments = [  # noqa: RUF012  # cleo reads a plain class attribute
        argument("mirror", "Mirror base URL or local mirror directory.", optional=True),
    ]
    options = [  # noqa: RUF012  # cleo reads a plain class attribute
        option("unset", None, "Remove the setting (back to the built-in default).", flag=True),
    ]

    def handle(self) -> int:
        from poetry_wheelmirror.config import check_mirror_location
        from poetry_wheelmirror.config import write_user_setting
        from poetry_wheelmirror.errors import WheelmirrorError

        value = self.argument("mirror")
        unset = bool(self.option("unset"))
        if bool(value) == unset:
            self.line_error("<error>wheelmirror: give a mirror URL or directory, or --unset")
            return 2
        try:
            url = None if unset else check_mirror_location(value)
            path = write_user_setting("url", url)
        except WheelmirrorError as e:
            self.line_error(f"<error>wheelmirror: {e}")
            return e.exit_code
        if url is None:
            self.line(f"Removed the mirror from {path}")
        else:
            self.line(f"Every project without its own mirror setting now uses {url} ({path})")
        return 0


COMMANDS: dict[str, Any] = {
    StatusCommand.name: StatusCommand,
    RefreshCommand.name: RefreshCommand,
    DoctorCommand.name: DoctorCommand,
    UseCommand.name: UseCommand,
}
