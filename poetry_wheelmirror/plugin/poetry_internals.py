"""Everything that touches Poetry's private internals (checked on Poetry 2.0.1 and 2.5.1).

What is relied on, all checked at the start of each installing command (a mismatch
prints one warning and Poetry installs as if the plugin were absent):

* cleo's ``COMMAND`` event: Poetry's ``Application.configure_installer_for_event``
  listener (priority 0) puts an ``Installer`` on every ``InstallerCommand``; this
  plugin's listener has a lower priority, so it runs afterwards and finds
  ``command._installer``;
* ``Installer.executor`` (an ``Executor``) with ``_chooser`` (a ``Chooser``),
  ``execute(operations)`` and ``_download_archive(operation, url, dest)``;
* ``Chooser.choose_for(package) -> Link`` and its ``_no_binary_policy`` /
  ``_only_binary_policy`` (``PackageFilterPolicy``; ``has_exact_package`` since 2.x
  releases that let only-binary override no-binary);
* ``Env.supported_tags`` and ``Env.version_info``;
* ``Package.files`` (a list of ``{"file", "hash"}`` the executor validates every
  downloaded archive against) and poetry-core's ``Link(url)`` reading ``#sha256=``.

This module checks those and hands the checked objects over (:func:`installer_parts`,
:func:`wrap_installer`); ``hook`` holds what the plugin does with them and
``command_bodies`` the ``poetry wheelmirror`` commands. Nothing else in the package
reaches into Poetry's private attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from poetry_wheelmirror.errors import WheelmirrorError

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = [
    "NO_CANDIDATE",
    "InstallerParts",
    "InternalsMismatch",
    "binary_policy_check",
    "env_python_version",
    "env_tags",
    "installer_parts",
    "locked_names",
    "locked_packages",
    "make_chooser",
    "poetry_version_problem",
    "pyproject_data",
    "wrap_installer",
]

#: How Poetry's ``Chooser.choose_for`` error starts when a package has no candidate.
NO_CANDIDATE: Final = "Unable to find installation candidates"


class InternalsMismatch(WheelmirrorError):
    """Poetry's internals are not the ones this plugin was written against."""


def poetry_version_problem() -> str | None:
    """Why the running Poetry is outside the supported ``>=2.0,<3``, or None."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version

    try:
        found = version("poetry")
    except PackageNotFoundError:
        return "cannot tell which Poetry is running"
    major = found.split(".", 1)[0]
    if major != "2":
        return f"Poetry {found} is not supported (this plugin supports >=2.0,<3)"
    return None


def _require(obj: object, attr: str, where: str, params: tuple[str, ...] | None = None) -> Any:
    value = getattr(obj, attr, None)
    if value is None:
        msg = f"{where}.{attr} is missing"
        raise InternalsMismatch(msg)
    if params is not None:
        if not callable(value):
            msg = f"{where}.{attr} is not callable"
            raise InternalsMismatch(msg)
        import inspect

        try:
            names = tuple(inspect.signature(value).parameters)
        except (TypeError, ValueError):
            names = params
        if names[: len(params)] != params:
            msg = f"{where}.{attr}{tuple(names)} does not take {params}"
            raise InternalsMismatch(msg)
    return value


def binary_policy_check(chooser: Any) -> Callable[[str], bool]:
    """A function telling whether Poetry's policy lets a wheel of a package be used."""
    no_binary = _require(chooser, "_no_binary_policy", "Chooser")
    only_binary = _require(chooser, "_only_binary_policy", "Chooser")
    _require(no_binary, "allows", "PackageFilterPolicy", ("package_name",))
    if hasattr(no_binary, "has_exact_package") and hasattr(only_binary, "has_exact_package"):
        # Newer Poetry: an exact only-binary entry overrides no-binary = :all:.
        def allowed(name: str) -> bool:
            return not (
                no_binary.has_exact_package(name)
                or (not no_binary.allows(name) and not only_binary.has_exact_package(name))
            )

        return allowed
    return lambda name: bool(no_binary.allows(name))


def env_tags(env: Any) -> list[Tag]:
    """The environment's tags as this process's ``packaging`` Tag objects."""
    from packaging.tags import Tag

    return [Tag(t.interpreter, t.abi, t.platform) for t in env.supported_tags]


def env_python_version(env: Any) -> str | None:
    try:
        return ".".join(str(p) for p in tuple(env.version_info)[:3])
    except (AttributeError, TypeError):
        return None


def pyproject_data(poetry: Any) -> Any:
    """The parsed pyproject.toml of a ``Poetry`` object (None when it has none)."""
    try:
        return poetry.pyproject.data
    except AttributeError:
        return None


@dataclass(frozen=True)
class InstallerParts:
    """The checked pieces of an installing command's ``Installer``."""

    chooser: Any
    executor: Any
    env: Any
    choose_for: Callable[[Any], Any]
    execute: Callable[[Any], Any]
    download_archive: Callable[[Any, str, Path], None]
    binary_allowed: Callable[[str], bool]
    link_factory: Callable[[str], Any]
    #: Optional: without it Poetry downloads the mirror wheel itself (no fallback).
    cache_dir_for_link: Callable[[Any], Path] | None


def installer_parts(command: Any) -> InstallerParts:
    """Check the internals listed above on *command*; InternalsMismatch names the first
    one missing."""
    problem = poetry_version_problem()
    if problem:
        raise InternalsMismatch(problem)
    installer = getattr(command, "_installer", None)
    if installer is None:
        msg = "the command has no installer (Poetry's own COMMAND listener did not run first)"
        raise InternalsMismatch(msg)
    executor = _require(installer, "executor", "Installer")
    chooser = _require(executor, "_chooser", "Executor")
    choose_for = _require(chooser, "choose_for", "Chooser", ("package",))
    execute = _require(executor, "execute", "Executor", ("operations",))
    download = _require(executor, "_download_archive", "Executor", ("operation", "url", "dest"))
    binary_allowed = binary_policy_check(chooser)
    env = _require(chooser, "_env", "Chooser")
    if not hasattr(type(env), "supported_tags") or not hasattr(env, "version_info"):
        raise InternalsMismatch("Env.supported_tags / Env.version_info are missing")
    try:
        from poetry.core.packages.utils.link import Link
    except ImportError as e:
        msg = f"poetry.core.packages.utils.link.Link: {e}"
        raise InternalsMismatch(msg) from None
    artifact_cache = getattr(executor, "_artifact_cache", None)
    return InstallerParts(
        chooser=chooser,
        executor=executor,
        env=env,
        choose_for=choose_for,
        execute=execute,
        download_archive=download,
        binary_allowed=binary_allowed,
        link_factory=Link,
        cache_dir_for_link=getattr(artifact_cache, "get_cache_directory_for_link", None),
    )


def wrap_installer(
    parts: InstallerParts,
    *,
    choose_for: Callable[[Any], Any],
    execute: Callable[[Any], Any],
    download_archive: Callable[[Any, str, Path], None],
) -> None:
    """Put the plugin's wrappers in place of the chooser's and executor's methods."""
    parts.chooser.choose_for = choose_for
    parts.executor.execute = execute
    parts.executor._download_archive = download_archive


def make_chooser(poetry: Any, env: Any) -> tuple[Any, Callable[[str], bool], Any]:
    """A ``Chooser`` for *env* (as the installer would make one), whether its binary
    policy allows a package's wheels, and poetry-core's ``Link`` class."""
    from poetry.core.packages.utils.link import Link
    from poetry.installation.chooser import Chooser

    chooser = Chooser(poetry.pool, env, poetry.config)
    return chooser, binary_policy_check(chooser), Link


def locked_packages(poetry: Any, env: Any) -> list[tuple[Any, bool]]:
    """Each locked package and whether this environment needs it (markers)."""
    locker = poetry.locker
    result: list[tuple[Any, bool]] = []
    try:
        packages = locker.locked_packages()
    except Exception:  # older lock files: no markers to read
        return [(p, True) for p in locker.locked_repository().packages]
    for package, info in packages.items():
        needed = True
        try:
            markers = list(info.markers.values())
            if markers:
                needed = any(m.validate(env.marker_env) for m in markers)
        except Exception:
            needed = True
        result.append((package, needed))
    return sorted(result, key=lambda item: item[0].name)


def locked_names(poetry: Any) -> list[str]:
    """The names of the packages in poetry.lock ([] when it cannot be read)."""
    try:
        return [p.name for p in poetry.locker.locked_repository().packages]
    except Exception:
        return []
