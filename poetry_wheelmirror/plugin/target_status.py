"""``poetry wheelmirror status --target OS-ARCH/X.Y``: the lock plan for the current
project, per target, without installing anything.

It reads poetry.lock itself (the same reader as ``wheelmirror plan --lock``), PyPI's
project pages and the configured mirror; Poetry supplies only the project's paths
and settings. Targets come from ``--target`` or, with ``--all-targets``, from
``[tool.poetry-wheelmirror] targets``; ``pypi-proxies`` there (or ``--pypi-proxy``)
name sources that serve PyPI's files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.settings import cache_dir_for
from poetry_wheelmirror.settings import load_settings
from poetry_wheelmirror.settings import tool_table

__all__ = ["target_status_command"]

_PREFIX = "wheelmirror"


def _strings(table: Any, key: str) -> list[str]:
    value = table.get(key, []) if isinstance(table, dict) else []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def target_status_command(
    command: Any, targets: Sequence[str], *, all_targets: bool, proxies: Sequence[str]
) -> int:
    """Print the per-target plan of the project's poetry.lock; 1 with one line on bad input."""
    try:
        return _run(command, targets, all_targets=all_targets, proxies=proxies)
    except WheelmirrorError as e:
        command.line_error(f"<error>{_PREFIX}: {e}</error>")
        return 1


def _run(command: Any, targets: Sequence[str], *, all_targets: bool, proxies: Sequence[str]) -> int:
    from poetry_wheelmirror.client import CachedClient
    from poetry_wheelmirror.locks.read import read_lock_file
    from poetry_wheelmirror.mirror.lockpages import VersionFiles
    from poetry_wheelmirror.mirror.lockplan import plan_lock
    from poetry_wheelmirror.mirror.lockplan import table_lines
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror_client import MirrorReader
    from poetry_wheelmirror.targets import parse_targets
    from poetry_wheelmirror.targets import targets_from_table

    poetry = command.poetry
    data = getattr(getattr(poetry, "pyproject", None), "data", None)
    table = tool_table(data)
    settings = load_settings(table, os.environ)
    chosen = parse_targets(targets)
    if all_targets:
        chosen = (*chosen, *targets_from_table(table, "[tool.poetry-wheelmirror]"))
    if not chosen:
        command.line_error(
            f"<error>{_PREFIX}: no targets: set targets = [...] in "
            "[tool.poetry-wheelmirror] or pass --target OS-ARCH/X.Y</error>"
        )
        return 1
    lock_path = Path(poetry.locker.lock)
    if not lock_path.is_file():
        command.line_error("<error>No poetry.lock: run `poetry lock` first.</error>")
        return 1
    try:
        cache_root = poetry.config.get("cache-dir")
    except AttributeError:
        cache_root = None
    client = CachedClient(cache_dir_for(cache_root))
    reader = MirrorReader(settings.url, client)
    mirror_warned: list[str] = []

    def mirror(name: Any) -> Any:
        if mirror_warned:
            return None
        try:
            return reader.package(name)
        except WheelmirrorError as e:  # the plan still shows PyPI's side
            mirror_warned.append(str(e))
            command.line_error(f"<warning>{_PREFIX}: warning: mirror unavailable: {e}</warning>")
            return None

    plan = plan_lock(
        read_lock_file(lock_path),
        chosen,
        upstream=VersionFiles(PypiClient(client)).files,
        mirror=mirror if settings.enabled else (lambda name: None),
        pypi_proxies=[*_strings(table, "pypi-proxies"), *proxies],
    )
    command.line(f"Mirror: <info>{settings.url}</info> (from {settings.url_source})")
    for line in table_lines(lock_path.name, plan):
        command.line(line)
    for note in plan.notes:
        command.line(f"<comment>note: {note}</comment>")
    return 0
