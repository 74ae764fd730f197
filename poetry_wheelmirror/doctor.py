"""``wheelmirror doctor``: check a machine and say what works and what to fix (no printing).

Each check returns :class:`Check` records (``ok``/``warn``/``fail``, a plain-words
detail, and a fix when there is one). The CLI (``cli/doctor_cmd.py``) prints them; the
Poetry plugin's ``poetry wheelmirror doctor`` calls :func:`run_doctor` with what it
already knows (Poetry's version, the environment's tags) and prints the same lines.

What is checked, in order: the target interpreter and its tags; Poetry and whether the
plugin is installed; the mirror's root manifest (reachable, valid, fresh, from the
cache or not); pip's and uv's index configuration and the environment variables that
override it; and, for the project, where each locked package would come from.

Reading is all the doctor does: it never writes a config file, never installs.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import sys
import urllib.parse
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import Literal
from typing import get_args

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror import __version__
from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.client import default_cache_dir
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import MIRROR_ENV
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.indexconfig import IndexSetting
from poetry_wheelmirror.indexconfig import is_mirror_url
from poetry_wheelmirror.indexconfig import load_toml
from poetry_wheelmirror.indexconfig import pip_config_files
from poetry_wheelmirror.indexconfig import pip_index_settings
from poetry_wheelmirror.indexconfig import redact_url
from poetry_wheelmirror.indexconfig import truthy
from poetry_wheelmirror.indexconfig import uv_config_files
from poetry_wheelmirror.indexconfig import uv_index_settings
from poetry_wheelmirror.lockfile import applies
from poetry_wheelmirror.lockfile import best_index_file
from poetry_wheelmirror.lockfile import read_lock
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.plugin.redirect import decide
from poetry_wheelmirror.plugin.redirect import precheck
from poetry_wheelmirror.plugin.settings import DISABLE_ENV
from poetry_wheelmirror.plugin.settings import TOOL_TABLE
from poetry_wheelmirror.plugin.settings import URL_ENV
from poetry_wheelmirror.plugin.settings import PluginSettings
from poetry_wheelmirror.plugin.settings import load_settings
from poetry_wheelmirror.plugin.settings import tool_table
from poetry_wheelmirror.poetry_probe import Runner
from poetry_wheelmirror.poetry_probe import last_line
from poetry_wheelmirror.poetry_probe import parse_plugin_list
from poetry_wheelmirror.poetry_probe import parse_poetry_version
from poetry_wheelmirror.poetry_probe import parse_self_show
from poetry_wheelmirror.poetry_probe import run_command
from poetry_wheelmirror.poetry_probe import wheelmirror_warnings
from poetry_wheelmirror.selection import rank_wheels
from poetry_wheelmirror.selection import supported_tags
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

Status = Literal["ok", "warn", "fail"]
STATUSES: Final[frozenset[Status]] = frozenset(get_args(Status))

#: The distribution name Poetry lists when the plugin is installed.
PLUGIN_DIST: Final = canonicalize_name("poetry-wheelmirror")
#: Environment variables that change where pip, uv, the plugin or the CLI look.
OVERRIDE_ENV_VARS: Final = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_NO_INDEX",
    "PIP_CONFIG_FILE",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    URL_ENV,
    DISABLE_ENV,
    MIRROR_ENV,
)
#: A manifest older than this is reported: the mirror may have stopped publishing.
DEFAULT_MAX_AGE_DAYS: Final = 7.0


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


# -- options and target ----------------------------------------------------------------


@dataclass(frozen=True)
class PoetryFacts:
    """What a caller running inside Poetry already knows (``poetry wheelmirror doctor``)."""

    version: str
    plugin_version: str = __version__
    executable: str = "poetry"


@dataclass(frozen=True)
class DoctorOptions:
    """Inputs of :func:`run_doctor`; every field has the CLI's default."""

    #: ``--mirror``; None: ``$WHEELMIRROR_URL``, the project's plugin settings, the default.
    mirror: str | None = None
    #: ``--project``; None: the current directory (and its parents, as Poetry looks).
    project: Path | None = None
    #: ``--python X.Y`` / ``--platform TAG`` for another target than this interpreter.
    python: str | None = None
    platform: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    cache_dir: Path | None = None
    offline: bool = False
    timeout: float = 10.0
    #: The Poetry executable; None: ``poetry`` on ``$PATH``.
    poetry: str | None = None
    #: Given when running inside Poetry: no subprocess is needed to learn these.
    poetry_facts: PoetryFacts | None = None
    #: Given when running inside Poetry: its environment's tags, version and markers.
    tags: tuple[Tag, ...] | None = None
    python_version: str | None = None
    marker_env: Mapping[str, str] | None = None
    target_label: str = ""
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    now: datetime.datetime | None = None
    home: Path | None = None
    #: Directories pip and uv read system-wide config from (tests point these elsewhere).
    system_config_dirs: tuple[Path, ...] | None = None
    prefix: Path = Path(sys.prefix)


@dataclass(frozen=True)
class Target:
    """The interpreter and platform the checks are about."""

    label: str
    python: str
    tags: tuple[Tag, ...]
    marker_env: Mapping[str, str]
    is_host: bool


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
    detail = f"{len(target.tags)} tags, most preferred: {top}; wheels for {_platform_hint(target)}"
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


# -- pip and uv configuration ----------------------------------------------------------


def _index_words(indexes: Sequence[IndexSetting]) -> str:
    return ", ".join(f"{redact_url(i.url)} (from {i.source})" for i in indexes)


def check_pip(options: DoctorOptions, home: Path, mirror_prefixes: Sequence[str]) -> list[Check]:
    """What index pip will use and whether that is the mirror."""
    files = pip_config_files(
        options.environ, home=home, prefix=options.prefix, system_dirs=options.system_config_dirs
    )
    indexes, problems = pip_index_settings(files, options.environ)
    checks = [
        Check("pip", "warn", problem, "fix or remove that file (`pip config debug` lists them)")
        for problem in problems
    ]
    if not indexes:
        checks.append(
            Check(
                "pip",
                "warn",
                "pip is set to no-index (no-index in a config file or $PIP_NO_INDEX): it "
                "installs only from local files",
                "remove no-index to let pip use an index",
            )
        )
        return checks
    found = [f"{kind} {path}" for kind, path in files if path.is_file()]
    read = f"; files read: {', '.join(found)}" if found else "; no pip config files"
    mirror = [i for i in indexes if is_mirror_url(i.url, mirror_prefixes)]
    if mirror and mirror[0].default:
        checks.append(
            Check("pip", "ok", f"pip uses the mirror as its index: {_index_words(mirror)}{read}")
        )
    elif mirror:
        checks.append(
            Check(
                "pip",
                "ok",
                f"pip uses {_index_words(indexes[:1])} with the mirror as an extra index: "
                f"{_index_words(mirror)}{read}",
            )
        )
    else:
        checks.append(
            Check(
                "pip",
                "ok",
                f"pip is not set up for the mirror: it uses {_index_words(indexes)}{read}. "
                "That is fine if you install with Poetry",
                "to use the mirror with pip: `wheelmirror pip-config`",
            )
        )
    return checks


def check_uv(
    options: DoctorOptions, home: Path, project: Path | None, mirror_prefixes: Sequence[str]
) -> list[Check]:
    """What index uv will use and whether the mirror is among them."""
    files = uv_config_files(
        options.environ, project=project, home=home, system_dirs=options.system_config_dirs
    )
    indexes, pinned, problems = uv_index_settings(files, options.environ)
    checks = [
        Check("uv", "warn", problem, "fix that file: uv refuses to run with it")
        for problem in problems
    ]
    found = [f"{kind} {path}" for kind, path in files if path.is_file()]
    read = f"; files read: {', '.join(found)}" if found else "; no uv config files"
    mirror = [i for i in indexes if is_mirror_url(i.url, mirror_prefixes)]
    if not mirror:
        checks.append(
            Check(
                "uv",
                "ok",
                f"uv is not set up for the mirror: it uses {_index_words(indexes)}{read}",
                "to use the mirror with uv: `wheelmirror uv-config`",
            )
        )
        return checks
    first = mirror[0]
    if first.default:
        how = "as its default index"
    elif first.explicit:
        names = pinned.get(first.name, [])
        how = f"as explicit index {first.name!r} for " + (", ".join(names) or "no package")
        if not names:
            checks.append(
                Check(
                    "uv",
                    "warn",
                    f"uv has the mirror as explicit index {first.name!r}, but no "
                    "[tool.uv.sources] entry uses it, so uv never asks it",
                    f'add `<package> = {{ index = "{first.name}" }}` under [tool.uv.sources]',
                )
            )
            return checks
    else:
        how = "as an extra index"
    checks.append(Check("uv", "ok", f"uv uses the mirror {how}: {_index_words([first])}{read}"))
    return checks


def check_environment(
    environ: Mapping[str, str], mirror_prefixes: Sequence[str], mirror_source: str
) -> list[Check]:
    """Each overriding environment variable that is set, and what it does."""
    checks = []

    def points(value: str) -> bool:
        return all(is_mirror_url(u, mirror_prefixes) for u in value.split()) if value else False

    index = redact_url(mirror_prefixes[-1]) if mirror_prefixes else "see --mirror"
    for var in OVERRIDE_ENV_VARS:
        if var not in environ:
            continue
        value = environ[var]
        shown = " ".join(redact_url(u) for u in value.split()) or "''"
        name = f"env {var}"
        if var in ("PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"):
            tool = "pip" if var.startswith("PIP") else "uv"
            if points(value):
                checks.append(Check(name, "ok", f"{var}={shown} points {tool} at the mirror"))
            else:
                checks.append(
                    Check(
                        name,
                        "warn",
                        f"{var}={shown} overrides {tool}'s config files: {tool} uses that "
                        "index, not the mirror",
                        f"unset {var} (or set it to the mirror's index: {index})",
                    )
                )
        elif var in ("PIP_EXTRA_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL"):
            tool = "pip" if var.startswith("PIP") else "uv"
            effect = (
                "replaces the extra-index-url of every pip config file"
                if tool == "pip"
                else "adds indexes searched before those in uv's config"
            )
            status: Status = "ok" if points(value) else "warn"
            checks.append(
                Check(
                    name,
                    status,
                    f"{var}={shown} {effect}",
                    "" if status == "ok" else f"unset {var} if the mirror should come from config",
                )
            )
        elif var == "PIP_NO_INDEX":
            if truthy(value):
                checks.append(
                    Check(name, "warn", f"{var}={shown}: pip uses no index at all", f"unset {var}")
                )
        elif var == "PIP_CONFIG_FILE":
            checks.append(
                Check(name, "ok", f"{var}={shown}: pip reads that file (and not the user file)")
            )
        elif var == URL_ENV:
            if points(value):
                checks.append(Check(name, "ok", f"{var}={shown}: the plugin uses this mirror"))
            else:
                checks.append(
                    Check(
                        name,
                        "warn",
                        f"{var}={shown}: the Poetry plugin uses that mirror, not the one "
                        f"checked here (from {mirror_source})",
                        f"unset {var}, or run the doctor with --mirror {shown}",
                    )
                )
        elif var == DISABLE_ENV:
            try:
                off = load_settings(None, {DISABLE_ENV: value}).enabled is False
            except ConfigError as e:
                checks.append(Check(name, "fail", str(e), f"set {var}=1 or unset it"))
                continue
            if off:
                checks.append(
                    Check(
                        name,
                        "warn",
                        f"{var}={shown}: the Poetry plugin is switched off on this machine",
                        f"unset {var}",
                    )
                )
            else:
                checks.append(Check(name, "ok", f"{var}={shown}: the plugin stays on"))
        elif var == MIRROR_ENV:
            checks.append(Check(name, "ok", f"{var}={shown}: wheelmirror commands use this mirror"))
    return checks


# -- the project -----------------------------------------------------------------------


def _venv_python(venv: Path) -> str | None:
    """The ``X.Y.Z`` a venv was made with (its ``pyvenv.cfg``), or None."""
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^\s*(?:version_info|version)\s*=\s*(\d+\.\d+(?:\.\d+)?)", text, re.M)
    return match.group(1) if match else None


def check_project_venv(project: Path, target: Target) -> list[Check]:
    """A warning when the project's ``.venv`` runs another Python than the one checked."""
    found = _venv_python(project / ".venv")
    if found is None:
        return []
    mine = ".".join(target.python.split(".")[:2])
    theirs = ".".join(found.split(".")[:2])
    if mine == theirs:
        return []
    return [
        Check(
            "project venv",
            "warn",
            f"the project's .venv runs Python {found}, but these checks are for {target.python}"
            " (the Python running wheelmirror): wheel tags differ between versions",
            f"run `wheelmirror doctor --python {theirs}`, or `poetry wheelmirror doctor`",
        )
    ]


def find_project(start: Path, explicit: bool) -> Path | None:
    """The folder with poetry.lock or pyproject.toml: *start* itself when given on the
    command line, else *start* or its nearest parent (as Poetry looks)."""
    folder: Path | None = start.resolve()
    while folder is not None:
        if (folder / "pyproject.toml").is_file() or (folder / "poetry.lock").is_file():
            return folder
        if explicit:
            return None
        folder = folder.parent if folder.parent != folder else None
    return None


def project_facts(project: Path | None) -> tuple[dict[str, Any] | None, list[Check]]:
    """The project's parsed pyproject.toml (or None) and any problem reading it."""
    if project is None or not (project / "pyproject.toml").is_file():
        return None, []
    try:
        return load_toml(project / "pyproject.toml"), []
    except ConfigError as e:
        return None, [Check("project", "fail", str(e), "fix the TOML syntax")]


def _is_poetry_project(project: Path | None, pyproject: Mapping[str, Any] | None) -> bool:
    if project is not None and (project / "poetry.lock").is_file():
        return True
    tool = pyproject.get("tool") if pyproject else None
    return isinstance(tool, dict) and ("poetry" in tool or TOOL_TABLE in tool)


def _platform_hint(target: Target) -> str:
    """``cp311-manylinux_2_36_x86_64``: the target's most preferred interpreter and platform
    (a plain ``linux_*`` tag is skipped: nobody publishes those)."""
    concrete = [t for t in target.tags if t.platform != "any"]
    top = next((t for t in concrete if not t.platform.startswith("linux_")), None)
    top = top or (concrete[0] if concrete else None)
    return f"{top.interpreter}-{top.platform}" if top else "this platform"


def check_project(
    project: Path | None,
    pyproject: Mapping[str, Any] | None,
    reader: MirrorReader | None,
    target: Target,
    settings: PluginSettings,
) -> list[Check]:
    """Where each locked package would come from for *target*."""
    if project is None:
        return [
            Check(
                "project",
                "ok",
                "no pyproject.toml or poetry.lock here: no project to check",
                "run the doctor in your project, or pass --project DIR",
            )
        ]
    lock_path = project / "poetry.lock"
    if not lock_path.is_file():
        return _check_unlocked(project, pyproject, reader)
    try:
        locked = read_lock(lock_path)
    except ConfigError as e:
        return [Check("project", "fail", str(e), "run `poetry lock` to write it again")]
    checks: list[Check] = []
    counts = {"mirror": 0, "index-wheel": 0, "build": 0, "skipped": 0, "other": 0}
    if reader is None:
        return [
            Check(
                "project",
                "warn",
                f"{lock_path}: {len(locked)} locked package(s), but without the manifest the "
                "doctor cannot tell which would come from the mirror",
                "fix the manifest problem above first",
            )
        ]
    hint = _platform_hint(target)
    for package in locked:
        label = f"{package.name} {package.version}"
        if not applies(package, target.marker_env):
            counts["skipped"] += 1
            continue
        if package.source_type and package.source_type != "legacy":
            counts["other"] += 1
            continue
        chosen = best_index_file(package.files, target.tags)
        early = precheck(package.name, chosen, settings, target.tags, binary_allowed=True)
        if early is not None and chosen is not None and chosen.endswith(".whl"):
            counts["index-wheel"] += 1
            continue
        try:
            doc = reader.package(package.name)
        except WheelmirrorError as e:
            checks.append(Check(f"package {package.name}", "fail", f"{label}: {e}"))
            counts["build"] += 1
            continue
        entry = doc.entry_for(package.version) if doc is not None else None
        has_sdist = chosen is not None
        outcome = "built from source" if has_sdist else "cannot be installed (no file fits)"
        if doc is None:
            counts["build"] += 1
            checks.append(
                Check(
                    f"package {package.name}",
                    "warn",
                    f"{label}: PyPI has no wheel for {hint} and the mirror does not carry "
                    f"{package.name}: it will be {outcome}",
                    "ask the mirror's operator to add a recipe for it, or install its build "
                    "requirements",
                )
            )
            continue
        if entry is None or not entry.wheels:
            counts["build"] += 1
            have = ", ".join(doc.versions) or "none"
            checks.append(
                Check(
                    f"package {package.name}",
                    "warn",
                    f"{label}: PyPI has no wheel for {hint} and the mirror has no build of "
                    f"this version (it has: {have}): it will be {outcome}",
                    f"ask the mirror's operator to build {package.name} {package.version}",
                )
            )
            continue
        ranked = rank_wheels(entry.wheels, target.tags, target.python)
        if not any(c.key is not None for c in ranked):
            counts["build"] += 1
            platforms = sorted({p for w in entry.wheels for p in _wheel_platforms(w.filename)})
            checks.append(
                Check(
                    f"package {package.name}",
                    "warn",
                    f"{label}: wrong platform: the mirror has {len(entry.wheels)} wheel(s) for "
                    f"this version but none for {hint} (it has: {', '.join(platforms)}), "
                    f"and PyPI has none either: it will be {outcome}",
                    f"ask the mirror's operator to build {package.name} {package.version} for "
                    f"{hint}, or check --python/--platform if this is not your target",
                )
            )
            continue
        verdict = early or decide(
            package.name,
            package.version,
            doc,
            target.tags,
            target.python,
            package.hashes,
        )
        if verdict.use_mirror and verdict.wheel is not None:
            counts["mirror"] += 1
            checks.append(
                Check(
                    f"package {package.name}",
                    "ok",
                    f"{label}: from the mirror: {verdict.wheel.filename} (PyPI has no wheel "
                    f"for {hint})",
                )
            )
        else:
            counts["build"] += 1
            checks.append(
                Check(
                    f"package {package.name}",
                    "warn",
                    f"{label}: the mirror has a wheel for {hint}, but it will not be used: "
                    f"{verdict.reason}",
                    "see docs/troubleshooting.md",
                )
            )
    summary = (
        f"{lock_path}: {counts['mirror']} package(s) from the mirror, {counts['index-wheel']} "
        f"PyPI wheel(s), {counts['build']} built from source"
    )
    if counts["skipped"]:
        summary += f", {counts['skipped']} not needed here (markers)"
    if counts["other"]:
        summary += f", {counts['other']} from git/path/url sources"
    summary += f" (target {hint})"
    status: Status = "warn" if counts["build"] else "ok"
    checks.insert(0, Check("project", status, summary))
    return checks


def _wheel_platforms(filename: str) -> set[str]:
    """``{"cp311-macosx_11_0_arm64"}``: each wheel's Python and first platform tag (the
    manifest parser has validated the filename; its first platform is the canonical one,
    the legacy ``manylinux2014`` alias after it is left out)."""
    parts = filename[: -len(".whl")].split("-")
    if len(parts) < 5:
        return {filename}
    return {f"{python}-{parts[-1].split('.')[0]}" for python in parts[-3].split(".")}


def _dependency_names(pyproject: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, pinned version or "") for the project's direct dependencies."""
    result: list[tuple[str, str]] = []
    project = pyproject.get("project")
    deps = project.get("dependencies", []) if isinstance(project, dict) else []
    for dep in deps if isinstance(deps, list) else []:
        try:
            req = Requirement(str(dep))
        except InvalidRequirement:
            continue
        specs = list(req.specifier)
        pin = specs[0].version if len(specs) == 1 and specs[0].operator == "==" else ""
        result.append((req.name, pin))
    tool = pyproject.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    poetry_deps = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if isinstance(poetry_deps, dict):
        for name, spec in poetry_deps.items():
            if name.lower() == "python":
                continue
            text = spec if isinstance(spec, str) else ""
            pin = text.lstrip("=") if re.fullmatch(r"==?\s*[\w.!+-]+", text) else ""
            result.append((name, pin.strip()))
    return result


def _check_unlocked(
    project: Path, pyproject: Mapping[str, Any] | None, reader: MirrorReader | None
) -> list[Check]:
    deps = _dependency_names(pyproject or {})
    if reader is None or not deps:
        return [
            Check(
                "project",
                "ok" if not deps else "warn",
                f"{project}: no poetry.lock"
                + ("" if deps else " and no dependencies listed in pyproject.toml"),
                "run `poetry lock` for a per-version answer",
            )
        ]
    on_mirror = []
    for name, _pin in deps:
        try:
            doc = reader.package(name)
        except WheelmirrorError:
            doc = None
        if doc is not None:
            on_mirror.append(f"{canonicalize_name(name)} ({', '.join(doc.versions)})")
    return [
        Check(
            "project",
            "warn",
            f"{project}: no poetry.lock, so only names can be checked: "
            f"{len(on_mirror)} of {len(deps)} direct dependencies are on the mirror"
            + (f": {'; '.join(on_mirror)}" if on_mirror else ""),
            "run `poetry lock`, then the doctor again for a per-version answer",
        )
    ]


# -- putting it together ---------------------------------------------------------------


def _choose_mirror(options: DoctorOptions, settings: PluginSettings | None) -> tuple[str, str]:
    """The mirror to check and where it came from."""
    if options.mirror:
        return options.mirror, "--mirror"
    if options.environ.get(MIRROR_ENV):
        return options.environ[MIRROR_ENV], f"${MIRROR_ENV}"
    if settings is not None and settings.url_source != "default":
        where = f"${URL_ENV}" if settings.url_source == "env" else f"[tool.{TOOL_TABLE}] url"
        return settings.url, where
    return DEFAULT_MIRROR_URL, "the default"


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
        options, runner, poetry_project=_is_poetry_project(project, pyproject), settings=settings
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
