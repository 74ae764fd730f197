"""A setup.py that falls back to pure Python when its C extension does not compile.

coverage 6.5.0 on CPython 3.13: its tracer includes CPython internal headers, the
compile fails, and its setup.py catches that and packages a py3-none-any wheel that
imports fine but has lost its C tracer. The builder must not publish that wheel as a
build of the package (a real sdist from PyPI, a real build)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.cli import run_source_cli
from poetry_wheelmirror.errors import BuildError
from poetry_wheelmirror.mirror.build import find_interpreter


def test_a_pure_python_fallback_after_a_failed_compile_is_not_published(tmp_path: Path) -> None:
    try:
        find_interpreter("3.13")
    except BuildError:
        pytest.skip("no CPython 3.13 on this machine (PATH or pyenv)")
    mirror = tmp_path / "mirror"
    result = run_source_cli(
        "build", "coverage==6.5.0", "--python", "3.13", "--mirror", str(mirror), "--json",
        cache=tmp_path / "cache", timeout=900,
    )  # fmt: skip
    assert result.returncode == 7, result.stdout + result.stderr
    (outcome,) = json.loads(result.stdout)["outcomes"]
    assert outcome["outcome"] == "failed"
    # The line names the compile error the fallback hid.
    assert "error:" in outcome["evidence"]
    log = Path(outcome["log"]).read_text()
    assert "did not compile and the build fell back to pure Python" in log
    assert not (mirror / "files").exists()
