"""What the plugin does with the built-in default mirror, which nobody configured.

A mirror the user named is trusted as configured. The built-in default is used only
for wheels whose Sigstore attestation verifies as made by this project's own build
workflow (settings.py forces ``provenance = "require"`` with the identity pinned in
config.py). When that cannot happen (no sigstore, the default does not answer, its
wheels carry no attestation) the install goes on exactly as without the plugin, with no
connection warnings: at most one quiet line at the end names the packages that will
build from source and what would let the mirror be used.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from typing import Final

if TYPE_CHECKING:
    from poetry_wheelmirror.settings import PluginSettings

__all__ = ["SourceBuilds", "default_blocked_reason", "unverifiable_reason"]

_PREFIX: Final = "wheelmirror"
_HOW_TO_CONFIGURE: Final = "or name a mirror you trust: poetry wheelmirror use URL"


def default_blocked_reason(settings: PluginSettings) -> str | None:
    """Why the built-in default cannot be used at all in this run (checked before any
    network access), or None (also for every configured mirror)."""
    if not settings.builtin_default:
        return None
    from poetry_wheelmirror.provenance import sigstore_available

    if not sigstore_available():
        return (
            "the built-in mirror is used only when its wheels' provenance verifies, which"
            " needs sigstore: poetry self add 'poetry-wheelmirror[verify]'; "
            + _HOW_TO_CONFIGURE
        )
    return None


class SourceBuilds:
    """Packages that build from source because the built-in default was not usable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._packages: dict[str, str] = {}
        self._reasons: list[str] = []

    def add(self, name: str, version: str, reason: str) -> None:
        with self._lock:
            self._packages.setdefault(name, version)
            if reason not in self._reasons:
                self._reasons.append(reason)

    def __bool__(self) -> bool:
        return bool(self._packages)

    def line(self) -> str | None:
        """The one quiet line for the end of the install (None: nothing to say)."""
        with self._lock:
            if not self._packages:
                return None
            names = ", ".join(f"{n} {v}" for n, v in sorted(self._packages.items()))
            why = "; ".join(self._reasons)
        return (
            f"{_PREFIX}: building from source: {names} ({why});"
            " see `poetry wheelmirror status`"
        )


def unverifiable_reason(problem: str) -> str:
    """The reason recorded when the default answered but a wheel cannot be verified."""
    return f"the built-in mirror is not used: {problem}; {_HOW_TO_CONFIGURE}"
