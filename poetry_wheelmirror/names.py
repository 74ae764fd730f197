"""Checks on distribution names and filenames (pure)."""

from __future__ import annotations

import functools
import re

from packaging.utils import InvalidSdistFilename
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.utils import parse_sdist_filename
from packaging.version import InvalidVersion
from packaging.version import Version

__all__ = [
    "MAX_FILENAME",
    "MAX_WHEEL_TAGS",
    "filename_problem",
    "filename_version",
    "normalize",
    "valid_project_name",
    "wheel_filename_problem",
]

#: Longest filename accepted: what a file system can store as one name.
MAX_FILENAME = 255
#: Most tags a wheel filename may expand to. A compressed tag set ("py2.py3-none-any")
#: multiplies out (python x abi x platform); real wheels carry at most a few dozen, and a
#: 1.4 KB name built to expand to a million tags took 3.7 s and 376 MB to parse.
MAX_WHEEL_TAGS = 256

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]*$")


def valid_project_name(name: str) -> bool:
    """Whether *name* is a valid project name (PEP 508)."""
    return bool(_NAME.fullmatch(name))


def normalize(name: str) -> NormalizedName:
    """PEP 503 normalised name; raises ValueError for an invalid one."""
    if not valid_project_name(name):
        msg = f"invalid project name: {name!r}"
        raise ValueError(msg)
    return canonicalize_name(name)


def wheel_filename_problem(filename: str) -> str | None:
    """Why the wheel *filename* is too costly to parse (length, expanded tag count), or None.

    Counted on the text, before ``packaging`` expands the tag sets.

    >>> wheel_filename_problem("a-1.0-py2.py3-none-any.whl") is None
    True
    """
    if len(filename) > MAX_FILENAME:
        return f"wheel filename longer than {MAX_FILENAME} characters: {filename[:60]!r}..."
    parts = filename[: -len(".whl")].split("-") if filename.endswith(".whl") else []
    if len(parts) in (5, 6):
        count = 1
        for tag_set in parts[-3:]:
            count *= tag_set.count(".") + 1
        if count > MAX_WHEEL_TAGS:
            return f"wheel filename expands to {count} tags (at most {MAX_WHEEL_TAGS})"
    return None


def filename_version(filename: str) -> Version | None:
    """The version in a wheel or sdist *filename*, or None when it has none that parses.

    A wheel's version is its second dash-separated field (the wheel spec escapes dashes
    inside fields), read without expanding its tags; an sdist's comes from packaging.

    >>> str(filename_version("a-1.0-py3-none-any.whl")), str(filename_version("a-2.0.tar.gz"))
    ('1.0', '2.0')
    """
    return _filename_version(filename)


@functools.lru_cache(maxsize=65536)
def _filename_version(filename: str) -> Version | None:
    # Planning hundreds of projects parses each name once: cached.
    if len(filename) > MAX_FILENAME:
        return None
    try:
        if filename.endswith(".whl"):
            parts = filename.split("-")
            return Version(parts[1]) if len(parts) in (5, 6) else None
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[1]
    except (InvalidSdistFilename, InvalidVersion):
        return None
    return None


def filename_problem(filename: str) -> str | None:
    """Why *filename* is unsafe as a file or URL path segment, or None.

    Rejects separators, ``..``, NUL and other control or non-ASCII characters, so a
    name taken from a manifest can never escape the directory it is written to.

    >>> filename_problem("a-1.0-py3-none-any.whl") is None
    True
    >>> filename_problem("../evil.whl")
    "unsafe filename '../evil.whl': path separators and '..' are not allowed"
    """
    if "/" in filename or "\\" in filename or ".." in filename:
        return f"unsafe filename {filename!r}: path separators and '..' are not allowed"
    if not _SAFE_FILENAME.fullmatch(filename):  # not match: "$" also matches before a final "\n"
        return f"unsafe filename {filename!r}: only ASCII letters, digits and ._+!- are allowed"
    return None
