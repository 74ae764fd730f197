"""``wheelmirror doctor``: check a machine and say what works and what to fix (no printing).

Each check returns :class:`Check` records (``ok``/``warn``/``fail``, a plain-words detail,
and a fix when there is one). The CLI (``cli/doctor_cmd.py``) prints them; the Poetry
plugin's ``poetry wheelmirror doctor`` calls :func:`run_doctor` with what it already
knows (Poetry's version, the environment's tags) and prints the same lines.

This module holds :func:`run_doctor`, which runs every check in order; ``model`` holds
the data types, ``target`` the interpreter and tags, ``poetry_check`` Poetry and the
plugin, ``manifest_check`` the mirror's manifest, ``config`` the pip/uv/environment
checks, ``project`` the per-package ones, and ``report`` the report's formatting.

What is checked, in order: the target interpreter and its tags; Poetry and whether the
plugin is installed; the mirror's root manifest (reachable, valid, fresh, from the
cache or not); pip's and uv's index configuration and the environment variables that
override it; and, for the project, where each locked package would come from.

Reading is all the doctor does: it never writes a config file, never installs.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.client import default_cache_dir
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import MIRROR_ENV
from poetry_wheelmirror.doctor.config import check_environment
from poetry_wheelmirror.doctor.config import check_pip
from poetry_wheelmirror.doctor.config import check_uv
from poetry_wheelmirror.doctor.manifest_check import check_manifest
from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.doctor.model import DoctorOptions
from poetry_wheelmirror.doctor.poetry_check import check_poetry
from poetry_wheelmirror.doctor.poetry_probe import Runner
from poetry_wheelmirror.doctor.poetry_probe import run_command
from poetry_wheelmirror.doctor.project import check_project
from poetry_wheelmirror.doctor.project import check_project_venv
from poetry_wheelmirror.doctor.project import find_project
from poetry_wheelmirror.doctor.project import is_poetry_project
from poetry_wheelmirror.doctor.project import project_facts
from poetry_wheelmirror.doctor.target import check_target
from poetry_wheelmirror.doctor.target import make_target
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.indexconfig import is_mirror_url
from poetry_wheelmirror.indexconfig import redact_url
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.settings import TOOL_TABLE
from poetry_wheelmirror.settings import URL_ENV
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.settings import load_settings
from poetry_wheelmirror.settings import tool_table
from poetry_wheelmirror.urls import join_url
from poetry_wheelmirror.urls import to_base_url

__all__ = ["run_doctor"]


def _choose_mirror(options: DoctorOptions, settings: PluginSettings | None) -> tuple[str, str]:
    """The mirror to check and where it came from: ``--mirror``, then ``$WHEELMIRROR_URL``
    and the plugin's settings (the plugin's first when running inside Poetry, where its
    mirror is the one that matters), then the default."""
    if options.mirror:
        return options.mirror, "--mirror"
    plugin: tuple[str, str] | None = None
    if settings is not None and settings.url_source != "default":
        plugin = (settings.url, settings.url_origin)
    if plugin is not None and options.poetry_facts is not None:
        return plugin
    if options.environ.get(MIRROR_ENV):
        return options.environ[MIRROR_ENV], f"${MIRROR_ENV}"
    if plugin is not None:
        return plugin
    from poetry_wheelmirror.config import choose_mirror

    try:
        chosen = choose_mirror(None, options.environ)  # the user config, else the default
    except ConfigError:  # reported by the settings check
        return DEFAULT_MIRROR_URL, "the built-in default"
    return chosen.url, chosen.label


def run_doctor(
    options: DoctorOptions,
    *,
    runner: Runner = run_command,
    client: CachedClient | None = None,
) -> list[Check]:
    """Every check, in report order."""
    checks: list[Check] = []
    try:
        target = make_target(options)
    except ConfigError as e:
        return [Check("interpreter", "fail", str(e), "check --python and --platform")]
    checks += check_target(target)

    project = find_project(options.project or options.cwd, explicit=options.project is not None)
    if options.project is not None and project is None:
        checks.append(
            Check(
                "project",
                "fail",
                f"{options.project} has no pyproject.toml or poetry.lock",
                "pass the folder that holds your project's pyproject.toml",
            )
        )
    if target.is_host and project is not None:
        checks += check_project_venv(project, target)
    pyproject, problems = project_facts(project)
    checks += problems
    settings: PluginSettings | None
    try:
        settings = load_settings(tool_table(pyproject), options.environ)
    except ConfigError as e:
        checks.append(Check("settings", "fail", str(e), f"fix [tool.{TOOL_TABLE}] or {URL_ENV}"))
        settings = None

    checks += check_poetry(
        options, runner, poetry_project=is_poetry_project(project, pyproject), settings=settings
    )

    mirror, source = _choose_mirror(options, settings)
    warnings: list[str] = []
    if client is None:
        client = CachedClient(
            options.cache_dir or _cache_dir(options.environ),
            offline=options.offline,
            timeout=(min(5.0, options.timeout), options.timeout),
            deadline=max(options.timeout * 2, 10.0),
            retries=1,
            warn=warnings.append,
        )
    else:
        client.warn = warnings.append
    reader: MirrorReader | None = MirrorReader(mirror, client)
    assert reader is not None
    now = options.now or datetime.datetime.now(datetime.timezone.utc)
    manifest_checks, root_ok = check_manifest(
        reader, source, warnings, now=now, max_age_days=options.max_age_days
    )
    checks += manifest_checks
    prefixes = [reader.base_url]
    if root_ok:
        # The root was read above: this cannot fetch again.
        prefixes.append(join_url(reader.root_url, reader.root().index_url))
    else:
        reader = None
    if settings is not None and settings.url_source != "default":
        plugin_base = to_base_url(settings.url)
        if not is_mirror_url(plugin_base, prefixes):
            checks.append(
                Check(
                    "plugin mirror",
                    "warn",
                    f"the Poetry plugin uses {redact_url(settings.url)} (from "
                    f"{settings.url_source}), not the mirror checked here",
                    f"run the doctor with --mirror {redact_url(settings.url)}",
                )
            )
    home = options.home or Path(options.environ.get("HOME") or Path.home())
    checks += check_pip(options, home, prefixes)
    checks += check_uv(options, home, project, prefixes)
    checks += check_environment(options.environ, prefixes, source)
    if settings is not None:
        problem = settings.platform_problem(target.tags)
        if problem:
            checks.append(
                Check("plugin platforms", "warn", f"the plugin will not act here: {problem}")
            )
    if options.project is None or project is not None:  # else: reported above
        checks += check_project(
            project, pyproject, reader, target, settings or PluginSettings(url=mirror)
        )
    return checks


def _cache_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("WHEELMIRROR_CACHE_DIR"):
        return Path(environ["WHEELMIRROR_CACHE_DIR"])
    return default_cache_dir()
