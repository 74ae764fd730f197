"""The doctor's mirror checks: the root manifest is reachable, valid and fresh (or
served from the cache, and why)."""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from poetry_wheelmirror.doctor.model import Check
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.indexconfig import redact_url

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror_client import MirrorReader

__all__ = ["check_manifest"]


def _parse_time(value: str) -> datetime.datetime | None:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def _age_words(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _reach_fix(url: str, source: str, error: str) -> str:
    parts = urllib.parse.urlsplit(url)
    hints = []
    if parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        hints.append("nothing answers on that loopback port: start `wheelmirror serve DIR`")
    elif parts.scheme == "file":
        hints.append("that folder has no manifest.json: build or publish the mirror there")
    else:
        hints.append("check your network or proxy")
    hints.append(f"check the mirror URL (it came from {source}) or pass --mirror URL")
    if "plain http" in error:
        hints = ["use https (plain http is only allowed for loopback hosts)"]
    return "; ".join(hints)


def check_manifest(
    reader: MirrorReader,
    source: str,
    warnings: Sequence[str],
    *,
    now: datetime.datetime,
    max_age_days: float,
) -> tuple[list[Check], bool]:
    """Reachable, valid, fresh; returns the checks and whether the root could be read."""
    shown = redact_url(reader.root_url)
    try:
        root = reader.root(revalidate=True)
    except WheelmirrorError as e:
        if isinstance(e, FetchError):
            return [
                Check(
                    "manifest",
                    "fail",
                    f"cannot fetch the mirror's manifest {shown}: {e}; installs will not use "
                    "the mirror (they fall back to PyPI and build from source)",
                    _reach_fix(reader.root_url, source, str(e)),
                )
            ], False
        return [
            Check(
                "manifest",
                "fail",
                f"the mirror's manifest is not valid: {e}",
                f"the mirror's operator must republish it; `wheelmirror manifest check "
                f"{redact_url(reader.base_url)}` names the first problem",
            )
        ], False
    checks = []
    detail = (
        f"{shown} (from {source}): mirror {root.mirror_name!r}, "
        f"{len(root.packages)} package(s), schema {root.schema_version}"
    )
    if reader.stale:
        why = warnings[0] if warnings else "the mirror could not be reached"
        checks.append(
            Check(
                "manifest",
                "warn",
                f"{detail}, but from the local cache: {why}",
                "installs keep working from the cached copy for now; check the mirror URL "
                "and your network",
            )
        )
    else:
        checks.append(Check("manifest", "ok", detail))
    generated = _parse_time(root.generated_at)
    if generated is None:
        checks.append(
            Check(
                "freshness",
                "warn",
                f"generated_at {root.generated_at!r} is not an ISO 8601 time",
                "the mirror's operator should republish the manifest",
            )
        )
        return checks, True
    age = (now - generated).total_seconds()
    if age < -3600:
        checks.append(
            Check(
                "freshness",
                "warn",
                f"the manifest says it was generated {_age_words(-age)} in the future "
                f"({root.generated_at})",
                "check this machine's clock",
            )
        )
    elif age > max_age_days * 86400:
        checks.append(
            Check(
                "freshness",
                "warn",
                f"the manifest was generated {_age_words(age)} ago ({root.generated_at}), "
                f"more than {max_age_days:g} days: wheels for newer releases may be missing",
                "check that the mirror still publishes (its build workflow); installs still "
                "use the wheels it has",
            )
        )
    else:
        checks.append(
            Check(
                "freshness",
                "ok",
                f"the manifest was generated {_age_words(age)} ago ({root.generated_at})",
            )
        )
    return checks, True
