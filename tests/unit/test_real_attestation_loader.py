"""devtools/real_attestation.py skips only when PyPI cannot be reached; a change in
PyPI's data (a file gone, a changed layout) fails loudly instead of hiding every
real-sigstore test behind a skip. Both against real loopback HTTP: a port with nothing
listening, and a static server whose simple page lacks the attested file."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from devtools import real_attestation as ra
from devtools.static_server import serve_static


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ra, "_CACHE", [])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_index_is_a_reported_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ra, "_SIMPLE", f"http://127.0.0.1:{_closed_port()}/simple/{{}}/")
    with pytest.raises(pytest.skip.Exception) as info:
        ra.fetch_real_attestation()
    assert "REAL-SIGSTORE TESTS NOT RUN: PyPI unreachable" in str(info.value)


def test_a_changed_index_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    page = tmp_path / "simple" / ra.PROJECT
    page.mkdir(parents=True)
    (page / "index.html").write_text(json.dumps({"files": []}))  # the sdist is gone
    with serve_static(tmp_path) as base:
        monkeypatch.setattr(ra, "_SIMPLE", base + "simple/{}/")
        with pytest.raises(AssertionError) as info:
            ra.fetch_real_attestation()
    assert "could not be loaded from PyPI's data: KeyError" in str(info.value)


def test_a_missing_page_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with serve_static(tmp_path) as base:  # 404 for the project page
        monkeypatch.setattr(ra, "_SIMPLE", base + "simple/{}/")
        with pytest.raises(AssertionError) as info:
            ra.fetch_real_attestation()
    assert "HTTPError" in str(info.value)
