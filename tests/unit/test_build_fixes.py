"""Automatic fixes, the recipe they print, and the wheel-reading helpers they rely on."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import jsonschema
from packaging.utils import canonicalize_name

from poetry_wheelmirror.mirror.build import find_interpreter
from poetry_wheelmirror.mirror.build.cpython_compat import COMPAT_HEADERS
from poetry_wheelmirror.mirror.build.cpython_compat import add_compat_flags
from poetry_wheelmirror.mirror.build.cpython_compat import compat_include_dir
from poetry_wheelmirror.mirror.build.diagnose import classify
from poetry_wheelmirror.mirror.build.fixes import next_fix
from poetry_wheelmirror.mirror.build.fixes import recipe_text
from poetry_wheelmirror.mirror.build.importcheck import modules_to_check
from poetry_wheelmirror.mirror.build.pipeline import first_usable_release
from poetry_wheelmirror.mirror.build.repair import glibc_note
from poetry_wheelmirror.mirror.build.triage import diagnose_attempt
from poetry_wheelmirror.mirror.build.triage import keep_class_after_compat
from poetry_wheelmirror.mirror.build.wheelfile import extension_modules
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.recipes import BuildSettings
from poetry_wheelmirror.mirror.recipes import parse_recipe
from poetry_wheelmirror.tomlfile import parse_toml

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "build-logs"
SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "poetry_wheelmirror/schema/recipe-v1.schema.json"
    ).read_text()
)


def test_one_fix_at_a_time_and_never_the_same_twice() -> None:
    diagnosis = classify((LOGS / "pip-lazy-object-proxy-1.6.0.log").read_text(), step="build")
    settings = BuildSettings()
    fix = next_fix(diagnosis, settings, install_system_packages=False, manager="apt")
    assert fix is not None
    assert fix.settings.constraints == ("setuptools<70",)
    again = next_fix(diagnosis, fix.settings, install_system_packages=False, manager="apt")
    assert again is None


def test_regenerating_cython_also_pins_cython_below_3() -> None:
    diagnosis = classify(
        (LOGS / "pip-editdistance-0.6.0.log").read_text(),
        step="build",
        generated={"editdistance/bycython.cpp"},
    )
    fix = next_fix(diagnosis, BuildSettings(), install_system_packages=False, manager=None)
    assert fix is not None
    assert fix.settings.regenerate_cython
    assert "Cython<3" in fix.settings.constraints


def test_not_fixable_classes_get_no_fix() -> None:
    # greenlet 1.1.2 reads PyThreadState fields 3.11 removed: no header can shim that.
    diagnosis = classify((LOGS / "pip-greenlet-1.1.2.log").read_text(), step="build")
    assert diagnosis.not_fixable
    assert next_fix(diagnosis, BuildSettings(), install_system_packages=True, manager="apt") is None


def test_system_packages_only_when_asked() -> None:
    log = "src/x.c:3:10: fatal error: libpq-fe.h: No such file or directory\n"
    diagnosis = classify(log, step="build")
    assert diagnosis.cls == "missing-system-dependency"
    assert diagnosis.packages["apt"] == "libpq-dev"
    assert "dnf: libpq-devel" in diagnosis.fix
    assert (
        next_fix(diagnosis, BuildSettings(), install_system_packages=False, manager="apt") is None
    )
    fix = next_fix(diagnosis, BuildSettings(), install_system_packages=True, manager="apt")
    assert fix is not None
    assert fix.settings.system_packages["linux"] == ("libpq-dev",)


def test_the_printed_recipe_is_a_valid_recipe_with_the_fixes() -> None:
    settings = BuildSettings(
        constraints=("Cython<3",),
        env={"SETUPTOOLS_USE_DISTUTILS": "local"},
        regenerate_cython=True,
        cpython_compat=True,
        backend="build",
        import_check_requires=("ruamel.yaml<0.18",),
        system_packages={"linux": ("libpq-dev",)},
    )
    text = recipe_text("psycopg2", "2.9.3", "3.11", settings, ["x", "y"])
    recipe = parse_recipe(text, source="printed")
    assert recipe.versions == ("2.9.3",)
    assert recipe.build == settings
    assert "cpython-compat = true" in text
    assert 'backend = "build"' in text
    assert 'import-check-requires = ["ruamel.yaml<0.18"]' in text
    jsonschema.validate(parse_toml(text, "printed"), SCHEMA)
    # Settings left at their defaults are not written.
    plain = recipe_text("x", "1", "3.11", BuildSettings(constraints=("Cython<3",)), ["x"])
    assert "cpython-compat" not in plain
    assert "backend" not in plain


def _wheel(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "demo-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, b"")
    return path


def test_every_extension_module_maps_to_its_dotted_name(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        [
            "pkg/__init__.py",
            "pkg/_speedups.cpython-311-x86_64-linux-gnu.so",
            "pkg/sub/fast.abi3.so",
            "_top.cpython-311-x86_64-linux-gnu.so",
            "pkg.libs/libxml2-abc123.so.2.9.14",
            "demo.libs/libffi-1234.so.8",
            "demo-1.0.data/purelib/x.so",
            "demo-1.0.dist-info/METADATA",
        ],
    )
    assert extension_modules(wheel) == ["_top", "pkg._speedups", "pkg.sub.fast"]
    assert modules_to_check(wheel, "demo", "pkg.extra") == [
        "_top",
        "pkg._speedups",
        "pkg.sub.fast",
        "pkg.extra",
    ]


def test_a_pure_wheel_checks_its_top_level_package(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, ["pkg/__init__.py"])
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("demo-1.0.dist-info/top_level.txt", "pkg\n")
    assert modules_to_check(wheel, "demo", None) == ["pkg"]


def test_glibc_note_only_past_manylinux_2_28() -> None:
    assert glibc_note("a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl") is None
    assert glibc_note("a-1-cp311-cp311-manylinux_2_28_x86_64.whl") is None
    note = glibc_note("a-1-cp311-cp311-manylinux_2_34_x86_64.whl")
    assert note is not None
    assert "glibc 2.34" in note


def _project(filenames: list[str]) -> UpstreamProject:
    return UpstreamProject(
        name=canonicalize_name("demo"),
        files=tuple(
            UpstreamFile(filename=f, url=f"https://files.example/{f}", sha256="0" * 64, size=1)
            for f in filenames
        ),
        source_url="https://pypi.org/simple/demo/",
    )


def test_first_later_release_with_a_usable_wheel() -> None:
    interp = find_interpreter()
    cp = interp.cp
    project = _project(
        [
            "demo-1.0.tar.gz",
            "demo-1.1.tar.gz",  # sdist only
            f"demo-1.2-cp36-cp36m-{interp.tags[0].platform}.whl",  # not for this interpreter
            "demo-1.3rc1-py3-none-any.whl",  # a pre-release
            f"demo-1.4-{cp}-{cp}-{interp.tags[0].platform}.whl",
            "demo-1.5-py3-none-any.whl",
        ]
    )
    assert first_usable_release(project, "1.0", interp) == "1.4"
    assert first_usable_release(project, "1.4", interp) == "1.5"
    assert first_usable_release(project, "1.5", interp) is None


def _sdist_tree(tmp_path: Path, *, with_pyx: bool) -> Path:
    src = tmp_path / "src"
    pkg = src / "msgpack-1.0.3" / "msgpack"
    pkg.mkdir(parents=True)
    (pkg / "_cmsgpack.cpp").write_text("/* Generated by Cython 0.29.24 */\nint x;\n")
    if with_pyx:
        (pkg / "_cmsgpack.pyx").write_text("# cython: language_level=3\n")
    return src


def test_a_repair_refusal_is_diagnosed_from_the_compile_error_before_it(tmp_path: Path) -> None:
    log = (LOGS / "wheelmirror-msgpack-1.0.3.log").read_text()
    diagnosis = diagnose_attempt(_sdist_tree(tmp_path, with_pyx=True), log, "auditwheel repair")
    assert diagnosis.cls == "old-cython-output"
    assert diagnosis.auto_fixes == ("regenerate-cython", "cpython-compat")


def test_old_cython_output_without_its_pyx_gets_the_compat_headers_only(tmp_path: Path) -> None:
    log = (LOGS / "wheelmirror-msgpack-1.0.3.log").read_text()
    diagnosis = diagnose_attempt(_sdist_tree(tmp_path, with_pyx=False), log, "auditwheel repair")
    assert diagnosis.cls == "old-cython-output"
    # Not fixable once the compatibility headers did not help; nothing to regenerate.
    assert diagnosis.not_fixable
    assert diagnosis.auto_fixes == ("cpython-compat",)
    assert "ships no .pyx" in diagnosis.fix
    fix = next_fix(diagnosis, BuildSettings(), install_system_packages=False, manager=None)
    assert fix is not None
    assert fix.name == "cpython-compat"
    assert fix.settings == BuildSettings(cpython_compat=True)
    assert next_fix(diagnosis, fix.settings, install_system_packages=False, manager=None) is None


def test_old_cython_output_regenerates_first_then_tries_the_compat_headers() -> None:
    diagnosis = classify(
        (LOGS / "wheelmirror-httptools-0.3.0.log").read_text(),
        step="build",
        generated={"httptools-0.3.0/httptools/parser/parser.c"},
    )
    tried = []
    settings = BuildSettings()
    while fix := next_fix(diagnosis, settings, install_system_packages=False, manager=None):
        tried.append(fix.name)
        settings = fix.settings
    assert tried == ["regenerate-cython", "cpython-compat"]
    assert settings.regenerate_cython
    assert settings.cpython_compat


def test_a_compile_still_failing_with_the_headers_keeps_its_not_fixable_class() -> None:
    pyodbc = classify((LOGS / "wheelmirror-pyodbc-4.0.32.log").read_text(), step="build")
    fix = next_fix(pyodbc, BuildSettings(), install_system_packages=False, manager=None)
    assert fix is not None
    assert fix.name == "cpython-compat"
    later = classify("src/x.cpp:3:1: error: expected ';' before '}' token\n", step="build")
    assert later.cls == "compile-error"
    kept = keep_class_after_compat(later, pyodbc)
    assert (kept.cls, kept.not_fixable, kept.fix) == (pyodbc.cls, True, pyodbc.fix)
    assert kept.evidence == later.evidence
    assert next_fix(kept, fix.settings, install_system_packages=False, manager=None) is None
    # A specific new class stays (the headers got further), and so does a first failure.
    missing = classify("x.c:1:10: fatal error: snappy-c.h: No such file or directory", step="build")
    assert keep_class_after_compat(missing, pyodbc) == missing
    assert keep_class_after_compat(later, None) == later


def test_a_pyproject_uv_rejects_is_built_with_pypa_build() -> None:
    orjson = classify((LOGS / "wheelmirror-orjson-3.6.7.log").read_text(), step="build")
    fix = next_fix(orjson, BuildSettings(), install_system_packages=False, manager=None)
    assert fix is not None
    assert fix.settings.backend == "build"
    assert next_fix(orjson, fix.settings, install_system_packages=False, manager=None) is None


def test_the_compat_headers_go_first_on_the_c_and_cpp_include_path() -> None:
    env = {"CFLAGS": "-O2", "CXXFLAGS": ""}
    folder = add_compat_flags(env)
    assert folder == compat_include_dir()
    for header in COMPAT_HEADERS:
        assert (folder / header).is_file()
    assert env["CFLAGS"].startswith(f"-I{folder} ")
    assert env["CFLAGS"].endswith(" -O2")
    assert env["CXXFLAGS"].startswith(f"-I{folder} ")
    # The install location stays out of the wheel's debug info.
    assert f"-ffile-prefix-map={folder}=/wheelmirror-compat" in env["CXXFLAGS"]


def test_generated_c_maps_to_its_pyx_else_the_py_it_was_compiled_from(tmp_path: Path) -> None:
    from poetry_wheelmirror.mirror.build.cython_regen import generated_c_files

    pkg = tmp_path / "src" / "lxml"
    pkg.mkdir(parents=True)
    header = "/* Generated by Cython 0.29.32 */\n"
    for stem in ("etree", "builder", "orphan"):
        (pkg / f"{stem}.c").write_text(header)
    (pkg / "etree.pyx").write_text("")
    (pkg / "etree.py").write_text("")  # the .pyx wins
    (pkg / "builder.py").write_text("")  # lxml compiles builder.py with Cython
    (pkg / "handwritten.c").write_text("int x;\n")
    (pkg / "handwritten.py").write_text("")
    assert generated_c_files(tmp_path) == {
        pkg / "etree.c": pkg / "etree.pyx",
        pkg / "builder.c": pkg / "builder.py",
        pkg / "orphan.c": None,
    }
