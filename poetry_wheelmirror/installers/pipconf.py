"""pip.conf editing (pure): add the mirror's index setting, and take exactly that out again.

The file is edited as lines, never parsed and re-written, so every other byte (comments,
ordering, spacing, other sections, line endings) stays as it was. Each line this module
adds is preceded by a marker comment, and a line it has to switch off (an existing
``index-url`` that the routing index replaces) is kept as a marked comment, so
``remove_mirror`` can undo exactly what ``add_mirror`` did, even after other edits.

pip reads the file with configparser: option names are case-insensitive, ``_`` and
``-`` are the same, values continue on indented lines, and a full-line comment inside
a continued value is skipped. That is what makes the marker comments safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from typing import Literal

from poetry_wheelmirror.errors import ConfigError

__all__ = [
    "ADDED_MARK",
    "DISABLED_MARK",
    "Mode",
    "PipConfChange",
    "add_mirror",
    "option_key",
    "remove_mirror",
]

Mode = Literal["routing", "extra"]

#: The comment line before every line this tool added.
ADDED_MARK: Final = "# wheelmirror: added the next line (undo: wheelmirror pip-config --remove)"
#: The prefix of a user's line this tool switched off; --remove restores it.
DISABLED_MARK: Final = "#wheelmirror-disabled# "
_ADDED_NO_EOL: Final = ADDED_MARK + " [no newline at end of file before]"
_SECTION = re.compile(r"^\[(?P<name>[^]]+)\]")
_OPTION = re.compile(r"^(?P<key>[^=:\s][^=:]*?)\s*[=:]\s*(?P<value>.*)$")


@dataclass(frozen=True)
class PipConfChange:
    """The new text and what happened, for the CLI to explain."""

    text: str
    changed: bool
    replaced: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def option_key(mode: Mode) -> str:
    """The pip option a mode writes: a routing index replaces pip's index, the static
    index is added next to it."""
    return "index-url" if mode == "routing" else "extra-index-url"


def _norm_key(raw: str) -> str:
    return raw.strip().lower().replace("_", "-")


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _is_comment(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(("#", ";"))


def _is_ours(line: str) -> bool:
    return line.strip().startswith(ADDED_MARK)


def _split(text: str) -> list[str]:
    """Lines with their endings kept, so joining them gives back *text* exactly."""
    return text.splitlines(keepends=True)


def _sections(lines: list[str]) -> list[tuple[str | None, int, int]]:
    """(name, header index or -1, end index) for each section, in file order."""
    result: list[tuple[str | None, int, int]] = []
    name: str | None = None
    start = -1
    for i, line in enumerate(lines):
        if line[:1].isspace() or _is_comment(line):
            continue
        match = _SECTION.match(line.strip())
        if match:
            result.append((name, start, i))
            name, start = match.group("name").strip(), i
    result.append((name, start, len(lines)))
    return result


def _value_end(lines: list[str], key_index: int, end: int) -> int:
    """Index of the last line belonging to the option at *key_index* (continuations)."""
    last = key_index
    for j in range(key_index + 1, end):
        line = lines[j]
        if not line.strip() or _is_comment(line):
            continue  # blank lines and comments may sit inside a continued value
        if line[:1].isspace():
            last = j
            continue
        break
    return last


def _find_option(lines: list[str], start: int, end: int, key: str) -> int | None:
    for i in range(start + 1, end):
        line = lines[i]
        if line[:1].isspace() or _is_comment(line):
            continue
        match = _OPTION.match(line.rstrip("\r\n"))
        if match and _norm_key(match.group("key")) == key:
            return i
    return None


def add_mirror(text: str, url: str, mode: Mode) -> PipConfChange:
    """*text* with the mirror's setting in ``[global]``; unchanged if already there.

    ``extra`` mode adds *url* to ``extra-index-url`` (as a continuation line when the
    option exists). ``routing`` mode sets ``index-url``; a user's own ``index-url`` is
    kept as a marked comment and restored by ``remove_mirror``.
    """
    if not url or any(c.isspace() for c in url):
        msg = f"not a usable index URL: {url!r}"
        raise ConfigError(msg)
    key = option_key(mode)
    current = remove_mirror(text)
    lines = _split(current.text)
    nl = _newline(text)
    # Already configured exactly like this: nothing to do (idempotent).
    if current.changed and add_mirror(current.text, url, mode).text == text:
        return PipConfChange(text=text, changed=False)
    notes: list[str] = []
    replaced: list[str] = []
    for name, start, end in _sections(lines):
        if name is not None and name != "global" and _find_option(lines, start, end, key):
            notes.append(f"[{name}] sets {key} too and overrides [global] for pip {name}")
    global_section = next(((s, e) for n, s, e in _sections(lines) if n == "global"), None)
    if global_section is None:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += nl
            mark = _ADDED_NO_EOL
        else:
            mark = ADDED_MARK
        lines += [f"{mark}{nl}", f"[global]{nl}", f"{ADDED_MARK}{nl}", f"{key} = {url}{nl}"]
        return PipConfChange(text="".join(lines), changed=True, notes=tuple(notes))
    start, end = global_section
    existing = _find_option(lines, start, end, key)
    if existing is not None and key == "index-url":
        last = _value_end(lines, existing, end)
        for i in range(existing, last + 1):
            if lines[i].strip() and not _is_comment(lines[i]):
                replaced.append(lines[i].strip())
                lines[i] = DISABLED_MARK + lines[i]
        existing = None
    if existing is None:
        new = [f"{ADDED_MARK}{nl}", f"{key} = {url}{nl}"]
        lines[start + 1 : start + 1] = new
    else:
        last = _value_end(lines, existing, end)
        mark = ADDED_MARK
        if not lines[last].endswith(("\n", "\r")):
            lines[last] += nl
            mark = _ADDED_NO_EOL
        lines[last + 1 : last + 1] = [f"    {mark}{nl}", f"    {url}{nl}"]
    return PipConfChange(
        text="".join(lines), changed=True, replaced=tuple(replaced), notes=tuple(notes)
    )


def remove_mirror(text: str) -> PipConfChange:
    """*text* without anything ``add_mirror`` added, and with what it disabled restored."""
    lines = _split(text)
    drop: set[int] = set()
    section_marks: list[int] = []
    restore_eol = False
    i = 0
    while i < len(lines):
        if _is_ours(lines[i]):
            drop.add(i)
            if i + 1 < len(lines):
                drop.add(i + 1)
                if _SECTION.match(lines[i + 1].strip()):
                    section_marks.append(i)
            restore_eol = restore_eol or lines[i].strip() == _ADDED_NO_EOL
            i += 2
            continue
        i += 1
    restored = [
        line[len(DISABLED_MARK) :] if line.startswith(DISABLED_MARK) else line for line in lines
    ]
    # An added [global] header stays when the user has since put settings under it.
    for mark in section_marks:
        header = mark + 1
        j = header + 1
        while j < len(lines) and not (
            not lines[j][:1].isspace()
            and not _is_comment(lines[j])
            and _SECTION.match(lines[j].strip())
        ):
            if j not in drop and restored[j].strip() and not _is_comment(restored[j]):
                drop.discard(header)
                break
            j += 1
    kept = [line for k, line in enumerate(restored) if k not in drop]
    new_text = "".join(kept)
    if restore_eol and new_text.endswith(("\r\n", "\n")):
        new_text = new_text[: -len(_newline(new_text))]
    return PipConfChange(text=new_text, changed=new_text != text)
