"""Wheels whose extensions link system libraries outside the manylinux policy (libxml2,
libxslt, libpq): auditwheel repair grafts them in and picks the manylinux tag.

lxml 4.9.0 and psycopg2 2.9.3 publish no wheel for CPython 3.11; this machine has
libxml2-dev, libxslt1-dev and libpq-dev installed. lxml takes several minutes on 2 cores.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.cli import REPO
from devtools.cli import run_source_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CP = f"cp{sys.version_info[0]}{sys.version_info[1]}"


@pytest.mark.timeout(3600)
def test_system_library_users_become_manylinux_wheels(tmp_path: Path) -> None:
    mirror, report = tmp_path / "mirror", tmp_path / "report.json"
    result = run_source_cli(
        "build",
        "lxml==4.9.0",
        "psycopg2==2.9.3",
        "--mirror",
        str(mirror),
        "--recipes",
        str(REPO / "recipes"),
        "--report",
        str(report),
        cache=tmp_path / "cache",
        timeout=3600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    grafted = {"lxml": "libxml2", "psycopg2": "libpq"}
    for name, library in grafted.items():
        wheels = sorted((mirror / "files" / name).glob("*.whl"))
        assert len(wheels) == 1, wheels
        tags = wheels[0].name[: -len(".whl")].split("-")[-3:]
        assert tags[:2] == [CP, CP]
        assert all(p.startswith("manylinux") for p in tags[2].split(".")), tags
        with zipfile.ZipFile(wheels[0]) as zf:
            libs = [n for n in zf.namelist() if ".libs/" in n]
        assert any(library in n for n in libs), libs
    outcomes = {o["pin"]: o for o in json.loads(report.read_text())["outcomes"]}
    assert outcomes["lxml==4.9.0"]["outcome"] == "built"
    # The import check imported every extension module, not just the package.
    log = Path(outcomes["lxml==4.9.0"]["log"]).read_text()
    assert "imported lxml.etree" in log
    assert "imported lxml.objectify" in log
    assert "imported psycopg2._psycopg" in Path(outcomes["psycopg2==2.9.3"]["log"]).read_text()
