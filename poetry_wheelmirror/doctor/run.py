"""``wheelmirror doctor``: check a machine and say what works and what to fix (no printing).

Each check returns :class:`Check` records (``ok``/``warn``/``fail``, a plain-words detail,
and a fix when there is one). The CLI (``cli/doctor_cmd.py``) prints them; the Poetry
plugin's ``poetry wheelmirror doctor`` calls :func:`run_doctor` with what it already
knows (Poetry's version, the environment's tags) and prints the same lines.

This module holds the target, Poetry and manifest checks, :func:`run_doctor` and the
report; ``model`` the data types, ``config`` the pip/uv/environment
checks, ``project`` the per-package ones (all re-exported here).

What is checked, in order: the target interpreter and its tags; Poetry and whether the
plugin is installed; the mirror's root manifest (reachable, valid, fresh, from the
cache or not); pip's and uv's index configuration and the environment variables that
override it; and, for the project, where each locked package would come from.

Reading is all the doctor does: it never writes a config file, never installs.
"""

from __future__ import annotations

import datetime
import shutil
import sys
import urllib.parse
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from packaging.markers import default_environment
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror import __version__
from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.client import default_cache_dir
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import MIRROR_ENV
from poetry_wheelmirror.doctor.config import OVERRIDE_ENV_VARS
from poetry_wheelmirror.doctor.config import check_environment
from poetry_wheelmirror.doctor.config import check_pip
from poetry_wheelmirror.doctor.config import check_uv
from poetry_wheelmirror.doctor.model import DEFAULT_MAX_AGE_DAYS
from poetry_wheelmirror.doctor.model import STATUSES
from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.doctor.model import DoctorOptions
from poetry_wheelmirror.doctor.model import PoetryFacts
from poetry_wheelmirror.doctor.model import Status
from poetry_wheelmirror.doctor.model import Target
from poetry_wheelmirror.doctor.poetry_probe import Runner
from poetry_wheelmirror.doctor.poetry_probe import last_line
from poetry_wheelmirror.doctor.poetry_probe import parse_plugin_list
from poetry_wheelmirror.doctor.poetry_probe import parse_poetry_version
from poetry_wheelmirror.doctor.poetry_probe import parse_self_show
from poetry_wheelmirror.doctor.poetry_probe import run_command
from poetry_wheelmirror.doctor.poetry_probe import wheelmirror_warnings
from poetry_wheelmirror.doctor.project import check_project
from poetry_wheelmirror.doctor.project import check_project_venv
from poetry_wheelmirror.doctor.project import find_project
from poetry_wheelmirror.doctor.project import is_poetry_project
from poetry_wheelmirror.doctor.project import platform_hint
from poetry_wheelmirror.doctor.project import project_facts
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.indexconfig import is_mirror_url
from poetry_wheelmirror.indexconfig import redact_url
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.selection import supported_tags
from poetry_wheelmirror.settings import DISABLE_ENV
from poetry_wheelmirror.settings import TOOL_TABLE
from poetry_wheelmirror.settings import URL_ENV
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.settings import load_settings
from poetry_wheelmirror.settings import tool_table
from poetry_wheelmirror.urls import join_url
from poetry_wheelmirror.urls import to_base_url

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = [
    "DEFAULT_MAX_AGE_DAYS",
    "OVERRIDE_ENV_VARS",
    "PLUGIN_DIST",
    "STATUSES",
    "Check",
    "DoctorOptions",
    "PoetryFacts",
    "Status",
    "Target",
    "check_environment",
    "check_manifest",
    "check_pip",
    "check_poetry",
    "check_project",
    "check_project_venv",
    "check_target",
    "check_uv",
    "exit_status",
    "find_project",
    "format_report",
    "make_target",
    "report_json",
    "run_doctor",
    "scarcity_note",
]


#: The distribution name Poetry lists when the plugin is installed.
PLUGIN_DIST: Final = canonicalize_name("poetry-wheelmirror")


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


# -- Poetry and the plugin -------------------------------------------------------------


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


# -- the mirror's manifest -------------------------------------------------------------


def _parse_time(value: str) -> datetime.datetime | None:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def _age_words(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _reach_fix(url: str, source: str, error: str) -> str:
    parts = urllib.parse.urlsplit(url)
    hints = []
    if parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        hints.append("nothing answers on that loopback port: start `wheelmirror serve DIR`")
    elif parts.scheme == "file":
        hints.append("that folder has no manifest.json: build or publish the mirror there")
    else:
        hints.append("check your network or proxy")
    hints.append(f"check the mirror URL (it came from {source}) or pass --mirror URL")
    if "plain http" in error:
        hints = ["use https (plain http is only allowed for loopback hosts)"]
    return "; ".join(hints)


def check_manifest(
    reader: MirrorReader,
    source: str,
    warnings: Sequence[str],
    *,
    now: datetime.datetime,
    max_age_days: float,
) -> tuple[list[Check], bool]:
    """Reachable, valid, fresh; returns the checks and whether the root could be read."""
    shown = redact_url(reader.root_url)
    try:
        root = reader.root(revalidate=True)
    except WheelmirrorError as e:
        if isinstance(e, FetchError):
            return [
                Check(
                    "manifest",
                    "fail",
                    f"cannot fetch the mirror's manifest {shown}: {e}; installs will not use "
                    "the mirror (they fall back to PyPI and build from source)",
                    _reach_fix(reader.root_url, source, str(e)),
                )
            ], False
        return [
            Check(
                "manifest",
                "fail",
                f"the mirror's manifest is not valid: {e}",
                f"the mirror's operator must republish it; `wheelmirror manifest check "
                f"{redact_url(reader.base_url)}` names the first problem",
            )
        ], False
    checks = []
    detail = (
        f"{shown} (from {source}): mirror {root.mirror_name!r}, "
        f"{len(root.packages)} package(s), schema {root.schema_version}"
    )
    if reader.stale:
        why = warnings[0] if warnings else "the mirror could not be reached"
        checks.append(
            Check(
                "manifest",
                "warn",
                f"{detail}, but from the local cache: {why}",
                "installs keep working from the cached copy for now; check the mirror URL "
                "and your network",
            )
        )
    else:
        checks.append(Check("manifest", "ok", detail))
    generated = _parse_time(root.generated_at)
    if generated is None:
        checks.append(
            Check(
                "freshness",
                "warn",
                f"generated_at {root.generated_at!r} is not an ISO 8601 time",
                "the mirror's operator should republish the manifest",
            )
        )
        return checks, True
    age = (now - generated).total_seconds()
    if age < -3600:
        checks.append(
            Check(
                "freshness",
                "warn",
                f"the manifest says it was generated {_age_words(-age)} in the future "
                f"({root.generated_at})",
                "check this machine's clock",
            )
        )
    elif age > max_age_days * 86400:
        checks.append(
            Check(
                "freshness",
                "warn",
                f"the manifest was generated {_age_words(age)} ago ({root.generated_at}), "
                f"more than {max_age_days:g} days: wheels for newer releases may be missing",
                "check that the mirror still publishes (its build workflow); installs still "
                "use the wheels it has",
            )
        )
    else:
        checks.append(
            Check(
                "freshness",
                "ok",
                f"the manifest was generated {_age_words(age)} ago ({root.generated_at})",
            )
        )
    return checks, True


# -- putting it together ---------------------------------------------------------------


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


# -- reporting (pure: the callers print) ------------------------------------------------

_LABEL: Final[dict[Status, str]] = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}


def exit_status(checks: Iterable[Check]) -> int:
    """0 when nothing failed, 1 when something did."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def _summary(checks: Sequence[Check]) -> str:
    fails = sum(1 for c in checks if c.status == "fail")
    warns = sum(1 for c in checks if c.status == "warn")
    oks = sum(1 for c in checks if c.status == "ok")
    if fails:
        head = f"{fails} problem(s) to fix"
    elif warns:
        head = "nothing is broken"
    else:
        head = "everything looks right"
    return f"{head}: {oks} ok, {warns} warning(s), {fails} failure(s)"


def format_report(checks: Sequence[Check]) -> list[str]:
    """The report as lines of plain text: one line per check, its fix indented below."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        lines.append(f"{_LABEL[check.status]:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.status != "ok":
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
        elif check.fix:
            lines.append(f"{'':<4}  {'':<{width}}  hint: {check.fix}")
    lines.append("")
    lines.append(f"wheelmirror doctor: {_summary(checks)}")
    return lines


def report_json(checks: Sequence[Check]) -> dict[str, Any]:
    """The report as a JSON-ready object."""
    return {
        "status": "fail" if exit_status(checks) else "ok",
        "counts": {s: sum(1 for c in checks if c.status == s) for s in ("ok", "warn", "fail")},
        "checks": [c.as_json() for c in checks],
    }
