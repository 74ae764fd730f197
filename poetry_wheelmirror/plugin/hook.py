"""The install hook: where Poetry chose an sdist, use the mirror's verified wheel.

Poetry chooses first. Where it chose an sdist (or found no candidate) and
the mirror has a compatible wheel of that exact version, built from an sdist whose
sha256 poetry.lock lists, the plugin downloads that wheel (its own timeouts and deadline,
sha256 checked before the rename) to where Poetry's ``ArtifactCache`` looks for the
link; then the chooser returns the mirror wheel's ``Link`` and the package's ``files``
temporarily gain that wheel's hash, so Poetry's cache and hash check accept exactly
those bytes. A wheel that cannot be downloaded leaves Poetry's choice (one warning).
``Executor.execute`` is wrapped to put ``files`` back in a ``finally`` before the
installer writes the lock file.

The Poetry internals this relies on are checked and handed over by ``poetry_internals``.
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
from poetry_wheelmirror.plugin.poetry_internals import NO_CANDIDATE
from poetry_wheelmirror.plugin.poetry_internals import env_python_version
from poetry_wheelmirror.plugin.poetry_internals import env_tags
from poetry_wheelmirror.plugin.poetry_internals import pyproject_data
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.settings import cache_dir_for
from poetry_wheelmirror.settings import load_settings
from poetry_wheelmirror.settings import tool_table

if TYPE_CHECKING:
    from packaging.tags import Tag

    from poetry_wheelmirror.manifest import WheelFile
    from poetry_wheelmirror.mirror_client import MirrorReader
    from poetry_wheelmirror.redirect import Decision

__all__ = ["PREFIX", "Hook", "open_reader", "settings_for"]

#: What every line the plugin writes starts with.
PREFIX: Final = "wheelmirror"
#: The mirror wheel download: (connect, read) timeouts, overall deadline, size slack.
_WHEEL_TIMEOUT: Final = (3.0, 10.0)
_WHEEL_DEADLINE: Final = 120.0
_WHEEL_SIZE_SLACK: Final = 64 * 1024


def settings_for(poetry: Any) -> PluginSettings:
    """The plugin's settings for this project and machine (ConfigError when invalid)."""
    return load_settings(tool_table(pyproject_data(poetry)), os.environ)


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
        from poetry_wheelmirror.urls import redact_text

        message = redact_text(message)  # settings.url may carry a token
        line = f"<warning>{PREFIX}: warning: {message}</warning>"
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
            self.io.write_line(f"{PREFIX}: {message}")

    # -- the mirror ---------------------------------------------------------------------

    @property
    def tags(self) -> list[Tag]:
        if self._tags is None:
            self._tags = env_tags(self.env)
        return self._tags

    def reader(self) -> MirrorReader:
        if self._reader is None:
            # The built-in default was not configured by anyone: no network warnings.
            warn = self.debug if self.settings.builtin_default else self.warn
            self._reader = open_reader(self.settings, self.poetry, warn)
        return self._reader

    def mark_unavailable(self, error: Exception) -> None:
        """The mirror cannot be used for this command: say so once, then leave Poetry be."""
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
                    self.mark_unavailable(e)
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
            env_python_version(self.env),
            locked,
        )
        if decision.use_mirror and decision.wheel is not None and self.settings.provenance != "off":
            decision = self._check_provenance(name, package.version.text, decision)
        return decision

    def _check_provenance(self, name: str, version: str, decision: Decision) -> Decision:
        """The provenance policy's verdict on the chosen mirror wheel (not off)."""
        from poetry_wheelmirror.provenance import check_wheel
        from poetry_wheelmirror.provenance import fetch_bundle
        from poetry_wheelmirror.provenance_policy import Expected
        from poetry_wheelmirror.redirect import Decision

        wheel = decision.wheel
        assert wheel is not None
        s = self.settings
        repository = s.expected_repository()
        expected = Expected(repository, s.provenance_workflow) if repository else None
        with self.lock:
            verdict = check_wheel(
                wheel,
                s.provenance,
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
            if not str(e).startswith(NO_CANDIDATE):
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
            self.io.write_line(f"{PREFIX}: {count} package{plural} from the mirror: {names}")
        else:
            self.io.write_error_line(
                f"{PREFIX}: the installation failed (see above); the mirror's wheel{plural}"
                f" had been chosen for: {names}. To install from source meanwhile, run with"
                " POETRY_WHEELMIRROR_DISABLE=1."
            )
        for (name, version), (filename, url) in self.redirected.items():
            self.debug(f"{name} {version}: {filename} <- {url}")
        self.redirected.clear()
