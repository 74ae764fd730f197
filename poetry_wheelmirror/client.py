"""Cached HTTP client: timeouts, bounded retries, ETag/Last-Modified revalidation, offline fallback.

The cache keeps one body and one metadata file per URL. Both are written to a temporary
file and renamed into place, and the metadata records the body's sha256, so a reader
racing a writer (two ``poetry install`` runs at once) sees either a whole old entry, a
whole new one, or a mismatch it treats as a miss: never a torn file.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import stat
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from poetry_wheelmirror import __version__
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import HashMismatchError
from poetry_wheelmirror.fs import atomic_write
from poetry_wheelmirror.neterrors import describe_network_error
from poetry_wheelmirror.urls import url_scheme_problem
from poetry_wheelmirror.urls import url_to_path

if TYPE_CHECKING:
    import requests

__all__ = ["CachedClient", "FetchResult", "default_cache_dir", "read_local_file"]

USER_AGENT = f"poetry-wheelmirror/{__version__}"
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_MAX_REDIRECTS = 5
_MAX_RETRY_AFTER = 5.0


def default_cache_dir() -> Path:
    """``$WHEELMIRROR_CACHE_DIR``, else the platform's user cache folder."""
    env = os.environ.get("WHEELMIRROR_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "wheelmirror"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "wheelmirror" / "Cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wheelmirror"


def read_local_file(path: Path, max_bytes: int, *, url: str | None = None) -> bytes:
    """*path*'s bytes when it is a regular file of at most *max_bytes*; FetchError if not.

    Opened non-blocking and checked on the open descriptor: a FIFO would block the
    open (and every read) past any timeout, ``/dev/zero`` never ends, and a file that
    grows after the check is still cut at the cap.
    """
    shown = url or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        msg = f"not found: {path}"
        raise FetchError(msg) from None
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror}"
        raise FetchError(msg) from None
    with os.fdopen(fd, "rb") as f:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                msg = f"{shown} is not a regular file"
                raise FetchError(msg)
            if st.st_size > max_bytes:
                msg = f"{shown} is {st.st_size} bytes, over the {max_bytes}-byte limit"
                raise FetchError(msg)
            data = f.read(max_bytes + 1)
        except OSError as e:
            msg = f"cannot read {path}: {e.strerror}"
            raise FetchError(msg) from None
    if len(data) > max_bytes:
        msg = f"{shown} grew over the {max_bytes}-byte limit while being read"
        raise FetchError(msg)
    return data


@dataclass(frozen=True)
class FetchResult:
    """A fetched body and where it came from."""

    url: str
    body: bytes
    from_cache: bool = False
    stale: bool = False


def _warn_stderr(message: str) -> None:
    print(f"wheelmirror: warning: {message}", file=sys.stderr)


class CachedClient:
    """GET documents and download files with the project's network rules.

    * https anywhere, plain http only on loopback (also for every redirect hop), ``file:``
      read directly;
    * (connect, read) timeouts plus an overall deadline per request, so a stalled
      server cannot hang an install;
    * up to *retries* retries on connection errors and 5xx, honouring ``Retry-After``
      up to a few seconds;
    * cached bodies are reused for *max_age* seconds, then revalidated with
      ``If-None-Match``/``If-Modified-Since``; when the network fails, a cached copy
      is served with one warning.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        max_age: float = 600.0,
        timeout: tuple[float, float] = (5.0, 15.0),
        deadline: float = 60.0,
        retries: int = 2,
        offline: bool = False,
        warn: Callable[[str], None] = _warn_stderr,
        session: requests.Session | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.max_age = max_age
        self.timeout = timeout
        self.deadline = deadline
        self.retries = retries
        self.offline = offline
        self.warn = warn
        self._session = session
        self._warned: set[str] = set()

    # -- public API ---------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        max_bytes: int = 16 * 1024 * 1024,
        revalidate: bool = False,
        accept: str | None = None,
    ) -> FetchResult:
        """The body at *url*, from the cache when fresh; FetchError when it cannot be had.

        *accept* is sent as the ``Accept`` header (content negotiation, e.g. PEP 691 JSON);
        it is part of the cache key, so two representations of one URL never mix.
        """
        self._check_scheme(url)
        if url.startswith("file:"):
            return FetchResult(url=url, body=self._read_file(url, max_bytes))
        key = url if accept is None else f"{url}\nAccept: {accept}"
        meta, body = self._cache_load(key)
        fresh = meta is not None and time.time() - float(meta.get("fetched_at", 0)) < self.max_age
        if body is not None and fresh and not revalidate and not self.offline:
            return FetchResult(url=url, body=body, from_cache=True)
        if self.offline:
            if body is not None:
                return FetchResult(url=url, body=body, from_cache=True, stale=True)
            msg = f"offline and not cached: {url}"
            raise FetchError(msg)
        headers = {} if accept is None else {"Accept": accept}
        if body is not None and meta is not None:
            if meta.get("etag"):
                headers["If-None-Match"] = str(meta["etag"])
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = str(meta["last_modified"])
        try:
            status, resp_headers, new_body = self._request(url, headers, max_bytes)
        except FetchError as e:
            if body is not None:
                # One warning per client, not one per document: the cause is the same.
                self._warn_once("stale", f"{e}; using the cached copy")
                return FetchResult(url=url, body=body, from_cache=True, stale=True)
            raise
        if status == 304 and body is not None:
            # A 304 may omit the validators: keep the ones the cached copy came with.
            kept = (
                {
                    "ETag": str(meta.get("etag", "")),
                    "Last-Modified": str(meta.get("last_modified", "")),
                }
                if meta
                else {}
            )
            self._cache_store(key, body, {**kept, **resp_headers})
            return FetchResult(url=url, body=body, from_cache=True)
        self._cache_store(key, new_body, resp_headers)
        return FetchResult(url=url, body=new_body)

    def download(self, url: str, dest: Path, *, sha256: str, max_bytes: int = 2 * 1024**3) -> Path:
        """Stream *url* to *dest*, verify *sha256*, and only then move it into place."""
        self._check_scheme(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                if url.startswith("file:"):
                    data = self._read_file(url, max_bytes)
                    digest.update(data)
                    out.write(data)
                else:
                    self._stream(url, out, digest, max_bytes)
            if digest.hexdigest() != sha256:
                msg = f"sha256 mismatch for {url}: expected {sha256}, got {digest.hexdigest()}"
                raise HashMismatchError(msg)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return dest

    # -- network ------------------------------------------------------------------------

    def _session_obj(self) -> requests.Session:
        if self._session is None:
            import requests  # imported lazily: the plugin must load fast

            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            self._session = session
        return self._session

    def _check_scheme(self, url: str) -> None:
        problem = url_scheme_problem(url)
        if problem:
            raise FetchError(problem)

    def _read_file(self, url: str, max_bytes: int) -> bytes:
        return read_local_file(url_to_path(url), max_bytes, url=url)

    def _open(self, url: str, headers: dict[str, str]) -> requests.Response:
        """Open *url* following redirects by hand (each hop must pass the scheme rule),
        retrying connection errors and 5xx."""
        import requests

        session = self._session_obj()
        started = time.monotonic()
        attempt = 0
        current = url
        redirects = 0
        while True:
            try:
                response = session.get(
                    current,
                    headers=headers,
                    timeout=self.timeout,
                    stream=True,
                    allow_redirects=False,
                )
            except requests.exceptions.Timeout:
                error = f"timed out fetching {current}"
                response = None
            except requests.exceptions.RequestException as e:
                # The host only: a netloc's userinfo is a credential.
                host = urllib.parse.urlsplit(current).netloc.rpartition("@")[2]
                error = f"cannot reach {host}: {describe_network_error(e)}"
                response = None
            if response is not None:
                if response.is_redirect and redirects < _MAX_REDIRECTS:
                    target = urllib.parse.urljoin(current, response.headers.get("Location", ""))
                    response.close()
                    problem = url_scheme_problem(target)
                    if not problem and not target.lower().startswith(("http:", "https:")):
                        # A server must not make the client read local files.
                        problem = f"redirects may only lead to http(s) URLs: {target}"
                    if problem:
                        msg = f"refused redirect from {current}: {problem}"
                        raise FetchError(msg)
                    current = target
                    redirects += 1
                    continue
                if response.is_redirect:
                    response.close()
                    msg = f"too many redirects (over {_MAX_REDIRECTS}) from {url}"
                    raise FetchError(msg)
                if response.status_code not in _RETRY_STATUSES:
                    return response
                error = f"HTTP {response.status_code} from {current}"
                retry_after = response.headers.get("Retry-After", "")
                response.close()
            else:
                retry_after = ""
            attempt += 1
            delay = 0.2 * 2**attempt
            if retry_after.isdigit():
                delay = min(float(retry_after), _MAX_RETRY_AFTER)
            # Retries stay inside the overall deadline: a stalling server cannot stretch
            # one fetch to (retries + 1) full read timeouts past it.
            if attempt > self.retries or time.monotonic() - started + delay > self.deadline:
                raise FetchError(error)
            time.sleep(delay)

    def _request(
        self, url: str, headers: dict[str, str], max_bytes: int
    ) -> tuple[int, dict[str, str], bytes]:
        response = self._open(url, headers)
        with response:
            if response.status_code == 304:
                return 304, dict(response.headers), b""
            if response.status_code != 200:
                msg = f"HTTP {response.status_code} from {response.url}"
                raise FetchError(msg)
            chunks = []
            total = 0
            for chunk in self._iter_body(response, max_bytes):
                chunks.append(chunk)
                total += len(chunk)
            return 200, dict(response.headers), b"".join(chunks)

    def _iter_body(self, response: requests.Response, max_bytes: int) -> Any:
        import requests
        import urllib3

        started = time.monotonic()
        total = 0
        try:
            for chunk in self._chunks(response):
                total += len(chunk)
                if total > max_bytes:
                    msg = f"{response.url} is larger than the {max_bytes}-byte limit"
                    raise FetchError(msg)
                if time.monotonic() - started > self.deadline:
                    msg = f"{response.url} took longer than {self.deadline:.0f} s"
                    raise FetchError(msg)
                yield chunk
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            cause = (
                e.args[0] if isinstance(e, requests.exceptions.ConnectionError) and e.args else e
            )
            if isinstance(cause, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
                msg = f"timed out reading {response.url}"
            elif any(isinstance(a, http.client.IncompleteRead) for a in (cause, *cause.args)):
                msg = f"download of {response.url} was truncated"
            else:
                msg = f"download of {response.url} broke off: {type(e).__name__}"
            raise FetchError(msg) from None
        expected = response.headers.get("Content-Length")
        encoded = response.headers.get("Content-Encoding", "identity")
        if expected and expected.isdigit() and encoded == "identity" and total < int(expected):
            msg = f"download of {response.url} was truncated ({total} of {expected} bytes)"
            raise FetchError(msg)

    @staticmethod
    def _chunks(response: requests.Response) -> Iterator[bytes]:
        """The decoded body in pieces of at most 64 KiB, each from at most one socket read.

        ``iter_content`` blocks until a whole chunk has arrived, so a server trickling a
        byte per second would never let the deadline check run; urllib3 2's ``read1``
        returns after one read (and inflates at most *amt* bytes at a time, which also
        keeps a gzip bomb from ballooning in memory).
        """
        read1 = getattr(response.raw, "read1", None)
        if read1 is None:  # urllib3 1.x
            yield from response.iter_content(chunk_size=64 * 1024)
            return
        while True:
            chunk = read1(64 * 1024, decode_content=True)
            if not chunk:
                return
            yield chunk

    def _stream(self, url: str, out: Any, digest: Any, max_bytes: int) -> None:
        response = self._open(url, {})
        with response:
            if response.status_code != 200:
                msg = f"HTTP {response.status_code} from {response.url}"
                raise FetchError(msg)
            for chunk in self._iter_body(response, max_bytes):
                digest.update(chunk)
                out.write(chunk)

    # -- cache --------------------------------------------------------------------------

    def _cache_paths(self, url: str) -> tuple[Path, Path] | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(url.encode()).hexdigest()
        folder = self.cache_dir / "http" / key[:2]
        return folder / f"{key}.body", folder / f"{key}.json"

    def _cache_load(self, url: str) -> tuple[dict[str, Any] | None, bytes | None]:
        paths = self._cache_paths(url)
        if paths is None:
            return None, None
        body_path, meta_path = paths
        try:
            meta = json.loads(meta_path.read_bytes())
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None, None
        if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(body).hexdigest():
            return None, None  # torn by a concurrent writer, or damaged: a miss
        return meta, body

    def _cache_store(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        paths = self._cache_paths(url)
        if paths is None:
            return
        body_path, meta_path = paths
        lower = {k.lower(): v for k, v in headers.items()}
        meta = {
            "url": url,
            "fetched_at": time.time(),
            "etag": lower.get("etag", ""),
            "last_modified": lower.get("last-modified", ""),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        try:
            atomic_write(body_path, body)
            atomic_write(meta_path, json.dumps(meta).encode())
        except OSError as e:
            self._warn_once("cache", f"cannot write the cache at {self.cache_dir}: {e.strerror}")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warn(message)
