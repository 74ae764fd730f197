"""The doctor's pip, uv and environment-variable checks: where each installer will look,
and whether that is the mirror (reading via :mod:`poetry_wheelmirror.indexconfig`)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from poetry_wheelmirror.config import MIRROR_ENV
from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.doctor.model import DoctorOptions
from poetry_wheelmirror.doctor.model import Status
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.indexconfig import IndexSetting
from poetry_wheelmirror.indexconfig import is_mirror_url
from poetry_wheelmirror.indexconfig import pip_config_files
from poetry_wheelmirror.indexconfig import pip_index_settings
from poetry_wheelmirror.indexconfig import redact_url
from poetry_wheelmirror.indexconfig import truthy
from poetry_wheelmirror.indexconfig import uv_config_files
from poetry_wheelmirror.indexconfig import uv_index_settings
from poetry_wheelmirror.pip_layers import shadowed_settings
from poetry_wheelmirror.settings import DISABLE_ENV
from poetry_wheelmirror.settings import URL_ENV
from poetry_wheelmirror.settings import load_settings

__all__ = ["OVERRIDE_ENV_VARS", "check_environment", "check_pip", "check_uv"]

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
    checks += [
        Check("pip", "warn", line, "keep the option in one file (`pip config debug` lists them)")
        for line in shadowed_settings(files)
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
