"""Where pip and uv look for packages: their config files, in their precedence order.

Reading only (the writers live in ``installers``). Follows pip's ``configuration.py``
and uv's documented discovery rules; environment variables override the files the
same way the tools do. URLs are compared with :func:`is_mirror_url` and shown with
:func:`redact_url`, so a token in an index URL is never printed.
"""

from __future__ import annotations

import configparser
import os
import sys
import urllib.parse
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.tomlfile import load_toml
from poetry_wheelmirror.urls import PYPI_SIMPLE
from poetry_wheelmirror.urls import to_base_url

__all__ = [
    "TOOL_DEFAULT_INDEX",
    "IndexSetting",
    "is_mirror_url",
    "pip_config_files",
    "pip_config_target",
    "pip_file_index_values",
    "pip_index_settings",
    "redact_url",
    "truthy",
    "uv_config_files",
    "uv_index_settings",
]

#: pip's and uv's built-in default index, spelled as they report it (no trailing slash).
TOOL_DEFAULT_INDEX: Final = PYPI_SIMPLE.rstrip("/")


def redact_url(url: str) -> str:
    """*url* with any user name or password replaced by ``***`` (never print a token).

    >>> redact_url("https://user:tok@host/simple/")
    'https://***@host/simple/'
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{host}"))


@dataclass(frozen=True)
class IndexSetting:
    """One index a tool will use, and where that came from."""

    url: str
    source: str
    default: bool = True
    name: str = ""
    explicit: bool = False


def is_mirror_url(url: str, mirror_prefixes: Iterable[str]) -> bool:
    """Whether *url* lies under one of the mirror's URLs (base or index).

    >>> is_mirror_url("https://m.example/mirror/simple", ["https://m.example/mirror/"])
    True
    >>> is_mirror_url("https://pypi.org/simple/", ["https://m.example/mirror/"])
    False
    """
    candidate = _norm_url(url)
    return any(candidate.startswith(_norm_url(p)) for p in mirror_prefixes if p)


def _norm_url(url: str) -> str:
    value = url.strip()
    if "://" not in value and not value.startswith("file:"):
        value = to_base_url(value)
    parts = urllib.parse.urlsplit(value)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urllib.parse.urlunsplit((parts.scheme.lower(), netloc.lower(), path, "", ""))


def _xdg_dirs(environ: Mapping[str, str], var: str) -> list[Path]:
    """The absolute paths in ``$var`` (platformdirs strips each and skips the others)."""
    return [Path(d.strip()) for d in environ.get(var, "").split(":") if d.strip().startswith("/")]


def _pip_files_by_kind(
    environ: Mapping[str, str],
    *,
    home: Path,
    prefix: Path,
    system_dirs: Sequence[Path] | None,
    platform: str,
) -> list[tuple[str, Path]]:
    """pip's ``get_configuration_files()``: global, user, site, lowest precedence first.

    As pip (``pip/_internal/utils/appdirs.py`` over its platformdirs 4.x) derives them:
    global is ``<dir>/pip/pip.conf`` for each absolute entry of ``$XDG_CONFIG_DIRS``
    (default ``/etc/xdg``) then ``/etc/pip.conf``; user is the legacy
    ``~/.pip/pip.conf`` then ``$XDG_CONFIG_HOME/pip/pip.conf`` (when absolute, else
    ``~/.config``; macOS: ``~/Library/Application Support/pip`` when that folder exists,
    else ``~/.config/pip``). Checked against ``pip config debug`` by the tests.
    """
    basename = "pip.ini" if platform == "win32" else "pip.conf"
    files: list[tuple[str, Path]] = []
    if system_dirs is not None:
        files += [("global", d / "pip" / basename) for d in system_dirs]
    elif platform == "darwin":
        files.append(("global", Path("/Library/Application Support/pip") / basename))
    elif platform == "win32":
        program_data = environ.get("ProgramData", r"C:\ProgramData")
        files.append(("global", Path(program_data) / "pip" / basename))
    else:
        xdg_dirs = _xdg_dirs(environ, "XDG_CONFIG_DIRS") or [Path("/etc/xdg")]
        files += [("global", folder / "pip" / basename) for folder in xdg_dirs]
        files.append(("global", Path("/etc") / basename))
    files.append(("user", home / ("pip" if platform == "win32" else ".pip") / basename))
    if platform == "darwin":
        app_support = home / "Library" / "Application Support" / "pip"
        user_dir = app_support if app_support.is_dir() else home / ".config" / "pip"
    elif platform == "win32":
        user_dir = Path(environ.get("APPDATA", str(home / "AppData" / "Roaming"))) / "pip"
    else:
        xdg_home = _xdg_dirs(environ, "XDG_CONFIG_HOME")[:1] or [home / ".config"]
        user_dir = xdg_home[0] / "pip"
    files.append(("user", user_dir / basename))
    files.append(("site", prefix / basename))
    return files


def pip_config_files(
    environ: Mapping[str, str],
    *,
    home: Path,
    prefix: Path,
    system_dirs: Sequence[Path] | None = None,
    platform: str = sys.platform,
) -> list[tuple[str, Path]]:
    """The files pip reads, lowest precedence first, as ``(kind, path)`` pairs.

    Follows pip's ``configuration.py``: global, user (skipped when ``$PIP_CONFIG_FILE``
    names an existing file), site (``sys.prefix``), then ``$PIP_CONFIG_FILE``.
    ``PIP_CONFIG_FILE=/dev/null`` turns every file off.
    """
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    skip_user = bool(env_file and Path(env_file).exists())
    files = [
        (kind, path)
        for kind, path in _pip_files_by_kind(
            environ, home=home, prefix=prefix, system_dirs=system_dirs, platform=platform
        )
        if not (skip_user and kind == "user")
    ]
    venv = environ.get("VIRTUAL_ENV")
    if venv and Path(venv).resolve() != prefix.resolve():
        files.append(("site of $VIRTUAL_ENV", Path(venv) / files[-1][1].name))
    if env_file:
        files.append(("PIP_CONFIG_FILE", Path(env_file)))
    return files


def pip_config_target(
    kind: str,
    environ: Mapping[str, str],
    *,
    home: Path,
    prefix: Path,
    platform: str = sys.platform,
) -> Path:
    """The file ``pip config --<kind> set`` edits (*kind*: global, user or site): the
    last, highest-precedence file of that kind."""
    files = _pip_files_by_kind(
        environ, home=home, prefix=prefix, system_dirs=None, platform=platform
    )
    return [path for k, path in files if k == kind][-1]


def _pip_file_values(path: Path) -> dict[str, str]:
    """``index-url``/``extra-index-url``/``no-index`` from one pip config file
    (``[global]``, then ``[install]`` overriding it)."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as e:
        msg = f"{path}: not a valid pip config file ({type(e).__name__})"
        raise ConfigError(msg) from None
    values: dict[str, str] = {}
    for section in ("global", "install"):
        if parser.has_section(section):
            for key, value in parser.items(section):
                name = key.lower().replace("_", "-").lstrip("-")
                if name in ("index-url", "extra-index-url", "no-index", "i"):
                    values["index-url" if name == "i" else name] = value.strip()
    return values


def pip_file_index_values(path: Path) -> dict[str, str]:
    """The index options one pip config file sets (see _pip_file_values)."""
    return _pip_file_values(path)


def pip_index_settings(
    files: Sequence[tuple[str, Path]], environ: Mapping[str, str]
) -> tuple[list[IndexSetting], list[str]]:
    """The indexes pip will use (the default one first) and problems reading its files."""
    index: IndexSetting | None = None
    extras: list[IndexSetting] = []
    no_index = ""
    problems = []
    for kind, path in files:
        if not path.is_file():
            continue
        try:
            values = _pip_file_values(path)
        except ConfigError as e:
            problems.append(str(e))
            continue
        where = f"{kind} {path}"
        if "index-url" in values:
            index = IndexSetting(values["index-url"], where)
        if "extra-index-url" in values:
            extras = [
                IndexSetting(u, where, default=False) for u in values["extra-index-url"].split()
            ]
        if "no-index" in values:
            no_index = values["no-index"] if truthy(values["no-index"]) else ""
    if environ.get("PIP_INDEX_URL", "").strip():
        index = IndexSetting(environ["PIP_INDEX_URL"].strip(), "$PIP_INDEX_URL")
    if environ.get("PIP_EXTRA_INDEX_URL", "").strip():
        extras = [
            IndexSetting(u, "$PIP_EXTRA_INDEX_URL", default=False)
            for u in environ["PIP_EXTRA_INDEX_URL"].split()
        ]
    if "PIP_NO_INDEX" in environ:
        no_index = environ["PIP_NO_INDEX"] if truthy(environ["PIP_NO_INDEX"]) else ""
    if no_index:
        return [], problems
    return [index or IndexSetting(TOOL_DEFAULT_INDEX, "pip's default"), *extras], problems


def truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def uv_config_files(
    environ: Mapping[str, str],
    *,
    project: Path | None,
    home: Path,
    system_dirs: Sequence[Path] | None = None,
) -> list[tuple[str, Path]]:
    """The files uv reads, lowest precedence first: system, user, then the project's
    nearest ``uv.toml`` or ``pyproject.toml`` with ``[tool.uv]`` (``uv.toml`` wins in one
    folder). ``$UV_CONFIG_FILE`` replaces them all; ``$UV_NO_CONFIG`` turns them off."""
    if truthy(environ.get("UV_NO_CONFIG", "")):
        return []
    if environ.get("UV_CONFIG_FILE"):
        return [("UV_CONFIG_FILE", Path(environ["UV_CONFIG_FILE"]))]
    files: list[tuple[str, Path]] = []
    if system_dirs is not None:
        dirs = list(system_dirs)
    else:
        xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        dirs = [Path(d) for d in xdg_dirs.split(":") if d] + [Path("/etc")]
    for system in dirs:  # the first one found is used
        candidate = system / "uv" / "uv.toml"
        if candidate.is_file():
            files.append(("system", candidate))
            break
    xdg_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    files.append(("user", Path(xdg_home) / "uv" / "uv.toml"))
    folder: Path | None = project
    while folder is not None:
        if (folder / "uv.toml").is_file():
            files.append(("project", folder / "uv.toml"))
            break
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and b"[tool.uv" in pyproject.read_bytes():
            files.append(("project", pyproject))
            break
        folder = folder.parent if folder.parent != folder else None
    return files


def _uv_table(path: Path) -> dict[str, Any]:
    data = load_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool")
        uv = tool.get("uv") if isinstance(tool, dict) else None
        return uv if isinstance(uv, dict) else {}
    return data


def uv_index_settings(
    files: Sequence[tuple[str, Path]], environ: Mapping[str, str]
) -> tuple[list[IndexSetting], dict[str, list[str]], list[str]]:
    """uv's indexes (default first), the packages pinned to each named index by
    ``[tool.uv.sources]``, and problems reading its files."""
    default: IndexSetting | None = None
    extras: list[IndexSetting] = []
    pinned: dict[str, list[str]] = {}
    problems = []
    for kind, path in files:
        if not path.is_file():
            continue
        try:
            table = _uv_table(path)
        except ConfigError as e:
            problems.append(str(e))
            continue
        where = f"{kind} {path}"
        found: list[IndexSetting] = []
        for item in table.get("index", []) if isinstance(table.get("index"), list) else []:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                found.append(
                    IndexSetting(
                        item["url"],
                        where,
                        default=bool(item.get("default", False)),
                        name=str(item.get("name", "")),
                        explicit=bool(item.get("explicit", False)),
                    )
                )
        if isinstance(table.get("index-url"), str):
            found.append(IndexSetting(table["index-url"], where))
        extra = table.get("extra-index-url")
        for url in extra if isinstance(extra, list) else []:
            if isinstance(url, str):
                found.append(IndexSetting(url, where, default=False))
        if found:
            # A later (higher-precedence) file replaces the earlier file's indexes.
            defaults = [i for i in found if i.default]
            default = defaults[0] if defaults else default
            extras = [i for i in found if not i.default]
        sources = table.get("sources")
        if isinstance(sources, dict):
            for package, spec in sources.items():
                specs = spec if isinstance(spec, list) else [spec]
                for one in specs:
                    if isinstance(one, dict) and isinstance(one.get("index"), str):
                        pinned.setdefault(one["index"], []).append(str(package))
    for var in ("UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        if environ.get(var, "").strip():
            default = IndexSetting(environ[var].strip(), f"${var}")
    for var in ("UV_INDEX", "UV_EXTRA_INDEX_URL"):
        for url in environ.get(var, "").split():
            # ``name=url`` is allowed in UV_INDEX.
            name, _, rest = url.partition("=")
            value = rest if rest and "://" not in name else url
            extras.insert(0, IndexSetting(value, f"${var}", default=False))
    return [default or IndexSetting(TOOL_DEFAULT_INDEX, "uv's default"), *extras], pinned, problems
