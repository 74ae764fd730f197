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

The hook: Poetry chooses first. Where it chose an sdist (or found no candidate) and
the mirror has a compatible wheel of that exact version, built from an sdist whose
sha256 poetry.lock lists, the plugin downloads that wheel (its own timeouts and deadline,
sha256 checked before the rename) to where Poetry's ``ArtifactCache`` looks for the
link; then the chooser returns the mirror wheel's ``Link`` and the package's ``files``
temporarily gain that wheel's hash, so Poetry's cache and hash check accept exactly
those bytes. A wheel that cannot be downloaded leaves Poetry's choice (one warning).
``Executor.execute`` is wrapped to put ``files`` back in a ``finally`` before the
installer writes the lock file.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.plugin.default_gate import SourceBuilds
from poetry_wheelmirror.plugin.default_gate import default_blocked_reason
from poetry_wheelmirror.plugin.default_gate import unverifiable_reason
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.settings import cache_dir_for
from poetry_wheelmirror.settings import load_settings
from poetry_wheelmirror.settings import tool_table

if TYPE_CHECKING:
    from packaging.tags import Tag

    from poetry_wheelmirror.manifest import WheelFile
    from poetry_wheelmirror.mirror_client import MirrorReader
    from poetry_wheelmirror.redirect import Decision

__all__ = [
    "INSTALL_COMMANDS",
    "LISTENER_PRIORITY",
    "Hook",
    "InternalsMismatch",
    "doctor_command",
    "on_command",
    "open_reader",
    "poetry_version_problem",
    "refresh_command",
    "status_command",
]

#: Commands that install; ``poetry self ...`` commands are named ``"self install"`` etc.
INSTALL_COMMANDS: Final = frozenset({"install", "add", "update", "sync"})
#: Below Poetry's own COMMAND listeners (priority 0): they must have made the installer.
LISTENER_PRIORITY: Final = -100
_NO_CANDIDATE: Final = "Unable to find installation candidates"
_PREFIX: Final = "wheelmirror"
#: The mirror wheel download: (connect, read) timeouts, overall deadline, size slack.
_WHEEL_TIMEOUT: Final = (3.0, 10.0)
_WHEEL_DEADLINE: Final = 120.0
_WHEEL_SIZE_SLACK: Final = 64 * 1024


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


def _binary_policy_check(chooser: Any) -> Callable[[str], bool]:
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


def _tags(env: Any) -> list[Tag]:
    """The environment's tags as this process's ``packaging`` Tag objects."""
    from packaging.tags import Tag

    return [Tag(t.interpreter, t.abi, t.platform) for t in env.supported_tags]


def _python_version(env: Any) -> str | None:
    try:
        return ".".join(str(p) for p in tuple(env.version_info)[:3])
    except (AttributeError, TypeError):
        return None


def _settings_for(poetry: Any) -> PluginSettings:
    try:
        data = poetry.pyproject.data
    except AttributeError:
        data = None
    return load_settings(tool_table(data), os.environ)


def open_reader(settings: PluginSettings, poetry: Any, warn: Callable[[str], None]) -> MirrorReader:
    """A MirrorReader for *settings*' URL with its cache under Poetry's cache-dir."""
    from poetry_wheelmirror.client import CachedClient
    from poetry_wheelmirror.mirror_client import MirrorReader

    try:
        cache_root = poetry.config.get("cache-dir")
    except AttributeError:
        cache_root = None
    # Shorter than the CLI's defaults: a black-holed mirror must not stall an install
    # for long (worst case about 2 x 3 s to connect, then a normal install).
    client = CachedClient(
        cache_dir_for(cache_root), timeout=(3.0, 10.0), deadline=30.0, retries=1, warn=warn
    )
    return MirrorReader(settings.url, client)


class Hook:
    """The plugin's state for one installing command."""

    def __init__(
        self,
        *,
        settings: PluginSettings,
        io: Any,
        env: Any,
        poetry: Any,
        binary_allowed: Callable[[str], bool],
        link_factory: Callable[[str], Any],
        cache_dir_for_link: Callable[[Any], Path] | None = None,
    ) -> None:
        self.settings = settings
        self.io = io
        self.env = env
        self.poetry = poetry
        self.binary_allowed = binary_allowed
        self.link_factory = link_factory
        self.cache_dir_for_link = cache_dir_for_link
        self.lock = threading.RLock()
        self.failure: str | None = None
        self._reader: MirrorReader | None = None
        self._tags: list[Tag] | None = None
        self._warned: set[str] = set()
        self._provenance_warned: set[str] = set()
        #: id(package) -> (package, its files before the plugin touched them)
        self._patched: dict[int, tuple[Any, Any]] = {}
        #: (name, version) -> (wheel filename, url) of each redirected package
        self.redirected: dict[tuple[str, str], tuple[str, str]] = {}
        self._local_files: dict[str, Path] = {}
        self._deferred: list[str] | None = None
        #: Packages left to a source build because the built-in default is not usable.
        self.source_builds = SourceBuilds()

    # -- output -------------------------------------------------------------------------

    def warn(self, message: str) -> None:
        line = f"<warning>{_PREFIX}: warning: {message}</warning>"
        with self.lock:
            if message in self._warned:
                return
            self._warned.add(message)
            if self._deferred is not None:
                self._deferred.append(line)
                return
        self.io.write_error_line(line)

    def debug(self, message: str) -> None:
        if self.io.is_verbose():
            self.io.write_line(f"{_PREFIX}: {message}")

    # -- the mirror ---------------------------------------------------------------------

    @property
    def tags(self) -> list[Tag]:
        if self._tags is None:
            self._tags = _tags(self.env)
        return self._tags

    def reader(self) -> MirrorReader:
        if self._reader is None:
            # The built-in default was not configured by anyone: no network warnings.
            warn = self.debug if self.settings.builtin_default else self.warn
            self._reader = open_reader(self.settings, self.poetry, warn)
        return self._reader

    def _fail(self, error: Exception) -> None:
        self.failure = str(error)
        if self.settings.builtin_default:
            self.failure = f"the built-in mirror did not answer: {error}"
            self.debug(self.failure)
            return
        self.warn(f"mirror {self.settings.url} not used: {error}; installing without it")

    def begin_execution(self) -> None:
        """Hold warnings back while Poetry's executor runs: with decorated output its
        sections rewrite lines in place and would garble or erase a line printed in
        between (Poetry defers its own yanked-file warnings for the same reason)."""
        with self.lock:
            self._deferred = []

    def end_execution(self) -> None:
        with self.lock:
            deferred, self._deferred = self._deferred, None
        for line in deferred or ():
            self.io.write_error_line(line)

    def decision_for(self, package: Any, chosen: str | None) -> Decision:
        """The verdict for *package* given the filename Poetry chose (None: no candidate)."""
        from poetry_wheelmirror.redirect import Decision
        from poetry_wheelmirror.redirect import decide
        from poetry_wheelmirror.redirect import precheck

        name = package.name
        early = precheck(
            name,
            chosen,
            self.settings,
            self.tags,
            binary_allowed=self.binary_allowed(name),
        )
        if early is not None:
            return early
        with self.lock:
            if self.failure is None:
                self.failure = default_blocked_reason(self.settings)
            if self.failure is None:
                try:
                    # Fetched on first need only: an install whose packages all have
                    # PyPI wheels never touches the mirror.
                    self.reader().root()
                except WheelmirrorError as e:
                    self._fail(e)
            if self.failure is not None:
                if self.settings.builtin_default:
                    self.source_builds.add(name, package.version.text, self.failure)
                return Decision(False, f"the mirror is unavailable ({self.failure})")
            try:
                doc = self.reader().package(name)
            except WheelmirrorError as e:
                if self.settings.builtin_default:
                    reason = unverifiable_reason(f"its {name} document is unusable: {e}")
                    self.source_builds.add(name, package.version.text, reason)
                    return Decision(False, reason)
                self.warn(f"{name}: mirror package document not used: {e}; installing without it")
                return Decision(False, f"package document unusable: {e}")
        locked = {str(f.get("hash", "")) for f in package.files}
        decision = decide(
            name,
            package.version.text,
            doc,
            self.tags,
            _python_version(self.env),
            locked,
        )
        if decision.use_mirror and decision.wheel is not None and self.settings.provenance != "off":
            decision = self._check_provenance(name, package.version.text, decision)
        return decision

    def _check_provenance(self, name: str, version: str, decision: Decision) -> Decision:
        """The provenance policy's verdict on the chosen mirror wheel (not off)."""
        from poetry_wheelmirror.provenance import Expected
        from poetry_wheelmirror.provenance import check_wheel
        from poetry_wheelmirror.provenance import fetch_bundle
        from poetry_wheelmirror.redirect import Decision

        wheel = decision.wheel
        assert wheel is not None
        s = self.settings
        repository = s.expected_repository()
        expected = Expected(repository, s.provenance_workflow) if repository else None
        with self.lock:
            verdict = check_wheel(
                wheel,
                s.provenance,  # type: ignore[arg-type]
                expected,
                lambda: fetch_bundle(self.reader(), name, wheel),
                label=f"{name} {version}",
            )
        if not verdict.use and s.builtin_default and wheel.provenance is None:
            # Nothing was forged, only not attested: quiet, like an absent mirror.
            reason = unverifiable_reason("its wheels carry no provenance attestation")
            self.source_builds.add(name, version, reason)
            return Decision(False, reason)
        if verdict.use:
            if verdict.message:
                with self.lock:
                    first = verdict.once not in self._provenance_warned
                    self._provenance_warned.add(verdict.once)
                if first or not verdict.once:
                    self.warn(verdict.message)
                else:
                    self.debug(verdict.message)
            if verdict.verified:
                self.debug(f"{name} {version}: provenance verified ({wheel.filename})")
            return decision
        # The refusal is the warning (choose_for adds "installing as without the plugin").
        return Decision(False, verdict.message, warn=True)

    # -- the wrappers -------------------------------------------------------------------

    def choose_for(self, package: Any, original: Callable[[Any], Any]) -> Any:
        from poetry_wheelmirror.redirect import Decision

        no_candidate: Exception | None = None
        link = None
        try:
            link = original(package)
        except Exception as e:
            if not str(e).startswith(_NO_CANDIDATE):
                raise
            no_candidate = e
        try:
            decision = self.decision_for(package, None if link is None else link.filename)
        except Exception as e:  # a bug here must not break the install
            self.warn(f"{package.name}: internal error ({type(e).__name__}: {e}); not redirecting")
            decision = Decision(False, "internal error")
        if decision.warn:
            self.warn(f"{decision.reason}; installing as without the plugin")
        if not decision.use_mirror or decision.wheel is None:
            self.debug(f"{package.name} {package.version.text}: not redirected: {decision.reason}")
            if no_candidate is not None:
                raise no_candidate
            return link
        try:
            return self._redirect(package, decision)
        except WheelmirrorError as e:
            self.warn(f"{package.name}: {e}; installing as without the plugin")
            if no_candidate is not None:
                raise no_candidate from None
            return link

    def _redirect(self, package: Any, decision: Decision) -> Any:
        wheel = decision.wheel
        assert wheel is not None
        from poetry_wheelmirror.redirect import file_entry
        from poetry_wheelmirror.redirect import link_url
        from poetry_wheelmirror.urls import url_scheme_problem
        from poetry_wheelmirror.urls import url_to_path

        url = self.reader().wheel_url(package.name, wheel)
        problem = url_scheme_problem(url)
        if problem:
            msg = f"mirror wheel URL refused: {problem}"
            raise WheelmirrorError(msg)
        link = self.link_factory(link_url(url, wheel.sha256))
        # Before anything is patched: a wheel that cannot be had leaves Poetry's choice.
        self._prefetch(link, url, wheel)
        with self.lock:
            key = id(package)
            if key not in self._patched:
                self._patched[key] = (package, package.files)
            original_files = self._patched[key][1]
            # Only this wheel's hash is added: Poetry verifies the bytes it downloads.
            package.files = [*original_files, file_entry(wheel)]
            if url.startswith("file:"):
                self._local_files[url.split("#", 1)[0]] = url_to_path(url)
            self.redirected[(package.name, package.version.text)] = (wheel.filename, url)
        return link

    def _prefetch(self, link: Any, url: str, wheel: WheelFile) -> None:
        """Put the verified mirror wheel where Poetry's artifact cache looks for *link*.

        Poetry's ``get_cached_archive_for_link(link, strict=True)`` (2.0.1 and 2.5.1)
        reuses ``get_cache_directory_for_link(link) / link.filename`` when it exists and
        downloads only otherwise. So the plugin downloads the wheel itself, with its own
        timeouts (a wheel deadline, ``Retry-After`` capped, a size limit from the
        manifest) and its sha256 checked before the rename into place: only verified
        bytes land in Poetry's cache, and Poetry checks them again against
        ``package.files``. A cached copy with the wrong bytes (tampered, or from a mirror
        since repaired) is removed first, or Poetry would reuse it on every install.

        Raises WheelmirrorError when the wheel cannot be downloaded: the caller then
        keeps Poetry's own choice. Bytes that arrive whole but do not match the
        manifest's sha256 are not a download failure but a tampering signal: nothing is
        cached and the redirect stands, so Poetry downloads them itself and stops the
        install with its own hash error (fail-closed, docs/poetry.md).
        """
        if self.cache_dir_for_link is None:
            return  # Poetry downloads and verifies the wheel itself
        import hashlib
        import urllib.parse

        from poetry_wheelmirror.client import CachedClient
        from poetry_wheelmirror.errors import HashMismatchError

        filename = getattr(link, "filename", "")
        try:
            if not filename or "/" in filename or "\\" in filename:
                msg = f"unexpected link filename {filename!r}"
                raise TypeError(msg)
            cached = Path(self.cache_dir_for_link(link)) / filename
            if cached.is_file():
                digest = hashlib.sha256(cached.read_bytes()).hexdigest()
                if digest == wheel.sha256:
                    self.debug(f"{filename}: verified copy already in Poetry's cache")
                    return
                cached.unlink()
                self.debug(f"removed a cached {filename} whose sha256 was {digest}")
        except (OSError, AttributeError, TypeError) as e:
            self.debug(f"cannot use Poetry's artifact cache for {filename}: {e}")
            return  # Poetry downloads and verifies the wheel itself
        # One client per download: nothing shared between Poetry's worker threads.
        client = CachedClient(
            None,
            timeout=_WHEEL_TIMEOUT,
            deadline=_WHEEL_DEADLINE,
            retries=1,
            warn=self.warn,
        )
        try:
            client.download(
                url, cached, sha256=wheel.sha256, max_bytes=wheel.size + _WHEEL_SIZE_SLACK
            )
        except HashMismatchError as e:
            self.debug(f"{e}; leaving it to Poetry's hash check")
            return
        except WheelmirrorError as e:
            host = urllib.parse.urlsplit(url).netloc or url.split("#", 1)[0]
            msg = f"mirror wheel not used: cannot download it from {host}: {e}"
            raise WheelmirrorError(msg) from None
        except OSError as e:  # the cache folder itself (full disk, permissions)
            self.debug(f"cannot write {cached}: {e}; Poetry downloads the wheel itself")
            return
        self.debug(f"{filename}: downloaded and verified into Poetry's cache")

    def download_archive(
        self, original: Callable[[Any, str, Path], None], operation: Any, url: str, dest: Path
    ) -> None:
        """Poetry's downloader speaks http(s) only: copy a local mirror's wheel instead.
        Poetry checks the copy's hash against ``package.files`` afterwards."""
        local = self._local_files.get(url.split("#", 1)[0])
        if local is None:
            original(operation, url, dest)
            return
        try:
            shutil.copyfile(local, dest)
        except OSError as e:
            msg = f"cannot read the mirror wheel {local}: {e.strerror}"
            raise WheelmirrorError(msg) from None

    def restore(self) -> None:
        """Put every patched ``package.files`` back (before the lock file is written)."""
        with self.lock:
            for package, files in self._patched.values():
                package.files = files
            self._patched.clear()

    def report(self, *, succeeded: bool = True) -> None:
        quiet = self.source_builds.line()
        if quiet and succeeded:
            self.io.write_error_line(quiet)
        if not self.redirected:
            return
        names = ", ".join(f"{name} {version}" for name, version in self.redirected)
        count = len(self.redirected)
        plural = "s" if count != 1 else ""
        if succeeded:
            self.io.write_line(f"{_PREFIX}: {count} package{plural} from the mirror: {names}")
        else:
            self.io.write_error_line(
                f"{_PREFIX}: the installation failed (see above); the mirror's wheel{plural}"
                f" had been chosen for: {names}. To install from source meanwhile, run with"
                " POETRY_WHEELMIRROR_DISABLE=1."
            )
        for (name, version), (filename, url) in self.redirected.items():
            self.debug(f"{name} {version}: {filename} <- {url}")
        self.redirected.clear()


def _attach(command: Any, io: Any) -> Hook | None:
    """Check the internals, read the settings and wrap the installer; None when off."""
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
    binary_allowed = _binary_policy_check(chooser)
    env = _require(chooser, "_env", "Chooser")
    if not hasattr(type(env), "supported_tags") or not hasattr(env, "version_info"):
        raise InternalsMismatch("Env.supported_tags / Env.version_info are missing")
    try:
        from poetry.core.packages.utils.link import Link
    except ImportError as e:
        msg = f"poetry.core.packages.utils.link.Link: {e}"
        raise InternalsMismatch(msg) from None

    poetry = command.poetry
    settings = _settings_for(poetry)
    if not settings.enabled:
        if io.is_verbose():
            io.write_line(f"{_PREFIX}: off ({settings.disabled_reason})")
        return None
    artifact_cache = getattr(executor, "_artifact_cache", None)
    hook = Hook(
        settings=settings,
        io=io,
        env=env,
        poetry=poetry,
        binary_allowed=binary_allowed,
        link_factory=Link,
        # Optional: without it Poetry downloads the mirror wheel itself (no fallback).
        cache_dir_for_link=getattr(artifact_cache, "get_cache_directory_for_link", None),
    )

    def wrapped_choose_for(package: Any) -> Any:
        return hook.choose_for(package, choose_for)

    def wrapped_execute(operations: Any) -> Any:
        hook.begin_execution()
        status: Any = 1
        try:
            status = execute(operations)
            return status
        finally:
            hook.restore()
            hook.end_execution()
            hook.report(succeeded=status == 0)

    def wrapped_download(operation: Any, url: str, dest: Path) -> None:
        hook.download_archive(download, operation, url, dest)

    chooser.choose_for = wrapped_choose_for
    executor.execute = wrapped_execute
    executor._download_archive = wrapped_download
    hook.debug(f"using mirror {settings.url} (from {settings.url_origin})")
    return hook


def on_command(event: Any, event_name: str, dispatcher: Any) -> None:
    """The cleo COMMAND listener: hook the installer of install/add/update/sync."""
    del event_name, dispatcher
    command = getattr(event, "command", None)
    if getattr(command, "name", None) not in INSTALL_COMMANDS:
        return
    io = event.io
    try:
        _attach(command, io)
    except InternalsMismatch as e:
        io.write_error_line(
            f"<warning>{_PREFIX}: warning: Poetry internals changed ({e});"
            " installing without the mirror</warning>"
        )
    except WheelmirrorError as e:
        io.write_error_line(
            f"<warning>{_PREFIX}: warning: {e}; installing without the mirror</warning>"
        )
    except Exception as e:  # a bug in the plugin must never break the install
        io.write_error_line(
            f"<warning>{_PREFIX}: warning: internal error ({type(e).__name__}: {e});"
            " installing without the mirror</warning>"
        )


# -- the commands' work -----------------------------------------------------------------


def _locked_packages(poetry: Any, env: Any) -> list[tuple[Any, bool]]:
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


def status_command(command: Any) -> int:
    """``poetry wheelmirror status``: where each locked package will come from, and why."""
    io = command.io
    poetry = command.poetry
    try:
        settings = _settings_for(poetry)
    except WheelmirrorError as e:
        command.line_error(f"<error>{_PREFIX}: {e}</error>")
        return 1
    as_json = bool(command.option("json"))
    say = (lambda text: None) if as_json else command.line
    say(f"Mirror: <info>{settings.url}</info> (from {settings.url_origin})")
    if settings.builtin_default:
        say(
            "Trust: used only for wheels whose provenance verifies as built by"
            f" {settings.provenance_repository} {settings.provenance_workflow}"
        )
    if not settings.enabled:
        say(f"Plugin: <comment>off</comment> ({settings.disabled_reason})")
    if not poetry.locker.is_locked():
        command.line_error("<error>No poetry.lock: run `poetry lock` first.</error>")
        return 1
    from poetry.core.packages.utils.link import Link
    from poetry.installation.chooser import Chooser

    env = command.env
    chooser = Chooser(poetry.pool, env, poetry.config)
    hook = Hook(
        settings=settings,
        io=io,
        env=env,
        poetry=poetry,
        binary_allowed=_binary_policy_check(chooser),
        link_factory=Link,
    )
    blocked = default_blocked_reason(settings)
    if blocked:
        hook.failure = blocked
        say(f"<comment>{blocked}</comment>")
    elif settings.enabled:
        try:
            root = hook.reader().root()
            say(f"Manifest: {len(root.packages)} package(s), generated {root.generated_at}")
        except WheelmirrorError as e:
            hook._fail(e)
    rows: list[tuple[str, str, str, str]] = []
    for package, needed in _locked_packages(poetry, env):
        label = f"{package.pretty_name} {package.version.text}"
        if not needed:
            rows.append((label, "skipped", "-", "not needed in this environment (markers)"))
            continue
        if package.source_type not in (None, "legacy"):
            rows.append((label, "source", "-", f"{package.source_type} dependency"))
            continue
        chosen = None
        try:
            chosen = chooser.choose_for(package).filename
        except Exception as e:
            if not str(e).startswith(_NO_CANDIDATE):
                rows.append((label, "error", "-", str(e).splitlines()[0]))
                continue
        decision = hook.decision_for(package, chosen)
        if decision.use_mirror and decision.wheel is not None:
            where = "mirror"
            detail = decision.wheel.filename
            if io.is_verbose():
                detail += f" <- {hook.reader().wheel_url(package.name, decision.wheel)}"
            rows.append((label, where, detail, "PyPI has no compatible wheel"))
        elif chosen is not None and chosen.endswith(".whl"):
            rows.append((label, "pypi-wheel", chosen, "compatible wheel on the index"))
        elif chosen is None:
            rows.append((label, "none", "-", f"no installable file: {decision.reason}"))
        else:
            rows.append((label, "build", chosen, decision.reason))
    counts = {k: sum(1 for r in rows if r[1] == k) for k in ("mirror", "pypi-wheel", "build")}
    if as_json:
        import json

        packages = [
            {"package": label, "from": where, "file": detail, "reason": reason}
            for label, where, detail, reason in rows
        ]
        doc = {"mirror": settings.url, "source": settings.url_source, "packages": packages}
        from cleo.formatters.formatter import Formatter

        command.line(Formatter.escape(json.dumps({**doc, "counts": counts}, indent=2)))
        return 0
    width = max((len(r[0]) for r in rows), default=0)
    for label, where, detail, reason in rows:
        command.line(f"  {label:<{width}}  {where:<10}  {detail}  ({reason})")
    command.line(
        f"{counts['mirror']} from the mirror, {counts['pypi-wheel']} PyPI wheel(s),"
        f" {counts['build']} source build(s)"
    )
    return 0


def refresh_command(command: Any) -> int:
    """``poetry wheelmirror refresh``: revalidate the cached root manifest and documents."""
    poetry = command.poetry
    try:
        settings = _settings_for(poetry)
    except WheelmirrorError as e:
        command.line_error(f"<error>{_PREFIX}: {e}</error>")
        return 1

    def warn(message: str) -> None:
        command.line_error(f"<warning>{_PREFIX}: warning: {message}</warning>")

    reader = open_reader(settings, poetry, warn)
    try:
        root = reader.root(revalidate=True)
    except WheelmirrorError as e:
        command.line_error(f"<error>{_PREFIX}: cannot refresh {settings.url}: {e}</error>")
        return 1
    refreshed = 0
    try:
        locked = [p.name for p in poetry.locker.locked_repository().packages]
    except Exception:
        locked = []
    for name in locked:
        if name in root.packages:
            try:
                reader.package(name, revalidate=True)
                refreshed += 1
            except WheelmirrorError as e:
                warn(str(e))
    state = " (stale: served from the cache)" if reader.stale else ""
    command.line(
        f"Refreshed {reader.root_url}{state}: {len(root.packages)} package(s),"
        f" generated {root.generated_at}; {refreshed} package document(s) for this lock"
    )
    return 0


def doctor_command(command: Any) -> int:
    """``poetry wheelmirror doctor``: ``wheelmirror doctor`` seen from inside Poetry, with
    Poetry's own environment (tags, Python, markers) and no subprocess to find Poetry."""
    import json
    import sys

    from cleo.formatters.formatter import Formatter
    from poetry.__version__ import __version__ as poetry_version

    from poetry_wheelmirror.doctor.run import DoctorOptions
    from poetry_wheelmirror.doctor.run import PoetryFacts
    from poetry_wheelmirror.doctor.run import exit_status
    from poetry_wheelmirror.doctor.run import format_report
    from poetry_wheelmirror.doctor.run import report_json
    from poetry_wheelmirror.doctor.run import run_doctor

    poetry, env = command.poetry, command.env
    python = _python_version(env)
    checks = run_doctor(
        DoctorOptions(
            mirror=command.option("mirror"),
            project=Path(poetry.pyproject_path).parent,
            environ=dict(os.environ),
            poetry_facts=PoetryFacts(version=poetry_version, executable=sys.argv[0]),
            tags=tuple(_tags(env)),
            python_version=python,
            marker_env={k: v for k, v in env.marker_env.items() if isinstance(v, str)},
            target_label=f"Poetry's environment {env.path} (Python {python})",
            prefix=Path(env.path),
            cache_dir=cache_dir_for(poetry.config.get("cache-dir")),
        )
    )
    if command.option("json"):
        command.line(json.dumps(report_json(checks), indent=2))
    else:
        for line in format_report(checks):
            command.line(Formatter.escape(line))
    return exit_status(checks)
