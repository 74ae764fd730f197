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
import shutil
from collections.abc import MutableMapping
from importlib import resources
from pathlib import Path

__all__ = [
    "COMPAT_HEADERS",
    "SDIST_COMPAT_DIR",
    "add_compat_flags",
    "compat_include_dir",
    "copy_compat_headers",
    "sdist_compat_flags",
]

#: The files in the include folder (shipped in the wheel; a test checks each exists).
COMPAT_HEADERS = ("Python.h", "wheelmirror_pycompat.h")
#: Compiler flags whose value the build tools (setuptools, CMake, meson) read.
_FLAG_VARS = ("CFLAGS", "CXXFLAGS")
#: Where ``wheelmirror fetch-sdist`` puts the headers inside a patched sdist for CI
#: builds, which cannot reach this installed package: setuptools runs the compiler in
#: the unpacked sdist's top folder, so a relative ``-I`` there finds them.
SDIST_COMPAT_DIR = "_wheelmirror_compat"


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


def copy_compat_headers(top: Path) -> Path:
    """Copy the compatibility headers into the unpacked sdist folder *top* (under
    SDIST_COMPAT_DIR); the folder made."""
    dest = top / SDIST_COMPAT_DIR
    dest.mkdir(exist_ok=True)
    for name in COMPAT_HEADERS:
        shutil.copyfile(compat_include_dir() / name, dest / name)
    return dest


def sdist_compat_flags(env: dict[str, str]) -> dict[str, str]:
    """*env* (a build's variables) with the headers copied into the sdist first on the
    include path: what a CI build of the patched sdist needs."""
    out = dict(env)
    for var in _FLAG_VARS:
        out[var] = f"-I{SDIST_COMPAT_DIR} {out.get(var, '')}".strip()
    return out
