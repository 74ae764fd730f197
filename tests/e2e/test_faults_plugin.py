"""The Poetry plugin (real Poetry) against a mirror served by devtools.faulty_server.

A real MarkupSafe 2.0.1 mirror (built from PyPI's sdist) is served over loopback HTTP;
one file at a time misbehaves: the root manifest, the package document or the wheel.
The rule: Poetry installs the mirror's verified wheel, or installs normally (building
the sdist) with exactly one warning, or — for whole bytes that fail the sha256 check —
stops with Poetry's own hash error; never unverified bytes installed, never a hang
past the plugin's timeouts ((3 s, 10 s), one retry, Retry-After capped at 5 s, 30 s
deadline for documents, 120 s for a wheel, which the plugin downloads itself into
Poetry's artifact cache), poetry.lock never changed. The default run covers Poetry
2.5.1 and the main faults; the rest is slow.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.faulty_server import CASE_IDS
from devtools.faulty_server import FaultyServer
from devtools.faulty_server import apply_case
from devtools.faulty_server import case
from devtools.faulty_server import serve_faulty
from devtools.passthrough import PassthroughIndex
from devtools.poetry_env import POETRY_VERSIONS
from devtools.poetry_env import project_env
from devtools.poetry_project import Setup
from devtools.poetry_project import assert_built_from_sdist
from devtools.poetry_project import assert_from_mirror
from devtools.poetry_project import make_project
from devtools.poetry_project import warnings

pytestmark = pytest.mark.e2e

#: Faults after which the document or wheel is still the right one.
HARMLESS = {"http_503_then_ok", "redirect_other_host", "content_type_wrong", "content_type_missing"}
#: What the default run covers (Poetry 2.5.1); everything else is slow-marked. A stall
#: (~22 s of timeouts per install), a gzip bomb and a long Retry-After are the plugin's
#: HTTP client's to handle: test_faults_client.py's test_get_under_fault and
#: test_download_under_fault run every case against it in the default run, and the
#: cases here cover the plugin's answer to a failed fetch on the real Poetry.
DEFAULT = {
    ("packages/markupsafe.json", "corrupt"),
    ("wheel", "corrupt"),
    ("wheel", "truncated"),
    ("wheel", "http_404"),
}


@pytest.fixture
def servers() -> Iterator[tuple[FaultyServer, FaultyServer]]:
    with serve_faulty() as main, serve_faulty("127.0.0.2") as other:
        yield main, other


def params() -> list[object]:
    found: list[object] = []
    for version in POETRY_VERSIONS:
        for target in ("manifest.json", "packages/markupsafe.json", "wheel"):
            for case_id in CASE_IDS:
                default = version == POETRY_VERSIONS[-1] and (target, case_id) in DEFAULT
                marks: list[pytest.MarkDecorator] = [] if default else [pytest.mark.slow]
                found.append(
                    pytest.param(
                        version,
                        target,
                        case_id,
                        marks=marks,
                        id=f"poetry-{version}-{target.split('/')[-1]}-{case_id}",
                    )
                )
    return found


def record(version: str, target: str, case_id: str, outcome: str) -> None:
    """Append the observed outcome to $WHEELMIRROR_FAULT_LOG (for docs/reliability.md)."""
    log = os.environ.get("WHEELMIRROR_FAULT_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps([version, target, case_id, outcome]) + "\n")


def outcome_of(out: str, code: int, took: float) -> str:
    lines = warnings(out)
    if code != 0:
        kind = "hash error" if "not found in known hashes" in out else "install failed"
        return f"exit {code}: {kind}, nothing installed ({took:.0f} s)"
    if "from the mirror:" in out:
        return f"mirror wheel installed (verified by Poetry) ({took:.0f} s)"
    return f"normal install (no mirror wheel), {len(lines)} warning ({took:.0f} s)"


def site_packages(project: Path) -> Path:
    return next((project / ".venv" / "lib").glob("python3*/site-packages"))


@pytest.mark.parametrize(("version", "target", "case_id"), params())
def test_plugin_under_fault(
    version: str,
    target: str,
    case_id: str,
    setups: Callable[[str], Setup],
    mirror_dir: Path,
    servers: tuple[FaultyServer, FaultyServer],
    pypi_index: PassthroughIndex,
    tmp_path: Path,
) -> None:
    main, other = servers
    setup = setups(version)
    files = {
        str(p.relative_to(mirror_dir)): p.read_bytes()
        for p in sorted(mirror_dir.rglob("*"))
        if p.is_file()
    }
    for relative, data in files.items():
        main.set("/m/" + relative, data)
    (wheel_path,) = [r for r in files if r.endswith(".whl")]
    path = wheel_path if target == "wheel" else target
    apply_case(main, "/m/" + path, files[path], case(case_id), other)
    project = make_project(tmp_path / "p", pypi_index.url, setup.lock)
    env = project_env(tmp_path, POETRY_WHEELMIRROR_URL=main.url_for("/m/"))
    start = time.monotonic()
    result = setup.plugin.run("install", cwd=project, env=env, check=False, timeout=900)
    took = time.monotonic() - start
    out = result.stdout + result.stderr
    record(version, target, case_id, outcome_of(out, result.returncode, took))
    assert "Traceback" not in out, out
    assert (project / "poetry.lock").read_bytes() == setup.lock
    # An install building the sdist takes a few seconds; on top of it, the mirror may
    # cost at most its 30 s deadline plus one 10 s read timeout (twice: root, then doc),
    # or, for the wheel, its 120 s deadline (a trickle) plus a 10 s read timeout.
    assert took < 240, f"{took:.0f} s"
    if case_id in HARMLESS:
        assert result.returncode == 0, out
        assert_from_mirror(project, out)
        return
    if target == "wheel" and case_id == "corrupt":
        # Whole bytes that do not match the manifest's sha256: tampering, fail-closed.
        assert result.returncode != 0, out
        assert "not found in known hashes" in out, out
        installed = (
            [
                p
                for p in site_packages(project).glob("*.dist-info")
                if p.name.lower().startswith("markupsafe")
            ]
            if (project / ".venv").exists()
            else []
        )
        assert not installed, f"a failed install left markupsafe behind:\n{out}"
        return
    if target == "wheel":
        # The plugin could not download the wheel (within its timeouts, capped
        # Retry-After, size limit): Poetry's own choice, the sdist, with one warning.
        assert result.returncode == 0, out
        (warning,) = warnings(out)
        assert "markupsafe: mirror wheel not used: cannot download it from 127.0.0.1:" in (
            warning
        ), warning
        assert "installing as without the plugin" in warning, warning
        assert_built_from_sdist(project, out)
        return
    assert result.returncode == 0, out
    (warning,) = warnings(out)
    assert "installing without it" in warning, warning
    assert_built_from_sdist(project, out)
