"""PEP 691 content negotiation (pure): pick the page format from an ``Accept`` header."""

from __future__ import annotations

from typing import Final
from typing import Literal

__all__ = ["CONTENT_TYPES", "Format", "negotiate", "parse_etags"]

Format = Literal["json", "html-v1", "html"]

CONTENT_TYPES: Final[dict[Format, str]] = {
    "json": "application/vnd.pypi.simple.v1+json",
    "html-v1": "application/vnd.pypi.simple.v1+html",
    "html": "text/html; charset=utf-8",
}

# media range -> (format, specificity). Wildcards rank below exact types so that
# ``text/html, */*`` picks HTML, and ``*/*`` alone gets the PEP 503 default.
_RANGES: Final[dict[str, tuple[tuple[Format, int], ...]]] = {
    "application/vnd.pypi.simple.v1+json": (("json", 3),),
    "application/vnd.pypi.simple.latest+json": (("json", 3),),
    "application/vnd.pypi.simple.v1+html": (("html-v1", 3),),
    "application/vnd.pypi.simple.latest+html": (("html-v1", 3),),
    "text/html": (("html", 3),),
    "text/*": (("html", 2),),
    "application/*": (("json", 2), ("html-v1", 2)),
    "*/*": (("html", 1), ("html-v1", 1), ("json", 1)),
}
# Tie-break when two formats share the best q and specificity: the frozen PEP 503 one.
_PREFERENCE: Final[dict[Format, int]] = {"html": 3, "html-v1": 2, "json": 1}


def negotiate(accept: str | None) -> Format | None:
    """The format to answer with, or None when nothing acceptable can be served (406).

    >>> negotiate(None), negotiate("*/*")
    ('html', 'html')
    >>> negotiate("application/vnd.pypi.simple.v1+json, text/html;q=0.01")
    'json'
    >>> negotiate("application/vnd.pypi.simple.v2+json") is None
    True
    """
    if accept is None or not accept.strip():
        return "html"
    best: dict[Format, tuple[float, int]] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        if media not in _RANGES:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        for fmt, specificity in _RANGES[media]:
            # The most specific range matching a format decides its q (RFC 9110 12.5.1).
            current = best.get(fmt)
            if current is None or specificity > current[1]:
                best[fmt] = (q, specificity)
    candidates = [(q, spec, _PREFERENCE[fmt], fmt) for fmt, (q, spec) in best.items() if q > 0]
    if not candidates:
        return None
    return max(candidates)[3]


def parse_etags(header: str) -> set[str]:
    """Entity tags listed in an ``If-None-Match`` header, weak prefixes dropped.

    >>> sorted(parse_etags('W/"a", "b"'))
    ['"a"', '"b"']
    """
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag:
            tags.add(tag)
    return tags
