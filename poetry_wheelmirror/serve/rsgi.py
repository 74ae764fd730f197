"""The routing index under granian's RSGI interface (what ``wheelmirror serve`` runs).

RSGI hands a whole response to the server in one call (``response_bytes(status,
headers, body)``) instead of ASGI's two ``send`` messages, each a dict that granian
converts; for a cached page that conversion was a large part of the per-request cost
left in Python (bench/router_cpu.py compares with granian's floor). The answers are the
ones the ASGI app gives: both adapters call RoutingIndex.respond.

One difference in what the two interfaces pass on: granian gives RSGI header values
only when they are visible ASCII, so a header with other bytes counts as absent
here (Accept: the HTML default; Accept-Encoding: identity; If-None-Match: a full
answer), where the ASGI app decodes it as latin-1. Each is a safe answer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from poetry_wheelmirror.serve.responses import FileAnswer

if TYPE_CHECKING:
    from poetry_wheelmirror.serve.router import RoutingIndex

__all__ = ["RSGIApp"]


class _Headers(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


class _Scope(Protocol):
    proto: str
    method: str
    path: str

    @property
    def headers(self) -> _Headers: ...


class _Stream(Protocol):
    async def send_bytes(self, data: bytes) -> None: ...


class _Protocol(Protocol):
    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None: ...

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> _Stream: ...


class RSGIApp:
    """*index* as an RSGI application (granian calls ``__rsgi__`` per request)."""

    def __init__(self, index: RoutingIndex) -> None:
        self.index = index

    async def __rsgi__(self, scope: _Scope, proto: _Protocol) -> None:
        if scope.proto != "http":
            return  # websockets are off in the server; nothing else is routed here
        headers = scope.headers
        answer = await self.index.respond(
            scope.method,
            scope.path,
            (headers.get("accept"), headers.get("accept-encoding"), headers.get("if-none-match")),
        )
        if isinstance(answer, FileAnswer):
            stream = proto.response_stream(answer.status, answer.text_headers)
            async for chunk, _ in self.index.file_chunks(answer):
                await stream.send_bytes(chunk)
        else:
            proto.response_bytes(answer.status, answer.text_headers, answer.body)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        pass

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.index.shutdown()
