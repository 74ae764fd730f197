"""Whether a package should come from the mirror instead of what Poetry chose (pure).

The plugin asks in two steps so that it fetches nothing it does not need:

1. :func:`precheck` with what Poetry chose and the settings: a wheel from PyPI, a
   disabled plugin, a denied package, ``installer.no-binary``... end it there;
2. :func:`decide` with the package document, only when the mirror may help: is there
   a build of this exact version, built from the very sdist the lock file names, with
   a wheel compatible with the environment's tags (ranked as pip ranks them)?
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Literal

from packaging.utils import canonicalize_name

from poetry_wheelmirror.errors import NoCompatibleWheelError
from poetry_wheelmirror.selection import select_wheel

if TYPE_CHECKING:
    from packaging.tags import Tag

    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.manifest import WheelFile
    from poetry_wheelmirror.settings import PluginSettings

__all__ = [
    "ChoiceKind",
    "Decision",
    "choice_kind",
    "decide",
    "file_entry",
    "link_url",
    "precheck",
]

ChoiceKind = Literal["wheel", "sdist", "none"]


@dataclass(frozen=True)
class Decision:
    """The verdict for one package: the mirror wheel to use, or why not."""

    use_mirror: bool
    reason: str
    wheel: WheelFile | None = None
    #: The refusal is worth a warning line (the user expected the mirror to help).
    warn: bool = False


def choice_kind(filename: str | None) -> ChoiceKind:
    """What Poetry chose: ``"wheel"``, ``"sdist"``, or ``"none"`` (no candidate).

    >>> choice_kind("a-1.0-py3-none-any.whl"), choice_kind("a-1.0.tar.gz"), choice_kind(None)
    ('wheel', 'sdist', 'none')
    """
    if filename is None:
        return "none"
    if filename.endswith(".whl"):
        return "wheel"
    return "sdist"


def precheck(
    name: str,
    chosen: str | None,
    settings: PluginSettings,
    tags: Sequence[Tag],
    *,
    binary_allowed: bool,
) -> Decision | None:
    """A final "no" that needs no mirror document, or None when the mirror should be asked.

    *chosen* is the filename Poetry chose (None when it found no candidate);
    *binary_allowed* is False when ``installer.no-binary`` excludes wheels of *name*.
    """
    kind = choice_kind(chosen)
    if kind == "wheel":
        return Decision(False, f"PyPI has a compatible wheel ({chosen})")
    if not settings.enabled:
        return Decision(False, f"the plugin is disabled ({settings.disabled_reason})")
    problem = settings.package_problem(name) or settings.platform_problem(tags)
    if problem:
        return Decision(False, problem)
    if not binary_allowed:
        return Decision(False, "installer.no-binary excludes wheels of this package")
    return None


def decide(
    name: str,
    version: str,
    doc: PackageDocument | None,
    tags: Sequence[Tag],
    python_version: str | None,
    locked_hashes: Collection[str],
) -> Decision:
    """The mirror wheel for *name* *version*, or why there is none.

    *locked_hashes* are the ``"sha256:<hex>"`` hashes poetry.lock lists for the package;
    the wheel is used only when the sdist it was built from is one of them.
    """
    key = canonicalize_name(name)
    if doc is None:
        return Decision(False, f"the mirror does not carry {key}")
    entry = doc.entry_for(version)
    if entry is None:
        return Decision(False, f"the mirror has no build of {key} {version}")
    source_hash = f"sha256:{entry.source.sha256}"
    if source_hash not in locked_hashes:
        return Decision(
            False,
            f"refusing the mirror wheel for {key} {version}: it was built from"
            f" {entry.source.filename} (sha256 {entry.source.sha256}), which is not"
            " among the files poetry.lock lists for this package",
            warn=True,
        )
    try:
        wheel = select_wheel(entry.wheels, tags, python_version)
    except NoCompatibleWheelError as e:
        return Decision(False, f"no mirror wheel fits this environment: {e}")
    if wheel.yanked:
        return Decision(False, f"the mirror wheel {wheel.filename} is yanked")
    return Decision(True, f"mirror wheel {wheel.filename}", wheel=wheel)


def link_url(url: str, sha256: str) -> str:
    """*url* with a ``#sha256=`` fragment, the form Poetry's Link reads hashes from.

    >>> link_url("https://h/a-1.0-py3-none-any.whl#x", "ab")
    'https://h/a-1.0-py3-none-any.whl#sha256=ab'
    """
    return f"{url.split('#', 1)[0]}#sha256={sha256}"


def file_entry(wheel: WheelFile) -> dict[str, str]:
    """The ``package.files`` item that makes Poetry accept exactly this wheel's bytes."""
    return {"file": wheel.filename, "hash": f"sha256:{wheel.sha256}"}
