"""Ready responses of the routing index (pure): every variant of a page rendered once.

A page is kept as ready answers per (format, gzip): status, headers (as bytes for ASGI
and as text for granian's RSGI, both built once) and body, so a request for a cached page
costs a table lookup and one hand-over to the server.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from poetry_wheelmirror.serve.negotiate import CONTENT_TYPES
from poetry_wheelmirror.serve.negotiate import Format

__all__ = [
    "FORMATS",
    "Answer",
    "Failure",
    "FileAnswer",
    "Headers",
    "Page",
    "Variant",
    "content_type",
    "render_page",
    "wants_gzip",
]

Headers = list[tuple[bytes, bytes]]
TextHeaders = list[tuple[str, str]]

FORMATS: Final[tuple[Format, ...]] = ("json", "html-v1", "html")
_PAGE_CACHE_CONTROL: Final = b"max-age=60"
_GZIP_MIN: Final = 2048


@dataclass(frozen=True)
class Failure:
    """The last failed attempt at a page: when to try again and what to answer until then."""

    until: float
    count: int
    status: int
    body: bytes
    headers: Headers


class Answer:
    """A whole response. ``text_headers`` is the same list decoded (latin-1, as HTTP
    header bytes are), the form granian's RSGI ``response_bytes`` takes."""

    __slots__ = ("body", "headers", "status", "text_headers")

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.text_headers: TextHeaders = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in headers
        ]


class FileAnswer(Answer):
    """A 200 whose body is streamed from *path* (*size* bytes, as stat saw it)."""

    __slots__ = ("path", "size")

    def __init__(self, headers: Headers, path: Path, size: int) -> None:
        super().__init__(200, headers, b"")
        self.path = path
        self.size = size


@dataclass
class Variant:
    body: bytes
    etag: bytes
    headers: Headers
    not_modified: Headers

    def __post_init__(self) -> None:
        # Built once per page, so a request only picks one of these.
        self.etag_text = self.etag.decode("latin-1")
        self.ok = Answer(200, self.headers, self.body)
        self.ok_head = Answer(200, self.headers, b"")
        self.unchanged = Answer(304, self.not_modified, b"")


@dataclass
class Page:
    #: (format, gzip) -> ready response; identity variants always exist.
    variants: dict[tuple[Format, bool], Variant]
    fetched_at: float
    refreshing: bool = False

    def body(self, fmt: Format) -> bytes:
        return self.variants[fmt, False].body


def _variant(body: bytes, fmt: Format, extra: Headers, *, gzipped: bool = False) -> Variant:
    tag = hashlib.sha256(body).hexdigest()[:32] + ("-gz" if gzipped else "")
    etag = f'"{tag}"'.encode()
    common: Headers = [
        (b"etag", etag),
        (b"vary", b"Accept, Accept-Encoding"),
        (b"cache-control", _PAGE_CACHE_CONTROL),
        *extra,
    ]
    headers: Headers = [
        (b"content-type", CONTENT_TYPES[fmt].encode()),
        (b"content-length", str(len(body)).encode()),
        *([(b"content-encoding", b"gzip")] if gzipped else []),
        *common,
    ]
    return Variant(body=body, etag=etag, headers=headers, not_modified=common)


def _gzip(body: bytes) -> bytes | None:
    """The gzip form of *body* when it is worth it (pip and uv send Accept-Encoding:
    gzip; a large project page shrinks ~4x: markupsafe JSON 369 KB -> 95 KB, measured)."""
    if len(body) < _GZIP_MIN:
        return None
    packed = gzip.compress(body, compresslevel=6, mtime=0)  # mtime=0: stable bytes, ETag
    return packed if len(packed) < len(body) else None


def render_page(html: bytes, json_body: bytes, extra: Headers, now: float) -> Page:
    """Every response variant of a page, rendered once (call it off the event loop)."""
    variants: dict[tuple[Format, bool], Variant] = {}
    html_gz = _gzip(html)
    json_gz = _gzip(json_body)
    for fmt in FORMATS:
        body, packed = (json_body, json_gz) if fmt == "json" else (html, html_gz)
        variants[fmt, False] = _variant(body, fmt, extra)
        if packed is not None:
            variants[fmt, True] = _variant(packed, fmt, extra, gzipped=True)
    return Page(variants=variants, fetched_at=now)


def wants_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        key, _, value = params.partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        return q > 0
    return False


def content_type(path: Path) -> str:
    suffix = path.suffix
    if suffix in (".whl", ".metadata") or path.name.endswith(".whl.metadata"):
        # Wheels are zip archives served as opaque bytes, like PyPI's file host does;
        # PEP 658 metadata is RFC 822 text.
        return "application/octet-stream" if suffix == ".whl" else "text/plain; charset=utf-8"
    if suffix == ".json":
        return "application/json"
    if suffix == ".html":
        return "text/html; charset=utf-8"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"
