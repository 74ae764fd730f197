"""URL rules shared by the manifest parser and the HTTP client (pure, no I/O)."""

from __future__ import annotations

import ipaddress
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Final

__all__ = [
    "PYPI_SIMPLE",
    "is_loopback_host",
    "join_url",
    "path_to_url",
    "to_base_url",
    "url_scheme_problem",
    "url_to_path",
]

#: PyPI's simple index, as a base URL (project pages are ``<base><name>/``).
PYPI_SIMPLE: Final = "https://pypi.org/simple/"


def is_loopback_host(host: str | None) -> bool:
    """Whether *host* names this machine (``localhost``, 127.0.0.0/8, ``::1``).

    >>> is_loopback_host("127.0.0.1"), is_loopback_host("localhost"), is_loopback_host("pypi.org")
    (True, True, False)
    """
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_scheme_problem(url: str) -> str | None:
    """Why *url* may not be used, or None: https anywhere, http only on loopback, file: locally.

    >>> url_scheme_problem("http://example.com/x")
    'plain http is only allowed for loopback hosts: http://example.com/x'
    >>> url_scheme_problem("https://example.com/x") is None
    True
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. "https://[x": an unclosed IPv6 literal
        return f"malformed URL: {url}"
    scheme = parts.scheme.lower()
    if scheme == "https":
        return None if host else f"URL has no host: {url}"
    if scheme == "http":
        if is_loopback_host(host):
            return None
        return f"plain http is only allowed for loopback hosts: {url}"
    if scheme == "file":
        return None
    if not scheme:
        return f"not an absolute URL: {url}"
    return f"unsupported URL scheme {scheme!r}: {url}"


def join_url(base: str, ref: str) -> str:
    """Resolve *ref* (absolute or relative) against the URL of the document naming it.

    >>> join_url("https://h/m/packages/x.json", "../files/x/a.whl")
    'https://h/m/files/x/a.whl'
    """
    return urllib.parse.urljoin(base, ref)


def path_to_url(path: Path) -> str:
    """A ``file:`` URL for a local path (directories end with a slash)."""
    url = path.resolve().as_uri()
    if path.is_dir() and not url.endswith("/"):
        url += "/"
    return url


def url_to_path(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    parts = urllib.parse.urlsplit(url)
    return Path(urllib.request.url2pathname(parts.path))


def to_base_url(value: str) -> str:
    """Normalise a mirror location (URL or local directory) to a base URL ending in ``/``."""
    if "://" not in value and not value.startswith("file:"):
        value = Path(value).expanduser().resolve().as_uri()
    return value if value.endswith("/") else value + "/"
