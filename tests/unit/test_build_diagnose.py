"""The failure classifier against real log excerpts (tests/fixtures/build-logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from poetry_wheelmirror.mirror.build.diagnose import classify
from poetry_wheelmirror.mirror.build.diagnose import failed_step_output
from poetry_wheelmirror.mirror.build.diagnose import provider
from poetry_wheelmirror.mirror.build.diagnose import rules
from poetry_wheelmirror.tomlfile import parse_toml

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "build-logs"
CASES: list[dict[str, Any]] = parse_toml((LOGS / "index.toml").read_text(), "index.toml")["log"]


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_real_logs_get_their_class_and_evidence(case: dict[str, Any]) -> None:
    text = (LOGS / case["file"]).read_text()
    diagnosis = classify(text, step=case["step"], generated=case.get("generated", ()))
    assert diagnosis.cls == case["class"], diagnosis.line()
    assert case["evidence"] in diagnosis.evidence
    assert diagnosis.fix
    for manager, package in case.get("packages", {}).items():
        assert diagnosis.packages[manager] == package
    if "auto-fixes" in case:
        assert diagnosis.auto_fixes == tuple(case["auto-fixes"])
    line = diagnosis.line()
    assert "\n" not in line
    assert line.startswith(f"{case['class']}: ")


def test_every_fixture_is_listed() -> None:
    listed = {c["file"] for c in CASES}
    assert listed == {p.name for p in LOGS.glob("*.log")}


def test_generated_c_decides_between_regenerate_and_not_fixable() -> None:
    text = (LOGS / "pip-editdistance-0.6.0.log").read_text()
    assert classify(text, step="build").cls == "python-api-removed"
    regen = classify(text, step="build", generated={"editdistance/bycython.cpp"})
    assert regen.cls == "old-cython-output"
    # Regenerating from the .pyx first; the compatibility headers only after that.
    assert regen.auto_fixes == ("regenerate-cython", "cpython-compat")


def test_hand_written_c_gets_the_compat_headers_only_for_api_they_can_shim() -> None:
    # The same 3.12 error in hand-written C: a removed struct field, which no header can
    # bring back, so no retry; a removed function (pyodbc) or a renamed one (msgpack's
    # C++ headers, after its Cython C was regenerated) is retried with the headers.
    text = (LOGS / "wheelmirror-httptools-0.3.0-cp312-compat.log").read_text()
    internals = classify(text, step="build")
    assert internals.cls == "python-api-removed"
    assert internals.not_fixable
    assert internals.auto_fixes == ()
    for name in ("wheelmirror-pyodbc-4.0.32.log", "wheelmirror-msgpack-1.0.3-regenerated.log"):
        api = classify((LOGS / name).read_text(), step="build")
        assert (api.cls, api.auto_fixes, api.not_fixable) == (
            "python-api-removed",
            ("cpython-compat",),
            True,
        )


def test_a_module_missing_at_import_names_it_unless_the_stdlib_dropped_it() -> None:
    needs = classify(
        "wheelmirror-import-failed: _ruamel_yaml -- ModuleNotFoundError: No module named 'ruamel'",
        step="import check",
    )
    assert (needs.cls, needs.what, needs.not_fixable) == ("import-needs-package", "ruamel", False)
    assert "import-check-requires" in needs.fix
    dropped = classify(
        "wheelmirror-import-failed: x._y -- ModuleNotFoundError: No module named 'imp'",
        step="import check",
    )
    assert (dropped.cls, dropped.not_fixable) == ("import-package-code", True)


def test_the_table_covers_the_classes_the_builder_promises() -> None:
    classes = {r.cls for r in rules()}
    assert {
        "missing-system-dependency",
        "old-cython-output",
        "cython3-incompatible",
        "setuptools-too-new",
        "distutils-missing",
        "rust-toolchain",
        "timeout",
        "import-package-code",
        "python-api-removed",
    } <= classes
    for rule in rules():
        assert rule.fix
        assert rule.patterns


def test_providers_name_a_package_for_every_manager() -> None:
    for what in ("libxml/xmlversion.h", "pg_config", "ffi.h", "jpeglib.h", "krb5-config"):
        packages = provider(what)
        assert set(packages) == {"apt", "dnf", "apk", "brew"}, what
    assert provider("ldap") == provider("ldap.h")
    assert provider("no-such-thing.h") == {}


def test_only_the_failed_steps_output_is_read() -> None:
    log = "$ uv build\nerror: old trouble\n$ auditwheel repair x.whl\ncannot repair: foo\n"
    assert failed_step_output(log) == "cannot repair: foo"
    diagnosis = classify(failed_step_output(log), step="auditwheel repair")
    assert diagnosis.cls == "repair-refused"


def test_unknown_failures_still_end_in_one_classified_line() -> None:
    diagnosis = classify("something odd\nerror: it broke\nbye\n", step="build")
    assert diagnosis.cls == "unclassified"
    assert diagnosis.evidence == "error: it broke"


def test_a_silent_fallback_shows_in_repair_and_its_cause_earlier() -> None:
    # msgpack 1.0.3: the extension did not compile, setup.py fell back to pure Python,
    # and auditwheel refused the resulting "platform" wheel with no extension in it.
    text = (LOGS / "wheelmirror-msgpack-1.0.3.log").read_text()
    repair = classify(failed_step_output(text), step="auditwheel repair")
    assert repair.cls == "repair-refused"
    assert "does not look like a platform wheel" in repair.evidence
