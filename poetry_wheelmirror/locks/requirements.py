"""Hashed requirements files (pip-compile, ``uv pip compile --generate-hashes``,
``poetry export``) into the lock model (pure).

Each requirement must pin one version (``==`` or ``===``); its ``--hash=sha256:``
options are the files it allows (by hash only: the filenames come from the index) and
its marker says where it is installed. ``-r``/``-c`` includes are not followed (a note
says so); ``--index-url`` other than PyPI turns every pin into an "other index" pin.
"""

from __future__ import annotations

import re
from typing import Final

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from poetry_wheelmirror.locks.model import PYPI_HOSTS
from poetry_wheelmirror.locks.model import Lock
from poetry_wheelmirror.locks.model import LockedDist
from poetry_wheelmirror.locks.model import LockedFile
from poetry_wheelmirror.locks.model import SourceKind

__all__ = ["parse_requirements"]

_HASH: Final = re.compile(r"--hash[=\s]+(\w+):([0-9a-fA-F]+)")
_COMMENT: Final = re.compile(r"(^|\s)#.*$")
_INDEX: Final = re.compile(r"^(?:-i|--index-url)[=\s]+(\S+)")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with comments removed and backslash continuations joined, with line numbers."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = (_COMMENT.sub("", raw) if "#" in raw else raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        if pending.strip():
            out.append((start, pending.strip()))
        pending = ""
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def parse_requirements(text: str, *, source: str) -> Lock:
    """The lock model of a requirements file; lines it cannot use become notes."""
    dists: list[LockedDist] = []
    notes: list[str] = []
    index: tuple[SourceKind, str] = ("pypi", "")
    for number, line in _logical_lines(text):
        where = f"{source}:{number}"
        found = _INDEX.match(line)
        if found:
            url = found.group(1).rstrip("/")
            index = ("pypi", "") if url in PYPI_HOSTS else ("index", url)
            continue
        if line.startswith("-"):
            if line.startswith(("-r", "-c", "--requirement", "--constraint")):
                notes.append(f"{where}: includes are not followed ({line.split()[0]})")
            elif line.startswith(("-e", "--editable")):
                notes.append(f"{where}: editable requirement not planned")
            continue  # --extra-index-url, --find-links, --no-binary ...: installer options
        hashes = tuple(
            LockedFile(filename="", sha256=digest.lower())
            for algo, digest in _HASH.findall(line)
            if algo.lower() == "sha256"
        )
        spec = _HASH.sub("", line).strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as e:
            notes.append(f"{where}: not a requirement ({str(e).splitlines()[0]})")
            continue
        name = canonicalize_name(requirement.name)
        marker = (str(requirement.marker),) if requirement.marker else ()
        if requirement.url:
            dists.append(
                LockedDist(
                    name=name,
                    version="",
                    source="url",
                    source_detail=requirement.url,
                    markers=marker,
                )
            )
            continue
        pins = [s for s in requirement.specifier if s.operator in ("==", "===")]
        if len(pins) != 1 or "*" in pins[0].version or len(requirement.specifier) != 1:
            notes.append(f"{where}: {name} is not pinned to one version (skipped)")
            continue
        if not hashes:
            notes.append(f"{where}: {name} has no --hash=sha256 (every file allowed)")
        dists.append(
            LockedDist(
                name=name,
                version=pins[0].version,
                files=hashes,
                source=index[0],
                source_detail=index[1],
                markers=marker,
            )
        )
    return Lock(kind="requirements", dists=tuple(dists), notes=tuple(notes))
