"""What happened to each (pin, interpreter), as data for the table and ``--json``."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from poetry_wheelmirror.mirror.store import AddResult

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.mirror.build.diagnose import Diagnosis

__all__ = ["BuildOutcome", "BuildReport"]


@dataclass(frozen=True)
class BuildOutcome:
    """What happened to one (pin, interpreter)."""

    name: NormalizedName
    version: str
    python: str
    status: Literal["built", "skipped", "failed"]
    reason: str = ""
    filename: str = ""
    seconds: float = 0.0
    diagnosis: Diagnosis | None = None
    #: One line per automatic fix tried, in order, with its result.
    attempts: tuple[str, ...] = ()
    #: The recipe that makes this build direct (when automatic fixes were needed).
    recipe: str | None = None
    notes: tuple[str, ...] = ()
    log_path: str | None = None

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def wheel_tag(self) -> str:
        """``cp311-cp311-manylinux_2_17_x86_64`` from the wheel's filename, or ""."""
        return "-".join(self.filename[: -len(".whl")].split("-")[-3:]) if self.filename else ""

    def as_json(self) -> dict[str, Any]:
        d = self.diagnosis
        return {
            "pin": self.pin,
            "python": self.python,
            "outcome": self.status,
            "reason": self.reason,
            "class": d.cls if d else None,
            "evidence": d.evidence.strip() if d else None,
            "fix": d.fix if d else None,
            "not_fixable": d.not_fixable if d else None,
            "seconds": round(self.seconds, 1),
            "wheel": self.filename or None,
            "wheel_tag": self.wheel_tag or None,
            "attempts": list(self.attempts),
            "recipe": self.recipe,
            "notes": list(self.notes),
            "log": self.log_path,
        }


@dataclass(frozen=True)
class BuildReport:
    outcomes: tuple[BuildOutcome, ...] = ()
    added: AddResult = field(default_factory=AddResult)

    @property
    def failed(self) -> tuple[BuildOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    def as_json(self) -> dict[str, Any]:
        return {
            "all_built": not self.failed,
            "outcomes": [o.as_json() for o in self.outcomes],
            "added": list(self.added.added),
        }
