"""Checks on distribution names and filenames (pure)."""

from __future__ import annotations

import re

from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name

__all__ = ["filename_problem", "normalize", "valid_project_name"]

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
