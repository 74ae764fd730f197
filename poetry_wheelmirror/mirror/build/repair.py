"""Turning a freshly built wheel into one other machines can install.

On Linux ``auditwheel repair`` chooses the policy itself (``--plat auto``): it grafts the
libraries the extensions link outside the manylinux policy (libxml2, libffi, libpq, ...)
into the wheel and names the oldest manylinux policy the result satisfies. Only what
repair itself refuses is refused. On macOS ``delocate-wheel`` does the same job.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror.mirror.build.job import StepFailed
from poetry_wheelmirror.mirror.build.job import StepLog

__all__ = ["NEWEST_PORTABLE_GLIBC", "Repaired", "glibc_note", "repair_wheel", "strip_is_safe"]

#: Wheels tagged for a newer glibc than this install only on recent distributions.
NEWEST_PORTABLE_GLIBC = (2, 28)
#: auditwheel's --strip damages some wheels before 6.8.
_STRIP_SAFE_FROM = Version("6.8")
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_")


@dataclass(frozen=True)
class Repaired:
    wheel: Path
    #: Things the user should know (a recent glibc, --strip skipped), one line each.
    notes: tuple[str, ...] = ()


def glibc_note(filename: str) -> str | None:
    """A note when the wheel's best manylinux tag needs a glibc newer than 2.28."""
    needed: tuple[int, int] | None = None
    for tag in parse_wheel_filename(filename)[3]:
        match = _MANYLINUX.match(tag.platform)
        if match:
            version = (int(match.group(1)), int(match.group(2)))
            needed = version if needed is None else min(needed, version)
    if needed is None or needed <= NEWEST_PORTABLE_GLIBC:
        return None
    return (
        f"{filename} needs glibc {needed[0]}.{needed[1]} (newer than manylinux_2_28): it "
        "installs only on recent distributions; cibuildwheel's manylinux containers on CI "
        "make wheels for older ones"
    )


def strip_is_safe() -> bool:
    try:
        return Version(importlib.metadata.version("auditwheel")) >= _STRIP_SAFE_FROM
    except (importlib.metadata.PackageNotFoundError, InvalidVersion):
        return False


def _host_policy() -> str | None:
    """``manylinux_2_<minor>_<arch>`` for this host's glibc, or None."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    match = re.fullmatch(r"glibc (\d+)\.(\d+)", libc)
    if match is None:
        return None
    return f"manylinux_{match.group(1)}_{match.group(2)}_{platform.machine()}"


def _one_wheel(folder: Path, log: StepLog, step: str) -> Path:
    found = sorted(folder.glob("*.whl"))
    if len(found) != 1:
        msg = f"{step} produced {len(found)} wheels, expected one"
        log.note(msg)
        raise StepFailed(step, msg, log_path=log.path, timed_out=False)
    return found[0]


def repair_wheel(
    wheel: Path, *, log: StepLog, env: Mapping[str, str], work: Path, strip: bool
) -> Repaired:
    """The repaired wheel (the same file for a pure-Python wheel); StepFailed when the
    repair tool refuses, or when the result would still be a ``linux_*`` wheel."""
    if {t.platform for t in parse_wheel_filename(wheel.name)[3]} == {"any"}:
        return Repaired(wheel)
    out = work / "repaired"
    notes: list[str] = []
    if sys.platform.startswith("linux"):
        argv = [sys.executable, "-m", "auditwheel", "repair", "-w", str(out)]
        if strip and strip_is_safe():
            argv.append("--strip")
        elif strip:
            notes.append("not stripping: auditwheel --strip is safe from 6.8 on")
        log.say("auditwheel repair (policy chosen by auditwheel)")
        try:
            log.run("auditwheel repair", [*argv, str(wheel)], env=env, cwd=work)
        except StepFailed:
            # Interpreters that link no libc (pyenv 3.7-3.9 builds) leave auditwheel
            # unable to tell the wheel's libc; this host's glibc policy still applies.
            plat = _host_policy()
            if plat is None:
                raise
            log.note(f"retrying auditwheel repair with --plat {plat}")
            argv[4:4] = ["--plat", plat]
            log.run("auditwheel repair", [*argv, str(wheel)], env=env, cwd=work)
        repaired = _one_wheel(out, log, "auditwheel repair")
    elif sys.platform == "darwin":
        log.say("delocate-wheel")
        argv = [sys.executable, "-m", "delocate.cmd.delocate_wheel", "-w", str(out)]
        log.run("delocate-wheel", [*argv, str(wheel)], env=env, cwd=work)
        repaired = _one_wheel(out, log, "delocate-wheel")
    else:
        msg = f"no wheel repair tool for {sys.platform}"
        raise StepFailed("repair", msg, log_path=log.path, timed_out=False)
    if any(t.platform.startswith("linux_") for t in parse_wheel_filename(repaired.name)[3]):
        msg = f"repair left a linux_* wheel: {repaired.name}"
        log.note(msg)
        raise StepFailed("repair", msg, log_path=log.path, timed_out=False)
    note = glibc_note(repaired.name)
    if note:
        notes.append(note)
    return Repaired(repaired, tuple(notes))
