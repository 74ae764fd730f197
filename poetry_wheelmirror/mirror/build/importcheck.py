"""The import check that proves a build: install the wheel into a fresh venv and import
every compiled extension module it carries, from an empty folder with ``-I``.

Importing only the top-level package proves little: many packages fall back to pure
Python silently when their extension is broken. A wheel without extension modules gets
its top-level package imported instead; a recipe's ``import-check`` module is added, and
its ``import-check-requires`` are installed next to the wheel.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from poetry_wheelmirror.mirror.build.job import StepFailed
from poetry_wheelmirror.mirror.build.job import StepLog
from poetry_wheelmirror.mirror.build.wheelfile import extension_modules
from poetry_wheelmirror.mirror.build.wheelfile import top_level_module

__all__ = ["IMPORT_FAILED", "import_check", "modules_to_check"]

#: The marker line the check script writes before each failure (the classifier reads it).
IMPORT_FAILED = "wheelmirror-import-failed:"

_SCRIPT = """
import importlib, json, sys, traceback
failed = 0
for module in json.loads(sys.argv[1]):
    try:
        importlib.import_module(module)
        print("imported", module)
    except BaseException:
        failed += 1
        error = traceback.format_exc().rstrip().splitlines()
        print("\\n".join(error))
        print(MARKER, module, "--", error[-1])
sys.exit(1 if failed else 0)
"""

# The recipe's build constraints are for the build only, not for the wheel's deps.
_BUILD_ONLY = ("PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT", "UV_BUILD_CONSTRAINT")


def modules_to_check(wheel: Path, name: str, recipe_module: str | None) -> list[str]:
    """Every extension module, plus the recipe's module; the top-level package when the
    wheel has no extension modules and the recipe names none."""
    modules = extension_modules(wheel)
    if recipe_module and recipe_module not in modules:
        modules.append(recipe_module)
    return modules or [top_level_module(wheel, name)]


def import_check(
    wheel: Path,
    *,
    name: str,
    recipe_module: str | None,
    requires: Sequence[str] = (),
    interpreter: Path,
    uv: str | None,
    log: StepLog,
    env: Mapping[str, str],
    work: Path,
) -> Sequence[str]:
    """The modules imported; StepFailed naming the first module that did not import."""
    modules = modules_to_check(wheel, name, recipe_module)
    shown = ", ".join(modules[:4]) + (f" and {len(modules) - 4} more" if len(modules) > 4 else "")
    log.say(f"import check: {shown}")
    venv = work / "check-venv"
    check_env = {k: v for k, v in env.items() if k not in _BUILD_ONLY}
    check_env.pop("PYTHONPATH", None)
    check_env.pop("VIRTUAL_ENV", None)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if uv is not None:
        log.run(
            "venv", [uv, "venv", "--python", str(interpreter), str(venv)], env=check_env, cwd=work
        )
        install = [uv, "pip", "install", "--python", str(python), str(wheel), *requires]
    else:
        log.run("venv", [str(interpreter), "-m", "venv", str(venv)], env=check_env, cwd=work)
        install = [str(python), "-m", "pip", "install", str(wheel), *requires]
    log.run("import check install", install, env=check_env, cwd=work)
    empty = work / "import-check"
    empty.mkdir(exist_ok=True)
    script = work / "wheelmirror_import_check.py"  # a file: the log shows one short command
    script.write_text(_SCRIPT.replace("MARKER", repr(IMPORT_FAILED)))
    offset = log.size()
    try:
        log.run(
            "import check",
            [str(python), "-I", str(script), json.dumps(modules)],
            env=check_env,
            cwd=empty,
        )
    except StepFailed as e:
        failed = [
            line[len(IMPORT_FAILED) :].strip()
            for line in log.text_since(offset).splitlines()
            if line.startswith(IMPORT_FAILED)
        ]
        if failed:
            msg = f"import check: {failed[0]}"
            raise StepFailed("import check", msg, log_path=log.path, timed_out=False) from e
        raise
    return modules
