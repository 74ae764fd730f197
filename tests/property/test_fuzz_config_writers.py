"""Property tests for the configuration writers (uv-config, pip-config, hashes), issue 12.

Generated pyproject.toml / uv.toml / pip.conf shapes: inline arrays and arrays of
tables, dotted keys, inline tables, CRLF, a BOM, comments everywhere, no final newline,
user entries with our names. For each shape, judged by independent oracles (tomllib,
configparser read the way pip reads, and explicit rules written here, never the
product's own checks):

* the result parses, and holds exactly the old data plus the mirror's entries;
* a second run changes nothing;
* ``--remove`` gives back the original text byte for byte;
* nothing the user wrote is lost: the original text is a subsequence of the result
  (the writers only insert), line endings and the BOM are kept;
* where the writer must refuse (a user's own index named ``wheelmirror``, a pip.conf
  pip cannot read), it raises a one-line ConfigError.

``wheelmirror hashes`` is judged by pip's own requirements-file line rule, written out
here: the same logical lines, each with its old hashes plus exactly the mirror's.
"""

from __future__ import annotations

import configparser
import copy
import io
import re
from typing import Any

import pytest
import tomllib
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st

from devtools.fuzz import FUZZ
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.installers.hashes import add_hashes
from poetry_wheelmirror.installers.pipconf import ADDED_MARK
from poetry_wheelmirror.installers.pipconf import add_mirror
from poetry_wheelmirror.installers.pipconf import remove_mirror
from poetry_wheelmirror.installers.uvconf import configure_uv
from poetry_wheelmirror.installers.uvconf import remove_uv

URL = "http://127.0.0.1:8000/wm-simple/"
BOM = "\ufeff"
SUPPORTED = ["six", "crcmod"]

newlines = st.sampled_from(["\n", "\r\n"])
comments = st.sampled_from(["", "", "  # note", " #wheelmirror", "\t# index = [] [tool.uv]"])
index_names = st.sampled_from(["corp", "pypi-cache", "Wheelmirror", "wheelmirror"])
index_urls = st.sampled_from(["https://corp.example/simple/", URL, "file:///srv/idx"])
source_entries = st.sampled_from(
    [
        'six = { git = "https://git.example/six" }',
        'crcmod = { path = "vendor/crcmod" }',
        'other = { index = "wheelmirror" }',
    ]
)


def is_subsequence(small: str, big: str) -> bool:
    rest = iter(big)
    return all(ch in rest for ch in small)


def only_crlf(text: str) -> bool:
    return "\n" not in text.replace("\r\n", "")


@st.composite
def inline_array(draw: st.DrawFn, nl: str) -> tuple[str, list[dict[str, str]]]:
    pairs = draw(st.lists(st.tuples(index_names, index_urls), max_size=2))
    items = [f'{{ name = "{n}", url = "{u}" }}' for n, u in pairs]
    data = [{"name": n, "url": u} for n, u in pairs]
    style = draw(st.sampled_from(["tight", "spaced", "multi", "multi-comment"]))
    if style == "tight":
        text = "[" + ", ".join(items) + "]"
    elif style == "spaced":
        text = "[ " + ", ".join(items) + " ]"
    else:
        head = "[  # the indexes" if style == "multi-comment" else "["
        body = "".join(f"  {item},{draw(comments)}{nl}" for item in items)
        text = head + nl + body + "]"
    return text, data


@st.composite
def uv_documents(draw: st.DrawFn, in_pyproject: bool) -> tuple[str, str]:
    """(text, sources shape) for a pyproject.toml (or uv.toml) with a uv part."""
    nl = draw(newlines)
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# configuration" + draw(comments))
    array, _ = draw(inline_array(nl))
    aot = draw(st.lists(st.tuples(index_names, index_urls), max_size=2))
    if not in_pyproject:
        shape = draw(st.sampled_from(["none", "inline", "aot"]))
        if draw(st.booleans()):
            lines.append('cache-dir = "/tmp/uv"' + draw(comments))
        if shape == "inline":
            lines.append(f"index = {array}{draw(comments)}")
        for name, url in aot if shape == "aot" else []:
            lines += ["", "[[index]]" + draw(comments), f'name = "{name}"', f'url = "{url}"']
        return _finish(draw, lines, nl), "none"
    shape = draw(
        st.sampled_from(["none", "table", "table-inline", "dotted-tool", "dotted-top", "aot"])
    )
    sources = draw(st.sampled_from(["none", "header", "inline", "dotted"]))
    entries = draw(st.lists(source_entries, unique=True, max_size=2))
    if shape == "dotted-top":
        lines.append(f"tool.uv.index = {array}{draw(comments)}")
    lines += ["[project]", 'name = "demo"', 'dependencies = ["six>=1", "crcmod==1.7"]', ""]
    if shape in ("table", "table-inline"):
        lines.append("[tool.uv]" + draw(comments))
        if draw(st.booleans()):
            lines.append("package = false" + draw(comments))
        if shape == "table-inline":
            lines.append(f"index = {array}{draw(comments)}")
        if sources == "inline":
            lines.append("sources = { " + ", ".join(entries) + " }")
        elif sources == "dotted":
            lines += [f"sources.{entry}" for entry in entries]
    elif shape == "dotted-tool":
        lines += ["[tool]", f"uv.index = {array}{draw(comments)}"]
        if sources == "dotted":
            lines += [f"uv.sources.{entry}" for entry in entries]
    elif shape == "aot":
        if draw(st.booleans()):
            lines += ["[tool.uv]", "package = false"]
        for name, url in aot:
            lines += [
                "",
                "[[tool.uv.index]]" + draw(comments),
                f'name = "{name}"',
                f'url = "{url}"',
            ]
    written = shape in ("table", "table-inline") or (shape == "dotted-tool" and sources == "dotted")
    if sources == "header" or (sources != "none" and not written):
        sources = "header"
        lines += ["", "[tool.uv.sources]" + draw(comments), *entries]
    if draw(st.booleans()):
        lines += ["", "[tool.ruff]", "line-length = 88  # wheelmirror"]
    return _finish(draw, lines, nl), sources


def _finish(draw: st.DrawFn, lines: list[str], nl: str) -> str:
    bom = draw(st.sampled_from(["", "", BOM]))
    final = draw(st.booleans())
    text = bom + nl.join(lines) + (nl if final and lines else "")
    return text


def _uv_part(data: dict[str, Any], in_pyproject: bool) -> dict[str, Any]:
    if not in_pyproject:
        return data
    return data.get("tool", {}).get("uv", {})


def _check_uv(text: str, sources_shape: str, routing: bool, in_pyproject: bool) -> None:
    before = tomllib.loads(text.removeprefix(BOM))
    old_uv = _uv_part(before, in_pyproject)
    users_own = any(i.get("name") == "wheelmirror" for i in old_uv.get("index", []))
    if users_own:  # the only refusal for these shapes: the user's own index, our name
        with pytest.raises(ConfigError) as refused:
            configure_uv(text, URL, supported=SUPPORTED, routing=routing, in_pyproject=in_pyproject)
        assert "\n" not in str(refused.value)
        assert not remove_uv(text, in_pyproject=in_pyproject).changed
        return
    change = configure_uv(
        text, URL, supported=SUPPORTED, routing=routing, in_pyproject=in_pyproject
    )
    new = change.text
    # The result parses, and is the old data plus exactly our entries.
    after = tomllib.loads(new.removeprefix(BOM))
    expected = copy.deepcopy(before)
    uv = expected.setdefault("tool", {}).setdefault("uv", {}) if in_pyproject else expected
    entry: dict[str, Any] = {"name": "wheelmirror", "url": URL}
    if routing:
        entry["default"] = True
    elif in_pyproject:
        entry["explicit"] = True
    uv["index"] = [entry, *uv.get("index", [])]
    if in_pyproject and not routing:
        wanted = [n for n in SUPPORTED if n not in old_uv.get("sources", {})]
        if wanted and sources_shape != "inline":  # an inline table cannot be added to
            uv.setdefault("sources", {}).update({n: {"index": "wheelmirror"} for n in wanted})
            assert list(change.routed) == wanted
        elif wanted:
            assert change.routed == ()
            assert any("[tool.uv.sources] cannot be extended" in n for n in change.notes)
    assert after == expected
    # Nothing the user wrote is lost; BOM and line endings kept.
    assert is_subsequence(text, new)
    assert new.startswith(BOM) == text.startswith(BOM)
    if "\r\n" in text and only_crlf(text):
        assert only_crlf(new)
    # Idempotent, and --remove gives back the original bytes.
    again = configure_uv(new, URL, supported=SUPPORTED, routing=routing, in_pyproject=in_pyproject)
    assert not again.changed
    assert again.text == new
    removed = remove_uv(new, in_pyproject=in_pyproject)
    assert removed.changed
    assert removed.text == text
    assert not remove_uv(text, in_pyproject=in_pyproject).changed


@FUZZ
@given(doc=uv_documents(in_pyproject=True), routing=st.booleans())
def test_uv_config_pyproject_shapes(doc: tuple[str, str], routing: bool) -> None:
    text, sources_shape = doc
    _check_uv(text, sources_shape, routing, in_pyproject=True)


@FUZZ
@given(doc=uv_documents(in_pyproject=False), routing=st.booleans())
def test_uv_config_uv_toml_shapes(doc: tuple[str, str], routing: bool) -> None:
    _check_uv(doc[0], doc[1], routing, in_pyproject=False)


# -- pip.conf --------------------------------------------------------------------------


class PipLikeParser(configparser.RawConfigParser):
    """How pip reads a config file: RawConfigParser, option names lowercased with ``_``
    as ``-`` (pip/_internal/configuration.py), text mode (universal newlines)."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr.lower().replace("_", "-").removeprefix("--")


def pip_reads(text: str) -> dict[str, dict[str, str]]:
    parser = PipLikeParser()
    parser.read_file(io.StringIO(text, newline=None))
    return {name: dict(parser.items(name)) for name in parser.sections()}


pip_sections = st.sampled_from(["global", " global ", "install", "GLOBAL", "freeze"])
pip_keys = st.sampled_from(
    ["timeout", "index-url", "extra-index-url", "Extra_Index_URL", "index_url", "trusted-host"]
)
pip_values = st.sampled_from(["60", "https://corp.example/simple/", URL, "", "a b"])


@st.composite
def pip_confs(draw: st.DrawFn) -> str:
    nl = draw(newlines)
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["# pip settings" + draw(st.sampled_from(["", " [global]"])), "; by hand"]
    for section in draw(st.lists(pip_sections, max_size=3)):
        lines.append(f"[{section}]" + draw(st.sampled_from(["", "  ", " # not a comment"])))
        for key in draw(st.lists(pip_keys, max_size=3)):
            sep = draw(st.sampled_from([" = ", "=", ": "]))
            value = draw(pip_values)
            lines.append(f"{key}{sep}{value}")
            for extra in draw(st.lists(pip_values.filter(bool), max_size=2)):
                lines += draw(st.sampled_from([[], ["    # theirs"], [""]]))
                lines.append("    " + extra)
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# end", "; end"])))
    return _finish(draw, lines, nl)


def _expected_pip(
    old: dict[str, dict[str, str]], mode: str
) -> dict[str, dict[str, list[str]] | dict[str, str]]:
    key = "index-url" if mode == "routing" else "extra-index-url"
    result: dict[str, Any] = copy.deepcopy(old)
    section = result.setdefault("global", {})
    previous = section.get(key)
    if mode == "extra" and previous is not None:
        section[key] = [*previous.split(), URL]
    else:
        section[key] = [URL]
    return result


def _split_ours(settings: dict[str, dict[str, str]], mode: str) -> dict[str, Any]:
    key = "index-url" if mode == "routing" else "extra-index-url"
    result: dict[str, Any] = copy.deepcopy(settings)
    if key in result.get("global", {}):
        result["global"][key] = result["global"][key].split()
    return result


@FUZZ
@given(text=pip_confs(), mode=st.sampled_from(["extra", "routing"]))
def test_pip_config_shapes(text: str, mode: str) -> None:
    try:
        old = pip_reads(text)
    except configparser.Error:
        # pip could not read it either: refused, one line, nothing to write.
        with pytest.raises(ConfigError) as refused:
            add_mirror(text, URL, mode)  # type: ignore[arg-type]
        assert "\n" not in str(refused.value)
        return
    change = add_mirror(text, URL, mode)  # type: ignore[arg-type]
    new = change.text
    assert _split_ours(pip_reads(new), mode) == _expected_pip(old, mode)
    assert is_subsequence(text, new)
    if "\r\n" in text and only_crlf(text):
        assert only_crlf(new)
    again = add_mirror(new, URL, mode)  # type: ignore[arg-type]
    assert not again.changed
    assert again.text == new
    removed = remove_mirror(new)
    assert removed.text == text
    assert not remove_mirror(text).changed


def _users_own_file(text: str, new_lines: list[str], at: int, line: str, nl: str) -> str:
    """*text* with the user's *line* where they put it (at *at* in *new_lines*, the
    file pip-config wrote): the lines before it that are not pip-config's (each marker
    and the one line after it) are the user's own lines before it."""
    ours = {i for i, x in enumerate(new_lines) if x.strip().startswith(ADDED_MARK)}
    ours |= {i + 1 for i in ours}
    own = text.splitlines(keepends=True)
    assert len(own) == len(new_lines) - len(ours)
    k = sum(1 for i in range(at) if i not in ours)
    if k == len(own) and own and not own[-1].endswith("\n"):
        own[-1] += nl
    return "".join([*own[:k], line + nl, *own[k:]])


def _changes_own_values(text: str, users_file: str) -> bool:
    """Whether configparser (read as pip reads) gives any of the user's old settings
    another value once their line is in their own file: e.g. a line put between an
    option and its continuation takes the continuation as its own value."""
    try:
        now = pip_reads(users_file)
    except configparser.Error:
        return True
    return any(
        now.get(section, {}).get(key) != value
        for section, options in pip_reads(text).items()
        for key, value in options.items()
    )


@FUZZ
@given(
    text=pip_confs(),
    mode=st.sampled_from(["extra", "routing"]),
    where=st.integers(min_value=0, max_value=6),
    line=st.sampled_from(["retries = 9", "# mine", "; mine"]),
)
# The user's line between their own (disabled) index-url and its continuation: restored,
# the continuation would become part of retries; refusing is the safe outcome.
@example(
    text="[global]\ntimeout = 60\nindex-url = 60\n    60\nextra-index-url = 60",
    mode="routing",
    where=3,
    line="retries = 9",
)
def test_pip_config_user_lines_added_later_survive_remove(
    text: str, mode: str, where: int, line: str
) -> None:
    """``--remove`` keeps a line the user added among ours. Rule: when that line, put
    at the same place in the user's own file, changes how configparser reads one of
    the user's settings (it splits a value from its continuation lines), no removal can
    give back both the user's line and their setting, so a one-line refusal is also
    accepted; otherwise the removal must succeed."""
    try:
        pip_reads(text)
    except configparser.Error:
        return
    new = add_mirror(text, URL, mode).text  # type: ignore[arg-type]
    lines = new.splitlines(keepends=True)
    first = next(i for i, x in enumerate(lines) if x.strip().startswith(ADDED_MARK))
    at = min(first + 1 + where, len(lines))
    nl = "\r\n" if "\r\n" in new else "\n"
    if at == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += nl
    edited = "".join([*lines[:at], line + nl, *lines[at:]])
    try:
        user_view = pip_reads(edited)
    except configparser.Error:
        return  # the user's own edit broke the file (e.g. a duplicate option)
    may_refuse = _changes_own_values(text, _users_own_file(text, lines, at, line, nl))
    refusal = ""
    try:
        removed = remove_mirror(edited).text
    except ConfigError as e:
        refusal, removed = str(e), ""
    if refusal:
        assert may_refuse, f"refused though the user's line splits none of theirs: {refusal}"
        assert "\n" not in refusal
        return
    assert line in removed.splitlines()
    assert removed.count(URL) == text.count(URL)
    after = pip_reads(removed)
    if line == "retries = 9":
        sections = [s for s, options in user_view.items() if options.get("retries") is not None]
        assert all(after[s]["retries"].split()[0] == "9" for s in sections)


# -- wheelmirror hashes (requirements files) --------------------------------------------

MIRROR_HASHES = {"markupsafe": {"2.0.1": ["1" * 64, "2" * 64]}, "crcmod": {"1.7": ["3" * 64]}}
_COMMENT = re.compile(r"(^|\s+)#.*$")  # pip/_internal/req/req_file.py COMMENT_RE


def pip_logical_lines(text: str) -> list[str]:
    """pip's join_lines + ignore_comments (req_file.py), written out: a line ending in a
    backslash continues on the next one unless it is a comment line."""
    result: list[str] = []
    pending: list[str] = []
    for line in text.splitlines():
        if not line.endswith("\\") or _COMMENT.match(line):
            if _COMMENT.match(line):
                line = " " + line
            result.append("".join([*pending, line]))
            pending = []
        else:
            pending.append(line.strip("\\"))
    if pending:
        result.append("".join(pending))
    return [s for s in (_COMMENT.sub("", x).strip() for x in result) if s]


def pins_and_hashes(text: str) -> list[tuple[str, frozenset[str], str]]:
    out = []
    for line in pip_logical_lines(text):
        tokens = line.split()
        hashes = frozenset(t.split(":", 1)[1] for t in tokens if t.startswith("--hash=sha256:"))
        out.append((tokens[0], hashes, " ".join(t for t in tokens if not t.startswith("--hash"))))
    return out


@st.composite
def requirement_files(draw: st.DrawFn) -> str:
    nl = draw(newlines)
    lines: list[str] = []
    used: set[str] = set()  # one line per pin: the report names skipped ones by pin
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        kind = draw(st.sampled_from(["pin", "pin", "comment", "blank", "option"]))
        if kind == "comment":
            lines.append(draw(st.sampled_from(["# exported", "# note \\", "  # indented"])))
        elif kind == "blank":
            lines.append("")
        elif kind == "option":
            lines.append(
                draw(st.sampled_from(["--index-url https://pypi.org/simple", "-r base.txt"]))
            )
        else:
            pin = draw(
                st.sampled_from(
                    [
                        "markupsafe==2.0.1",
                        "MarkupSafe===2.0.1",
                        "crcmod==1.7",
                        "six==1.16.0",
                        "crcmod==1.6",
                    ]
                )
            )
            key = pin.lower().replace("===", "==")
            if key in used:
                continue
            used.add(key)
            marker = draw(st.sampled_from(["", ' ; python_version >= "3.9"']))
            hashes = draw(st.lists(st.sampled_from(["a" * 64, "1" * 64]), unique=True, max_size=2))
            layout = draw(st.sampled_from(["inline", "continued"]))
            if layout == "inline" or not hashes:
                lines.append(" ".join([pin + marker, *(f"--hash=sha256:{h}" for h in hashes)]))
            else:
                lines.append(pin + marker + " \\")
                lines += [f"    --hash=sha256:{h} \\" for h in hashes[:-1]]
                lines.append(f"    --hash=sha256:{hashes[-1]}")
            lines[-1] += draw(st.sampled_from(["", "", "  # pinned"]))
    text = nl.join(lines)
    ending = draw(st.sampled_from(["", nl, " \\", " \\" + nl]))  # a dangling backslash too
    return text + ending if lines else text


@FUZZ
@given(text=requirement_files())
def test_hashes_only_add_the_mirror_hashes(text: str) -> None:
    report = add_hashes(text, MIRROR_HASHES)
    new = report.text
    assert is_subsequence(text, new)  # only inserted
    if "\r\n" in text and only_crlf(text):
        assert only_crlf(new)
    assert add_hashes(new, MIRROR_HASHES).text == new
    before, after = pins_and_hashes(text), pins_and_hashes(new)
    # pip sees the same logical lines, each with its own hashes plus the mirror's.
    assert [(name, rest) for name, _, rest in after] == [(name, rest) for name, _, rest in before]
    assert all("\\" not in rest for _, _, rest in after)
    skipped = set(report.skipped)
    for (spec, old, _), (_, new_hashes, _) in zip(before, after):
        name, _, version = spec.replace("===", "==").partition("==")
        mirror = MIRROR_HASHES.get(name.lower(), {}).get(version, [])
        if mirror and f"{name.lower()}=={version}" not in skipped:
            assert new_hashes == old | set(mirror)
        else:
            assert new_hashes == old
