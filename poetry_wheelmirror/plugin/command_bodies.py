"""What ``poetry wheelmirror status``, ``refresh`` and ``doctor`` do, and what they print.

``commands`` holds the cleo command classes, which call these; the Poetry objects they
need come from ``poetry_internals``, the mirror-side decisions from ``hook``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.plugin.default_gate import default_blocked_reason
from poetry_wheelmirror.plugin.hook import PREFIX
from poetry_wheelmirror.plugin.hook import Hook
from poetry_wheelmirror.plugin.hook import open_reader
from poetry_wheelmirror.plugin.hook import settings_for
from poetry_wheelmirror.plugin.poetry_internals import NO_CANDIDATE
from poetry_wheelmirror.plugin.poetry_internals import env_python_version
from poetry_wheelmirror.plugin.poetry_internals import env_tags
from poetry_wheelmirror.plugin.poetry_internals import locked_names
from poetry_wheelmirror.plugin.poetry_internals import locked_packages
from poetry_wheelmirror.plugin.poetry_internals import make_chooser
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.settings import cache_dir_for

__all__ = ["doctor_command", "refresh_command", "status_command"]


def _settings_or_error(command: Any) -> PluginSettings | None:
    """The project's plugin settings, or None after saying (one line) why they are invalid."""
    try:
        return settings_for(command.poetry)
    except WheelmirrorError as e:
        command.line_error(f"<error>{PREFIX}: {e}</error>")
        return None


def status_command(command: Any) -> int:
    """``poetry wheelmirror status``: where each locked package will come from, and why."""
    io = command.io
    poetry = command.poetry
    settings = _settings_or_error(command)
    if settings is None:
        return 1
    as_json = bool(command.option("json"))
    say = (lambda text: None) if as_json else command.line
    say(f"Mirror: <info>{settings.url}</info> (from {settings.url_origin})")
    if settings.builtin_default:
        say(
            "Trust: used only for wheels whose provenance verifies as built by"
            f" {settings.provenance_repository} {settings.provenance_workflow}"
        )
    if not settings.enabled:
        say(f"Plugin: <comment>off</comment> ({settings.disabled_reason})")
    if not poetry.locker.is_locked():
        command.line_error("<error>No poetry.lock: run `poetry lock` first.</error>")
        return 1
    env = command.env
    chooser, binary_allowed, link_factory = make_chooser(poetry, env)
    hook = Hook(
        settings=settings,
        io=io,
        env=env,
        poetry=poetry,
        binary_allowed=binary_allowed,
        link_factory=link_factory,
    )
    blocked = default_blocked_reason(settings)
    if blocked:
        hook.failure = blocked
        say(f"<comment>{blocked}</comment>")
    elif settings.enabled:
        try:
            root = hook.reader().root()
            say(f"Manifest: {len(root.packages)} package(s), generated {root.generated_at}")
        except WheelmirrorError as e:
            hook.mark_unavailable(e)
    rows: list[tuple[str, str, str, str]] = []
    for package, needed in locked_packages(poetry, env):
        label = f"{package.pretty_name} {package.version.text}"
        if not needed:
            rows.append((label, "skipped", "-", "not needed in this environment (markers)"))
            continue
        if package.source_type not in (None, "legacy"):
            rows.append((label, "source", "-", f"{package.source_type} dependency"))
            continue
        chosen = None
        try:
            chosen = chooser.choose_for(package).filename
        except Exception as e:
            if not str(e).startswith(NO_CANDIDATE):
                rows.append((label, "error", "-", str(e).splitlines()[0]))
                continue
        decision = hook.decision_for(package, chosen)
        if decision.use_mirror and decision.wheel is not None:
            where = "mirror"
            detail = decision.wheel.filename
            if io.is_verbose():
                detail += f" <- {hook.reader().wheel_url(package.name, decision.wheel)}"
            rows.append((label, where, detail, "PyPI has no compatible wheel"))
        elif chosen is not None and chosen.endswith(".whl"):
            rows.append((label, "pypi-wheel", chosen, "compatible wheel on the index"))
        elif chosen is None:
            rows.append((label, "none", "-", f"no installable file: {decision.reason}"))
        else:
            rows.append((label, "build", chosen, decision.reason))
    counts = {k: sum(1 for r in rows if r[1] == k) for k in ("mirror", "pypi-wheel", "build")}
    if as_json:
        import json

        from cleo.formatters.formatter import Formatter

        packages = [
            {"package": label, "from": where, "file": detail, "reason": reason}
            for label, where, detail, reason in rows
        ]
        doc = {"mirror": settings.url, "source": settings.url_source, "packages": packages}
        command.line(Formatter.escape(json.dumps({**doc, "counts": counts}, indent=2)))
        return 0
    width = max((len(r[0]) for r in rows), default=0)
    for label, where, detail, reason in rows:
        command.line(f"  {label:<{width}}  {where:<10}  {detail}  ({reason})")
    command.line(
        f"{counts['mirror']} from the mirror, {counts['pypi-wheel']} PyPI wheel(s),"
        f" {counts['build']} source build(s)"
    )
    return 0


def refresh_command(command: Any) -> int:
    """``poetry wheelmirror refresh``: revalidate the cached root manifest and documents."""
    poetry = command.poetry
    settings = _settings_or_error(command)
    if settings is None:
        return 1

    def warn(message: str) -> None:
        command.line_error(f"<warning>{PREFIX}: warning: {message}</warning>")

    reader = open_reader(settings, poetry, warn)
    try:
        root = reader.root(revalidate=True)
    except WheelmirrorError as e:
        command.line_error(f"<error>{PREFIX}: cannot refresh {settings.url}: {e}</error>")
        return 1
    refreshed = 0
    for name in locked_names(poetry):
        if name in root.packages:
            try:
                reader.package(name, revalidate=True)
                refreshed += 1
            except WheelmirrorError as e:
                warn(str(e))
    state = " (stale: served from the cache)" if reader.stale else ""
    command.line(
        f"Refreshed {reader.root_url}{state}: {len(root.packages)} package(s),"
        f" generated {root.generated_at}; {refreshed} package document(s) for this lock"
    )
    return 0


def doctor_command(command: Any) -> int:
    """``poetry wheelmirror doctor``: ``wheelmirror doctor`` seen from inside Poetry, with
    Poetry's own environment (tags, Python, markers) and no subprocess to find Poetry."""
    import json
    import sys

    from cleo.formatters.formatter import Formatter
    from poetry.__version__ import __version__ as poetry_version

    from poetry_wheelmirror.doctor.model import DoctorOptions
    from poetry_wheelmirror.doctor.model import PoetryFacts
    from poetry_wheelmirror.doctor.report import exit_status
    from poetry_wheelmirror.doctor.report import format_report
    from poetry_wheelmirror.doctor.report import report_json
    from poetry_wheelmirror.doctor.run import run_doctor

    poetry, env = command.poetry, command.env
    python = env_python_version(env)
    checks = run_doctor(
        DoctorOptions(
            mirror=command.option("mirror"),
            project=Path(poetry.pyproject_path).parent,
            environ=dict(os.environ),
            poetry_facts=PoetryFacts(version=poetry_version, executable=sys.argv[0]),
            tags=tuple(env_tags(env)),
            python_version=python,
            marker_env={k: v for k, v in env.marker_env.items() if isinstance(v, str)},
            target_label=f"Poetry's environment {env.path} (Python {python})",
            prefix=Path(env.path),
            cache_dir=cache_dir_for(poetry.config.get("cache-dir")),
        )
    )
    if command.option("json"):
        command.line(json.dumps(report_json(checks), indent=2))
    else:
        for line in format_report(checks):
            command.line(Formatter.escape(line))
    return exit_status(checks)
