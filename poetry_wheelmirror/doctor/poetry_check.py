"""The doctor's Poetry checks: Poetry on PATH (or the running one), its version, and
whether the poetry-wheelmirror plugin is installed, warns at start-up or is switched off."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror import __version__
from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.doctor.model import DoctorOptions
from poetry_wheelmirror.doctor.poetry_probe import Runner
from poetry_wheelmirror.doctor.poetry_probe import last_line
from poetry_wheelmirror.doctor.poetry_probe import parse_plugin_list
from poetry_wheelmirror.doctor.poetry_probe import parse_poetry_version
from poetry_wheelmirror.doctor.poetry_probe import parse_self_show
from poetry_wheelmirror.doctor.poetry_probe import wheelmirror_warnings
from poetry_wheelmirror.settings import DISABLE_ENV
from poetry_wheelmirror.settings import TOOL_TABLE
from poetry_wheelmirror.settings import PluginSettings

__all__ = ["PLUGIN_DIST", "check_poetry"]


#: The distribution name Poetry lists when the plugin is installed.
PLUGIN_DIST: Final = canonicalize_name("poetry-wheelmirror")


def check_poetry(
    options: DoctorOptions, runner: Runner, *, poetry_project: bool, settings: PluginSettings | None
) -> list[Check]:
    """Poetry on PATH, its version, and whether the plugin is installed and switched on."""
    if options.poetry_facts is not None:
        facts = options.poetry_facts
        loaded = Check(
            "plugin", "ok", f"poetry-wheelmirror {facts.plugin_version} is loaded in this Poetry"
        )
        return [
            _poetry_version_check(facts.version, facts.executable),
            loaded,
            *_plugin_switch(settings),
        ]
    executable = options.poetry or shutil.which("poetry", path=options.environ.get("PATH"))
    add_fix = "poetry self add poetry-wheelmirror"
    if not executable:
        return [
            Check(
                "poetry",
                "warn" if poetry_project else "ok",
                "Poetry is not on PATH, so the plugin cannot be checked"
                + (" (this project uses Poetry)" if poetry_project else ""),
                "install Poetry (e.g. `pipx install poetry`) and run "
                f"`{add_fix}`, or pass --poetry PATH; pip and uv users can ignore this",
            )
        ]
    cwd = options.project if options.project and options.project.is_dir() else options.cwd
    timeout = max(options.timeout, 20.0)
    version_run = runner([executable, "--no-ansi", "--version"], options.environ, cwd, timeout)
    if version_run.returncode is None:
        return [
            Check(
                "poetry",
                "fail",
                f"`{executable} --version` failed: {version_run.error}",
                "check that Poetry starts at all (`poetry --version`)",
            )
        ]
    checks: list[Check] = []
    if version_run.returncode != 0:
        bare = runner(
            [executable, "--no-ansi", "--no-plugins", "--version"], options.environ, cwd, timeout
        )
        if bare.returncode == 0:
            return [
                Check(
                    "poetry",
                    "fail",
                    f"{executable} fails to start with its plugins but starts without them: "
                    + last_line(version_run.stderr, version_run.stdout),
                    "reinstall the plugin (`poetry self remove poetry-wheelmirror`, then "
                    f"`{add_fix}`) or remove the broken plugin",
                )
            ]
        return [
            Check(
                "poetry",
                "fail",
                f"`{executable} --version` exited {version_run.returncode}: "
                + last_line(version_run.stderr, version_run.stdout),
                "repair or reinstall Poetry",
            )
        ]
    version = parse_poetry_version(version_run.stdout) or "unknown"
    checks.append(_poetry_version_check(version, executable))
    listed = _plugin_listing(executable, options, runner, cwd, timeout)
    plugin_version = listed.get(PLUGIN_DIST) if isinstance(listed, dict) else None
    if isinstance(listed, str):
        checks.append(
            Check(
                "plugin",
                "warn",
                f"cannot tell whether the plugin is installed: {listed}",
                "run `poetry self show plugins` yourself",
            )
        )
    elif plugin_version is None:
        others = ", ".join(sorted(listed)) or "none"
        checks.append(
            Check(
                "plugin",
                "fail" if poetry_project else "warn",
                f"Poetry {version} is installed but the poetry-wheelmirror plugin is not "
                f"(plugins: {others}): `poetry install` will build from source what PyPI "
                "has no wheel for",
                f"`{add_fix}` (it installs into Poetry's own environment)",
            )
        )
    else:
        detail = f"poetry-wheelmirror {plugin_version} is installed in Poetry's environment"
        if plugin_version != __version__:
            detail += f" (this wheelmirror is {__version__})"
        warnings = wheelmirror_warnings(version_run.stderr)
        if warnings:
            checks.append(
                Check(
                    "plugin",
                    "warn",
                    f"{detail}, but it warned at start-up: {warnings[0]}",
                    "see docs/troubleshooting.md for that warning; upgrading the plugin "
                    "(`poetry self add poetry-wheelmirror@latest`) usually fixes it",
                )
            )
        else:
            checks.append(Check("plugin", "ok", detail))
        checks.extend(_plugin_switch(settings))
    return checks


def _poetry_version_check(version: str, executable: str) -> Check:
    try:
        parsed = Version(version)
    except InvalidVersion:
        return Check(
            "poetry", "warn", f"Poetry at {executable}, version {version!r} not understood"
        )
    if not (Version("2.0") <= parsed < Version("3")):
        return Check(
            "poetry",
            "fail",
            f"Poetry {version} at {executable}: the plugin supports Poetry 2.x only",
            "upgrade Poetry (`poetry self update`)",
        )
    return Check("poetry", "ok", f"Poetry {version} at {executable}")


def _plugin_listing(
    executable: str, options: DoctorOptions, runner: Runner, cwd: Path, timeout: float
) -> dict[NormalizedName, str] | str:
    """Installed plugins per ``poetry self show plugins`` (falling back to ``self show``),
    or why they could not be listed."""
    problems = []
    for argv in (
        [executable, "--no-ansi", "self", "show", "plugins"],
        [executable, "--no-ansi", "--no-plugins", "self", "show", "plugins"],
    ):
        run = runner(argv, options.environ, cwd, timeout)
        if run.returncode == 0:
            plugins = parse_plugin_list(run.stdout)
            if PLUGIN_DIST not in plugins:
                # Some Poetry versions list plugins only in `self show`.
                shown = runner(
                    [executable, "--no-ansi", "self", "show"], options.environ, cwd, timeout
                )
                if shown.returncode == 0 and PLUGIN_DIST in parse_self_show(shown.stdout):
                    plugins[PLUGIN_DIST] = parse_self_show(shown.stdout)[PLUGIN_DIST]
            return plugins
        problems.append(run.error or last_line(run.stderr, run.stdout) or f"exit {run.returncode}")
        if run.returncode is None:
            break
    return f"`poetry self show plugins` failed: {problems[0]}"


def _plugin_switch(settings: PluginSettings | None) -> list[Check]:
    if settings is None or settings.enabled:
        return []
    return [
        Check(
            "plugin switch",
            "warn",
            f"the plugin is installed but switched off: {settings.disabled_reason}",
            f"unset {DISABLE_ENV}"
            if DISABLE_ENV in settings.disabled_reason
            else f"remove `enabled = false` from [tool.{TOOL_TABLE}]",
        )
    ]
