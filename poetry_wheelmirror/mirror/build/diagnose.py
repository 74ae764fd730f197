"""Classifying a failed build from its log (pure): the class, the evidence line, the fix.

The table lives in ``diagnoses.toml`` next to this module (data, shipped in the wheel).
Only the output of the step that failed is read: the text after the last ``$ command``
line of the failed attempt. Cython-generated C (a ``.c`` file whose ``.pyx`` source is
in the sdist) is told apart from hand-written C by the *generated* file names the caller
passes in, since the same compiler error means "regenerate it" for one and "not
fixable by building" for the other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from importlib import resources
from typing import Any

from poetry_wheelmirror.tomlfile import parse_toml

__all__ = [
    "MANAGERS",
    "Diagnosis",
    "Rule",
    "classify",
    "failed_step_output",
    "provider",
    "rules",
]

#: Package managers named in the ``[provides]`` table, in the order fixes list them.
MANAGERS = ("apt", "dnf", "apk", "brew")
_SOURCE_FILE = re.compile(r"(?P<file>[^\s:'\"]+\.(?:c|cc|cpp|cxx))[:(]\d+")
_ERRORISH = re.compile(r"(?i)\berror\b")


@dataclass(frozen=True)
class Rule:
    cls: str
    patterns: tuple[re.Pattern[str], ...]
    fix: str
    steps: frozenset[str] = frozenset()
    auto_fixes: tuple[str, ...] = ()
    not_fixable: bool = False
    generated_only: bool = False
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    """Why one build failed, and what to do about it."""

    cls: str
    evidence: str
    fix: str
    #: Automatic fixes for this class, tried in this order (the first not yet applied).
    auto_fixes: tuple[str, ...] = ()
    #: Not fixable by building (once *auto_fixes*, if any, did not help).
    not_fixable: bool = False
    #: The missing header, program or library (class missing-system-dependency).
    what: str | None = None
    #: Package manager -> the package that provides *what*, when the table knows it.
    packages: Mapping[str, str] = field(default_factory=dict)

    def line(self) -> str:
        """The one classified line every failed build ends with."""
        return f"{self.cls}: {self.evidence.strip()[:200]!r} -> {self.fix}"


@functools.cache
def _table() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("diagnoses.toml").read_text(encoding="utf-8")
    return parse_toml(text, "diagnoses.toml")


def _names(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@functools.cache
def rules() -> tuple[Rule, ...]:
    return tuple(
        Rule(
            cls=r["class"],
            patterns=tuple(re.compile(p) for p in r["patterns"]),
            fix=r["fix"],
            steps=frozenset(r.get("steps", ())),
            auto_fixes=_names(r.get("auto-fix", ())),
            not_fixable=bool(r.get("not-fixable", False)),
            generated_only=bool(r.get("generated-only", False)),
            requires=tuple(r.get("requires", ())),
        )
        for r in _table()["rule"]
    )


def provider(what: str) -> dict[str, str]:
    """Package manager -> package providing a header, program or library; {} if unknown."""
    provides: dict[str, dict[str, str]] = _table()["provides"]
    for key in (what, what.rsplit("/", 1)[-1], re.sub(r"^lib", "", what)):
        if key in provides:
            return dict(provides[key])
    return {}


def failed_step_output(attempt_log: str) -> str:
    """The output of the last step in an attempt's log (after its ``$ command`` line)."""
    lines = attempt_log.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    return "\n".join(lines[starts[-1] + 1 :] if starts else lines)


def _generated_file(line: str, generated: Collection[str]) -> bool:
    match = _SOURCE_FILE.search(line)
    if match is None:
        return False
    path = match.group("file")
    return any(path == g or path.endswith("/" + g) or g.endswith("/" + path) for g in generated)


def _match(rule: Rule, lines: list[str], generated: Collection[str]) -> re.Match[str] | None:
    for pattern in rule.patterns:
        for line in lines:
            match = pattern.search(line)
            if match is None:
                continue
            if rule.generated_only and not _generated_file(line, generated):
                continue
            return match
    return None


def _with_packages(rule: Rule, match: re.Match[str]) -> Diagnosis:
    what = match.groupdict().get("what")
    packages = provider(what) if what else {}
    fix = rule.fix
    if packages:
        named = ", ".join(f"{m}: {packages[m]}" for m in MANAGERS if m in packages)
        fix = (
            f"install the system package for {what} ({named}); "
            "or rerun with --install-system-packages"
        )
    elif what:
        fix = f"{rule.fix} ({what})"
    return Diagnosis(
        cls=rule.cls,
        evidence=match.string,
        fix=fix,
        auto_fixes=rule.auto_fixes,
        not_fixable=rule.not_fixable,
        what=what,
        packages=packages,
    )


def classify(step_output: str, *, step: str, generated: Collection[str] = ()) -> Diagnosis:
    """The first rule (in table order) that applies to *step* and matches a line."""
    lines = [line.rstrip() for line in step_output.splitlines()]
    for rule in rules():
        if rule.steps and step not in rule.steps:
            continue
        if rule.requires and not any(r in step_output for r in rule.requires):
            continue
        match = _match(rule, lines, generated)
        if match is not None:
            return _with_packages(rule, match)
    errors = [line for line in lines if _ERRORISH.search(line)]
    evidence = errors[-1] if errors else next((ln for ln in reversed(lines) if ln.strip()), "")
    return Diagnosis(
        cls="unclassified",
        evidence=evidence,
        fix=f"no known class for this {step} failure: read the full log",
    )
