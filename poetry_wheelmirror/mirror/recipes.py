"""Build recipes: one small TOML file per supported package (parse and validate only).

A recipe says which versions of a package the mirror carries, for which CPython
versions and target platforms, and how to build them. The planner, the local builder
and the cibuildwheel translation all read the same frozen dataclasses::

    name = "grpcio"
    versions = ["1.48.2"]                 # explicit list, and/or
    specifier = ">=1.48,<1.49"            # a version specifier (both: either matches)
    python = ["3.11", "3.12"]
    platforms = ["linux-x86_64", "macos-arm64"]

    [build]
    requires = ["Cython<3"]                       # extra build requirements
    constraints = ["setuptools<70", "Cython<3"]   # build-dependency constraints
    env = { GRPC_PYTHON_BUILD_WITH_CYTHON = "1" }
    before-build = []                             # shell commands run before the build
    strip = true                                  # auditwheel --strip
    regenerate-cython = true                      # re-run Cython (< 3) on shipped .c
    cpython-compat = true                         # shims for C API newer CPythons removed
    backend = "build"                             # build frontend: "uv" or "build"
    import-check = "grpc"                         # module imported in a clean venv
    import-check-requires = []                    # installed there too (not in the wheel)
    timeout-minutes = 60

    [build.system-packages]
    linux = ["libxml2-dev"]                        # apt/dnf names
    macos = ["libxml2"]                            # Homebrew names

The JSON Schema is ``poetry_wheelmirror/schema/recipe-v1.schema.json``; this parser is
the authority and raises RecipeError with one line naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final
from typing import Literal
from typing import get_args

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror.errors import RecipeError
from poetry_wheelmirror.names import valid_project_name
from poetry_wheelmirror.tomlfile import parse_toml

__all__ = [
    "DEFAULT_PLATFORMS",
    "DEFAULT_PYTHONS",
    "TARGETS",
    "Backend",
    "BuildSettings",
    "PlatformName",
    "Recipe",
    "Target",
    "load_recipe",
    "load_recipes",
    "parse_recipe",
]

#: Build frontends: uv (``uv build``) or pypa/build (``python -m build``).
Backend = Literal["uv", "build"]
BACKENDS: Final[frozenset[str]] = frozenset(get_args(Backend))
PlatformName = Literal["linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64"]
PLATFORM_NAMES: Final[frozenset[str]] = frozenset(get_args(PlatformName))


@dataclass(frozen=True)
class Target:
    """A build target: where it runs and what cibuildwheel and pip call it."""

    name: PlatformName
    os: Literal["linux", "macos"]
    arch: str
    #: GitHub-hosted runner label.
    runner: str
    #: cibuildwheel identifier suffix: ``cp311-<cibw_platform>``.
    cibw_platform: str
    #: The platform tag of a typical client on this target: a PyPI wheel counts as
    #: "available" when this client could install it. manylinux_2_28 is the floor of the
    #: distributions still in wide use (and cibuildwheel's default image); macOS clients
    #: on the runner's OS accept every older deployment target.
    client_platform: str


TARGETS: Final[Mapping[str, Target]] = {
    "linux-x86_64": Target(
        name="linux-x86_64",
        os="linux",
        arch="x86_64",
        runner="ubuntu-24.04",
        cibw_platform="manylinux_x86_64",
        client_platform="manylinux_2_28_x86_64",
    ),
    "linux-aarch64": Target(
        name="linux-aarch64",
        os="linux",
        arch="aarch64",
        runner="ubuntu-24.04-arm",
        cibw_platform="manylinux_aarch64",
        client_platform="manylinux_2_28_aarch64",
    ),
    "macos-arm64": Target(
        name="macos-arm64",
        os="macos",
        arch="arm64",
        runner="macos-15",
        cibw_platform="macosx_arm64",
        client_platform="macosx_15_0_arm64",
    ),
    "macos-x86_64": Target(
        name="macos-x86_64",
        os="macos",
        arch="x86_64",
        runner="macos-15-intel",
        cibw_platform="macosx_x86_64",
        client_platform="macosx_15_0_x86_64",
    ),
}

DEFAULT_PYTHONS: Final = ("3.9", "3.10", "3.11", "3.12", "3.13")
DEFAULT_PLATFORMS: Final[tuple[PlatformName, ...]] = (
    "linux-x86_64",
    "linux-aarch64",
    "macos-arm64",
    "macos-x86_64",
)

_PYTHON = re.compile(r"^3\.\d{1,2}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_TOP_KEYS = frozenset({"name", "versions", "specifier", "python", "platforms", "build"})
_BUILD_KEYS = frozenset(
    {
        "constraints",
        "requires",
        "env",
        "before-build",
        "strip",
        "regenerate-cython",
        "cpython-compat",
        "backend",
        "import-check",
        "import-check-requires",
        "system-packages",
        "timeout-minutes",
    }
)


@dataclass(frozen=True)
class BuildSettings:
    """How to build a package's wheels (the same for every version, python and target)."""

    #: Extra build requirements added to the sdist's ``[build-system] requires`` (old
    #: sdists without a pyproject.toml get only setuptools, so a Cython the build needs
    #: must be named here; a constraint alone does not install anything).
    requires: tuple[str, ...] = ()
    #: Build-dependency constraints, e.g. ``("setuptools<70", "Cython<3")``; given to the
    #: isolated build env as PIP_CONSTRAINT / PIP_BUILD_CONSTRAINT / UV_BUILD_CONSTRAINT.
    constraints: tuple[str, ...] = ()
    #: Extra environment variables for the build.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Shell commands run (in the unpacked sdist) before the build.
    before_build: tuple[str, ...] = ()
    #: Strip debug symbols from bundled and built shared libraries.
    strip: bool = False
    #: Regenerate C files an old Cython wrote (next to their .pyx) with Cython < 3
    #: before the build: that C predates newer CPythons.
    regenerate_cython: bool = False
    #: Put wheelmirror's CPython compatibility headers first on the include path: C API
    #: that CPython 3.11+ removed or renamed, mapped to its replacement (old Cython
    #: output without its .pyx, ``_PyFloat_Pack4``, ``Py_TYPE(o) = t``, ...).
    cpython_compat: bool = False
    #: Build frontend for this package, overriding the run's (``--backend``); None: the
    #: run's. pypa/build accepts some pyproject.toml files uv rejects.
    backend: Backend | None = None
    #: Module imported in a clean venv to accept the wheel (in addition to every
    #: extension module the wheel carries).
    import_check: str | None = None
    #: Requirements installed next to the wheel for the import check only: packages an
    #: extension module imports at load time without declaring them (ruamel.yaml.clib's
    #: ``_ruamel_yaml`` imports ruamel.yaml, which depends on it, not the other way).
    import_check_requires: tuple[str, ...] = ()
    #: System packages per OS (``linux``: apt/dnf names, ``macos``: Homebrew names).
    system_packages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    timeout_minutes: int = 60


@dataclass(frozen=True)
class Recipe:
    """One package's recipe."""

    name: NormalizedName
    #: Explicit versions (as written); a version matches if listed or in *specifier*.
    versions: tuple[str, ...] = ()
    specifier: SpecifierSet | None = None
    pythons: tuple[str, ...] = DEFAULT_PYTHONS
    platforms: tuple[PlatformName, ...] = DEFAULT_PLATFORMS
    build: BuildSettings = field(default_factory=BuildSettings)
    #: The file it came from (for messages), or None.
    source: str | None = None

    def wants(self, version: str) -> bool:
        """Whether *version* is one the mirror carries (explicit list or specifier)."""
        try:
            parsed = Version(version)
        except InvalidVersion:
            return False
        if any(Version(v) == parsed for v in self.versions):
            return True
        return self.specifier is not None and self.specifier.contains(parsed, prereleases=False)

    def select_versions(self, available: Iterable[str]) -> list[str]:
        """The wanted versions among *available*, oldest first."""
        wanted = {v for v in available if self.wants(v)}
        return sorted(wanted, key=Version)

    def targets(self) -> list[Target]:
        """This recipe's Target objects, in recipe order."""
        return [TARGETS[p] for p in self.platforms]


# -- parsing ---------------------------------------------------------------------------


def _fail(source: str, key: str, message: str) -> RecipeError:
    # repr() a key with control characters: the message stays on one line.
    return RecipeError(f"{source}: {key if key.isprintable() else repr(key)}: {message}")


def _str_list(data: Mapping[str, Any], key: str, source: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, f"{where}{key}", "expected a list of strings")
    return tuple(value)


def _unknown(data: Mapping[str, Any], allowed: frozenset[str], source: str, where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise _fail(
            source, f"{where}{extra[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
        )


def _parse_build(data: object, source: str) -> BuildSettings:
    if not isinstance(data, dict):
        raise _fail(source, "build", "expected a table")
    _unknown(data, _BUILD_KEYS, source, "build.")
    constraints = _str_list(data, "constraints", source, "build.")
    requires = _str_list(data, "requires", source, "build.")
    check_requires = _str_list(data, "import-check-requires", source, "build.")
    for key, items in (
        ("constraints", constraints),
        ("requires", requires),
        ("import-check-requires", check_requires),
    ):
        for item in items:
            try:
                Requirement(item)
            except InvalidRequirement:
                raise _fail(source, f"build.{key}", f"invalid requirement {item!r}") from None
    env = data.get("env", {})
    if not isinstance(env, dict):
        raise _fail(source, "build.env", "expected a table of strings")
    for key, value in env.items():
        if not _ENV_NAME.fullmatch(key):  # not match: "$" also matches before a final "\n"
            raise _fail(source, f"build.env.{key}", "invalid environment variable name")
        if not isinstance(value, str):
            raise _fail(source, f"build.env.{key}", "expected a string (quote numbers)")
        if "\x00" in value:  # the environment cannot hold it: the build would crash
            raise _fail(source, f"build.env.{key}", "NUL characters are not allowed")
    strip = data.get("strip", False)
    if not isinstance(strip, bool):
        raise _fail(source, "build.strip", "expected true or false")
    regenerate = data.get("regenerate-cython", False)
    if not isinstance(regenerate, bool):
        raise _fail(source, "build.regenerate-cython", "expected true or false")
    compat = data.get("cpython-compat", False)
    if not isinstance(compat, bool):
        raise _fail(source, "build.cpython-compat", "expected true or false")
    backend = data.get("backend")
    if backend is not None and backend not in BACKENDS:
        raise _fail(source, "build.backend", f'expected "uv" or "build", got {backend!r}')
    import_check = data.get("import-check")
    if import_check is not None and (
        not isinstance(import_check, str) or not _MODULE.fullmatch(import_check)
    ):
        raise _fail(source, "build.import-check", f"not a module name: {import_check!r}")
    system = data.get("system-packages", {})
    if not isinstance(system, dict):
        raise _fail(source, "build.system-packages", "expected a table")
    _unknown(system, frozenset({"linux", "macos"}), source, "build.system-packages.")
    timeout = data.get("timeout-minutes", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 360:
        raise _fail(source, "build.timeout-minutes", "expected an integer from 1 to 360")
    return BuildSettings(
        requires=requires,
        constraints=constraints,
        env=dict(env),
        before_build=_str_list(data, "before-build", source, "build."),
        strip=strip,
        regenerate_cython=regenerate,
        cpython_compat=compat,
        backend=backend,
        import_check=import_check,
        import_check_requires=check_requires,
        system_packages={
            os_name: _str_list(system, os_name, source, "build.system-packages.")
            for os_name in sorted(system)
        },
        timeout_minutes=timeout,
    )


def parse_recipe(text: str, *, source: str = "<recipe>") -> Recipe:
    """Parse and validate one recipe; RecipeError names the file and the first bad field."""
    data = parse_toml(text, source, error=RecipeError)
    _unknown(data, _TOP_KEYS, source, "")
    name = data.get("name")
    if not isinstance(name, str) or not valid_project_name(name):
        raise _fail(source, "name", f"missing or invalid project name: {name!r}")
    versions = _str_list(data, "versions", source, "")
    for version in versions:
        try:
            Version(version)
        except InvalidVersion:
            raise _fail(source, "versions", f"invalid version {version!r}") from None
    specifier: SpecifierSet | None = None
    if "specifier" in data:
        raw = data["specifier"]
        try:
            if not isinstance(raw, str) or not raw.strip():
                raise InvalidSpecifier(str(raw))
            specifier = SpecifierSet(raw)
        except InvalidSpecifier:
            raise _fail(source, "specifier", f"invalid version specifier {raw!r}") from None
    if not versions and specifier is None:
        raise _fail(source, "versions", "give an explicit versions list and/or a specifier")
    pythons = _str_list(data, "python", source, "") if "python" in data else DEFAULT_PYTHONS
    for python in pythons:
        if not _PYTHON.fullmatch(python):
            raise _fail(source, "python", f"expected CPython versions like '3.11', got {python!r}")
    if not pythons:
        raise _fail(source, "python", "empty list")
    platforms_raw = (
        _str_list(data, "platforms", source, "") if "platforms" in data else DEFAULT_PLATFORMS
    )
    for platform in platforms_raw:
        if platform not in PLATFORM_NAMES:
            raise _fail(
                source,
                "platforms",
                f"unknown platform {platform!r} (known: {', '.join(sorted(PLATFORM_NAMES))})",
            )
    if not platforms_raw:
        raise _fail(source, "platforms", "empty list")
    platforms = tuple(TARGETS[p].name for p in platforms_raw)
    build = _parse_build(data.get("build", {}), source)
    return Recipe(
        name=canonicalize_name(name),
        versions=versions,
        specifier=specifier,
        pythons=tuple(dict.fromkeys(pythons)),
        platforms=tuple(dict.fromkeys(platforms)),
        build=build,
        source=source,
    )


def load_recipe(path: Path) -> Recipe:
    """Read and parse the recipe at *path*; its file name must be ``<name>.toml``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        msg = f"{path}: cannot read recipe: {e.strerror}"
        raise RecipeError(msg) from None
    except UnicodeDecodeError:
        msg = f"{path}: not UTF-8 text"
        raise RecipeError(msg) from None
    recipe = parse_recipe(text, source=str(path))
    if canonicalize_name(path.stem) != recipe.name:
        msg = f"{path}: name: recipe for {recipe.name!r} must be named {recipe.name}.toml"
        raise RecipeError(msg)
    return recipe


def load_recipes(folder: Path) -> dict[NormalizedName, Recipe]:
    """Every ``*.toml`` recipe in *folder*, by normalised name."""
    if not folder.is_dir():
        msg = f"{folder}: no such recipe folder"
        raise RecipeError(msg)
    recipes: dict[NormalizedName, Recipe] = {}
    for path in sorted(folder.glob("*.toml")):
        recipe = load_recipe(path)
        if recipe.name in recipes:
            msg = f"{path}: name: a second recipe for {recipe.name!r}"
            raise RecipeError(msg)
        recipes[recipe.name] = recipe
    return recipes
