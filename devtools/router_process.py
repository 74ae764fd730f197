"""A real ``wheelmirror serve MIRROR --upstream URL`` process for the router fault tests
(tests/e2e/test_faults_router.py) and bench/fault_table.py: one project per fault."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.faulty_server import FaultyServer

__all__ = ["WHEELMIRROR", "project", "start_router", "stop", "upstream_page"]

WHEELMIRROR = Path(sys.executable).with_name("wheelmirror")


def project(case_id: str) -> str:
    return "pkg-" + case_id.replace("_", "-")


def upstream_page(name: str) -> bytes:
    sdist = f"{name.replace('-', '_')}-1.0.tar.gz"
    return json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "name": name,
            "files": [
                {
                    "filename": sdist,
                    "url": f"https://files.pythonhosted.org/packages/{sdist}",
                    "hashes": {"sha256": "1" * 64},
                    "size": 10,
                }
            ],
        }
    ).encode()


def start_router(
    mirror: Path, upstream: FaultyServer, cache: Path, ttl: float
) -> tuple[str, subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [
            str(WHEELMIRROR),
            "serve",
            "--mirror",
            str(mirror),
            "--port",
            "0",
            "--upstream",
            upstream.url_for("/simple/"),
            "--upstream-ttl",
            str(ttl),
            "--cache-dir",
            str(cache),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"at (http://\S+/) ", line)
    if not match:
        proc.kill()
        pytest.fail(f"serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return match.group(1), proc


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err
