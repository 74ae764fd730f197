"""The doctor's target: the interpreter (or ``--python``/``--platform``) whose wheel tags
the other checks are about, and why PyPI may lack wheels for it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.markers import default_environment
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.doctor.model import DoctorOptions
from poetry_wheelmirror.doctor.model import Target
from poetry_wheelmirror.doctor.project import platform_hint
from poetry_wheelmirror.selection import supported_tags

if TYPE_CHECKING:
    from packaging.tags import Tag


__all__ = ["check_target", "make_target", "scarcity_note"]


# -- the target ------------------------------------------------------------------------

_SYS_PLATFORM = (("macosx", "darwin", "Darwin"), ("win", "win32", "Windows"))


def _marker_env_for(python: str | None, platform_tag: str | None) -> dict[str, str]:
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    env["extra"] = ""
    if python:
        parts = python.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python if len(parts) >= 3 else f"{python}.0"
        env["implementation_name"] = "cpython"
        env["platform_python_implementation"] = "CPython"
        env["implementation_version"] = env["python_full_version"]
    if platform_tag:
        sys_platform, system, os_name = "linux", "Linux", "posix"
        for prefix, plat, name in _SYS_PLATFORM:
            if platform_tag.startswith(prefix):
                sys_platform, system = plat, name
                os_name = "nt" if prefix == "win" else "posix"
        machine = platform_tag.split("_")[-1]
        if platform_tag.endswith("x86_64"):
            machine = "x86_64"
        if sys_platform == "win32":
            machine = {"amd64": "AMD64", "arm64": "ARM64", "win32": "x86"}.get(machine, machine)
        env.update(
            sys_platform=sys_platform,
            platform_system=system,
            os_name=os_name,
            platform_machine=machine,
        )
    return env


def make_target(options: DoctorOptions) -> Target:
    """The target from ``--python``/``--platform``, the caller's tags, or this interpreter."""
    from poetry_wheelmirror.selection import PLATFORM_ALIASES

    host_python = "{}.{}.{}".format(*sys.version_info[:3])
    if options.tags is not None:
        python = options.python_version or host_python
        label = options.target_label or f"Python {python}"
        env = dict(options.marker_env or _marker_env_for(python, None))
        return Target(label, python, tuple(options.tags), env, is_host=False)
    if options.python is None and options.platform is None:
        tags = tuple(supported_tags())
        impl = sys.implementation.name
        label = f"{_impl_name(impl)} {host_python} at {sys.executable}"
        return Target(label, host_python, tags, _marker_env_for(None, None), is_host=True)
    tags = tuple(supported_tags(options.python, options.platform))
    python = options.python or host_python
    platform_tag = None
    if options.platform:
        platform_tag = PLATFORM_ALIASES.get(options.platform, options.platform)
    label = f"CPython {python} on {platform_tag or 'this platform'} (--python/--platform)"
    return Target(label, python, tags, _marker_env_for(python, platform_tag), is_host=False)


def _impl_name(impl: str) -> str:
    return {"cpython": "CPython", "pypy": "PyPy"}.get(impl, impl)


# -- interpreter and tags --------------------------------------------------------------

_SCARCE_PLATFORMS = (
    ("macosx", "arm64", "macOS arm64 (Apple Silicon)"),
    ("macosx", "universal2", "macOS universal2"),
    ("", "aarch64", "Linux arm64 (aarch64)"),
    ("musllinux", "", "musl Linux (Alpine)"),
    ("", "armv7l", "32-bit ARM"),
    ("", "ppc64le", "POWER (ppc64le)"),
    ("", "s390x", "IBM Z (s390x)"),
    ("", "i686", "32-bit x86"),
    ("win", "arm64", "Windows on ARM"),
)


def scarcity_note(tags: Sequence[Tag], python: str) -> str:
    """Why PyPI may lack wheels for this target, or "" when it usually has them."""
    notes = []
    concrete = [t.platform for t in tags if t.platform != "any"]
    top = next((p for p in concrete if not p.startswith("linux_")), concrete[0] if concrete else "")
    for prefix, arch, label in _SCARCE_PLATFORMS:
        if top.startswith(prefix) and (not arch or top.endswith(arch)):
            notes.append(f"{label}: many packages publish no wheels for it")
            break
    try:
        version = Version(python)
    except InvalidVersion:
        version = None
    abis = {t.abi for t in tags[:3]}
    if any(abi.endswith("t") and abi.startswith("cp") for abi in abis):
        notes.append("free-threaded CPython: few packages publish wheels for it yet")
    elif version is not None and version.release[:2] >= (3, 11):
        notes.append(
            f"CPython {version.major}.{version.minor}: older releases of many packages"
            " have no wheels for it"
        )
    return "; ".join(notes)


def check_target(target: Target) -> list[Check]:
    """What the checks below are about: the interpreter and its most preferred tags."""
    checks = [Check("interpreter", "ok", target.label)]
    if not target.tags:
        checks.append(
            Check(
                "tags",
                "fail",
                "this interpreter reports no supported wheel tags",
                "check --python/--platform",
            )
        )
        return checks
    top = ", ".join(str(t) for t in target.tags[:3])
    detail = f"{len(target.tags)} tags, most preferred: {top}; wheels for {platform_hint(target)}"
    note = scarcity_note(target.tags, target.python)
    if note:
        detail += f". {note}: this is where the mirror helps"
    checks.append(Check("tags", "ok", detail))
    return checks
