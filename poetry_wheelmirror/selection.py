"""Choosing the wheel pip would choose, from an ordered list of supported tags (pure).

pip ranks the files of one version by ``(not yanked, tag priority, build tag)``: the
wheel whose most preferred tag comes earliest in the interpreter's tag list wins, and
among equals the highest build tag. This module reproduces that ranking so the mirror
and pip agree on which file an interpreter gets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.tags import compatible_tags
from packaging.tags import cpython_tags
from packaging.tags import mac_platforms
from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import NoCompatibleWheelError
from poetry_wheelmirror.names import wheel_filename_problem

if TYPE_CHECKING:
    from poetry_wheelmirror.manifest import WheelFile

__all__ = [
    "PLATFORM_ALIASES",
    "Candidate",
    "check_platform",
    "expand_platform",
    "rank_wheels",
    "select_wheel",
    "supported_tags",
]

#: Friendly names for common targets; each maps to the platform tag pip would report.
PLATFORM_ALIASES = {
    "macos-arm64": "macosx_11_0_arm64",
    "macos-x86_64": "macosx_10_9_x86_64",
    "linux-x86_64": "manylinux_2_17_x86_64",
    "linux-aarch64": "manylinux_2_17_aarch64",
    "musllinux-x86_64": "musllinux_1_2_x86_64",
    "musllinux-aarch64": "musllinux_1_2_aarch64",
    "windows-x86_64": "win_amd64",
    "windows-arm64": "win_arm64",
}

#: The shapes of wheel platform tags accepted besides the names above.
_PLATFORM_TAG = re.compile(
    r"^(?:(?:manylinux|musllinux)_\d+_\d+_(?P<linux>[a-z0-9_]+)"
    r"|manylinux(?:1|2010|2014)_(?P<legacy>[a-z0-9_]+)"
    r"|linux_(?P<plain>[a-z0-9_]+)"
    r"|macosx_\d+_\d+_(?P<mac>arm64|x86_64|universal2|universal|intel|fat64|fat32|fat|i386|ppc64|ppc)"
    r"|win32|win_amd64|win_arm64)$"
)
_LINUX_ARCHES = frozenset(
    {"x86_64", "i686", "aarch64", "armv7l", "armv6l", "ppc64le", "ppc64", "s390x", "riscv64"}
)

#: Bounds on the version numbers in a platform tag (glibc 2.99, macOS 99.99): far above
#: anything real, low enough that expanding a tag stays cheap.
_MAX_MINOR = 99
_MAX_MACOS_MAJOR = 99

_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


def check_platform(value: str) -> str:
    """*value* when it is a known platform name or a well-formed wheel platform tag;
    else ConfigError naming the closest known name (``macos-arm`` -> ``macos-arm64``).

    >>> check_platform("macos-arm64"), check_platform("manylinux_2_28_aarch64")
    ('macos-arm64', 'manylinux_2_28_aarch64')
    """
    import difflib

    if value in PLATFORM_ALIASES:
        return value
    match = _PLATFORM_TAG.match(value)
    arch = match and (match["linux"] or match["legacy"] or match["plain"])
    if match and (not arch or arch in _LINUX_ARCHES):
        expand_platform(value)  # the version ranges
        return value
    names = sorted(PLATFORM_ALIASES)
    close = difflib.get_close_matches(value.lower(), [*names, "win_amd64", "win_arm64"], n=2)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    msg = (
        f"unknown platform {value!r}{hint} (use one of {', '.join(names)},"
        " or a wheel platform tag such as manylinux_2_28_x86_64 or macosx_11_0_arm64)"
    )
    raise ConfigError(msg)


def expand_platform(platform: str) -> list[str]:
    """Platform tags an interpreter on *platform* accepts, most preferred first.

    macOS expands to older minimum versions and ``universal2``; ``manylinux_2_X``
    expands down to ``manylinux_2_5`` with the legacy aliases; ``musllinux_1_X`` down
    to ``musllinux_1_0``.

    >>> expand_platform("manylinux_2_17_x86_64")[:3]
    ['manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux_2_16_x86_64']
    """
    platform = PLATFORM_ALIASES.get(platform, platform)
    if platform.startswith("macosx_"):
        try:
            _, mac_major, mac_minor, arch = platform.split("_", 3)
            version = (int(mac_major), int(mac_minor))
        except ValueError:
            msg = f"invalid macOS platform tag {platform!r} (expected macosx_MAJOR_MINOR_ARCH)"
            raise ConfigError(msg) from None
        # packaging counts down from the given version one by one: a tag such as
        # macosx_3000000_0_arm64 (from a pyproject setting) would hang the caller.
        if not (10 <= version[0] <= _MAX_MACOS_MAJOR and 0 <= version[1] <= _MAX_MINOR):
            msg = f"macOS version out of range in platform tag {platform!r}"
            raise ConfigError(msg)
        return list(mac_platforms(version, arch))
    for prefix, floor in (("manylinux_", 5), ("musllinux_", 0)):
        if platform.startswith(prefix):
            try:
                major_s, minor_s, machine = platform[len(prefix) :].split("_", 2)
                major, top = int(major_s), int(minor_s)
            except ValueError:
                msg = f"invalid platform tag {platform!r}"
                raise ConfigError(msg) from None
            if not (floor <= top <= _MAX_MINOR and 0 <= major <= _MAX_MINOR) or not machine:
                # The loop below lists every minor version down to the floor (and
                # would list nothing below it).
                msg = f"libc version out of range in platform tag {platform!r}"
                raise ConfigError(msg)
            result = []
            for minor in range(top, floor - 1, -1):
                result.append(f"{prefix}{major}_{minor}_{machine}")
                legacy = _LEGACY_MANYLINUX.get((major, minor)) if prefix == "manylinux_" else None
                if legacy and (minor != 5 or machine in ("x86_64", "i686")):
                    result.append(f"{legacy}_{machine}")
            return result
    return [platform]


def supported_tags(python: str | None = None, platform: str | None = None) -> list[Tag]:
    """The ordered tag list for a CPython *python* (``"3.11"``) on *platform*.

    With neither given, the running interpreter's tags (``packaging.tags.sys_tags``).
    """
    if python is None and platform is None:
        return list(sys_tags())
    version: tuple[int, ...] | None = None
    if python is not None:
        try:
            version = tuple(int(p) for p in python.split("."))[:2]
        except ValueError:
            msg = f"invalid Python version {python!r} (expected X.Y)"
            raise ConfigError(msg) from None
    platforms = expand_platform(platform) if platform else None
    tags = list(cpython_tags(python_version=version, platforms=platforms))
    tags.extend(compatible_tags(python_version=version, interpreter=None, platforms=platforms))
    return tags


@dataclass(frozen=True)
class Candidate:
    """A wheel with the verdict on it: a rank key when usable, a reason when not."""

    wheel: WheelFile
    key: tuple[int, int, tuple[int, str] | tuple[()]] | None
    reason: str


def _build_tag(filename: str) -> tuple[int, str] | tuple[()]:
    build = parse_wheel_filename(filename)[2]
    return (build[0], build[1]) if build else ()


def rank_wheels(
    wheels: Iterable[WheelFile],
    tags: Sequence[Tag],
    python_version: str | None = None,
) -> list[Candidate]:
    """Every wheel with its verdict, the best usable one first."""
    priority = {tag: index for index, tag in enumerate(tags)}
    python = Version(python_version) if python_version else None
    candidates = []
    for wheel in wheels:
        problem = wheel_filename_problem(wheel.filename)
        if problem:
            # Checked before parsing: packaging expands every tag combination.
            candidates.append(Candidate(wheel, None, problem))
            continue
        wheel_tags = parse_wheel_filename(wheel.filename)[3]
        ranks = [priority[t] for t in wheel_tags if t in priority]
        if not ranks:
            candidates.append(Candidate(wheel, None, "no tag matches this interpreter/platform"))
            continue
        if python and wheel.requires_python:
            spec = SpecifierSet(wheel.requires_python)
            if not spec.contains(python, prereleases=True):
                candidates.append(
                    Candidate(wheel, None, f"requires Python {wheel.requires_python}")
                )
                continue
        key = (0 if wheel.yanked else 1, -min(ranks), _build_tag(wheel.filename))
        reason = f"yanked: {wheel.yanked_reason or 'no reason given'}" if wheel.yanked else "ok"
        candidates.append(Candidate(wheel, key, reason))
    usable = sorted(
        (c for c in candidates if c.key is not None), key=lambda c: c.key or (), reverse=True
    )
    return usable + [c for c in candidates if c.key is None]


def select_wheel(
    wheels: Sequence[WheelFile],
    tags: Sequence[Tag],
    python_version: str | None = None,
) -> WheelFile:
    """The wheel pip would pick for *tags*, or NoCompatibleWheelError saying why none fits."""
    ranked = rank_wheels(wheels, tags, python_version)
    if ranked and ranked[0].key is not None:
        return ranked[0].wheel
    if not wheels:
        raise NoCompatibleWheelError("the mirror has no wheels for this version")
    reasons = "; ".join(f"{c.wheel.filename}: {c.reason}" for c in ranked)
    msg = f"none of {len(wheels)} wheel(s) fits: {reasons}"
    raise NoCompatibleWheelError(msg)
