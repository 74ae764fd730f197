"""The routing index: a raw ASGI app (no framework, so the hot path is a few dict lookups);
serve/rsgi.py puts the same core (``respond``) under granian's RSGI interface.

``/simple/<name>/`` for a package the mirror carries lists the mirror's wheels and the
upstream's own files, merged; any other name answers 301 to the upstream's page, so
``index-url`` can point here without dependency confusion. Without an upstream the app
serves the mirror directory's static pages (or renders them from the manifest).

Every page is rendered once per (page, format) into ready response bytes and headers
(serve/responses.py); a request for a cached page costs a negotiation-table lookup and
hands a ready answer to the server. Upstream pages older than the TTL are refreshed in
the background while the old page is served (stale-while-revalidate), so one slow
upstream never stalls a client that has a page. Fetching, parsing, rendering and mirror
reloads run in worker threads, never on the event loop; a page that cannot be built
backs off (the last good page is served flagged stale) instead of being retried on
every request.

One module (over the usual ~450 lines) on purpose: the request path, the page cache and
its refresh/back-off state machine share one lock-free event-loop discipline, which is
read and changed as a whole; the response building already lives in responses.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from packaging.utils import canonicalize_name

from poetry_wheelmirror.client import read_local_file
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.names import filename_problem
from poetry_wheelmirror.names import valid_project_name
from poetry_wheelmirror.serve.mirrordir import MirrorSnapshot
from poetry_wheelmirror.serve.mirrordir import load_mirror
from poetry_wheelmirror.serve.mirrordir import manifest_stamp
from poetry_wheelmirror.serve.negotiate import CONTENT_TYPES
from poetry_wheelmirror.serve.negotiate import Format
from poetry_wheelmirror.serve.negotiate import negotiate
from poetry_wheelmirror.serve.negotiate import parse_etags
from poetry_wheelmirror.serve.responses import FORMATS
from poetry_wheelmirror.serve.responses import Answer
from poetry_wheelmirror.serve.responses import Failure
from poetry_wheelmirror.serve.responses import FileAnswer
from poetry_wheelmirror.serve.responses import Headers
from poetry_wheelmirror.serve.responses import Page
from poetry_wheelmirror.serve.responses import content_type
from poetry_wheelmirror.serve.responses import render_page
from poetry_wheelmirror.serve.responses import wants_gzip
from poetry_wheelmirror.simple_index import ProjectPage
from poetry_wheelmirror.simple_index import merge_files
from poetry_wheelmirror.simple_index import render_project_html
from poetry_wheelmirror.simple_index import render_project_json
from poetry_wheelmirror.simple_index import render_root_html
from poetry_wheelmirror.simple_index import render_root_json
from poetry_wheelmirror.urls import strip_userinfo

if TYPE_CHECKING:
    from poetry_wheelmirror.serve.upstream import Upstream

__all__ = ["UPSTREAM_HEADER", "RequestHeaders", "RoutingIndex"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: What a request says about the answer it wants: (Accept, Accept-Encoding,
#: If-None-Match), each None when absent.
RequestHeaders = tuple[str | None, str | None, str | None]

#: Says where a routed page's upstream part came from: ``ok``, ``stale`` (cached copy,
#: upstream unreachable) or ``missing`` (the upstream has no such project).
UPSTREAM_HEADER: Final = b"x-wheelmirror-upstream"
_STATIC_PREFIXES: Final = ("packages", "files")
_SMALL_FILE: Final = 1024 * 1024
_CHUNK: Final = 256 * 1024
_RETRY_AFTER_FAILURE: Final = 10.0
#: Largest static page or snapshot read from the mirror directory.
_MAX_STATIC_PAGE: Final = 128 * 1024 * 1024


class RoutingIndex:
    """The ASGI app. *upstream* None: static mode (the mirror directory only)."""

    def __init__(
        self,
        mirror_dir: Path,
        upstream: Upstream | None = None,
        *,
        reload_interval: float = 1.0,
        log_requests: bool = False,
    ) -> None:
        self.mirror_dir = mirror_dir.resolve()
        self.upstream = upstream
        self.reload_interval = reload_interval
        self.log_requests = log_requests
        self._mirror: MirrorSnapshot = load_mirror(self.mirror_dir)
        self._checked_at = time.monotonic()
        self._pages: dict[str, Page] = {}
        self._inflight: dict[str, asyncio.Future[Page]] = {}
        self._accept_cache: dict[str, Format | None] = {}
        self._encoding_cache: dict[str, bool] = {}
        self._root_page: Page | None = None
        self._files: dict[Path, tuple[tuple[int, int], bytes, Headers]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._failures: dict[str, Failure] = {}
        self._reloading = False
        self._rejected_stamp: tuple[int, int, int] | None = None

    # -- ASGI entry -----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            accept: str | None = None
            encoding: str | None = None
            inm: str | None = None
            # The first of repeated headers counts, as in granian's RSGI headers.get().
            for key, value in scope["headers"]:
                if key == b"accept":
                    if accept is None:
                        accept = value.decode("latin-1")
                elif key == b"accept-encoding":
                    if encoding is None:
                        encoding = value.decode("latin-1")
                elif key == b"if-none-match" and inm is None:
                    inm = value.decode("latin-1")
            answer = await self.respond(scope["method"], scope["path"], (accept, encoding, inm))
            await send({"type": "http.response.start", "status": answer.status,
                        "headers": answer.headers})  # fmt: skip
            if isinstance(answer, FileAnswer):
                async for chunk, more in self.file_chunks(answer):
                    await send({"type": "http.response.body", "body": chunk, "more_body": more})
            else:
                await send({"type": "http.response.body", "body": answer.body})
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def shutdown(self) -> None:
        """Cancel background refreshes and reloads (the server is stopping)."""
        for task in list(self._tasks):
            task.cancel()

    # -- the interface-neutral core (ASGI above, RSGI in serve/rsgi.py) ---------------

    async def respond(self, method: str, path: str, request: RequestHeaders) -> Answer:
        """The answer to *method* *path* (path percent-decoded, as both ASGI and RSGI
        give it) with *request*'s (Accept, Accept-Encoding, If-None-Match)."""
        if method != "GET" and method != "HEAD":
            return _plain(405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
        reload = self._maybe_reload()
        if reload is not None:
            await asyncio.shield(reload)  # shielded: a client hanging up must not cancel it
        answer = await self._route(path, request, method == "HEAD")
        if self.log_requests:
            logger.debug("%s %s %d", method, path, answer.status)
        return answer

    async def _route(self, path: str, request: RequestHeaders, head: bool) -> Answer:
        parts = path.split("/")
        # parts[0] is "" (the path starts with "/").
        if len(parts) >= 2 and parts[1] == "simple":
            if len(parts) == 2:
                return _redirect("/simple/")
            if len(parts) == 3 and parts[2] == "":
                return await self._root(request, head)
            raw = parts[2]
            if len(parts) == 3 or (len(parts) == 4 and parts[3] == ""):
                return await self._project(raw, len(parts) == 4, request, head)
            return _plain(404, b"not found\n")
        if path == "/manifest.json":
            return await self._file(self.mirror_dir / "manifest.json", request, head)
        if len(parts) >= 3 and parts[1] in _STATIC_PREFIXES:
            for segment in parts[2:]:
                if filename_problem(segment):
                    return _plain(404, b"not found\n")
            target = self.mirror_dir.joinpath(*parts[1:])
            return await self._file(target, request, head)
        if path == "/":
            body = b'<!DOCTYPE html>\n<a href="simple/">simple/</a>\n'
            return _plain(200, body, content_type=b"text/html; charset=utf-8")
        return _plain(404, b"not found\n")

    # -- helpers ----------------------------------------------------------------------

    def _format(self, request: RequestHeaders) -> tuple[Format | None, bool]:
        """(format or None for 406, gzip wanted) from the request."""
        accept, encoding, _ = request
        encoding = encoding or ""
        gz = self._encoding_cache.get(encoding)
        if gz is None:
            gz = wants_gzip(encoding)
            if len(self._encoding_cache) < 512:
                self._encoding_cache[encoding] = gz
        key = accept or ""
        if key in self._accept_cache:
            return self._accept_cache[key], gz
        fmt = negotiate(accept)
        if len(self._accept_cache) < 512:  # bounded: the header is client-controlled
            self._accept_cache[key] = fmt
        return fmt, gz

    def _page_answer(self, page: Page, request: RequestHeaders, head: bool) -> Answer:
        fmt, gz = self._format(request)
        if fmt is None:
            body = (
                b"406 not acceptable: this index serves "
                + ", ".join(CONTENT_TYPES[f].split(";")[0] for f in FORMATS).encode()
                + b"\n"
            )
            return _plain(406, body, [(b"vary", b"Accept")], head=head)
        variant = page.variants.get((fmt, gz)) or page.variants[fmt, False]
        inm = request[2]
        if inm is not None:
            tags = parse_etags(inm)
            if "*" in tags or variant.etag_text in tags:
                return variant.unchanged
        return variant.ok_head if head else variant.ok

    def _maybe_reload(self) -> asyncio.Task[None] | None:
        """Pick up a rebuilt mirror: stat the root manifest at most once per interval,
        and read the new state in a worker thread (reading and checking every package
        document can take long on a large or hostile mirror: never on the event loop,
        where it would stall every request). The request that noticed the change waits
        for it; others keep the old state until it is in. Returns that reload, if any."""
        now = time.monotonic()
        if now - self._checked_at < self.reload_interval or self._reloading:
            return None
        self._checked_at = now
        stamp = manifest_stamp(self.mirror_dir)
        if stamp == self._mirror.stamp or stamp == self._rejected_stamp:
            return None
        self._reloading = True

        async def reload() -> None:
            try:
                mirror = await asyncio.to_thread(load_mirror, self.mirror_dir)
            except WheelmirrorError as e:
                # Half-published or damaged: keep serving what was there (logged once
                # per manifest version, not once per interval).
                if stamp != self._rejected_stamp:
                    self._rejected_stamp = stamp
                    logger.warning("keeping the previous mirror state: %s", e)
                return
            finally:
                self._reloading = False
            self._mirror = mirror
            self._pages.clear()
            self._failures.clear()
            self._root_page = None
            self._files.clear()

        task = asyncio.get_running_loop().create_task(reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- pages ------------------------------------------------------------------------

    async def _root(self, request: RequestHeaders, head: bool) -> Answer:
        if self._root_page is None:
            self._root_page = await asyncio.to_thread(self._render_root)
        return self._page_answer(self._root_page, request, head)

    def _render_root(self) -> Page:
        names = sorted(self._mirror.files)
        html_body, json_body = render_root_html(names), render_root_json(names)
        if self.upstream is None:
            # Static mode serves the directory's own root pages when it has them.
            folder = self.mirror_dir / "simple"
            with contextlib.suppress(WheelmirrorError):
                html_body = read_local_file(folder / "index.html", _MAX_STATIC_PAGE)
            with contextlib.suppress(WheelmirrorError):
                json_body = read_local_file(folder / "index.json", _MAX_STATIC_PAGE)
        return render_page(html_body, json_body, [], 0.0)

    async def _project(self, raw: str, slash: bool, request: RequestHeaders, head: bool) -> Answer:
        page = self._pages.get(raw)
        if page is not None and slash:
            if self.upstream is not None and time.monotonic() - page.fetched_at > self.upstream.ttl:
                self._refresh_later(raw, page)
            return self._page_answer(page, request, head)
        if not valid_project_name(raw):
            return _plain(404, b"not a valid project name\n")
        name = canonicalize_name(raw)
        if name != raw or not slash:
            return _redirect(f"/simple/{name}/")
        if name not in self._mirror.files:
            if self.upstream is None:
                return _plain(404, b"not on this mirror\n")
            # Never hand the upstream's credentials (user:token@) to every client.
            return _redirect(strip_userinfo(self.upstream.page_url(name)))
        failure = self._failures.get(name)
        if failure is not None and time.monotonic() < failure.until:
            # Backing off: answer as the last attempt did, without fetching again.
            return _plain(failure.status, failure.body, failure.headers)
        try:
            page = await self._build(name)
        except Exception as e:
            failure = self._record_failure(name, e)
            return _plain(failure.status, failure.body, failure.headers)
        self._recovered(name)
        return self._page_answer(page, request, head)

    def _record_failure(self, name: str, error: BaseException) -> Failure:
        """Remember that *name*'s page could not be built: back off (doubling up to the
        TTL) and log once per run of failures, not once per request."""
        previous = self._failures.get(name)
        if previous is not None and time.monotonic() < previous.until:
            return previous  # requests that waited on the same attempt: one failure
        count = 1 if previous is None else previous.count + 1
        ceiling = max(_RETRY_AFTER_FAILURE, self._ttl())
        delay = min(_RETRY_AFTER_FAILURE * 2 ** min(count - 1, 16), ceiling)
        if isinstance(error, WheelmirrorError):
            status, headers = 502, [(UPSTREAM_HEADER, b"unavailable")]
            body = f"upstream unavailable and no cached page: {error}\n".encode()
            if previous is None:
                logger.warning(
                    "upstream page of %s unusable: %s (retrying in %.0f s)", name, error, delay
                )
        else:
            # A bug must cost answers for one back-off window, not the server.
            status, headers, body = 500, [(UPSTREAM_HEADER, b"unavailable")], b"internal error\n"
            if previous is None:
                logger.error(
                    "building the page of %s failed (retrying in %.0f s)",
                    name,
                    delay,
                    exc_info=error,
                )
        failure = Failure(time.monotonic() + delay, count, status, body, headers)
        self._failures[name] = failure
        return failure

    def _recovered(self, name: str) -> None:
        if self._failures.pop(name, None) is not None:
            logger.info("upstream page of %s is usable again", name)

    async def _build(self, name: str) -> Page:
        """Build a page once even when many requests ask for it at the same moment."""
        future = self._inflight.get(name)
        if future is not None:
            return await asyncio.shield(future)
        future = asyncio.get_running_loop().create_future()
        self._inflight[name] = future
        try:
            page = await self._render(name, revalidate=False)
        except Exception as e:
            future.set_exception(e)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        except BaseException:
            future.cancel()  # cancelled (shutdown): waiters are cancelled too
            raise
        finally:
            del self._inflight[name]
        future.set_result(page)
        self._pages[name] = page
        return page

    async def _render(self, name: str, *, revalidate: bool) -> Page:
        mirror_files = self._mirror.files.get(name, ())
        now = time.monotonic()
        if self.upstream is None:
            return await asyncio.to_thread(self._static_page, name, now)
        fetched = await self.upstream.fetch_async(name, revalidate=revalidate)
        merged = ProjectPage(name=name, files=merge_files(mirror_files, fetched.page.files))
        state = b"stale" if fetched.stale else b"missing" if fetched.missing else b"ok"

        def build() -> Page:
            return render_page(
                render_project_html(merged),
                render_project_json(merged),
                [(UPSTREAM_HEADER, state)],
                now,
            )

        # Rendering and compressing a large page takes milliseconds: not on the loop.
        page = await asyncio.to_thread(build)
        if fetched.stale:
            # Try the upstream again soon rather than after a whole TTL.
            page.fetched_at = now - self.upstream.ttl + _RETRY_AFTER_FAILURE
        return page

    def _static_page(self, name: str, now: float) -> Page:
        """The directory's own pages; when it has none, the same pages rendered on the
        fly by the static index (mirror/index.py) from the package document and the
        upstream snapshot, as ``wheelmirror index`` would write them. Read-only: the
        documents come from the snapshot's MirrorReader, never through a locking store."""
        folder = self.mirror_dir / "simple" / name
        html_body = json_body = None
        with contextlib.suppress(WheelmirrorError):
            html_body = read_local_file(folder / "index.html", _MAX_STATIC_PAGE)
        with contextlib.suppress(WheelmirrorError):
            json_body = read_local_file(folder / "index.json", _MAX_STATIC_PAGE)
        if html_body is None or json_body is None:
            from poetry_wheelmirror.mirror.index import project_files
            from poetry_wheelmirror.mirror.index import render_project_html as static_html
            from poetry_wheelmirror.mirror.index import render_project_json as static_json
            from poetry_wheelmirror.mirror.pypi import parse_upstream_snapshot
            from poetry_wheelmirror.mirror.tree import upstream_snapshot_path

            key = canonicalize_name(name)
            snapshot = None
            path = self.mirror_dir / upstream_snapshot_path(key)
            with contextlib.suppress(FileNotFoundError):
                if path.exists():
                    snapshot = parse_upstream_snapshot(
                        read_local_file(path, _MAX_STATIC_PAGE), source=str(path)
                    )
            files = project_files(key, self._mirror.docs.get(key), snapshot)
            html_body = html_body if html_body is not None else static_html(key, files)
            json_body = json_body if json_body is not None else static_json(key, files)
        return render_page(html_body, json_body, [], now)

    def _refresh_later(self, name: str, old: Page) -> None:
        if old.refreshing:
            return
        old.refreshing = True

        async def refresh() -> None:
            try:
                page = await self._render(name, revalidate=True)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                # Nothing usable (a network failure without even a disk copy, or a page
                # that breaks the parser): keep the page we have, flagged stale, and retry
                # after a back-off; logged once per run of failures.
                failure = self._record_failure(name, e)
                extra: Headers = [(UPSTREAM_HEADER, b"stale")]
                page = await asyncio.to_thread(
                    render_page, old.body("html"), old.body("json"), extra, 0.0
                )
                # Due for a refresh exactly when the back-off ends.
                page.fetched_at = failure.until - self._ttl()
            else:
                self._recovered(name)
            if self._pages.get(name) is old:
                self._pages[name] = page

        task = asyncio.get_running_loop().create_task(refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _ttl(self) -> float:
        return self.upstream.ttl if self.upstream is not None else float("inf")

    # -- static files -----------------------------------------------------------------

    async def _file(self, path: Path, request: RequestHeaders, head: bool) -> Answer:
        try:
            st = os.stat(path)
        except OSError:
            return _plain(404, b"not found\n")
        if not os.path.isfile(path):
            return _plain(404, b"not found\n")
        stamp = (st.st_mtime_ns, st.st_size)
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'.encode()
        headers: Headers = [
            (b"content-type", content_type(path).encode()),
            (b"content-length", str(st.st_size).encode()),
            (b"etag", etag),
        ]
        inm = request[2]
        if inm is not None and etag.decode() in parse_etags(inm):
            return Answer(304, headers[2:], b"")
        if head:
            return Answer(200, headers, b"")
        if st.st_size > _SMALL_FILE:
            return FileAnswer(headers, path, st.st_size)
        cached = self._files.get(path)
        if cached is None or cached[0] != stamp:
            data = await asyncio.to_thread(path.read_bytes)
            if len(self._files) < 256:
                self._files[path] = (stamp, data, headers)
        else:
            data = cached[1]
        return Answer(200, headers, data)

    async def file_chunks(self, answer: FileAnswer) -> AsyncIterator[tuple[bytes, bool]]:
        """(chunk, more to come) of a large file, read in worker threads; when the file
        shrank since stat, a last empty chunk ends the body (short, as it is)."""
        with answer.path.open("rb") as f:
            remaining = answer.size
            while remaining > 0:
                chunk = await asyncio.to_thread(f.read, min(_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk, remaining > 0
            if remaining > 0:
                yield b"", False


def _plain(
    status: int,
    body: bytes,
    extra: Headers | None = None,
    *,
    content_type: bytes = b"text/plain; charset=utf-8",
    head: bool = False,
) -> Answer:
    headers: Headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    return Answer(status, headers, b"" if head else body)


def _redirect(location: str, status: int = 301) -> Answer:
    return _plain(status, b"", [(b"location", location.encode()), (b"vary", b"Accept")])
