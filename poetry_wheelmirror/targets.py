"""Install targets such as ``macos-arm64/3.11``: the tags a client there accepts and the
marker environment its installer evaluates (pure).

A target is a platform the mirror builds for (the four GitHub runner families) and a
CPython ``X.Y`` (or ``X.Y.Z``; ``X.Y`` evaluates ``python_full_version`` as ``X.Y.0``).
The client platform tags match the recipe planner's (``mirror.recipes.TARGETS``): a
glibc 2.28 Linux, a macOS 15 Mac.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.selection import supported_tags

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = ["PLATFORMS", "InstallTarget", "parse_target", "parse_targets", "targets_from_table"]


@dataclass(frozen=True)
class _Platform:
    sys_platform: str
    platform_system: str
    machine: str
    client_platform: str


PLATFORMS: Final[Mapping[str, _Platform]] = {
    "linux-x86_64": _Platform("linux", "Linux", "x86_64", "manylinux_2_28_x86_64"),
    "linux-aarch64": _Platform("linux", "Linux", "aarch64", "manylinux_2_28_aarch64"),
    "macos-arm64": _Platform("darwin", "Darwin", "arm64", "macosx_15_0_arm64"),
    "macos-x86_64": _Platform("darwin", "Darwin", "x86_64", "macosx_15_0_x86_64"),
}
_ALIASES: Final = {
    "linux-arm64": "linux-aarch64",
    "linux-amd64": "linux-x86_64",
    "macos-aarch64": "macos-arm64",
    "macos-amd64": "macos-x86_64",
    "darwin-arm64": "macos-arm64",
    "darwin-x86_64": "macos-x86_64",
}
_PYTHON: Final = re.compile(r"3\.(\d{1,2})(?:\.(\d{1,3}))?")


@dataclass(frozen=True)
class InstallTarget:
    platform: str
    python: str
    python_full: str

    @property
    def label(self) -> str:
        return f"{self.platform}/{self.python}"

    @property
    def client_platform(self) -> str:
        return PLATFORMS[self.platform].client_platform

    def tags(self) -> frozenset[Tag]:
        return _tags(self.python, self.client_platform)

    def tag_list(self) -> list[Tag]:
        """Most preferred first (what an installer ranks by)."""
        return supported_tags(self.python, self.client_platform)

    def marker_env(self) -> dict[str, str]:
        p = PLATFORMS[self.platform]
        return {
            "os_name": "posix",
            "sys_platform": p.sys_platform,
            "platform_system": p.platform_system,
            "platform_machine": p.machine,
            "platform_release": "",
            "platform_version": "",
            "platform_python_implementation": "CPython",
            "implementation_name": "cpython",
            "implementation_version": self.python_full,
            "python_version": self.python,
            "python_full_version": self.python_full,
            "extra": "",
        }


@functools.lru_cache(maxsize=64)
def _tags(python: str, platform: str) -> frozenset[Tag]:
    return frozenset(supported_tags(python, platform))


def parse_target(text: str) -> InstallTarget:
    """``OS-ARCH/X.Y[.Z]``; ConfigError naming the accepted forms otherwise."""
    platform, _, python = text.strip().partition("/")
    platform = _ALIASES.get(platform.lower(), platform.lower())
    found = _PYTHON.fullmatch(python)
    if platform not in PLATFORMS or found is None:
        known = ", ".join(PLATFORMS)
        msg = f"target {text!r}: expected OS-ARCH/X.Y with OS-ARCH one of {known}"
        raise ConfigError(msg)
    short = f"3.{found.group(1)}"
    return InstallTarget(platform, short, f"{short}.{found.group(2) or 0}")


def parse_targets(texts: Iterable[str]) -> tuple[InstallTarget, ...]:
    """Parsed and de-duplicated, in the given order."""
    return tuple(dict.fromkeys(parse_target(t) for t in texts))


def targets_from_table(table: Mapping[str, Any] | None, where: str) -> tuple[InstallTarget, ...]:
    """``targets = [...]`` of a config table (``[tool.poetry-wheelmirror]`` or
    wheelmirror.toml); () when absent."""
    if not table or "targets" not in table:
        return ()
    value = table["targets"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f'{where}: targets must be a list of strings like "macos-arm64/3.11"'
        raise ConfigError(msg)
    return parse_targets(value)
