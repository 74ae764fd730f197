"""Independent oracles for the property tests: the rules written out here, plus
packaging's parsers, never the product's own checks (a property test that asks the
product whether the product was right cannot catch a check removed from the product).
"""

from __future__ import annotations

import ipaddress
import re
import string
import urllib.parse

from packaging.utils import InvalidWheelFilename
from packaging.utils import NormalizedName
from packaging.utils import parse_wheel_filename
from packaging.version import Version

__all__ = [
    "PEP508_NAME",
    "filename_violation",
    "plain_relative_url",
    "url_violation",
    "wheel_identity",
]

#: PEP 508's project-name rule, copied from the specification.
PEP508_NAME = re.compile(r"([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])", re.IGNORECASE)

_FILENAME_CHARS = frozenset(string.ascii_letters + string.digits + "._+!-")


def filename_violation(name: str) -> str | None:
    """Why *name* is not one safe path segment (rule by rule), or None.

    A file named by a manifest or a PyPI page is saved under a folder and served back as
    a URL path segment: it must not climb out (``..``), contain a separator (``/``,
    ``\\``) or a drive (``:``), hide (leading ``.``) or look like an option (leading
    ``-``), and carries only ASCII letters, digits and ``._+!-`` (no control, space or
    look-alike Unicode characters)."""
    if not name:
        return "empty"
    if "/" in name or "\\" in name:
        return "separator"
    if ".." in name:
        return "'..'"
    bad = sorted(set(name) - _FILENAME_CHARS)
    if bad:
        return f"characters {bad!r}"
    if not (name[0].isascii() and name[0].isalnum()):
        return "does not start with a letter or digit"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_violation(url: str) -> str | None:
    """Why the absolute *url* may not be fetched, or None: https with a host anywhere,
    plain http only to a loopback host, file: (local mirrors); nothing else."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "malformed"
    scheme = parts.scheme.lower()
    if scheme == "https":
        return None if host else "https without a host"
    if scheme == "http":
        return None if _loopback(host) else "plain http to a remote host"
    if scheme == "file":
        return None
    return f"scheme {scheme!r}"


def plain_relative_url(url: str) -> bool:
    """A URL relative to its document: no scheme, and not scheme-relative (``//host``)."""
    return not url.startswith("//") and not urllib.parse.urlsplit(url).scheme


def wheel_identity(filename: str) -> tuple[NormalizedName, Version] | None:
    """Project and version per packaging's wheel filename parser (None if it refuses)."""
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    return name, version
