"""A recipe translated to cibuildwheel options (pure: data in, TOML text out).

The workflow runs ``cibuildwheel <sdist> --only <identifier> --config-file <file>``; the
file made here replaces the sdist's own ``[tool.cibuildwheel]`` table, so the recipe
alone decides how the wheel is built:

* ``build``: exactly the recipe's identifiers (``cp311-manylinux_x86_64`` ...), ``skip``
  musllinux and free-threaded builds, and ``archs`` per OS, so
  ``cibuildwheel --print-build-identifiers`` lists what the planner plans;
* ``environment``: the recipe's variables (with ``cpython-compat``, CFLAGS/CXXFLAGS that
  put the compatibility headers first on the include path) plus the build constraints,
  which are written to a file by ``before-all`` (it runs first, in the container on
  Linux and on the host on macOS) and named by ``PIP_CONSTRAINT`` (pypa/build installs
  build dependencies with a plain ``pip install``), ``PIP_BUILD_CONSTRAINT`` (pip's own
  build isolation) and ``UV_BUILD_CONSTRAINT``; ``SOURCE_DATE_EPOCH`` is passed into the container;
* ``before-all``: that file, then the system packages (dnf in the manylinux_2_28
  image, Homebrew on macOS); ``before-build``: the recipe's commands;
* ``repair-wheel-command``: auditwheel (``--strip`` when the recipe says so) or delocate;
* ``test-command``: the recipe's import check, run by cibuildwheel in a clean venv with
  the wheel installed, so a wheel that does not import is never uploaded.

The recipe's ``build.requires`` has no cibuildwheel option (a constraint installs
nothing): ``wheelmirror fetch-sdist`` adds them to a patched copy of the sdist's
``[build-system] requires``, the same patch ``wheelmirror build`` applies, and the workflow
builds that copy; with ``cpython-compat`` it also copies the compatibility headers into
that copy, since the CI build cannot reach the installed wheelmirror's.
"""

from __future__ import annotations

import shlex
from typing import Any
from typing import Final

import tomlkit

from poetry_wheelmirror.errors import RecipeError
from poetry_wheelmirror.mirror.recipes import TARGETS
from poetry_wheelmirror.mirror.recipes import Recipe
from poetry_wheelmirror.mirror.recipes import Target

__all__ = [
    "CONSTRAINTS_FILE",
    "build_identifiers",
    "cibw_identifier",
    "cibw_options",
    "dnf_package_names",
    "render_cibw_config",
    "target_for_identifier",
]

#: Where ``before-all`` writes the recipe's build constraints (same path in the
#: manylinux container and on a macOS runner).
CONSTRAINTS_FILE: Final = "/tmp/wheelmirror-build-constraints.txt"

# Recipes name Linux system packages as Debian does (the local builder runs on Debian);
# cibuildwheel builds in the manylinux_2_28 image (AlmaLinux 8, dnf).
_DNF_NAMES: Final = {
    "libxml2-dev": "libxml2-devel",
    "libxslt1-dev": "libxslt-devel",
    "libssl-dev": "openssl-devel",
    "zlib1g-dev": "zlib-devel",
    "libffi-dev": "libffi-devel",
    "libjpeg-dev": "libjpeg-turbo-devel",
    "libyaml-dev": "libyaml-devel",
}


def cibw_identifier(python: str, target: Target) -> str:
    """cibuildwheel's build identifier of one (python, target).

    >>> cibw_identifier("3.11", TARGETS["macos-arm64"])
    'cp311-macosx_arm64'
    """
    return f"cp{python.replace('.', '')}-{target.cibw_platform}"


def build_identifiers(recipe: Recipe) -> list[str]:
    """Every identifier the recipe asks for, in recipe order (targets, then pythons)."""
    return [cibw_identifier(py, target) for target in recipe.targets() for py in recipe.pythons]


def target_for_identifier(identifier: str) -> Target:
    """The Target of a cibuildwheel identifier; RecipeError for one no target builds."""
    _, _, platform = identifier.partition("-")
    for target in TARGETS.values():
        if target.cibw_platform == platform:
            return target
    msg = f"unknown build identifier {identifier!r}"
    raise RecipeError(msg)


def dnf_package_names(names: tuple[str, ...]) -> list[str]:
    """Debian package names as the manylinux image (dnf) calls them.

    >>> dnf_package_names(("libxml2-dev", "libxslt1-dev", "libfoo-dev", "cmake"))
    ['libxml2-devel', 'libxslt-devel', 'libfoo-devel', 'cmake']
    """
    out = []
    for name in names:
        if name in _DNF_NAMES:
            out.append(_DNF_NAMES[name])
        elif name.endswith("-dev"):
            out.append(name[: -len("-dev")] + "-devel")
        else:
            out.append(name)
    return out


def _import_check(recipe: Recipe) -> str:
    module = recipe.build.import_check or recipe.name.replace("-", "_")
    return f'python -c "import {module}"'


def _before_all(recipe: Recipe, os_name: str) -> list[str]:
    commands = []
    if recipe.build.constraints:
        lines = " ".join(shlex.quote(c) for c in recipe.build.constraints)
        commands.append(f"printf '%s\\n' {lines} > {CONSTRAINTS_FILE}")
    packages = recipe.build.system_packages.get(os_name, ())
    if packages and os_name == "linux":
        names = " ".join(shlex.quote(n) for n in dnf_package_names(packages))
        commands.append(f"dnf install -y {names}")
    elif packages and os_name == "macos":
        names = " ".join(shlex.quote(n) for n in packages)
        commands.append(f"brew install {names}")
    return commands


def cibw_options(recipe: Recipe) -> dict[str, Any]:
    """The ``[tool.cibuildwheel]`` table for *recipe* (plain data, stable order)."""
    build = recipe.build
    variables = dict(build.env)
    if build.cpython_compat:
        # The headers travel inside the patched sdist (fetch-sdist copies them there).
        from poetry_wheelmirror.mirror.build.cpython_compat import sdist_compat_flags

        variables = sdist_compat_flags(variables)
    # cibuildwheel reads each value as a shell word: quote, so a value means itself.
    environment = {key: shlex.quote(value) for key, value in sorted(variables.items())}
    if build.constraints:
        for key in ("PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT", "UV_BUILD_CONSTRAINT"):
            environment[key] = CONSTRAINTS_FILE
    targets = recipe.targets()
    options: dict[str, Any] = {
        "build": " ".join(build_identifiers(recipe)),
        "skip": "*-musllinux_* cp3??t-*",
        "build-frontend": "build",
        "build-verbosity": 1,
        "environment": environment,
        "before-build": list(build.before_build),
        "test-command": _import_check(recipe),
    }
    if build.import_check_requires:
        options["test-requires"] = list(build.import_check_requires)
    for os_name in ("linux", "macos"):
        archs = [t.arch for t in targets if t.os == os_name]
        if not archs:
            continue
        table: dict[str, Any] = {"archs": archs}
        before_all = _before_all(recipe, os_name)
        if before_all:
            table["before-all"] = before_all
        if os_name == "linux":
            table["environment-pass"] = ["SOURCE_DATE_EPOCH"]
            strip = "--strip " if build.strip else ""
            table["repair-wheel-command"] = f"auditwheel repair {strip}-w {{dest_dir}} {{wheel}}"
        else:
            table["repair-wheel-command"] = (
                "delocate-wheel --require-archs {delocate_archs} -w {dest_dir} -v {wheel}"
            )
            if build.system_packages.get("macos"):
                # Homebrew's libraries target the runner's macOS: say so, or delocate
                # refuses to bundle them into a wheel tagged for an older macOS.
                table["environment"] = {**environment, "MACOSX_DEPLOYMENT_TARGET": "15.0"}
        options[os_name] = table
    return options


def render_cibw_config(recipe: Recipe) -> str:
    """The config file for ``cibuildwheel --config-file`` (TOML, byte-stable)."""
    document = tomlkit.document()
    document.add(tomlkit.comment(f"cibuildwheel options for {recipe.name}, from its recipe."))
    document.add(tomlkit.comment("Generated by `wheelmirror cibw-config`: do not edit."))
    options = cibw_options(recipe)
    platform_tables = {k: options.pop(k) for k in ("linux", "macos") if k in options}
    tool = tomlkit.table(is_super_table=True)
    cibw = tomlkit.table()
    for key, value in options.items():
        cibw.add(key, _inline(value))
    for key, value in platform_tables.items():
        sub = tomlkit.table()
        for k, v in value.items():
            sub.add(k, _inline(v))
        cibw.add(key, sub)
    tool.add("cibuildwheel", cibw)
    document.add("tool", tool)
    return tomlkit.dumps(document)


def _inline(value: Any) -> Any:
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        table.update(value)
        return table
    return value
