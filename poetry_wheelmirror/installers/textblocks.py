"""Marked blocks of whole lines in a text file: add them, and take them out byte-exactly.

A configuration writer that only ever *inserts* text, as blocks fenced by two comment
lines, never changes a byte the user wrote; removing the fenced blocks gives the file
back exactly. A block may be inserted in the middle of a line (after the ``[`` of an
inline array): the begin marker then says so, and removal joins the line again. The
same when a block is appended to a file without a final newline.

Lines are split on ``\\n`` only (keeping ``\\r\\n`` endings), never with
``str.splitlines``, which also splits on characters TOML allows in comments and strings.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from poetry_wheelmirror.errors import ConfigError

__all__ = [
    "BREAK_FLAG",
    "NEW_FILE_FLAG",
    "Insertion",
    "apply_insertions",
    "begin_marker",
    "end_marker",
    "newline_of",
    "remove_blocks",
    "split_lines",
]

#: The line break before this block was added with it (a split line or no final newline).
BREAK_FLAG: Final = "[line break added before]"
#: The file did not exist before this block: removing the last block deletes it.
NEW_FILE_FLAG: Final = "[new file]"


def begin_marker(command: str) -> str:
    return f"# >>> added by wheelmirror {command} (undo: wheelmirror {command} --remove)"


def end_marker(command: str) -> str:
    return f"# <<< added by wheelmirror {command}"


def split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept; ``"".join`` gives *text* back."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def newline_of(text: str) -> str:
    """The file's line ending, from its first line (``\\n`` for a one-line file)."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _content(line: str) -> str:
    return line.rstrip("\n").rstrip("\r")


@dataclass(frozen=True)
class Insertion:
    """Lines to add as one block at character *offset* (a line start, or mid-line/EOF
    without a final newline, where a line break is added first)."""

    offset: int
    lines: tuple[str, ...]


def apply_insertions(
    text: str, insertions: Sequence[Insertion], command: str, *, new_file: bool = False
) -> str:
    """*text* with each insertion added as a marked block (offsets refer to *text*)."""
    nl = newline_of(text)
    result = text
    for n, ins in enumerate(sorted(insertions, key=lambda i: i.offset, reverse=True)):
        at_line_start = ins.offset == 0 or text[ins.offset - 1] == "\n"
        flags = []
        if not at_line_start:
            flags.append(BREAK_FLAG)
        if new_file and n == len(insertions) - 1:
            flags.append(NEW_FILE_FLAG)
        begin = " ".join([begin_marker(command), *flags])
        body = [begin, *ins.lines, end_marker(command)]
        block = "".join(line + nl for line in body)
        if not at_line_start:
            block = nl + block
        result = result[: ins.offset] + block + result[ins.offset :]
    return result


def remove_blocks(
    text: str, command: str, is_ours: Callable[[str], bool], source: str
) -> tuple[str, bool, bool]:
    """(*text* without the marked blocks, whether any was found, whether the file was
    created by the blocks). Raises ConfigError, changing nothing, when a block holds a
    line *is_ours* does not recognise (edited by hand) or has no end marker."""
    lines = split_lines(text)
    nl_len = len(newline_of(text))
    begin, end = begin_marker(command), end_marker(command)
    keep = list(lines)
    drop: set[int] = set()
    created = found = False
    i = 0
    while i < len(lines):
        head = _content(lines[i]).strip()
        if not head.startswith(begin):
            i += 1
            continue
        found = True
        flags = head[len(begin) :]
        j = i + 1
        while j < len(lines) and _content(lines[j]).strip() != end:
            body = _content(lines[j])
            if body.strip().startswith(begin) or not is_ours(body):
                msg = (
                    f"{source} line {j + 1}: the block wheelmirror {command} added was edited "
                    "by hand; move your lines out of it (or delete the block), then run again"
                )
                raise ConfigError(msg)
            j += 1
        if j == len(lines):
            msg = (
                f"{source} line {i + 1}: the block wheelmirror {command} added has no end "
                f"marker ({end!r}); fix or delete it by hand, then run again"
            )
            raise ConfigError(msg)
        drop.update(range(i, j + 1))
        if BREAK_FLAG in flags and i > 0:
            keep[i - 1] = keep[i - 1][:-nl_len]  # the line break this block added
        created = created or NEW_FILE_FLAG in flags
        i = j + 1
    return "".join(line for k, line in enumerate(keep) if k not in drop), found, created
