"""wheelmirror's CPython compatibility headers, and the compiler flags that use them.

C written for CPython <= 3.10 often fails on 3.11+ only because an API it calls was
removed or renamed: old Cython output (``longintrepr.h``, ``PyCode_New`` with 15
arguments, frame fields), ``_PyFloat_Pack4``, ``Py_TYPE(o) = t``,
``PyUnicode_EncodeUTF8``. ``compat_include/`` holds a ``Python.h`` that includes the real
one (``#include_next``) and then shims each such API by the public API that replaced
it, guarded by the CPython version that removed it. Put first on the include path, it is
what the source's own ``#include "Python.h"`` reads, after the source's own macros
(``PY_SSIZE_T_CLEAN``), so nothing else about the build changes.
"""

from __future__ import annotations

import shlex
from collections.abc import MutableMapping
from importlib import resources
from pathlib import Path

__all__ = ["COMPAT_HEADERS", "add_compat_flags", "compat_include_dir"]

#: The files in the include folder (shipped in the wheel; a test checks each exists).
COMPAT_HEADERS = ("Python.h", "wheelmirror_pycompat.h")
#: Compiler flags whose value the build tools (setuptools, CMake, meson) read.
_FLAG_VARS = ("CFLAGS", "CXXFLAGS")


def compat_include_dir() -> Path:
    """The folder with the compatibility ``Python.h`` (inside the installed package)."""
    return Path(str(resources.files(__package__).joinpath("compat_include")))


def add_compat_flags(env: MutableMapping[str, str]) -> Path:
    """Put the compatibility headers first on the include path of C and C++ compiles in
    *env*; the folder used. Its location is mapped to a fixed name in debug info, so the
    wheel does not depend on where wheelmirror is installed."""
    folder = compat_include_dir()
    flags = f"-I{shlex.quote(str(folder))} -ffile-prefix-map={shlex.quote(str(folder))}="
    flags += "/wheelmirror-compat"
    for var in _FLAG_VARS:
        env[var] = f"{flags} {env.get(var, '')}".strip()
    return folder
