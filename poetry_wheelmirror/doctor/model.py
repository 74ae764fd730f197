"""The doctor's data: its inputs (:class:`DoctorOptions`), the target it checks, and the
:class:`Check` records every check returns (pure, no I/O)."""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Final
from typing import Literal
from typing import get_args

from poetry_wheelmirror import __version__

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = [
    "DEFAULT_MAX_AGE_DAYS",
    "STATUSES",
    "Check",
    "DoctorOptions",
    "PoetryFacts",
    "Status",
    "Target",
]

Status = Literal["ok", "warn", "fail"]
STATUSES: Final[frozenset[Status]] = frozenset(get_args(Status))
#: A manifest older than this is reported: the mirror may have stopped publishing.
DEFAULT_MAX_AGE_DAYS: Final = 7.0


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


# -- options and target ----------------------------------------------------------------


@dataclass(frozen=True)
class PoetryFacts:
    """What a caller running inside Poetry already knows (``poetry wheelmirror doctor``)."""

    version: str
    plugin_version: str = __version__
    executable: str = "poetry"


@dataclass(frozen=True)
class DoctorOptions:
    """Inputs of :func:`run_doctor`; every field has the CLI's default."""

    #: ``--mirror``; None: ``$WHEELMIRROR_URL``, the project's plugin settings, the default.
    mirror: str | None = None
    #: ``--project``; None: the current directory (and its parents, as Poetry looks).
    project: Path | None = None
    #: ``--python X.Y`` / ``--platform TAG`` for another target than this interpreter.
    python: str | None = None
    platform: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    cache_dir: Path | None = None
    offline: bool = False
    timeout: float = 10.0
    #: The Poetry executable; None: ``poetry`` on ``$PATH``.
    poetry: str | None = None
    #: Given when running inside Poetry: no subprocess is needed to learn these.
    poetry_facts: PoetryFacts | None = None
    #: Given when running inside Poetry: its environment's tags, version and markers.
    tags: tuple[Tag, ...] | None = None
    python_version: str | None = None
    marker_env: Mapping[str, str] | None = None
    target_label: str = ""
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    now: datetime.datetime | None = None
    home: Path | None = None
    #: Directories pip and uv read system-wide config from (tests point these elsewhere).
    system_config_dirs: tuple[Path, ...] | None = None
    prefix: Path = Path(sys.prefix)


@dataclass(frozen=True)
class Target:
    """The interpreter and platform the checks are about."""

    label: str
    python: str
    tags: tuple[Tag, ...]
    marker_env: Mapping[str, str]
    is_host: bool
