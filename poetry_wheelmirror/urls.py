"""URL rules shared by the manifest parser and the HTTP client (pure, no I/O)."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Final

__all__ = [
    "PYPI_SIMPLE",
    "is_loopback_host",
    "join_url",
    "link_problem",
    "path_to_url",
    "redact_text",
    "redact_url",
    "strip_userinfo",
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


# A plain DNS name or IPv4 host (optional port) right after "https://", then a path.
_PLAIN_HTTPS_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?(/|$)")


def url_scheme_problem(url: str) -> str | None:
    """Why *url* may not be used, or None: https anywhere, http only on loopback, file: locally.

    >>> url_scheme_problem("http://example.com/x")
    'plain http is only allowed for loopback hosts: http://example.com/x'
    >>> url_scheme_problem("https://example.com/x") is None
    True
    """
    if url.startswith("https://") and _PLAIN_HTTPS_HOST.match(url, 8):
        return None  # the common case (every file on a PyPI page), without urlsplit
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


def link_problem(document_url: str, url: str) -> str | None:
    """Why a document at *document_url* may not lead to the absolute *url*, or None.

    The scheme rule above, plus: a ``file:`` URL only from a document that is itself a
    local file (a mirror given as a local path or ``file:`` URL). A remote server must
    not make a client read local files, whether by a redirect or by a link in a document
    or page (``file:///dev/zero``, a FIFO, a private file).

    >>> link_problem("https://h/m/manifest.json", "file:///etc/passwd")
    'a remote document may not name a local file (only a local mirror may): file:///etc/passwd'
    >>> link_problem("file:///srv/m/manifest.json", "file:///srv/m/files/a.whl") is None
    True
    """
    problem = url_scheme_problem(url)
    if problem:
        return problem
    if url[:5].lower() == "file:" and document_url[:5].lower() != "file:":
        return f"a remote document may not name a local file (only a local mirror may): {url}"
    return None


# scheme://userinfo@ in any text: the userinfo is a credential (user:token, or a token).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def strip_userinfo(url: str) -> str:
    """*url* without its userinfo: for a URL handed on to others (a redirect), where
    the credential must not travel and ``***`` would not be a usable URL.

    >>> strip_userinfo("https://user:tok@host/simple/x/")
    'https://host/simple/x/'
    """
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def redact_url(url: str) -> str:
    """*url* with any user name or password replaced by ``***`` (never print a token).

    >>> redact_url("https://user:tok@host/simple/")
    'https://***@host/simple/'
    """
    return redact_text(url)


def redact_text(text: str) -> str:
    """*text* with the userinfo of every URL in it replaced by ``***``: for every error,
    log line and warning that may name a mirror or upstream URL.

    >>> redact_text("cannot reach https://u:t@h/x and http://k@127.0.0.1/")
    'cannot reach https://***@h/x and http://***@127.0.0.1/'
    """
    return _USERINFO.sub(r"\1***@", text) if "@" in text else text


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
