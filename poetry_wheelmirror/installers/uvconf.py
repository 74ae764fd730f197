"""uv configuration editing (pure, tomlkit: comments and formatting survive).

Two shapes, per DESIGN section 3 (uv takes the first index that has a package):

* explicit (default): ``[[tool.uv.index]]`` named ``wheelmirror`` with ``explicit =
  true`` plus ``[tool.uv.sources] <pkg> = { index = "wheelmirror" }`` for each of the
  project's dependencies the mirror carries. Only those packages ever come from the
  mirror, and uv.lock records it, so the lock stays portable.
* routing: the routing index as uv's ``default = true`` index (unsupported packages are
  redirected to the upstream by the index itself).

uv.toml cannot hold ``sources`` (uv refuses them there), so in a uv.toml the explicit
shape becomes an ordinary first index: uv asks it first, and the static index answers
404 for packages it does not carry, so uv falls through to its default index.

Everything added is named ``wheelmirror``, which is what ``remove_uv`` takes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from typing import Final

import tomlkit
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tomlkit.exceptions import TOMLKitError

from poetry_wheelmirror.errors import ConfigError

__all__ = ["INDEX_NAME", "UvChange", "configure_uv", "project_dependencies", "remove_uv"]

INDEX_NAME: Final = "wheelmirror"


@dataclass(frozen=True)
class UvChange:
    text: str
    changed: bool
    routed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _parse(text: str, source: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as e:
        msg = f"{source} is not valid TOML: {e}"
        raise ConfigError(msg) from None


def project_dependencies(text: str) -> list[str]:
    """Normalised names of the project's direct dependencies (all groups and extras)."""
    doc = _parse(text, "pyproject.toml").unwrap()
    specs: list[str] = []
    project = doc.get("project", {})
    specs += project.get("dependencies", [])
    for group in project.get("optional-dependencies", {}).values():
        specs += group
    for group in doc.get("dependency-groups", {}).values():
        specs += [item for item in group if isinstance(item, str)]
    specs += doc.get("tool", {}).get("uv", {}).get("dev-dependencies", [])
    names: list[str] = []
    for spec in specs:
        try:
            name = canonicalize_name(Requirement(spec).name)
        except InvalidRequirement:
            continue
        if name not in names:
            names.append(name)
    return names


def _uv_table(doc: tomlkit.TOMLDocument, in_pyproject: bool) -> Any:
    if not in_pyproject:
        return doc
    tool = doc.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        doc["tool"] = tool
    uv = tool.get("uv")
    if uv is None:
        uv = tomlkit.table()
        tool["uv"] = uv
    return uv


def configure_uv(
    text: str,
    index_url: str,
    *,
    supported: Iterable[str] = (),
    routing: bool = False,
    in_pyproject: bool = True,
) -> UvChange:
    """*text* (pyproject.toml or uv.toml) with the mirror configured; idempotent."""
    cleaned = remove_uv(text, in_pyproject=in_pyproject).text
    doc = _parse(cleaned, "pyproject.toml" if in_pyproject else "uv.toml")
    notes: list[str] = []
    routed: list[str] = []
    uv = _uv_table(doc, in_pyproject)
    entry = tomlkit.table()
    entry["name"] = INDEX_NAME
    entry["url"] = index_url
    explicit = not routing and in_pyproject
    if routing:
        entry["default"] = True
    elif explicit:
        entry["explicit"] = True
    indexes = uv.get("index")
    if indexes is None:
        indexes = tomlkit.aot()
        indexes.append(entry)
        uv["index"] = indexes
    else:
        if routing and any(bool(i.get("default")) for i in indexes):
            notes.append("another index is marked default = true: uv uses the first one")
        # uv tries indexes in order: the mirror goes first.
        indexes.insert(0, entry)
    if explicit:
        wanted = list(supported)
        if wanted:
            sources = uv.get("sources")
            if sources is None:
                sources = tomlkit.table()
                uv["sources"] = sources
            for name in wanted:
                if name in sources:
                    notes.append(f"{name} already has a source in [tool.uv.sources]: left as is")
                    continue
                source = tomlkit.inline_table()
                source["index"] = INDEX_NAME
                sources[name] = source
                routed.append(name)
    new_text = tomlkit.dumps(doc)
    return UvChange(
        text=new_text, changed=new_text != text, routed=tuple(routed), notes=tuple(notes)
    )


def _drop_if_empty(parent: Any, key: str) -> None:
    table = parent.get(key)
    if table is not None and len(table) == 0:
        del parent[key]


def remove_uv(text: str, *, in_pyproject: bool = True) -> UvChange:
    """*text* without the ``wheelmirror`` index and the sources that name it."""
    doc = _parse(text, "pyproject.toml" if in_pyproject else "uv.toml")
    if in_pyproject:
        uv = doc.get("tool", {}).get("uv")
        if uv is None:
            return UvChange(text=text, changed=False)
    else:
        uv = doc
    indexes = uv.get("index")
    changed = False
    if indexes is not None:
        keep = [i for i, item in enumerate(indexes) if item.get("name") != INDEX_NAME]
        if len(keep) != len(indexes):
            changed = True
            for i in reversed(range(len(indexes))):
                if i not in keep:
                    del indexes[i]
            if len(indexes) == 0:
                del uv["index"]
    sources = uv.get("sources")
    if sources is not None:
        ours = [
            k for k, v in sources.items() if isinstance(v, dict) and v.get("index") == INDEX_NAME
        ]
        for name in ours:
            del sources[name]
            changed = True
        if changed:
            _drop_if_empty(uv, "sources")
    if not changed:
        return UvChange(text=text, changed=False)
    if in_pyproject:
        _drop_if_empty(doc["tool"], "uv")
        _drop_if_empty(doc, "tool")
    new_text = tomlkit.dumps(doc)
    # tomlkit keeps the blank line it put before the tables we added: drop it at EOF.
    if new_text.endswith("\n\n"):
        new_text = new_text.rstrip("\n") + "\n"
    return UvChange(text=new_text if new_text.strip() else "", changed=True)
