"""The plugin's settings: ``[tool.poetry-wheelmirror]``, environment variables, defaults (pure).

Precedence is environment > pyproject.toml > the user's config file (``url`` only,
written by ``wheelmirror config set url URL``) > packaged default, per setting::

    [tool.poetry-wheelmirror]
    url = "https://example.org/mirror/"   # the mirror's base URL (or a local directory)
    enabled = true                        # false: the plugin does nothing for this project
    packages = { allow = ["markupsafe"], deny = ["grpcio"] }   # or a plain list = allow
    platforms = ["linux-x86_64", "macos-arm64"]               # only act on these platforms
    provenance = "off"                    # or "warn" / "require": verify attestations
    provenance-repository = "owner/repo"  # who must have signed (default: a github.io URL's)
    provenance-workflow = ".github/workflows/build.yml"

``POETRY_WHEELMIRROR_URL`` overrides ``url``; ``POETRY_WHEELMIRROR_DISABLE=1`` turns the
plugin off on this machine whatever the project says;
``POETRY_WHEELMIRROR_PROVENANCE`` overrides ``provenance``. ``poetry config`` rejects unknown
keys, which is why the per-machine settings are environment variables.

A mirror the user named (any of the above) is trusted as configured. The built-in
default is not: for it, provenance is always ``require``, against the repository and
workflow pinned in config.py, whatever the settings say (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import Literal

from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name

from poetry_wheelmirror.config import DEFAULT_MIRROR_REPOSITORY
from poetry_wheelmirror.config import DEFAULT_MIRROR_URL
from poetry_wheelmirror.config import DEFAULT_MIRROR_WORKFLOW
from poetry_wheelmirror.config import default_mirror_url
from poetry_wheelmirror.config import read_user_config
from poetry_wheelmirror.config import user_config_path
from poetry_wheelmirror.errors import ConfigError

if TYPE_CHECKING:
    from packaging.tags import Tag

    from poetry_wheelmirror.provenance_policy import Policy

__all__ = [
    "DISABLE_ENV",
    "PROVENANCE_ENV",
    "TOOL_TABLE",
    "URL_ENV",
    "PluginSettings",
    "UrlSource",
    "cache_dir_for",
    "load_settings",
    "tool_table",
]

TOOL_TABLE: Final = "poetry-wheelmirror"
URL_ENV: Final = "POETRY_WHEELMIRROR_URL"
DISABLE_ENV: Final = "POETRY_WHEELMIRROR_DISABLE"
PROVENANCE_ENV: Final = "POETRY_WHEELMIRROR_PROVENANCE"
_KNOWN_KEYS: Final = frozenset(
    {
        "url",
        "enabled",
        "packages",
        "platforms",
        "provenance",
        "provenance-repository",
        "provenance-workflow",
        # read by ``wheelmirror plan --lock`` and ``poetry wheelmirror status --target``
        "targets",
        "pypi-proxies",
    }
)
#: Where the mirror URL came from.
UrlSource = Literal["env", "pyproject", "user", "default"]
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class PluginSettings:
    """Resolved settings for one Poetry run."""

    url: str = DEFAULT_MIRROR_URL
    #: Where ``url`` came from: ``"env"``, ``"pyproject"``, ``"user"`` or ``"default"``.
    url_source: UrlSource = "default"
    enabled: bool = True
    #: Why the plugin is off (empty when enabled).
    disabled_reason: str = ""
    allow: frozenset[NormalizedName] = frozenset()
    deny: frozenset[NormalizedName] = frozenset()
    platforms: tuple[str, ...] = ()
    #: ``"off"``, ``"warn"`` or ``"require"`` (poetry_wheelmirror.provenance.check_wheel).
    provenance: Policy = "off"
    #: ``owner/repo`` whose workflow must have signed; empty: the one a
    #: ``https://OWNER.github.io/REPO/`` url names (see :meth:`expected_repository`).
    provenance_repository: str = ""
    provenance_workflow: str = ".github/workflows/build.yml"

    @property
    def builtin_default(self) -> bool:
        """Whether the URL is the built-in default (used only with verified provenance)."""
        return self.url_source == "default"

    @property
    def url_origin(self) -> str:
        """Where the URL came from, for messages."""
        return {
            "env": f"${URL_ENV}",
            "pyproject": f"[tool.{TOOL_TABLE}] url",
            "user": "the user config (wheelmirror config set url)",
        }.get(self.url_source, "the built-in default")

    def expected_repository(self) -> str:
        """The repository whose workflow must have signed the wheels ("": unknown)."""
        from poetry_wheelmirror.provenance_policy import repository_from_mirror_url

        return self.provenance_repository or repository_from_mirror_url(self.url) or ""

    def package_problem(self, name: str) -> str | None:
        """Why *name* may not come from the mirror under these settings, or None."""
        key = canonicalize_name(name)
        if key in self.deny:
            return f"{key} is in [tool.{TOOL_TABLE}] packages.deny"
        if self.allow and key not in self.allow:
            return f"{key} is not in [tool.{TOOL_TABLE}] packages.allow"
        return None

    def platform_problem(self, tags: Sequence[Tag]) -> str | None:
        """Why this environment (its supported *tags*) is outside ``platforms``, or None."""
        if not self.platforms:
            return None
        from poetry_wheelmirror.selection import expand_platform

        have = {tag.platform for tag in tags}
        for entry in self.platforms:
            if entry == "any" or expand_platform(entry)[0] in have:
                return None
        listed = ", ".join(self.platforms)
        return f"this platform is not in [tool.{TOOL_TABLE}] platforms ({listed})"


def tool_table(pyproject_data: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The ``[tool.poetry-wheelmirror]`` table of a parsed pyproject.toml, if any."""
    if not pyproject_data:
        return None
    tool = pyproject_data.get("tool")
    if not isinstance(tool, Mapping):
        return None
    table = tool.get(TOOL_TABLE)
    if table is None:
        return None
    if not isinstance(table, Mapping):
        msg = f"[tool.{TOOL_TABLE}] must be a table"
        raise ConfigError(msg)
    return table


def _names(value: object, where: str) -> frozenset[NormalizedName]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"[tool.{TOOL_TABLE}] {where} must be a list of package names"
        raise ConfigError(msg)
    from poetry_wheelmirror.names import valid_project_name

    bad = [v for v in value if not valid_project_name(v)]
    if bad:
        msg = f"[tool.{TOOL_TABLE}] {where}: invalid package name {bad[0]!r}"
        raise ConfigError(msg)
    return frozenset(canonicalize_name(v) for v in value)


def _packages(value: object) -> tuple[frozenset[NormalizedName], frozenset[NormalizedName]]:
    if value is None:
        return frozenset(), frozenset()
    if isinstance(value, list):
        return _names(value, "packages"), frozenset()
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"allow", "deny"})
        if unknown:
            msg = f"[tool.{TOOL_TABLE}] packages: unknown key {unknown[0]!r} (allow, deny)"
            raise ConfigError(msg)
        allow = _names(value.get("allow", []), "packages.allow")
        deny = _names(value.get("deny", []), "packages.deny")
        return allow, deny
    msg = f"[tool.{TOOL_TABLE}] packages must be a list or a table with allow/deny"
    raise ConfigError(msg)


def _platforms(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        msg = f"[tool.{TOOL_TABLE}] platforms must be a list of platform names"
        raise ConfigError(msg)
    from poetry_wheelmirror.selection import check_platform

    for entry in value:
        if entry != "any":
            try:
                check_platform(entry)
            except ConfigError as e:
                msg = f"[tool.{TOOL_TABLE}] platforms: {e}"
                raise ConfigError(msg) from None
    return tuple(value)


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    msg = f"{name}={value!r} is not a boolean (use 1 or 0)"
    raise ConfigError(msg)


def load_settings(table: Mapping[str, Any] | None, environ: Mapping[str, str]) -> PluginSettings:
    """Resolve the settings; ConfigError names the first invalid value.

    The user config file is found through *environ* (``$WHEELMIRROR_CONFIG``,
    ``$XDG_CONFIG_HOME``, ``$HOME``) and read only when neither the environment nor
    the project names a mirror.
    """
    table = table or {}
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        known = ", ".join(sorted(_KNOWN_KEYS))
        msg = f"[tool.{TOOL_TABLE}]: unknown key {unknown[0]!r} (known: {known})"
        raise ConfigError(msg)

    url: str = ""
    url_source: UrlSource = "default"
    if "url" in table:
        if not isinstance(table["url"], str) or not table["url"].strip():
            msg = f"[tool.{TOOL_TABLE}] url must be a non-empty string"
            raise ConfigError(msg)
        url, url_source = table["url"].strip(), "pyproject"
    if environ.get(URL_ENV, "").strip():
        url, url_source = environ[URL_ENV].strip(), "env"
    if not url:
        try:
            url = read_user_config(environ).get("url", "")
        except ConfigError as e:
            msg = f"{e} (fix or remove {user_config_path(environ)})"
            raise ConfigError(msg) from None
        url_source = "user" if url else "default"
    if not url:
        url = default_mirror_url(environ)

    enabled, reason = True, ""
    if "enabled" in table:
        if not isinstance(table["enabled"], bool):
            msg = f"[tool.{TOOL_TABLE}] enabled must be true or false"
            raise ConfigError(msg)
        if not table["enabled"]:
            enabled, reason = False, f"[tool.{TOOL_TABLE}] enabled = false"
    if DISABLE_ENV in environ and _flag(environ[DISABLE_ENV], DISABLE_ENV):
        enabled, reason = False, f"{DISABLE_ENV}={environ[DISABLE_ENV]}"

    allow, deny = _packages(table.get("packages"))
    provenance, prov_repo, prov_workflow = _provenance(table, environ)
    if url_source == "default":
        # Not configured by anyone: only wheels this project's own workflow built.
        provenance, prov_repo, prov_workflow = (
            "require",
            DEFAULT_MIRROR_REPOSITORY,
            DEFAULT_MIRROR_WORKFLOW,
        )
    return PluginSettings(
        url=url,
        url_source=url_source,
        enabled=enabled,
        disabled_reason=reason,
        allow=allow,
        deny=deny,
        platforms=_platforms(table.get("platforms")),
        provenance=provenance,
        provenance_repository=prov_repo,
        provenance_workflow=prov_workflow,
    )


def _policy(value: object) -> Policy | None:
    """*value* as one of the provenance policies, or None."""
    from poetry_wheelmirror.provenance_policy import POLICIES

    return next((policy for policy in POLICIES if policy == value), None)


def _provenance(table: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Policy, str, str]:
    from poetry_wheelmirror.provenance_policy import DEFAULT_WORKFLOW
    from poetry_wheelmirror.provenance_policy import POLICIES
    from poetry_wheelmirror.provenance_policy import normalize_repository
    from poetry_wheelmirror.provenance_policy import normalize_workflow

    choices = " / ".join(POLICIES)
    policy = _policy(table.get("provenance", "off"))
    if policy is None:
        msg = f"[tool.{TOOL_TABLE}] provenance must be one of {choices}"
        raise ConfigError(msg)
    if environ.get(PROVENANCE_ENV, "").strip():
        policy = _policy(environ[PROVENANCE_ENV].strip().lower())
        if policy is None:
            msg = f"{PROVENANCE_ENV}={environ[PROVENANCE_ENV]!r} is not one of {choices}"
            raise ConfigError(msg)
    values: dict[str, str] = {}
    for key in ("provenance-repository", "provenance-workflow"):
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            msg = f"[tool.{TOOL_TABLE}] {key} must be a non-empty string"
            raise ConfigError(msg)
        values[key] = value or ""
    try:
        repository = values["provenance-repository"]
        repository = normalize_repository(repository) if repository else ""
        workflow = normalize_workflow(values["provenance-workflow"] or DEFAULT_WORKFLOW)
    except ConfigError as e:
        msg = f"[tool.{TOOL_TABLE}] provenance: {e}"
        raise ConfigError(msg) from None
    return policy, repository, workflow


def cache_dir_for(poetry_cache_dir: str | Path | None) -> Path | None:
    """The plugin's cache folder under Poetry's ``cache-dir``."""
    if not poetry_cache_dir:
        return None
    return Path(poetry_cache_dir) / "wheelmirror"
