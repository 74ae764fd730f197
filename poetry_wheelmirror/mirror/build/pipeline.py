"""Many pins: sdist from PyPI -> attempts with automatic fixes -> one mirror commit.

For each pin and interpreter: skip when the mirror or PyPI already has a wheel that
interpreter would install; otherwise download the sdist named by PyPI's PEP 691 page
(sha256-checked) and build it. A failed attempt is classified from its log; when the
class has an automatic fix not yet tried, the build is retried with it, one fix at a
time. A pin that still fails is recorded with its diagnosis and the run goes on. Every
wheel that built goes into the mirror in one commit at the end.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.version import Version

from poetry_wheelmirror.errors import BuildError
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.mirror.build.attempt import Attempt
from poetry_wheelmirror.mirror.build.diagnose import Diagnosis
from poetry_wheelmirror.mirror.build.fixes import next_fix
from poetry_wheelmirror.mirror.build.fixes import recipe_text
from poetry_wheelmirror.mirror.build.job import Progress
from poetry_wheelmirror.mirror.build.job import StepFailed
from poetry_wheelmirror.mirror.build.job import StepLog
from poetry_wheelmirror.mirror.build.job import uv_binary
from poetry_wheelmirror.mirror.build.outcome import BuildOutcome
from poetry_wheelmirror.mirror.build.outcome import BuildReport
from poetry_wheelmirror.mirror.build.sysdeps import package_manager
from poetry_wheelmirror.mirror.build.triage import diagnose_attempt
from poetry_wheelmirror.mirror.build.triage import keep_class_after_compat
from poetry_wheelmirror.mirror.build.wheelfile import add_build_tag
from poetry_wheelmirror.mirror.build.wheelfile import next_build_number
from poetry_wheelmirror.mirror.build.wheelfile import primary_platform
from poetry_wheelmirror.mirror.build.wheelfile import requires_python
from poetry_wheelmirror.mirror.build.wheelfile import wheel_metadata
from poetry_wheelmirror.mirror.plan import candidate_wheels
from poetry_wheelmirror.mirror.plan import sdist_admits
from poetry_wheelmirror.mirror.plan import serving_wheel
from poetry_wheelmirror.mirror.recipes import Backend
from poetry_wheelmirror.mirror.recipes import BuildSettings
from poetry_wheelmirror.mirror.store import NewWheel
from poetry_wheelmirror.mirror.store import sha256_file
from poetry_wheelmirror.mirror.store import wheel_key

if TYPE_CHECKING:
    from poetry_wheelmirror.client import CachedClient
    from poetry_wheelmirror.manifest import VersionEntry
    from poetry_wheelmirror.mirror.build.interpreters import Interpreter
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.pypi import UpstreamFile
    from poetry_wheelmirror.mirror.pypi import UpstreamProject
    from poetry_wheelmirror.mirror.recipes import Recipe
    from poetry_wheelmirror.mirror.store import MirrorStore

__all__ = ["BuildOptions", "build_pins", "first_usable_release"]

#: Automatic fixes tried per (pin, interpreter) before giving up.
MAX_FIXES = 4


@dataclass(frozen=True)
class BuildOptions:
    backend: Backend
    rebuild: bool = False
    install_system_packages: bool = False


def _serving(pairs: Iterable[tuple[str, str | None]], interp: Interpreter) -> str | None:
    """A wheel among (filename, requires-python) pairs that *interp* would install."""
    return serving_wheel(
        candidate_wheels(pairs), frozenset(interp.tags), Version(interp.full_version)
    )


def first_usable_release(project: UpstreamProject, version: str, interp: Interpreter) -> str | None:
    """The first release after *version* with a wheel *interp* would install, or None."""
    by_version = project.by_version()
    later = sorted(v for v in by_version if v > Version(version) and not v.is_prerelease)
    for candidate in later:
        pairs = [
            (f.filename, f.requires_python)
            for f in by_version[candidate]
            if f.is_wheel and not f.yanked
        ]
        if _serving(pairs, interp) is not None:
            return str(candidate)
    return None


class _Run:
    """State shared by the pins of one ``build_pins`` call."""

    def __init__(
        self,
        *,
        store: MirrorStore,
        client: CachedClient,
        cache_dir: Path,
        progress: Progress,
        options: BuildOptions,
        tmp: Path,
    ) -> None:
        self.store = store
        self.client = client
        self.cache_dir = cache_dir
        self.progress = progress
        self.options = options
        self.tmp = tmp
        self.log_dir = cache_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.uv = uv_binary()
        self.manager = package_manager()
        self.outcomes: list[BuildOutcome] = []
        self.new: list[NewWheel] = []
        self.upstreams: dict[NormalizedName, UpstreamProject] = {}

    def fail(
        self,
        name: NormalizedName,
        version: str,
        python: str,
        diagnosis: Diagnosis,
        *,
        attempts: tuple[str, ...] = (),
        seconds: float = 0.0,
        log_path: str | None = None,
    ) -> None:
        self.progress(f"[{name} {version}] FAILED {diagnosis.line()}")
        self.outcomes.append(
            BuildOutcome(
                name,
                version,
                python,
                "failed",
                reason=diagnosis.line(),
                diagnosis=diagnosis,
                attempts=attempts,
                seconds=seconds,
                log_path=log_path,
            )
        )

    def pin(
        self,
        name: NormalizedName,
        version: str,
        interpreters: Sequence[Interpreter],
        settings: BuildSettings,
        pypi: PypiClient,
    ) -> None:
        project = pypi.project(name, revalidate=True)
        if project is None:
            diagnosis = Diagnosis(
                "not-on-pypi", name, f"check the name ({pypi.project_url(name)})", not_fixable=True
            )
            self.fail(name, version, interpreters[0].python, diagnosis)
            return
        sdist = project.sdist_for(version)
        if sdist is None:
            diagnosis = Diagnosis(
                "no-sdist",
                f"{name} {version}",
                "PyPI has no sdist for this version: not fixable by building",
                not_fixable=True,
            )
            self.fail(name, version, interpreters[0].python, diagnosis)
            return
        upstream = [
            (f.filename, f.requires_python)
            for f in project.files
            if f.is_wheel and not f.yanked and f.version() == Version(version)
        ]
        doc = self.store.package(name)
        entry = doc.entry_for(version) if doc else None
        for interp in interpreters:
            reason = self._skip_reason(name, version, interp, sdist, upstream, entry)
            if reason:
                self.progress(f"[{name} {version} {interp.cp}] skipped: {reason}")
                self.outcomes.append(
                    BuildOutcome(name, version, interp.python, "skipped", reason=reason)
                )
                continue
            self._build(name, version, interp, settings, sdist, project)

    def _skip_reason(
        self,
        name: str,
        version: str,
        interp: Interpreter,
        sdist: UpstreamFile,
        upstream: Sequence[tuple[str, str | None]],
        entry: VersionEntry | None,
    ) -> str | None:
        if not sdist_admits(sdist.requires_python, Version(interp.full_version)):
            return f"{sdist.filename} requires Python {sdist.requires_python}"
        # An abi3 wheel built earlier in this run for another interpreter may serve this one.
        mine = [
            (w.filename, w.requires_python)
            for w in self.new
            if w.name == name and Version(w.version) == Version(version)
        ]
        if entry is not None and not self.options.rebuild:
            mine += [(w.filename, w.requires_python) for w in entry.wheels if not w.yanked]
        have = _serving(mine, interp)
        if have is not None:
            return f"already in the mirror: {have}"
        on_pypi = _serving(upstream, interp)
        if on_pypi is not None:
            return f"PyPI has a wheel for it: {on_pypi}"
        return None

    def _build(
        self,
        name: NormalizedName,
        version: str,
        interp: Interpreter,
        settings: BuildSettings,
        sdist: UpstreamFile,
        project: UpstreamProject,
    ) -> None:
        started = time.monotonic()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        log_path = self.log_dir / f"{name}-{version}-{interp.cp}-{stamp}-{os.getpid()}.log"
        log_path.write_text(f"wheelmirror build {name}=={version} for {interp.executable}\n")
        log = StepLog(log_path, f"{name} {version} {interp.cp}", self.progress)
        work = Path(tempfile.mkdtemp(prefix=f"{name}-{interp.cp}-", dir=self.tmp))
        sdist_path = self.cache_dir / "sdists" / sdist.filename
        if not (sdist_path.is_file() and sha256_file(sdist_path) == sdist.sha256):
            log.say(f"downloading {sdist.filename} ({sdist.size / 1024:.0f} KiB)")
            self.client.download(sdist.url, sdist_path, sha256=sdist.sha256)
        attempts: list[str] = []
        fixes: list[str] = []
        compat_for: Diagnosis | None = None
        for number in range(1, MAX_FIXES + 2):
            attempt = Attempt(
                name=name,
                interp=interp,
                settings=settings,
                work=work / f"attempt-{number}",
                log=log,
                backend=self.options.backend,
                uv=self.uv,
                manager=self.manager,
            )
            offset = log.size()
            log.note(f"attempt {number}" + (f" with: {'; '.join(fixes)}" if fixes else ""))
            try:
                result = attempt.run(sdist_path, sdist.upload_time)
            except StepFailed as e:
                diagnosis = diagnose_attempt(attempt.src, log.text_since(offset), e.step)
                diagnosis = keep_class_after_compat(diagnosis, compat_for)
                log.note(f"attempt {number} failed in {e.step}: {diagnosis.line()}")
                fix = next_fix(
                    diagnosis,
                    settings,
                    install_system_packages=self.options.install_system_packages,
                    manager=self.manager,
                )
                if fix is None or number > MAX_FIXES:
                    self._give_up(
                        name, version, interp, project, diagnosis, attempts, started, log_path
                    )
                    return
                attempts.append(
                    f"attempt {number}: {diagnosis.cls} -> retry with: {fix.description}"
                )
                log.say(f"{diagnosis.cls}; retrying with: {fix.description}")
                if fix.name == "cpython-compat" and diagnosis.not_fixable:
                    compat_for = diagnosis
                log.note(f"automatic fix: {fix.description}")
                fixes.append(fix.description)
                settings = fix.settings
                continue
            recipe = recipe_text(name, version, interp.python, settings, fixes) if fixes else None
            if fixes:
                attempts.append(f"attempt {number}: built")
            done = BuildOutcome(
                name,
                version,
                interp.python,
                "built",
                attempts=tuple(attempts),
                recipe=recipe,
                notes=result.notes,
                log_path=str(log_path),
            )
            self._accept(done, interp, sdist, project, result.wheel, started)
            return

    def _give_up(
        self,
        name: NormalizedName,
        version: str,
        interp: Interpreter,
        project: UpstreamProject,
        diagnosis: Diagnosis,
        attempts: list[str],
        started: float,
        log_path: Path,
    ) -> None:
        if diagnosis.not_fixable:
            upgrade = first_usable_release(project, version, interp)
            later = (
                f"; first later release with a usable wheel: {name} {upgrade}"
                if upgrade
                else "; no later release has a wheel for this interpreter either"
            )
            diagnosis = dataclasses.replace(diagnosis, fix=diagnosis.fix + later)
        self.fail(
            name,
            version,
            interp.python,
            diagnosis,
            attempts=tuple(attempts),
            seconds=time.monotonic() - started,
            log_path=str(log_path),
        )

    def _accept(
        self,
        done: BuildOutcome,
        interp: Interpreter,
        sdist: UpstreamFile,
        project: UpstreamProject,
        wheel: Path,
        started: float,
    ) -> None:
        name, version = done.name, done.version
        digest = sha256_file(wheel)
        if wheel_key(wheel.name) in {wheel_key(f) for f in project.filenames()}:
            diagnosis = Diagnosis(
                "on-pypi",
                wheel.name,
                "PyPI already has this wheel: not publishing it",
                not_fixable=True,
            )
            self.fail(name, version, interp.python, diagnosis)
            return
        taken = self.store.filenames(name) | project.filenames() | {w.filename for w in self.new}
        existing = self.store.wheel_path(name, wheel.name)
        if wheel.name in taken and not (existing.is_file() and sha256_file(existing) == digest):
            wheel = add_build_tag(wheel, next_build_number(wheel.name, taken), wheel.parent.parent)
            digest = sha256_file(wheel)
            self.progress(f"{existing.name} exists with other bytes: publishing as {wheel.name}")
        metadata = wheel_metadata(wheel, BuildError)
        seconds = time.monotonic() - started
        self.progress(f"[{name} {version} {interp.cp}] built {wheel.name} in {seconds:.1f} s")
        self.outcomes.append(dataclasses.replace(done, filename=wheel.name, seconds=seconds))
        self.upstreams[name] = project
        self.new.append(
            NewWheel(
                name=name,
                version=version,
                path=wheel,
                sha256=digest,
                size=wheel.stat().st_size,
                metadata=metadata,
                source=SourceDist(filename=sdist.filename, sha256=sdist.sha256, url=sdist.url),
                build=BuildInfo(
                    platform=primary_platform(wheel.name),
                    python=interp.full_version,
                    runner="local",
                    built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    tool=f"wheelmirror {self.options.backend}",
                ),
                requires_python=requires_python(metadata),
            )
        )


def build_pins(
    pins: Sequence[tuple[str, str]],
    *,
    store: MirrorStore,
    pypi: PypiClient,
    client: CachedClient,
    interpreters: Sequence[Interpreter],
    recipes: Mapping[NormalizedName, Recipe],
    cache_dir: Path,
    progress: Progress,
    backend: Backend | None = None,
    rebuild: bool = False,
    install_system_packages: bool = False,
) -> BuildReport:
    """Build every missing wheel for *pins* x *interpreters*; add all that built in one
    commit. A failed pin is recorded (with its diagnosis) and the others go on."""
    options = BuildOptions(
        backend=backend or ("uv" if uv_binary() is not None else "build"),
        rebuild=rebuild,
        install_system_packages=install_system_packages,
    )
    with tempfile.TemporaryDirectory(prefix="wheelmirror-build-") as tmp:
        run = _Run(
            store=store,
            client=client,
            cache_dir=cache_dir,
            progress=progress,
            options=options,
            tmp=Path(tmp),
        )
        for raw_name, version in pins:
            name = canonicalize_name(raw_name)
            recipe = recipes.get(name)
            run.pin(name, version, interpreters, recipe.build if recipe else BuildSettings(), pypi)
        if not run.new:
            return BuildReport(outcomes=tuple(run.outcomes))
        progress(f"adding {len(run.new)} wheel(s) to {store.path}")
        added = store.add(run.new, run.upstreams)
    return BuildReport(outcomes=tuple(run.outcomes), added=added)
