"""The provenance policy a user asks for, and whose signature a wheel must carry (pure).

``[tool.poetry-wheelmirror] provenance`` is one of :data:`POLICIES`; the expected
signer is a workflow file of a GitHub repository (:class:`Expected`), taken from the
user's settings or the ``https://OWNER.github.io/REPO/`` mirror URL, never from the
mirror itself. ``provenance`` verifies bundles against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from typing import Literal

from poetry_wheelmirror.errors import ConfigError

__all__ = [
    "DEFAULT_WORKFLOW",
    "POLICIES",
    "Expected",
    "Policy",
    "normalize_repository",
    "normalize_workflow",
    "repository_from_mirror_url",
]

Policy = Literal["off", "warn", "require"]
POLICIES: Final[tuple[Policy, ...]] = ("off", "warn", "require")
DEFAULT_WORKFLOW: Final = ".github/workflows/build.yml"
_REPO: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_WORKFLOW: Final = re.compile(r"^\.github/workflows/[A-Za-z0-9._/-]+\.ya?ml$")
_GITHUB_IO: Final = re.compile(
    r"^https://(?P<owner>[A-Za-z0-9-]+)\.github\.io/(?P<repo>[A-Za-z0-9._-]+)(/|$)"
)


# -- identities -------------------------------------------------------------------------


def normalize_repository(value: str) -> str:
    """``owner/repo`` from ``owner/repo`` or ``https://github.com/owner/repo``.

    >>> normalize_repository("https://github.com/O/R"), normalize_repository("O/R.py")
    ('O/R', 'O/R.py')
    """
    repo = value.strip().removeprefix("https://github.com/").rstrip("/").removesuffix(".git")
    if not _REPO.match(repo):
        msg = f"{value!r} is not a GitHub repository (owner/name)"
        raise ConfigError(msg)
    return repo


def normalize_workflow(value: str) -> str:
    """A workflow path without any ``@ref`` (``.github/workflows/build.yml``).

    >>> normalize_workflow(".github/workflows/build.yml@refs/heads/main")
    '.github/workflows/build.yml'
    """
    path = value.strip().split("@", 1)[0]
    if not _WORKFLOW.match(path) or ".." in path.split("/"):
        msg = f"{value!r} is not a workflow path (.github/workflows/NAME.yml)"
        raise ConfigError(msg)
    return path


def repository_from_mirror_url(url: str) -> str | None:
    """The repository a GitHub Pages mirror is published from, or None.

    >>> repository_from_mirror_url("https://poetry-wheelmirror.github.io/mirror/")
    'poetry-wheelmirror/mirror'
    >>> repository_from_mirror_url("https://example.org/mirror/") is None
    True
    """
    match = _GITHUB_IO.match(url.strip())
    if match is None:
        return None
    return f"{match['owner']}/{match['repo']}"


@dataclass(frozen=True)
class Expected:
    """Who must have signed: a workflow file of a GitHub repository."""

    repository: str
    workflow: str = DEFAULT_WORKFLOW

    @classmethod
    def of(cls, repository: str, workflow: str = DEFAULT_WORKFLOW) -> Expected:
        """Normalised; ConfigError names a malformed repository or workflow path."""
        return cls(normalize_repository(repository), normalize_workflow(workflow))

    @property
    def prefix(self) -> str:
        """What the certificate's Build Config URI must start with."""
        return f"https://github.com/{self.repository}/{self.workflow}@"
