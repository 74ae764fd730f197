"""pip.conf editing (pure): add the mirror's index setting, and take exactly that out again.

The file is edited as lines, never parsed and re-written, so every other byte (comments,
ordering, spacing, other sections, line endings) stays as it was. Each line this module
adds is preceded by a marker comment naming what it added, and a line it has to switch
off (an existing ``index-url`` that the routing index replaces) is kept as a marked
comment, so ``remove_mirror`` can undo exactly what ``add_mirror`` did, even after other
edits.

Lines are read the way pip reads the file: text mode (``\\r``, ``\\n`` and ``\\r\\n`` end a
line) and :class:`configparser.RawConfigParser`, whose state machine :func:`_classify`
follows: ``[ global ]`` is a section named `` global ``, not ``[global]``; an indented
line continues the previous value; option names are case-insensitive and ``_`` is ``-``
(pip's ``optionxform``). The result of every edit is parsed with configparser and
compared with the old settings; when it is not exactly "the old settings plus the
mirror", nothing is written.
"""

from __future__ import annotations

import configparser
import io
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
    "pip_settings",
    "remove_mirror",
]

Mode = Literal["routing", "extra"]

#: The comment line before every line this tool added.
ADDED_MARK: Final = "# wheelmirror: added the next line (undo: wheelmirror pip-config --remove)"
#: The prefix of a user's line this tool switched off; --remove restores it.
DISABLED_MARK: Final = "#wheelmirror-disabled# "
_NO_EOL: Final = " [no newline at end of file before]"
_NEW_FILE: Final = " [new file]"
# The URL has no spaces (checked) and may hold brackets (IPv6): it ends at "] " or EOL.
_URL_TAG = re.compile(r" \[url: (?P<url>\S+)\](?= |$)")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_SECTCRE = configparser.RawConfigParser.SECTCRE
_OPTCRE = configparser.RawConfigParser.OPTCRE
_OUR_OPTION = re.compile(r"(?:extra-)?index-url = (?P<url>\S+)")


@dataclass(frozen=True)
class PipConfChange:
    """The new text and what happened, for the CLI to explain."""

    text: str
    changed: bool
    replaced: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: The file was created by pip-config and nothing else is left in it.
    delete_file: bool = False


def option_key(mode: Mode) -> str:
    """The pip option a mode writes: a routing index replaces pip's index, the static
    index is added next to it."""
    return "index-url" if mode == "routing" else "extra-index-url"


def _norm_key(raw: str) -> str:
    # pip's _normalize_name (its RawConfigParser's optionxform).
    return raw.lower().replace("_", "-").removeprefix("--")


class _PipParser(configparser.RawConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return _norm_key(optionstr)


def pip_settings(text: str, source: str = "pip.conf") -> dict[str, dict[str, str]]:
    """{section: {option: value}} as pip reads *text*; ConfigError when pip could not."""
    parser = _PipParser()
    try:
        parser.read_file(io.StringIO(text, newline=None), source)
    except configparser.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        msg = f"{source} is not a valid pip configuration file ({first}): not changed"
        raise ConfigError(msg) from None
    settings = {name: dict(parser.items(name)) for name in parser.sections()}
    settings["DEFAULT"] = dict(parser.defaults())
    return settings


def _split(text: str) -> list[str]:
    """Lines as pip's text-mode read splits them, endings kept ("".join gives *text*)."""
    return _LINE.findall(text)


def _newline(text: str) -> str:
    first = _LINE.match(text)
    ending = first.group()[len(first.group().rstrip("\r\n")) :] if first else ""
    return ending or "\n"


@dataclass(frozen=True)
class _Line:
    kind: Literal["blank", "comment", "section", "option", "value", "error"]
    section: str | None
    option: str | None
    indent: int


def _classify(lines: list[str]) -> list[_Line]:
    """configparser's reading of each line (``RawConfigParser._read``, defaults)."""
    result: list[_Line] = []
    section: str | None = None
    option: str | None = None
    indent_level = 0
    for line in lines:
        value = line.strip()
        indent = len(line) - len(line.lstrip())
        if value.startswith(("#", ";")):
            result.append(_Line("comment", section, option, indent))
        elif not value:
            result.append(_Line("blank", section, option, indent))
        elif section is not None and option and indent > indent_level:
            result.append(_Line("value", section, option, indent))
        else:
            indent_level = indent
            header = _SECTCRE.match(value)
            match = None if header else _OPTCRE.match(value)
            if header:
                section, option = header.group("header"), None
                result.append(_Line("section", section, None, indent))
            elif section is not None and match and match.group("option"):
                option = _norm_key(match.group("option").rstrip())
                result.append(_Line("option", section, option, indent))
            else:
                result.append(_Line("error", section, None, indent))
    return result


def _mark(url: str | None = None, *, no_eol: bool = False, new_file: bool = False) -> str:
    tag = f" [url: {url}]" if url else ""
    return ADDED_MARK + tag + (_NO_EOL if no_eol else "") + (_NEW_FILE if new_file else "")


def _edit(text: str, url: str, mode: Mode, new_file: bool) -> PipConfChange:
    key = option_key(mode)
    lines = _split(text)
    nl = _newline(text)
    info = _classify(lines)
    notes = [
        f"[{line.section}] sets {key} too and overrides [global] for pip {line.section}"
        for line in info
        if line.kind == "option" and line.option == key and line.section != "global"
    ]
    replaced: list[str] = []
    headers = [i for i, line in enumerate(info) if line.kind == "section"]
    start = next((i for i in headers if info[i].section == "global"), None)
    if start is None:
        no_eol = bool(lines) and not lines[-1].endswith(("\n", "\r"))
        if no_eol:
            lines[-1] += nl
        first = _mark(no_eol=no_eol, new_file=new_file)
        lines += [first + nl, "[global]" + nl, _mark(url) + nl, f"{key} = {url}{nl}"]
        return PipConfChange("".join(lines), True, notes=tuple(notes))
    in_global = [i for i, line in enumerate(info) if line.section == "global" and i > start]
    existing = [i for i in in_global if info[i].kind == "option" and info[i].option == key]
    if existing and mode == "routing":
        for i in in_global:
            if info[i].option == key and info[i].kind in ("option", "value"):
                replaced.append(lines[i].strip())
                lines[i] = DISABLED_MARK + lines[i]
        existing = []
    if not existing:
        no_eol = not lines[start].endswith(("\n", "\r"))  # "[global]" ends the file
        if no_eol:
            lines[start] += nl
        mark = _mark(url, no_eol=no_eol, new_file=new_file)
        lines[start + 1 : start + 1] = [mark + nl, f"{key} = {url}{nl}"]
    else:
        own = [i for i in in_global if info[i].option == key and info[i].kind == "value"]
        last = max([existing[0], *own])
        indent = " " * (info[existing[0]].indent + 4)
        no_eol = not lines[last].endswith(("\n", "\r"))
        if no_eol:
            lines[last] += nl
        mark = _mark(url, no_eol=no_eol, new_file=new_file)
        lines[last + 1 : last + 1] = [f"{indent}{mark}{nl}", f"{indent}{url}{nl}"]
    return PipConfChange("".join(lines), True, tuple(replaced), tuple(notes))


def _flat(settings: dict[str, dict[str, str]], key: str) -> dict[str, list[str]]:
    """Settings as {"section\0option": values}; the mirror's option split into URLs."""
    flat = {f"{s}\0{k}": [v] for s, options in settings.items() for k, v in options.items()}
    if f"global\0{key}" in flat:
        flat[f"global\0{key}"] = flat[f"global\0{key}"][0].split()
    return flat


def _expected(old: dict[str, dict[str, str]], url: str, mode: Mode) -> dict[str, list[str]]:
    """What pip must read after the edit: the old settings, plus the mirror."""
    key = option_key(mode)
    flat = _flat(old, key)
    before = flat.get(f"global\0{key}")
    flat[f"global\0{key}"] = [*before, url] if mode == "extra" and before is not None else [url]
    return flat


def add_mirror(text: str, url: str, mode: Mode, *, new_file: bool = False) -> PipConfChange:
    """*text* with the mirror's setting in ``[global]``; unchanged if already there.

    ``extra`` mode adds *url* to ``extra-index-url`` (as a continuation line when the
    option exists). ``routing`` mode sets ``index-url``; a user's own ``index-url`` is
    kept as a marked comment and restored by ``remove_mirror``. *new_file*: the file
    does not exist yet (``remove_mirror`` then says to delete it again). ConfigError,
    and nothing to write, when pip could not read *text* or the result.
    """
    if not url or any(c.isspace() for c in url):
        msg = f"not a usable index URL: {url!r}"
        raise ConfigError(msg)
    current = remove_mirror(text)
    created = any(_is_ours(line) and _NEW_FILE in line for line in _split(text))
    new_file = new_file or created
    cleaned = current.text
    old = pip_settings(cleaned)
    change = _edit(cleaned, url, mode, new_file)
    if _flat(pip_settings(change.text), option_key(mode)) != _expected(old, url, mode):
        msg = (
            "cannot add the mirror to this pip.conf without changing how pip reads your "
            "own settings (an unusual layout): not changed; add it by hand"
        )
        raise ConfigError(msg)
    return PipConfChange(
        change.text, change.text != text, change.replaced, change.notes, delete_file=False
    )


def _parses(text: str) -> bool:
    try:
        pip_settings(text)
    except ConfigError:
        return False
    return True


def _keeps_user_settings(old_text: str, new_text: str, removed: set[str]) -> bool:
    """Whether pip reads *new_text* with exactly the settings of *old_text*, leaving out
    the index options the mirror writes and the *removed* URL lines (lines of ours that
    a user's edit made part of another value)."""
    try:
        new = pip_settings(new_text)
    except ConfigError:
        return False

    def users(settings: dict[str, dict[str, str]]) -> set[tuple[str, str, str]]:
        ours = ("index-url", "extra-index-url")
        return {
            (section, key, "\n".join(v for v in value.split("\n") if v.strip() not in removed))
            for section, options in settings.items()
            for key, value in options.items()
            if not (section == "global" and key in ours)
        }

    return users(pip_settings(old_text)) == users(new)


def _is_ours(line: str) -> bool:
    return line.strip().startswith(ADDED_MARK)


def _target(lines: list[str], mark: int, url: str | None) -> int | None:
    """The line a marker at *mark* stands for: the first later line of the shape this
    module writes (with the marker's URL when it names one), up to the next marker."""
    for j in range(mark + 1, len(lines)):
        body = lines[j].strip()
        if _is_ours(lines[j]):
            return None
        if body == "[global]" and j == mark + 1 and url is None:
            return j
        option = _OUR_OPTION.fullmatch(body)
        value = body if lines[j][:1].isspace() and " " not in body else None
        found = option.group("url") if option else value
        if found is not None and (url is None or found == url):
            return j
    return None


def remove_mirror(text: str) -> PipConfChange:
    """*text* without anything ``add_mirror`` added, and with what it disabled restored."""
    lines = _split(text)
    drop: set[int] = set()
    section_marks: list[int] = []
    restore_eol = created = False
    removed: set[str] = set()
    for i, line in enumerate(lines):
        if not _is_ours(line) or i in drop:
            continue
        tag = _URL_TAG.search(line.rstrip("\r\n"))
        drop.add(i)
        j = _target(lines, i, tag.group("url") if tag else None)
        if j is not None:
            drop.add(j)
            option = _OUR_OPTION.fullmatch(lines[j].strip())
            removed.add(option.group("url") if option else lines[j].strip())
            if lines[j].strip() == "[global]":
                section_marks.append(i)
        restore_eol = restore_eol or _NO_EOL in line
        created = created or _NEW_FILE in line
    restored = [
        line[len(DISABLED_MARK) :] if line.startswith(DISABLED_MARK) else line for line in lines
    ]
    # An added [global] header stays when the user has since put settings under it.
    info = _classify(restored)
    for mark in section_marks:
        header = mark + 1
        for j in range(header + 1, len(lines)):
            if info[j].kind == "section":
                break
            if j not in drop and info[j].kind not in ("blank", "comment"):
                drop.discard(header)
                drop.discard(mark)
                break
    new_text = "".join(line for k, line in enumerate(restored) if k not in drop)
    if restore_eol and new_text.endswith(("\n", "\r")):
        new_text = new_text[: -len(_newline(new_text))]
    if not drop:
        pip_settings(text)  # nothing of ours, but an unreadable file is still reported
    elif _parses(text) and not _keeps_user_settings(text, new_text, removed):
        msg = (
            "taking the wheelmirror lines out of this pip.conf would change how pip reads "
            "your own settings (edited by hand?): not changed; remove the marked lines yourself"
        )
        raise ConfigError(msg)
    return PipConfChange(
        text=new_text, changed=new_text != text, delete_file=created and not new_text
    )
