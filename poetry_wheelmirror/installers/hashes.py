"""Adding mirror wheel hashes to a hashed requirements file (pure).

``pip install --require-hashes`` only accepts a file whose sha256 is listed for its
requirement, so a file from ``poetry export --with-hashes`` (PyPI's hashes only) makes
pip skip the mirror's wheels. This adds each mirror wheel's ``--hash=sha256:`` to the
pinned requirement it belongs to, in the same layout (continuation lines), and nothing
else: every other line stays byte-for-byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion
from packaging.version import Version

__all__ = ["HashReport", "add_hashes"]

_PIN = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*(?P<version>[^\s;\\,]+)"
)
_HASH = re.compile(r"--hash[=\s]+(?P<algo>[a-z0-9]+):(?P<digest>[0-9a-fA-F]+)")


@dataclass(frozen=True)
class HashReport:
    """The new text and what was done, for the CLI to report."""

    text: str
    added: tuple[tuple[str, str, int], ...] = ()
    not_on_mirror: tuple[str, ...] = ()
    unhashed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def _continues(line: str) -> bool:
    """pip's rule (req_file.join_lines): a line ending in a backslash continues on the
    next one, unless it is a comment line."""
    body = line.rstrip("\r\n")
    return body.endswith("\\") and not body.lstrip().startswith("#")


def _logical_lines(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(first, last) physical line indexes of each logical line (backslash continuation)."""
    result = []
    i = 0
    while i < len(lines):
        start = i
        while _continues(lines[i]) and i + 1 < len(lines):
            i += 1
        result.append((start, i))
        i += 1
    return result


def _lookup(
    wheels: Mapping[str, Mapping[str, Sequence[str]]], name: str, version: str
) -> Sequence[str] | None:
    versions = wheels.get(name)
    if versions is None:
        return None
    if version in versions:
        return versions[version]
    try:
        wanted = Version(version)
    except InvalidVersion:
        return None
    for key, hashes in versions.items():
        try:
            if Version(key) == wanted:
                return hashes
        except InvalidVersion:
            continue
    return None


def add_hashes(text: str, wheels: Mapping[str, Mapping[str, Sequence[str]]]) -> HashReport:
    """*text* with the mirror's wheel hashes added to each pinned requirement.

    *wheels* maps a normalised name to {version: [sha256, ...]} for the mirror's wheels.
    """
    lines = text.splitlines(keepends=True)
    nl = "\r\n" if "\r\n" in text else "\n"
    added: list[tuple[str, str, int]] = []
    not_on_mirror: list[str] = []
    unhashed: list[str] = []
    skipped: list[str] = []
    inserts: list[tuple[int, list[str]]] = []
    for first, last in _logical_lines(lines):
        match = _PIN.match(lines[first])
        if match is None or lines[first].lstrip().startswith(("#", "-")):
            continue
        name = canonicalize_name(match.group("name"))
        version = match.group("version")
        block = "".join(lines[first : last + 1])
        present = {
            m.group("digest").lower() for m in _HASH.finditer(block) if m.group("algo") == "sha256"
        }
        if not _HASH.search(block):
            unhashed.append(f"{name}=={version}")
        if name not in wheels:
            continue
        hashes = _lookup(wheels, name, version)
        if not hashes:
            not_on_mirror.append(f"{name}=={version}")
            continue
        missing = [h for h in hashes if h.lower() not in present]
        if not missing:
            continue
        tail = lines[last].rstrip("\r\n")
        if " #" in tail or tail.lstrip().startswith("#"):
            # A trailing comment would swallow the continuation backslash.
            skipped.append(f"{name}=={version}")
            continue
        indent = "    "
        ending = lines[last][len(tail) :]  # "" when the file has no final newline: kept
        # A file may end in a dangling continuation: it already has its backslash.
        lines[last] = (tail if tail.endswith("\\") else f"{tail} \\") + nl
        new = [f"{indent}--hash=sha256:{h} \\{nl}" for h in missing[:-1]]
        new.append(f"{indent}--hash=sha256:{missing[-1]}{ending}")
        inserts.append((last + 1, new))
        added.append((name, version, len(missing)))
    for at, new in reversed(inserts):
        lines[at:at] = new
    return HashReport(
        text="".join(lines),
        added=tuple(added),
        not_on_mirror=tuple(not_on_mirror),
        unhashed=tuple(unhashed),
        skipped=tuple(skipped),
    )
