"""uv configuration editing (pure): the mirror's index added as marked blocks of lines.

Two shapes (uv takes the first index that has a package):

* explicit (default): an index named ``wheelmirror`` with ``explicit = true`` plus a
  ``[tool.uv.sources]`` entry ``<pkg> = { index = "wheelmirror" }`` for each of the
  project's dependencies the mirror carries. Only those packages ever come from the
  mirror, and uv.lock records it, so the lock stays portable.
* routing: the routing index as uv's ``default = true`` index (unsupported packages are
  redirected to the upstream by the index itself).

uv.toml cannot hold ``sources`` (uv refuses them there), so in a uv.toml the explicit
shape becomes an ordinary first index: uv asks it first, and the static index answers
404 for packages it does not carry, so uv falls through to its default index.

The file is never re-serialised: every addition is a block of lines fenced by marker
comments (:mod:`textblocks`), placed where TOML allows it (before the first
``[[tool.uv.index]]``, inside an inline ``index = [...]`` array, after the
``[tool.uv.sources]`` header, or at the end). Each candidate edit is parsed with a TOML
parser and kept only when the result is exactly the old data plus our entries; when
no candidate is, nothing is written. ``remove_uv`` deletes the blocks, so the file comes
back byte for byte; an index named ``wheelmirror`` outside a block is the user's own.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from typing import Final

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.installers.textblocks import Insertion
from poetry_wheelmirror.installers.textblocks import apply_insertions
from poetry_wheelmirror.installers.textblocks import remove_blocks

__all__ = [
    "COMMAND",
    "INDEX_NAME",
    "UvChange",
    "configure_uv",
    "parse_toml_text",
    "project_dependencies",
    "remove_uv",
]

INDEX_NAME: Final = "wheelmirror"
COMMAND: Final = "uv-config"
_BOM: Final = "\ufeff"
_STR = r'"(?:[^"\\\x00-\x1f\x7f]|\\.)*"'
_FLAG = r"(?:explicit|default) = true"
# Every line uv-config writes inside its blocks; anything else there was added by hand.
_OUR_LINE = re.compile(
    "|".join(
        [
            r"\[\[(?:tool\.uv\.)?index\]\]",
            r"\[tool\.uv\.sources(?:\.[a-z0-9-]+)?\]",
            f'name = "{INDEX_NAME}"',
            f"url = {_STR}",
            _FLAG,
            f'index = "{INDEX_NAME}"',
            f'[a-z0-9-]+ = \\{{ index = "{INDEX_NAME}" \\}}',
            f'\\{{ name = "{INDEX_NAME}", url = {_STR}(?:, {_FLAG})? \\}},',
            "",
        ]
    )
)
_AOT_HEADER = {
    True: re.compile(r"^[ \t]*\[\[[ \t]*tool[ \t]*\.[ \t]*uv[ \t]*\.[ \t]*index[ \t]*\]\]", re.M),
    False: re.compile(r"^[ \t]*\[\[[ \t]*index[ \t]*\]\]", re.M),
}
_ARRAY_START = re.compile(r"""(?<![A-Za-z0-9_-])["']?index["']?[ \t]*=[ \t]*\[""")
_SOURCES_HEADER = re.compile(
    r"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*uv[ \t]*\.[ \t]*sources[ \t]*\][^\n]*\n", re.M
)
_MAX_CANDIDATES: Final = 16
# What uv-config before issue 12 wrote into an inline `index = [...]` array (invalid TOML).
_OLD_DAMAGE = re.compile(r'\[\s*name = "wheelmirror"\r?\nurl = ')


@dataclass(frozen=True)
class UvChange:
    text: str
    changed: bool
    routed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: The file was created by uv-config and nothing else is left in it.
    delete_file: bool = False


def parse_toml_text(text: str, source: str) -> dict[str, Any]:
    """Parsed TOML (a leading BOM ignored); ConfigError, one line, when invalid."""
    text = text.removeprefix(_BOM)
    try:
        return _parse(text)
    except RecursionError:
        msg = f"{source} is not a TOML file uv-config can read: nested too deeply"
        raise ConfigError(msg) from None
    except ValueError as e:
        msg = f"{source} is not valid TOML: {e}"
        if _OLD_DAMAGE.search(text):
            msg = (
                f"{source} is not valid TOML: an older wheelmirror uv-config wrote "
                '`name = "wheelmirror"`, `url = ...` (and `explicit`/`default = true`) into an '
                "inline index array; delete those lines and the comma after them (or restore "
                "the file from version control), then run again"
            )
        raise ConfigError(msg) from None


def _parse(text: str) -> dict[str, Any]:
    """tomllib's parse; Python 3.9/3.10: tomlkit's (Poetry ships it). ValueError if invalid."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)  # TOMLDecodeError is a ValueError
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        data: dict[str, Any] = tomlkit.parse(text).unwrap()
    except TOMLKitError as e:
        raise ValueError(str(e)) from None
    return data


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _tables(value: object) -> list[object]:
    return list(value.values()) if isinstance(value, dict) else []


def project_dependencies(text: str) -> list[str]:
    """Normalised names of the project's direct dependencies (all groups and extras);
    entries of the wrong type are skipped, as uv would reject them itself."""
    doc = parse_toml_text(text, "pyproject.toml")
    project = doc.get("project")
    project = project if isinstance(project, dict) else {}
    tool = doc.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    specs = _strings(project.get("dependencies"))
    for group in _tables(project.get("optional-dependencies")):
        specs += _strings(group)
    for group in _tables(doc.get("dependency-groups")):
        specs += _strings(group)
    specs += _strings(uv.get("dev-dependencies") if isinstance(uv, dict) else None)
    names: list[str] = []
    for spec in specs:
        try:
            name = canonicalize_name(Requirement(spec).name)
        except InvalidRequirement:
            continue
        if name not in names:
            names.append(name)
    return names


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def _is_our_line(line: str) -> bool:
    return _OUR_LINE.fullmatch(line.strip()) is not None


def _uv_data(data: dict[str, Any], in_pyproject: bool, source: str) -> dict[str, Any]:
    if not in_pyproject:
        return data
    for path in ("tool", "tool.uv"):
        node: Any = data
        for key in path.split("."):
            node = node.get(key, {}) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            msg = f"{source}: {path} is not a table: not changed"
            raise ConfigError(msg)
    uv: dict[str, Any] = data.get("tool", {}).get("uv", {})
    return uv


def _canon(value: object) -> object:
    """A comparable form of parsed TOML (key order ignored, NaN equal to itself)."""
    if isinstance(value, dict):
        return ("table", tuple(sorted((k, _canon(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("array", tuple(_canon(v) for v in value))
    return (type(value).__name__, repr(value))


def _expected(
    data: dict[str, Any], in_pyproject: bool, entry: dict[str, Any], routed: list[str]
) -> dict[str, Any]:
    result = copy.deepcopy(data)
    uv = result.setdefault("tool", {}).setdefault("uv", {}) if in_pyproject else result
    uv["index"] = [entry, *uv.get("index", [])]
    if routed:
        sources = uv.setdefault("sources", {})
        for name in routed:
            sources[name] = {"index": INDEX_NAME}
    return result


def _entry_inline(entry: dict[str, Any]) -> str:
    flags = "".join(f", {key} = true" for key in ("explicit", "default") if entry.get(key))
    return f'{{ name = "{INDEX_NAME}", url = {_toml_string(entry["url"])}{flags} }},'


def _entry_table(entry: dict[str, Any], in_pyproject: bool) -> list[str]:
    header = "[[tool.uv.index]]" if in_pyproject else "[[index]]"
    lines = [header, f'name = "{INDEX_NAME}"', f"url = {_toml_string(entry['url'])}"]
    return lines + [f"{key} = true" for key in ("explicit", "default") if entry.get(key)]


def _index_options(
    text: str, entry: dict[str, Any], in_pyproject: bool, has_index: bool
) -> list[Insertion]:
    if not has_index:
        return [Insertion(len(text), tuple(_entry_table(entry, in_pyproject)))]
    options = [
        Insertion(m.start(), tuple(_entry_table(entry, in_pyproject)))
        for m in _AOT_HEADER[in_pyproject].finditer(text)
    ][:_MAX_CANDIDATES]
    for m in list(_ARRAY_START.finditer(text))[:_MAX_CANDIDATES]:
        eol = text.find("\n", m.end())
        rest = text[m.end() : len(text) if eol < 0 else eol].strip()
        # `index = [` alone on its line (or with a comment): add whole lines below it.
        offset = eol + 1 if eol >= 0 and (not rest or rest.startswith("#")) else m.end()
        options.append(Insertion(offset, (_entry_inline(entry),)))
    return options


def _source_options(text: str, routed: list[str], has_sources: bool) -> list[Insertion | None]:
    if not routed:
        return [None]
    entries = [f'{name} = {{ index = "{INDEX_NAME}" }}' for name in routed]
    if not has_sources:
        return [Insertion(len(text), ("[tool.uv.sources]", *entries))]
    headers = list(_SOURCES_HEADER.finditer(text))[:_MAX_CANDIDATES]
    options: list[Insertion | None] = [Insertion(m.end(), tuple(entries)) for m in headers]
    tables = [f'[tool.uv.sources.{name}]\nindex = "{INDEX_NAME}"' for name in routed]
    options.append(Insertion(len(text), tuple("\n".join(tables).split("\n"))))
    return options


def _candidates(
    text: str, entry: dict[str, Any], routed: list[str], uv: dict[str, Any], in_pyproject: bool
) -> Iterator[list[Insertion]]:
    for index in _index_options(text, entry, in_pyproject, "index" in uv):
        for source in _source_options(text, routed, "sources" in uv):
            if source is None:
                yield [index]
            elif source.offset == index.offset:  # one block: the index, then the sources
                yield [Insertion(index.offset, (*index.lines, "", *source.lines))]
            else:
                yield [index, source]


def configure_uv(
    text: str,
    index_url: str,
    *,
    supported: Iterable[str] = (),
    routing: bool = False,
    in_pyproject: bool = True,
    new_file: bool = False,
) -> UvChange:
    """*text* (pyproject.toml or uv.toml) with the mirror configured; idempotent.
    *new_file*: the file does not exist yet (``--remove`` then deletes it again)."""
    source = "pyproject.toml" if in_pyproject else "uv.toml"
    bom = _BOM if text.startswith(_BOM) else ""
    cleaned, _, created = _remove(text[len(bom) :], in_pyproject, source)
    data = parse_toml_text(cleaned, source)
    uv = _uv_data(data, in_pyproject, source)
    indexes = uv.get("index", [])
    if not isinstance(indexes, list):
        msg = f"{source}: index is not an array of tables: not changed"
        raise ConfigError(msg)
    if any(isinstance(i, dict) and i.get("name") == INDEX_NAME for i in indexes):
        msg = (
            f"{source} already has an index named '{INDEX_NAME}' that uv-config did not "
            "write (or an older version wrote without markers): rename or delete it, then "
            "run again"
        )
        raise ConfigError(msg)
    notes: list[str] = []
    if routing and any(isinstance(i, dict) and i.get("default") is True for i in indexes):
        notes.append("another index is marked default = true: uv uses the first one")
    entry: dict[str, Any] = {"name": INDEX_NAME, "url": index_url}
    if routing:
        entry["default"] = True
    elif in_pyproject:
        entry["explicit"] = True
    sources = uv.get("sources", {}) if in_pyproject else {}
    if not isinstance(sources, dict):
        msg = f"{source}: tool.uv.sources is not a table: not changed"
        raise ConfigError(msg)
    routed: list[str] = []
    for name in supported if entry.get("explicit") else ():
        if name in sources:
            notes.append(f"{name} already has a source in [tool.uv.sources]: left as is")
        elif name not in routed:
            routed.append(name)
    flags = new_file or created
    placed = _place(cleaned, data, uv, entry, routed, in_pyproject=in_pyproject, new_file=flags)
    if placed is None and routed:
        # An inline `sources = {...}` (or `uv = {...}`) cannot take a block: the index alone.
        placed = _place(cleaned, data, uv, entry, [], in_pyproject=in_pyproject, new_file=flags)
        pins = ", ".join(f'{name} = {{ index = "{INDEX_NAME}" }}' for name in routed)
        notes.append(f"[tool.uv.sources] cannot be extended here (inline): add {pins} yourself")
        routed = []
    if placed is None:
        msg = (
            f"{source}: cannot add the '{INDEX_NAME}' index without rewriting your own lines "
            "(is tool.uv or its index array an inline table?): not changed"
        )
        raise ConfigError(msg)
    new_text = bom + placed
    return UvChange(new_text, new_text != text, tuple(routed), tuple(notes))


def _place(
    text: str,
    data: dict[str, Any],
    uv: dict[str, Any],
    entry: dict[str, Any],
    routed: list[str],
    *,
    in_pyproject: bool,
    new_file: bool,
) -> str | None:
    """*text* with the first candidate edit whose parsed data is exactly the expected
    data (the old data plus our entries), or None when no candidate is."""
    source = "pyproject.toml" if in_pyproject else "uv.toml"
    want = _canon(_expected(data, in_pyproject, entry, routed))
    for insertions in _candidates(text, entry, routed, uv, in_pyproject):
        new_text = apply_insertions(text, insertions, COMMAND, new_file=new_file)
        try:
            got = parse_toml_text(new_text, source)
        except ConfigError:
            continue
        if _canon(got) == want:
            return new_text
    return None


def _strip_ours(data: dict[str, Any], in_pyproject: bool) -> dict[str, Any]:
    """*data* without entries that name the mirror's index, and tables left empty."""
    result = copy.deepcopy(data)
    tool = result.get("tool") if in_pyproject else None
    uv = tool.get("uv") if isinstance(tool, dict) else (None if in_pyproject else result)
    if not isinstance(uv, dict):
        return result
    if isinstance(uv.get("index"), list):
        uv["index"] = [
            i for i in uv["index"] if not (isinstance(i, dict) and i.get("name") == INDEX_NAME)
        ]
        if not uv["index"]:
            del uv["index"]
    if isinstance(uv.get("sources"), dict):
        uv["sources"] = {k: v for k, v in uv["sources"].items() if v != {"index": INDEX_NAME}}
        if not uv["sources"]:
            del uv["sources"]
    if in_pyproject and isinstance(tool, dict) and not uv:
        del tool["uv"]
        if not tool:
            del result["tool"]
    return result


def _remove(body: str, in_pyproject: bool, source: str) -> tuple[str, bool, bool]:
    """(*body* without our blocks, whether there were any, whether we created the file);
    ConfigError when taking them out would move any of the user's settings."""
    new_body, found, created = remove_blocks(body, COMMAND, _is_our_line, source)
    if not found:
        return body, False, False
    after = parse_toml_text(new_body, source)  # never leave the user an invalid file
    try:
        before = parse_toml_text(body, source)
    except ConfigError:
        before = None
    if before is not None and _canon(_strip_ours(before, in_pyproject)) != _canon(
        _strip_ours(after, in_pyproject)
    ):
        msg = (
            f"{source}: taking the wheelmirror blocks out would move some of your settings "
            "into another table (lines added under ours?): not changed; edit it by hand"
        )
        raise ConfigError(msg)
    return new_body, True, created


def remove_uv(text: str, *, in_pyproject: bool = True) -> UvChange:
    """*text* without the blocks ``configure_uv`` added: byte for byte what it was."""
    source = "pyproject.toml" if in_pyproject else "uv.toml"
    bom = _BOM if text.startswith(_BOM) else ""
    body, found, created = _remove(text[len(bom) :], in_pyproject, source)
    if not found:
        notes: tuple[str, ...] = ()
        data = parse_toml_text(text, source)  # an invalid file is reported, even here
        tool = data.get("tool") if in_pyproject else None
        uv = (tool.get("uv") if isinstance(tool, dict) else None) if in_pyproject else data
        indexes = uv.get("index") if isinstance(uv, dict) else None
        if isinstance(indexes, list) and any(
            isinstance(i, dict) and i.get("name") == INDEX_NAME for i in indexes
        ):
            notes = (
                f"an index named '{INDEX_NAME}' without uv-config's markers is left as is "
                "(yours, or written by an older version: delete it by hand if so)",
            )
        return UvChange(text=text, changed=False, notes=notes)
    new_text = bom + body
    return UvChange(text=new_text, changed=True, delete_file=created and not new_text)
