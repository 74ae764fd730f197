"""One build attempt of one sdist for one interpreter, with given settings.

Install the system packages the settings name, unpack the sdist, run before-build
commands, regenerate Cython C when asked, build in an isolated environment (``uv
build``, or pypa/build) with the settings' constraints, env, CPython compatibility
headers when asked, and a ``SOURCE_DATE_EPOCH`` from the sdist's upload time, repair,
and import-check. Any failing step raises StepFailed; its output is in the log for the
classifier.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_wheelmirror.mirror.build.cpython_compat import add_compat_flags
from poetry_wheelmirror.mirror.build.cython_regen import regenerate_cython
from poetry_wheelmirror.mirror.build.diagnose import failed_step_output
from poetry_wheelmirror.mirror.build.fixes import system_key
from poetry_wheelmirror.mirror.build.importcheck import import_check
from poetry_wheelmirror.mirror.build.job import StepFailed
from poetry_wheelmirror.mirror.build.job import StepLog
from poetry_wheelmirror.mirror.build.job import tool_env
from poetry_wheelmirror.mirror.build.repair import repair_wheel
from poetry_wheelmirror.mirror.build.sysdeps import install_system_packages
from poetry_wheelmirror.mirror.build.wheelfile import extension_modules
from poetry_wheelmirror.mirror.sdist_patch import add_build_requires
from poetry_wheelmirror.mirror.sdist_patch import sdist_epoch
from poetry_wheelmirror.mirror.sdist_patch import unpack_sdist

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror.build.interpreters import Interpreter
    from poetry_wheelmirror.mirror.recipes import BuildSettings

__all__ = ["Attempt", "AttemptResult"]

_CONSTRAINT_VARS = ("PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT", "UV_BUILD_CONSTRAINT")


#: A compiler's error line (gcc/clang: ``file.c:12:3: error: ...``).
_COMPILE_ERROR = re.compile(r"^\s*\S+\.(c|cc|cpp|cxx|h|hh|hpp)(:\d+)+: (fatal )?error:", re.M)


@dataclass(frozen=True)
class AttemptResult:
    wheel: Path
    modules: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Attempt:
    name: str
    interp: Interpreter
    settings: BuildSettings
    work: Path
    log: StepLog
    backend: str
    uv: str | None
    manager: str | None

    @property
    def src(self) -> Path:
        return self.work / "src"

    def _fail(self, step: str, message: str) -> StepFailed:
        self.log.note(message)
        return StepFailed(step, message, log_path=self.log.path, timed_out=False)

    def _build_argv(self, out: Path, src: Path) -> tuple[list[str], str]:
        backend = self.settings.backend or self.backend
        python = self.interp.executable
        if backend == "uv":
            if self.uv is None:
                raise self._fail(
                    "build", "uv is not installed (install poetry-wheelmirror[builder])"
                )
            argv = [self.uv, "build", "--wheel", "--out-dir", str(out)]
            return [*argv, "--python", str(python), str(src)], "uv build"
        pypa = ["--wheel", "--outdir", str(out), str(src)]
        if python == Path(sys.executable):
            return [sys.executable, "-m", "build", *pypa], "pypa/build"
        if self.uv is None:
            raise self._fail(
                "build", "the pypa/build backend builds for this interpreter only without uv"
            )
        # pypa/build for another interpreter: the same release of it, run there by uv.
        pinned = f"build=={importlib.metadata.version('build')}"
        argv = [self.uv, "tool", "run", "--python", str(python), "--from", pinned]
        return [*argv, "pyproject-build", *pypa], "pypa/build"

    def run(self, sdist: Path, upload_time: str | None) -> AttemptResult:
        self.work.mkdir(parents=True, exist_ok=True)
        env = tool_env()
        packages = self.settings.system_packages.get(system_key(), ())
        if packages:
            if self.manager is None:
                raise self._fail(
                    "system packages", "no package manager found for " + " ".join(packages)
                )
            install_system_packages(self.manager, packages, log=self.log, env=env, cwd=self.work)
        src = unpack_sdist(sdist, self.src)
        env.update(self.settings.env)
        env["SOURCE_DATE_EPOCH"] = str(sdist_epoch(upload_time))
        build_env = dict(env)
        # The work folder's random name would end up in debug info and make every rebuild
        # differ; mapping it to a fixed name keeps rebuilds byte-identical.
        prefix_map = f"-ffile-prefix-map={self.work}=/wheelmirror-build"
        for var in ("CFLAGS", "CXXFLAGS"):
            build_env[var] = f"{build_env.get(var, '')} {prefix_map}".strip()
        constraints = self.work / "build-constraints.txt"
        constraints.write_text("".join(f"{c}\n" for c in self.settings.constraints))
        if self.settings.constraints:
            for var in _CONSTRAINT_VARS:
                build_env[var] = str(constraints)
        add_build_requires(src, self.settings.requires)
        for command in self.settings.before_build:
            self.log.say(f"before-build: {command}")
            self.log.run("before-build", [command], env=build_env, cwd=src, shell=True)
        if self.settings.regenerate_cython:
            regenerate_cython(
                src,
                log=self.log,
                env=env,
                work=self.work,
                uv=self.uv,
                interpreter=self.interp.executable,
            )
        if self.settings.cpython_compat:
            folder = add_compat_flags(build_env)
            self.log.say(f"building with CPython compatibility headers first ({folder})")
        out = self.work / "dist"
        argv, tool = self._build_argv(out, src)
        self.log.say(f"building with {tool} (log: {self.log.path})")
        timeout = self.settings.timeout_minutes * 60.0
        self.log.run("build", argv, env=build_env, cwd=self.work, timeout=timeout)
        built = sorted(out.glob("*.whl"))
        if len(built) != 1:
            raise self._fail("build", f"the build produced {len(built)} wheels, expected one")
        if not extension_modules(built[0]) and _COMPILE_ERROR.search(
            failed_step_output(self.log.path.read_text(errors="replace"))
        ):
            # A setup.py that catches its failed extension build and packages the pure
            # Python fallback (coverage 6.5 on CPython 3.13) makes a wheel that imports
            # but lost its C: never publish that as a build of the package.
            raise self._fail(
                "build",
                "the C extension did not compile and the build fell back to pure Python",
            )
        repaired = repair_wheel(
            built[0], log=self.log, env=env, work=self.work, strip=self.settings.strip
        )
        modules = import_check(
            repaired.wheel,
            name=self.name,
            recipe_module=self.settings.import_check,
            requires=self.settings.import_check_requires,
            interpreter=self.interp.executable,
            uv=self.uv,
            log=self.log,
            env=env,
            work=self.work,
        )
        return AttemptResult(repaired.wheel, tuple(modules), repaired.notes)
