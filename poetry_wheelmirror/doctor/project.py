"""The doctor's project checks: where each package of poetry.lock would come from for the
target (the verdict is the plugin's own, from :mod:`poetry_wheelmirror.redirect`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.doctor.model import Status
from poetry_wheelmirror.doctor.model import Target
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.lockfile import applies
from poetry_wheelmirror.lockfile import best_index_file
from poetry_wheelmirror.lockfile import read_lock
from poetry_wheelmirror.redirect import decide
from poetry_wheelmirror.redirect import precheck
from poetry_wheelmirror.selection import rank_wheels
from poetry_wheelmirror.settings import TOOL_TABLE
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.tomlfile import load_toml

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror_client import MirrorReader

__all__ = [
    "check_project",
    "check_project_venv",
    "find_project",
    "is_poetry_project",
    "platform_hint",
    "project_facts",
]


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


def is_poetry_project(project: Path | None, pyproject: Mapping[str, Any] | None) -> bool:
    if project is not None and (project / "poetry.lock").is_file():
        return True
    tool = pyproject.get("tool") if pyproject else None
    return isinstance(tool, dict) and ("poetry" in tool or TOOL_TABLE in tool)


def platform_hint(target: Target) -> str:
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
    hint = platform_hint(target)
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
