"""The doctor's report: exit status, plain-text lines and JSON (pure: the callers print)."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

if TYPE_CHECKING:
    from poetry_wheelmirror.doctor.model import Check
    from poetry_wheelmirror.doctor.model import Status

__all__ = ["exit_status", "format_report", "report_json"]


_LABEL: Final[dict[Status, str]] = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}


def exit_status(checks: Iterable[Check]) -> int:
    """0 when nothing failed, 1 when something did."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def _summary(checks: Sequence[Check]) -> str:
    fails = sum(1 for c in checks if c.status == "fail")
    warns = sum(1 for c in checks if c.status == "warn")
    oks = sum(1 for c in checks if c.status == "ok")
    if fails:
        head = f"{fails} problem(s) to fix"
    elif warns:
        head = "nothing is broken"
    else:
        head = "everything looks right"
    return f"{head}: {oks} ok, {warns} warning(s), {fails} failure(s)"


def format_report(checks: Sequence[Check]) -> list[str]:
    """The report as lines of plain text: one line per check, its fix indented below."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        lines.append(f"{_LABEL[check.status]:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.status != "ok":
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
        elif check.fix:
            lines.append(f"{'':<4}  {'':<{width}}  hint: {check.fix}")
    lines.append("")
    lines.append(f"wheelmirror doctor: {_summary(checks)}")
    return lines


def report_json(checks: Sequence[Check]) -> dict[str, Any]:
    """The report as a JSON-ready object."""
    return {
        "status": "fail" if exit_status(checks) else "ok",
        "counts": {s: sum(1 for c in checks if c.status == s) for s in ("ok", "warn", "fail")},
        "checks": [c.as_json() for c in checks],
    }
