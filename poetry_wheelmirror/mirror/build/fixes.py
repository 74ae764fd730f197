"""Automatic fixes: one BuildSettings change per failure class, and the recipe that
makes a fixed build direct next time.

Each fix returns new settings, or None when it is already in place (then retrying
would only repeat the failure). Installing system packages changes the machine, so
that fix is only offered when the user asked for it (``--install-system-packages``).
"""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING

from poetry_wheelmirror.mirror.recipes import BuildSettings

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror.build.diagnose import Diagnosis

__all__ = ["FIXES", "Fix", "next_fix", "recipe_text", "this_platform"]


@dataclasses.dataclass(frozen=True)
class Fix:
    name: str
    #: What the fix does, for the log and the progress line.
    description: str
    settings: BuildSettings


def _constraint(settings: BuildSettings, requirement: str) -> BuildSettings | None:
    project = requirement.split("<", 1)[0].lower()
    if any(c.lower().startswith(project) for c in settings.constraints):
        return None
    return dataclasses.replace(settings, constraints=(*settings.constraints, requirement))


def _cython_below_3(settings: BuildSettings, _d: Diagnosis) -> BuildSettings | None:
    return _constraint(settings, "Cython<3")


def _setuptools_below_70(settings: BuildSettings, _d: Diagnosis) -> BuildSettings | None:
    return _constraint(settings, "setuptools<70")


def _distutils_shim(settings: BuildSettings, _d: Diagnosis) -> BuildSettings | None:
    if settings.env.get("SETUPTOOLS_USE_DISTUTILS") == "local":
        return None
    requires = settings.requires
    if not any(r.lower().startswith("setuptools") for r in requires):
        requires = (*requires, "setuptools")
    env = {**settings.env, "SETUPTOOLS_USE_DISTUTILS": "local"}
    return dataclasses.replace(settings, env=env, requires=requires)


def _regenerate_cython(settings: BuildSettings, _d: Diagnosis) -> BuildSettings | None:
    if settings.regenerate_cython:
        return None
    # The regenerated C is Cython 0.29 output; the build's own Cython (if any) must match.
    fixed = _constraint(settings, "Cython<3") or settings
    return dataclasses.replace(fixed, regenerate_cython=True)


def _cpython_compat(settings: BuildSettings, _d: Diagnosis) -> BuildSettings | None:
    return None if settings.cpython_compat else dataclasses.replace(settings, cpython_compat=True)


def _pypa_build(settings: BuildSettings, _d: Diagnosis) -> BuildSettings | None:
    return None if settings.backend == "build" else dataclasses.replace(settings, backend="build")


def _rustc_bootstrap(settings: BuildSettings, _d: Diagnosis) -> BuildSettings | None:
    if settings.env.get("RUSTC_BOOTSTRAP") == "1":
        return None
    return dataclasses.replace(settings, env={**settings.env, "RUSTC_BOOTSTRAP": "1"})


def system_key() -> str:
    return "macos" if sys.platform == "darwin" else "linux"


def _system_packages(
    settings: BuildSettings, diagnosis: Diagnosis, manager: str | None
) -> BuildSettings | None:
    package = diagnosis.packages.get(manager or "")
    key = system_key()
    have = settings.system_packages.get(key, ())
    if package is None or package in have:
        return None
    packages = {**settings.system_packages, key: (*have, package)}
    return dataclasses.replace(settings, system_packages=packages)


#: Fix name (the ``auto-fix`` of a rule in diagnoses.toml) -> what it changes.
FIXES: Mapping[str, tuple[str, Callable[[BuildSettings, Diagnosis], BuildSettings | None]]] = {
    "cython-below-3": ("build with Cython<3", _cython_below_3),
    "setuptools-below-70": ("build with setuptools<70", _setuptools_below_70),
    "distutils-shim": (
        "setuptools' distutils shim (SETUPTOOLS_USE_DISTUTILS=local)",
        _distutils_shim,
    ),
    "rustc-bootstrap": (
        "let stable rustc accept nightly features (RUSTC_BOOTSTRAP=1)",
        _rustc_bootstrap,
    ),
    "regenerate-cython": ("regenerate the shipped C from .pyx with Cython<3", _regenerate_cython),
    "cpython-compat": (
        "build with CPython compatibility headers for removed C API",
        _cpython_compat,
    ),
    "pypa-build": ("build with pypa/build instead of uv", _pypa_build),
}


def next_fix(
    diagnosis: Diagnosis,
    settings: BuildSettings,
    *,
    install_system_packages: bool,
    manager: str | None,
) -> Fix | None:
    """The fix to retry with: the class's first automatic fix not yet in *settings*; or
    None (no fix for this class, or all of them are already applied)."""
    for name in diagnosis.auto_fixes:
        if name == "install-system-packages":
            if not install_system_packages:
                continue
            changed = _system_packages(settings, diagnosis, manager)
            if changed is None:
                continue
            package = diagnosis.packages[manager or ""]
            return Fix(name, f"install {package} ({manager}) for {diagnosis.what}", changed)
        description, apply = FIXES[name]
        changed = apply(settings, diagnosis)
        if changed is not None:
            return Fix(name, description, changed)
    return None


def this_platform() -> str:
    """The recipe platform name of this machine, e.g. ``linux-x86_64``."""
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if sys.platform == "darwin":
        return f"macos-{'arm64' if machine == 'aarch64' else machine}"
    return f"linux-{machine}"


def _toml_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def recipe_text(
    name: str, version: str, python: str, settings: BuildSettings, fixes: list[str]
) -> str:
    """A recipe (TOML) with *settings*: what made this build work, proven on this
    machine's platform and Python."""
    lines = [
        f"# Written by `wheelmirror build`: {name} {version} built here after: "
        + "; ".join(fixes)
        + ".",
        f'name = "{name}"',
        f"versions = {_toml_list([version])}",
        f"python = {_toml_list([python])}",
        f"platforms = {_toml_list([this_platform()])}",
        "",
        "[build]",
    ]
    if settings.requires:
        lines.append(f"requires = {_toml_list(settings.requires)}")
    if settings.constraints:
        lines.append(f"constraints = {_toml_list(settings.constraints)}")
    if settings.before_build:
        lines.append(f"before-build = {_toml_list(settings.before_build)}")
    if settings.strip:
        lines.append("strip = true")
    if settings.regenerate_cython:
        lines.append("regenerate-cython = true")
    if settings.cpython_compat:
        lines.append("cpython-compat = true")
    if settings.backend:
        lines.append(f'backend = "{settings.backend}"')
    if settings.import_check:
        lines.append(f'import-check = "{settings.import_check}"')
    if settings.import_check_requires:
        lines.append(f"import-check-requires = {_toml_list(settings.import_check_requires)}")
    if settings.timeout_minutes != BuildSettings().timeout_minutes:
        lines.append(f"timeout-minutes = {settings.timeout_minutes}")
    if settings.env:
        lines += ["", "[build.env]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in sorted(settings.env.items())]
    if any(settings.system_packages.values()):
        lines += ["", "[build.system-packages]"]
        lines += [
            f"{k} = {_toml_list(v)}" for k, v in sorted(settings.system_packages.items()) if v
        ]
    return "\n".join(lines) + "\n"
