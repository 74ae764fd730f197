"""Adding wheels built elsewhere (cibuildwheel on CI runners) to a local mirror directory.

Each wheel must be of a version its recipe carries, must not be a ``linux_*`` wheel (pip
ranks those above manylinux: never publish one), and must not have one of PyPI's own
filenames. Its sdist is looked up on PyPI and recorded as its source (PyPI's filename,
url and sha256, also when CI built from fetch-sdist's patched copy), its METADATA
becomes the PEP 658 ``.metadata`` file, and all wheels go in through
``MirrorStore.add``: one atomic commit, write-once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import InvalidWheelFilename
from packaging.utils import parse_wheel_filename

from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.mirror.build.wheelfile import primary_platform
from poetry_wheelmirror.mirror.build.wheelfile import requires_python
from poetry_wheelmirror.mirror.build.wheelfile import wheel_metadata as read_wheel_metadata
from poetry_wheelmirror.mirror.recipes import TARGETS
from poetry_wheelmirror.mirror.store import AddResult
from poetry_wheelmirror.mirror.store import NewWheel
from poetry_wheelmirror.mirror.store import sha256_file

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.pypi import UpstreamProject
    from poetry_wheelmirror.mirror.recipes import Recipe
    from poetry_wheelmirror.mirror.store import MirrorStore

__all__ = ["CollectedWheel", "collect_wheels", "find_wheels", "runner_label", "wheel_metadata"]


@dataclass(frozen=True)
class CollectedWheel:
    """A wheel file with what its name says."""

    path: Path
    name: NormalizedName
    version: str
    python: str
    platform: str


def find_wheels(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.whl`` among *paths* (files, or folders searched recursively), sorted by
    filename; PublishError for a path that does not exist or two wheels of one name."""
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            candidates = sorted(path.rglob("*.whl"))
        elif path.is_file() and path.name.endswith(".whl"):
            candidates = [path]
        else:
            msg = f"no such wheel or folder: {path}"
            raise PublishError(msg)
        for wheel in candidates:
            other = found.get(wheel.name)
            if other is not None and sha256_file(other) != sha256_file(wheel):
                msg = f"two different wheels named {wheel.name}: {other} and {wheel}"
                raise PublishError(msg)
            found[wheel.name] = wheel
    return [found[name] for name in sorted(found)]


def wheel_metadata(wheel: Path) -> bytes:
    """The wheel's ``.dist-info/METADATA`` bytes."""
    return read_wheel_metadata(wheel, PublishError)


def runner_label(platform: str) -> str:
    """The GitHub runner a target's wheels are built on, from a wheel platform tag.

    >>> runner_label("manylinux_2_28_aarch64"), runner_label("macosx_11_0_arm64")
    ('github:ubuntu-24.04-arm', 'github:macos-15')
    """
    for target in TARGETS.values():
        os_ok = platform.startswith("macosx_" if target.os == "macos" else "manylinux")
        if os_ok and platform.endswith("_" + target.arch):
            return f"github:{target.runner}"
    return "ci"


def _describe(wheel: Path) -> CollectedWheel:
    try:
        name, version, _build, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as e:
        msg = f"{wheel.name}: {e}"
        raise PublishError(msg) from None
    platforms = sorted({t.platform for t in tags})
    if any(p.startswith("linux_") for p in platforms):
        msg = f"{wheel.name}: a linux_* wheel (not repaired by auditwheel) is never published"
        raise PublishError(msg)
    interpreters = sorted({t.interpreter for t in tags})
    python = interpreters[0]
    if python.startswith("cp") and python[2:].isdigit():
        python = f"{python[2]}.{python[3:]}"
    return CollectedWheel(wheel, name, str(version), python, primary_platform(wheel.name))


def collect_wheels(
    paths: Iterable[Path],
    *,
    store: MirrorStore,
    pypi: PypiClient,
    recipes: Mapping[NormalizedName, Recipe],
    runner: str | None = None,
    tool: str = "cibuildwheel",
) -> AddResult:
    """Add every wheel found under *paths* to *store* in one commit. *runner* is recorded
    in each wheel's build info; None: the GitHub runner label of the wheel's platform."""
    wheels = [_describe(p) for p in find_wheels(paths)]
    if not wheels:
        msg = "no wheels found"
        raise PublishError(msg)
    projects: dict[NormalizedName, UpstreamProject] = {}
    new: list[NewWheel] = []
    for wheel in wheels:
        recipe = recipes.get(wheel.name)
        if recipe is None:
            msg = f"{wheel.path.name}: no recipe for {wheel.name}: the mirror does not carry it"
            raise PublishError(msg)
        if not recipe.wants(wheel.version):
            msg = f"{wheel.path.name}: the recipe for {wheel.name} does not carry {wheel.version}"
            raise PublishError(msg)
        if wheel.name not in projects:
            project = pypi.project(wheel.name, revalidate=True)
            if project is None:
                msg = f"{wheel.name} is not on PyPI"
                raise PublishError(msg)
            projects[wheel.name] = project
        sdist = projects[wheel.name].sdist_for(wheel.version)
        if sdist is None:
            msg = f"PyPI has no sdist for {wheel.name} {wheel.version}"
            raise PublishError(msg)
        metadata = wheel_metadata(wheel.path)
        new.append(
            NewWheel(
                name=wheel.name,
                version=wheel.version,
                path=wheel.path,
                sha256=sha256_file(wheel.path),
                size=wheel.path.stat().st_size,
                metadata=metadata,
                source=SourceDist(filename=sdist.filename, sha256=sdist.sha256, url=sdist.url),
                build=BuildInfo(
                    platform=wheel.platform,
                    python=wheel.python,
                    runner=runner or runner_label(wheel.platform),
                    built_at=time.strftime(
                        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(wheel.path.stat().st_mtime)
                    ),
                    tool=tool,
                ),
                requires_python=requires_python(metadata),
            )
        )
    return store.add(new, projects)
