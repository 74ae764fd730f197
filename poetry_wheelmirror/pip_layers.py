"""pip reads several config files and, for each option, keeps the last file's value.

So an ``extra-index-url`` that ``wheelmirror pip-config`` writes into
``$VIRTUAL_ENV/pip.conf`` would silently replace the one the user's or the machine's
pip.conf sets: their other indexes would disappear. This module finds such conflicts,
for ``pip-config`` to refuse before writing, and for the doctor to report
(the same override rule as ``pip config debug`` shows).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.indexconfig import TOOL_DEFAULT_INDEX
from poetry_wheelmirror.indexconfig import pip_config_files
from poetry_wheelmirror.indexconfig import pip_file_index_values
from poetry_wheelmirror.indexconfig import redact_url

__all__ = ["Setter", "check_pip_target", "pip_setters", "shadowed_settings"]

_KEYS = ("index-url", "extra-index-url")


@dataclass(frozen=True)
class Setter:
    """One pip config file that sets *key* to *value*."""

    kind: str
    path: Path
    key: str
    value: str

    @property
    def where(self) -> str:
        return f"{self.kind} {self.path}"


def pip_setters(files: Sequence[tuple[str, Path]]) -> list[Setter]:
    """Every index option each existing file sets, lowest precedence first."""
    found: list[Setter] = []
    for kind, path in files:
        if not path.is_file():
            continue
        try:
            values = pip_file_index_values(path)
        except ConfigError:
            continue  # reported by the doctor's own read of the file
        found += [Setter(kind, path, k, values[k]) for k in _KEYS if k in values]
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _harmless(key: str, value: str) -> bool:
    """pip's own default index, set explicitly: replacing it loses nothing."""
    return key == "index-url" and value.rstrip("/") == TOOL_DEFAULT_INDEX


def check_pip_target(
    target: Path, key: str, mirror_url: str, environ: Mapping[str, str], *, home: Path
) -> None:
    """ConfigError when writing *key* into *target* would hide another file's value of it
    (a lower-precedence file), or be hidden itself (a higher-precedence one)."""
    venv = environ.get("VIRTUAL_ENV")
    prefix = Path(venv) if venv else Path(sys.prefix)
    files = pip_config_files(environ, home=home, prefix=prefix)
    position = next((i for i, (_, p) in enumerate(files) if _same(p, target)), None)
    if position is None:
        return  # a file pip does not read by itself (--file): the user's choice
    for setter in pip_setters(files):
        if setter.key != key or _same(setter.path, target):
            continue
        index = next(i for i, (_, p) in enumerate(files) if _same(p, setter.path))
        shown = " ".join(redact_url(u) for u in setter.value.split())
        if index > position:
            msg = (
                f"{setter.where} sets {key} = {shown}, which wins over {target}: the mirror"
                f" would not be used; add it there instead (--file {setter.path})"
            )
            raise ConfigError(msg)
        if _harmless(key, setter.value) or setter.value.split() == [mirror_url]:
            continue
        msg = (
            f"{setter.where} sets {key} = {shown}; pip keeps only the last file's {key},"
            f" so writing it to {target} would drop that: add the mirror to that file"
            f" instead (--file {setter.path})"
        )
        raise ConfigError(msg)


def shadowed_settings(files: Sequence[tuple[str, Path]]) -> list[str]:
    """One sentence per index option a later file hides (what ``pip config debug`` shows
    as overridden), for the doctor."""
    by_key: dict[str, list[Setter]] = {}
    for setter in pip_setters(files):
        by_key.setdefault(setter.key, []).append(setter)
    lines = []
    for key, setters in by_key.items():
        winner = setters[-1]
        for lost in setters[:-1]:
            if lost.value.split() == winner.value.split() or _harmless(key, lost.value):
                continue
            shown = " ".join(redact_url(u) for u in lost.value.split())
            lines.append(
                f"pip ignores {key} = {shown} from {lost.where}: {winner.where} sets {key}"
                " too, and pip keeps only the last file's value"
            )
    return lines
