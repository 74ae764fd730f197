"""The local build engine: sdist from PyPI -> wheel -> repair -> import check -> mirror.

Modules, bottom up: ``interpreters`` (which CPythons), ``wheelfile`` (zip surgery),
``job`` (one subprocess step into the build log), ``sysdeps`` (system packages),
``cython_regen`` (re-running old Cython output), ``repair`` (auditwheel/delocate),
``importcheck`` (import every extension module in a clean venv), ``diagnose`` (pure
classifier over ``diagnoses.toml``), ``fixes`` (automatic fixes and the recipe that
makes them direct), ``attempt`` (one build with given settings) and ``pipeline`` (many
pins, retries, one mirror commit).
"""

from __future__ import annotations

import importlib.util
import sys

from poetry_wheelmirror.mirror.build.interpreters import Interpreter
from poetry_wheelmirror.mirror.build.interpreters import find_interpreter
from poetry_wheelmirror.mirror.build.job import Progress
from poetry_wheelmirror.mirror.build.job import uv_binary
from poetry_wheelmirror.mirror.build.outcome import BuildOutcome
from poetry_wheelmirror.mirror.build.outcome import BuildReport
from poetry_wheelmirror.mirror.build.pipeline import build_pins
from poetry_wheelmirror.mirror.build.wheelfile import add_build_tag
from poetry_wheelmirror.mirror.sdist_patch import add_build_requires

__all__ = [
    "BuildOutcome",
    "BuildReport",
    "Interpreter",
    "Progress",
    "add_build_requires",
    "add_build_tag",
    "build_pins",
    "find_interpreter",
    "missing_builder_tools",
]


def missing_builder_tools() -> list[str]:
    """The build tools of the ``builder`` extra this environment lacks (empty: ready)."""
    missing = []
    if uv_binary() is None and importlib.util.find_spec("build") is None:
        missing.append("uv (or build)")
    if sys.platform.startswith("linux"):
        missing += [m for m in ("auditwheel",) if importlib.util.find_spec(m) is None]
    elif sys.platform == "darwin" and importlib.util.find_spec("delocate") is None:
        missing.append("delocate")
    return missing
