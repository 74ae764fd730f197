"""The one guarded JSON loader for every document and page read from elsewhere (pure).

Manifests, package documents, upstream snapshots and PEP 691 pages all come from
servers or files the user does not control, so ``json.loads`` alone is not enough:

* nesting deeper than ``MAX_DEPTH`` is refused (``json.loads`` itself raises
  ``RecursionError`` near 1,000 levels, which used to surface as a traceback);
* duplicate keys in one object are refused (``json.loads`` silently keeps the last);
* integers beyond 64 bits, ``NaN`` and ``Infinity`` are refused (a ``size`` of 10^400
  is not a size);
* strings holding a lone UTF-16 surrogate (``"\\ud800"``) are refused: they cannot be
  written to a page or a terminal as UTF-8.

Every refusal is a ``ValueError`` subclass, ``JsonDocumentError``, with a one-line reason.
"""

from __future__ import annotations

import json
import re
from typing import Any
from typing import Final

__all__ = ["MAX_DEPTH", "MAX_INT", "JsonDocumentError", "load_json"]

#: Deepest nesting of objects and arrays accepted. The deepest real document (a package
#: document's provenance block) is 5 levels deep.
MAX_DEPTH: Final = 64
#: Largest integer accepted (signed 64-bit): sizes, counts, versions fit far below it.
MAX_INT: Final = 2**63 - 1

# A JSON escape in the surrogate range: only these can produce a lone surrogate (the
# UTF-8 decoder itself refuses encoded surrogates).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonDocumentError(ValueError):
    """The bytes are not an acceptable JSON document (the message says why)."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        msg = f"duplicate key {duplicate!r}"
        raise JsonDocumentError(msg)
    return result


def _int(text: str) -> int:
    # Checked on the digits, before int(): 10**400 must not even be built.
    if len(text.lstrip("-")) > 19 or abs(int(text)) > MAX_INT:
        msg = f"integer out of range: {text[:24]}{'...' if len(text) > 24 else ''}"
        raise JsonDocumentError(msg)
    return int(text)


def _constant(name: str) -> Any:
    msg = f"{name} is not JSON"
    raise JsonDocumentError(msg)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        msg = f"number out of range: {text[:24]}"
        raise JsonDocumentError(msg)
    return value


def _too_deep(value: Any) -> bool:
    """Whether *value* nests containers deeper than MAX_DEPTH (walked without recursion)."""
    level: list[Any] = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return False
    return True


def load_json(data: bytes | str) -> Any:
    """Parse *data* as a JSON document under the rules above; JsonDocumentError if not."""
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        msg = f"not UTF-8 ({e.reason} at byte {e.start})"
        raise JsonDocumentError(msg) from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM is tolerated, as json.load(file) would not
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except JsonDocumentError:
        raise
    except RecursionError:  # json's C decoder checks the interpreter's recursion limit
        msg = f"nested deeper than {MAX_DEPTH} levels"
        raise JsonDocumentError(msg) from None
    except ValueError as e:
        msg = f"not valid JSON ({e})"
        raise JsonDocumentError(msg) from None
    if isinstance(value, (dict, list)) and _too_deep(value):
        msg = f"nested deeper than {MAX_DEPTH} levels"
        raise JsonDocumentError(msg)
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise JsonDocumentError("a string holds a lone UTF-16 surrogate") from None
    return value
