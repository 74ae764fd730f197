"""The import rule of docs/architecture.md, checked on the source (ast, nothing imported).

Layers, lowest first: core -> I/O -> features -> cli. A module may import its own layer
and the ones below, never one above. On top of that: the core imports neither Poetry,
cleo, requests nor any network client; only ``plugin/`` imports Poetry or cleo; and the
package never imports the development tree (devtools, tests, bench, demo).

Every import counts, including those inside functions and under ``TYPE_CHECKING``: a
lazy or type-only import upwards is still a dependency upwards.

A new module needs a line in :data:`LAYERS` (a package's line covers everything in
it) and in docs/architecture.md; until then this test fails and names it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path

import pytest

import poetry_wheelmirror

CORE, IO, FEATURE, CLI = 0, 1, 2, 3
LAYER_NAMES = {CORE: "core", IO: "I/O", FEATURE: "features", CLI: "cli"}

#: Every module and package of poetry_wheelmirror, with its layer. A package's entry
#: covers the modules inside it; a more specific entry wins.
LAYERS: dict[str, int] = {
    # core: pure decisions and formats (may read a local file it is given; no network,
    # no Poetry, no CLI)
    "poetry_wheelmirror": CORE,  # __init__: the version
    "poetry_wheelmirror.config": CORE,
    "poetry_wheelmirror.errors": CORE,
    "poetry_wheelmirror.names": CORE,
    "poetry_wheelmirror.urls": CORE,
    "poetry_wheelmirror.manifest": CORE,
    "poetry_wheelmirror.selection": CORE,
    "poetry_wheelmirror.simple_index": CORE,
    "poetry_wheelmirror.jsonload": CORE,
    "poetry_wheelmirror.neterrors": CORE,
    "poetry_wheelmirror.settings": CORE,
    "poetry_wheelmirror.redirect": CORE,
    "poetry_wheelmirror.provenance_policy": CORE,
    "poetry_wheelmirror.tomlfile": CORE,
    "poetry_wheelmirror.lockfile": CORE,
    "poetry_wheelmirror.locks": CORE,
    "poetry_wheelmirror.targets": CORE,
    # I/O: the network, the cache, the file system, the machine's pip/uv configuration
    "poetry_wheelmirror.fs": IO,
    "poetry_wheelmirror.client": IO,
    "poetry_wheelmirror.mirror_client": IO,
    "poetry_wheelmirror.provenance": IO,
    "poetry_wheelmirror.indexconfig": IO,
    "poetry_wheelmirror.pip_layers": IO,
    # features
    "poetry_wheelmirror.plugin": FEATURE,
    "poetry_wheelmirror.doctor": FEATURE,
    "poetry_wheelmirror.installers": FEATURE,
    "poetry_wheelmirror.serve": FEATURE,
    "poetry_wheelmirror.mirror": FEATURE,
    # the command line: the only layer that prints or exits
    "poetry_wheelmirror.cli": CLI,
}

#: Third-party packages the core must not import (Poetry's, the network's, the extras').
NOT_IN_CORE = ("poetry", "cleo", "requests", "urllib3", "granian", "sigstore")
#: Only the plugin talks to Poetry.
ONLY_IN_PLUGIN = ("poetry", "cleo")
#: The development tree: never imported by the package.
DEV_TREE = ("devtools", "tests", "bench", "demo")

PACKAGE_DIR = Path(poetry_wheelmirror.__file__).parent


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def find_modules(package_dir: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every .py file of the package (``__init__`` is the package)."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(path: Path, module: str, known: Mapping[str, Path]) -> Iterator[tuple[str, int]]:
    """Every module *path* imports, with its line: absolute names, relative ones resolved,
    ``from pkg import mod`` read as ``pkg.mod`` when that is a module."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                if not is_package:
                    anchor.pop()
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if candidate in known else base), node.lineno


def layer_of(module: str, layers: Mapping[str, int]) -> int | None:
    """The layer of the most specific entry covering *module* (None: no entry)."""
    matches = [prefix for prefix in layers if _within(module, prefix)]
    if not matches:
        return None
    best = max(matches, key=len)
    if best == module.split(".")[0] and module != best:
        return None  # a new top-level module or package is not in the core by default
    return layers[best]


def unplaced(modules: Mapping[str, Path], layers: Mapping[str, int]) -> list[str]:
    return [
        f"{path.relative_to(path.parents[len(name.split('.')) - 1])} ({name}) is in no layer:"
        " add it to LAYERS in tests/unit/test_architecture.py and to docs/architecture.md"
        for name, path in modules.items()
        if layer_of(name, layers) is None
    ]


def violations(modules: Mapping[str, Path], layers: Mapping[str, int]) -> list[str]:
    """Every import that breaks the rule, as ``module:line: what``."""
    found = []
    for name, path in modules.items():
        own = layer_of(name, layers)
        if own is None:
            continue
        where = f"{name}:{{}}"
        for target, line in imports_of(path, name, modules):
            at = where.format(line)
            top = target.split(".")[0]
            if top in DEV_TREE:
                found.append(f"{at}: imports {target} (the development tree)")
            elif top in ONLY_IN_PLUGIN and not _within(name, f"{name.split('.')[0]}.plugin"):
                found.append(f"{at}: imports {target} (only plugin/ may talk to Poetry)")
            elif own == CORE and top in NOT_IN_CORE:
                found.append(f"{at}: the core imports {target}")
            elif _within(target, name.split(".")[0]):
                theirs = layer_of(target, layers)
                if theirs is not None and theirs > own:
                    found.append(
                        f"{at}: {LAYER_NAMES[own]} imports {target} ({LAYER_NAMES[theirs]},"
                        " a layer above)"
                    )
    return found


MODULES = find_modules(PACKAGE_DIR, "poetry_wheelmirror")


def test_every_module_has_a_layer() -> None:
    assert unplaced(MODULES, LAYERS) == []


def test_every_layer_entry_names_a_module() -> None:
    assert [entry for entry in LAYERS if entry not in MODULES] == []


def test_no_module_imports_a_layer_above_it() -> None:
    assert violations(MODULES, LAYERS) == []


# -- the checker itself, on a made-up package ---------------------------------------------


def _package(root: Path, files: Mapping[str, str]) -> dict[str, Path]:
    for relative, text in files.items():
        path = root / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"from __future__ import annotations\n{text}\n")
    return find_modules(root / "pkg", "pkg")


TOY_LAYERS = {"pkg": CORE, "pkg.core": CORE, "pkg.io": IO, "pkg.feature": FEATURE, "pkg.cli": CLI}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("core.py", "from pkg.cli import main", "core imports pkg.cli (cli, a layer above)"),
        ("core.py", "def f():\n    from . import io", "core imports pkg.io (I/O, a layer above)"),
        ("core.py", "import requests", "the core imports requests"),
        ("core.py", "from cleo.io import IO", "imports cleo.io (only plugin/ may talk to Poetry)"),
        ("io.py", "from .feature import run", "I/O imports pkg.feature (features, a layer above)"),
        ("feature/x.py", "from ..cli import main", "features imports pkg.cli (cli, a layer above)"),
        ("feature/x.py", "from devtools.wheels import w", "imports devtools.wheels (the dev"),
    ],
)
def test_the_checker_catches_an_upward_import(
    tmp_path: Path, module: str, source: str, expected: str
) -> None:
    files = {"__init__.py": "", "core.py": "", "io.py": "", "cli.py": "", "feature/__init__.py": ""}
    files[module] = source
    (found,) = violations(_package(tmp_path, files), TOY_LAYERS)
    assert expected in found


def test_the_checker_allows_downward_imports_and_names_unplaced_modules(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "__init__.py": "",
            "core.py": "import json",
            "io.py": "import requests\nfrom pkg import core",
            "feature/__init__.py": "from pkg.io import x\nfrom ..core import y",
            "cli.py": "from pkg.feature import z",
            "new.py": "",
        },
    )
    assert violations(modules, TOY_LAYERS) == []
    (message,) = unplaced(modules, TOY_LAYERS)
    assert message.startswith("pkg/new.py (pkg.new) is in no layer: add it to LAYERS")


# -- the development tree ------------------------------------------------------------------


def test_no_test_module_is_imported_by_tests_bench_demo_or_devtools() -> None:
    """Shared helpers live in devtools/; a test module imports no other test module, and
    bench/, demo/ and devtools/ import none (conftest.py fixtures need no import)."""
    repo = PACKAGE_DIR.parent
    found = []
    for folder in ("tests", "bench", "demo", "devtools"):
        for path in sorted((repo / folder).rglob("*.py")):
            module = ".".join(path.relative_to(repo).with_suffix("").parts)
            for target, line in imports_of(path, module, {}):
                if _within(target, "tests"):
                    found.append(f"{path.relative_to(repo)}:{line}: imports {target}")
    assert found == []
