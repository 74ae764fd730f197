"""System packages a build needs: which package manager this machine has, which of the
packages are missing, and installing them (root, or Homebrew's user install)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from poetry_wheelmirror.mirror.build.job import StepFailed
from poetry_wheelmirror.mirror.build.job import StepLog

__all__ = ["install_command", "install_system_packages", "missing_packages", "package_manager"]

_updated: set[str] = set()  # apt-get/apk index refreshed once per process


def package_manager() -> str | None:
    """``apt``, ``dnf``, ``apk`` or ``brew`` (``yum`` counts as dnf), or None."""
    if shutil.which("apt-get") and shutil.which("dpkg-query"):
        return "apt"
    if shutil.which("dnf") or shutil.which("yum"):
        return "dnf"
    if shutil.which("apk"):
        return "apk"
    if shutil.which("brew"):
        return "brew"
    return None


def _installed(manager: str, package: str) -> bool:
    argv = {
        "apt": ["dpkg-query", "-W", "-f=${Status}", package],
        "dnf": ["rpm", "-q", "--whatprovides", package],
        "apk": ["apk", "info", "-e", package],
        "brew": ["brew", "list", "--versions", package],
    }[manager]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    if manager == "apt":
        return out.returncode == 0 and out.stdout.strip().endswith("ok installed")
    return out.returncode == 0


def missing_packages(manager: str, packages: Sequence[str]) -> list[str]:
    return [p for p in packages if not _installed(manager, p)]


def install_command(manager: str, packages: Sequence[str]) -> list[str]:
    dnf = shutil.which("dnf") or "yum"
    return {
        "apt": ["apt-get", "install", "-y", "--no-install-recommends", *packages],
        "dnf": [dnf, "install", "-y", *packages],
        "apk": ["apk", "add", "--no-cache", *packages],
        "brew": ["brew", "install", *packages],
    }[manager]


def install_system_packages(
    manager: str, packages: Sequence[str], *, log: StepLog, env: Mapping[str, str], cwd: Path
) -> None:
    """Install the missing ones among *packages*; StepFailed when that is not possible."""
    missing = missing_packages(manager, packages)
    if not missing:
        return
    command = install_command(manager, missing)
    if manager != "brew" and os.geteuid() != 0:
        msg = f"installing system packages needs root: run `{' '.join(command)}`"
        log.note(msg)
        raise StepFailed("system packages", msg, log_path=log.path, timed_out=False)
    log.say(f"installing system packages: {' '.join(missing)} ({manager})")
    install_env = {**env, "DEBIAN_FRONTEND": "noninteractive"}
    if manager == "apt" and "apt" not in _updated:
        log.run("system packages", ["apt-get", "update"], env=install_env, cwd=cwd)
        _updated.add("apt")
    log.run("system packages", command, env=install_env, cwd=cwd, timeout=900.0)
