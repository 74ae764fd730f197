"""Fetching the upstream index's project pages, cached on disk with revalidation.

The disk cache and the revalidation (``If-None-Match``/``If-Modified-Since``) are
``CachedClient``'s; when the upstream cannot be reached the client hands back the cached
copy marked stale, which the router passes on as ``X-Wheelmirror-Upstream: stale``.
The router keeps the rendered pages in memory; this module only fetches and parses.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.simple_index import ProjectPage
from poetry_wheelmirror.simple_index import parse_project_page
from poetry_wheelmirror.urls import url_scheme_problem

__all__ = ["UPSTREAM_ACCEPT", "Upstream", "UpstreamPage"]

logger = logging.getLogger(__name__)

#: Ask for PEP 691 JSON (it carries sizes and upload times), accept HTML.
UPSTREAM_ACCEPT: Final = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)


#: PyPI's largest project pages (boto3, botocore) are several MB of JSON.
_MAX_PAGE: Final = 128 * 1024 * 1024


@dataclass(frozen=True)
class UpstreamPage:
    """A parsed upstream page; *stale* when it came from the cache because the upstream
    could not be reached; *missing* when the upstream has no such project (404)."""

    page: ProjectPage
    stale: bool = False
    missing: bool = False


class Upstream:
    """The upstream simple index (e.g. ``https://pypi.org/simple/``)."""

    def __init__(
        self,
        url: str,
        *,
        cache_dir: Path | None = None,
        ttl: float = 300.0,
        timeout: tuple[float, float] = (3.0, 10.0),
        client: CachedClient | None = None,
    ) -> None:
        problem = url_scheme_problem(url)
        if problem:
            from poetry_wheelmirror.errors import ConfigError

            msg = f"--upstream: {problem}"
            raise ConfigError(msg)
        self.url = url if url.endswith("/") else url + "/"
        self.ttl = ttl
        # One retry only: a request waits on this, and a stale page is a fine answer.
        self.client = client or CachedClient(
            cache_dir, max_age=ttl, timeout=timeout, retries=1, warn=logger.warning
        )

    def page_url(self, name: str) -> str:
        """The upstream page of a normalised *name* (also the target of the 301)."""
        return f"{self.url}{name}/"

    def fetch(self, name: str, *, revalidate: bool = False) -> UpstreamPage:
        """Fetch and parse *name*'s page (blocking); FetchError when nothing can be had."""
        url = self.page_url(name)
        try:
            result = self.client.get(
                url, revalidate=revalidate, accept=UPSTREAM_ACCEPT, max_bytes=_MAX_PAGE
            )
        except FetchError as e:
            # CachedClient reports a plain 404 as "HTTP 404 from URL": the upstream is up
            # and simply has no such project, so the page holds the mirror's wheels only.
            if str(e).startswith("HTTP 404 "):
                return UpstreamPage(page=ProjectPage(name=name), missing=True)
            raise
        return UpstreamPage(page=parse_project_page(result.body, url, name), stale=result.stale)

    async def fetch_async(self, name: str, *, revalidate: bool = False) -> UpstreamPage:
        """``fetch`` in a worker thread, so the event loop keeps serving cached pages."""
        return await asyncio.to_thread(self.fetch, name, revalidate=revalidate)
