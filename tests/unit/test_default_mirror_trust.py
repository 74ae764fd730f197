"""The built-in default mirror is held to the identity pinned in config.py.

A hostile server answers at the default's address (moved there with
``$WHEELMIRROR_DEFAULT_URL``, the setting the code reads) and serves a mirror that is
otherwise perfect for the install: right sdist sha256, right wheel sha256. Nothing from
it may be chosen, and nothing is said as a warning unless something was forged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import poetry_standins as tpi
from devtools.static_server import serve_static
from poetry_wheelmirror.config import DEFAULT_URL_ENV
from poetry_wheelmirror.plugin import default_gate
from poetry_wheelmirror.provenance import sigstore_available
from poetry_wheelmirror.settings import load_settings


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A loopback server with a complete, unattested mirror for markupsafe 2.0.1."""
    root = tpi.write_mirror(tmp_path / "hostile")
    log: list[str] = []
    with serve_static(root, log=log) as url:
        yield url, log


def default_hook(tmp_path: Path, url: str, **extra: str) -> tuple[Any, tpi.IO]:
    hook, io = tpi.make_hook(tmp_path, url)
    environ = {DEFAULT_URL_ENV: url, "WHEELMIRROR_CONFIG": str(tmp_path / "none.toml"), **extra}
    hook.settings = load_settings(None, environ)
    assert hook.settings.builtin_default
    return hook, io


def test_a_configured_mirror_at_the_same_address_is_used(
    tmp_path: Path, hostile: tuple[str, list[str]]
) -> None:
    """The control: the same server, named by the user, is trusted as configured."""
    url, _ = hostile
    hook, io = tpi.make_hook(tmp_path, url)
    hook.settings = load_settings(None, {"POETRY_WHEELMIRROR_URL": url})
    assert hook.choose_for(tpi.Package(), tpi.sdist_choice).filename == tpi.WHEEL
    assert io.err == []


@pytest.mark.skipif(not sigstore_available(), reason="needs the verify extra")
def test_the_default_with_unattested_wheels_is_not_used_and_says_so_once(
    tmp_path: Path, hostile: tuple[str, list[str]]
) -> None:
    url, log = hostile
    hook, io = default_hook(tmp_path, url)
    for _ in range(3):
        assert hook.choose_for(tpi.Package(), tpi.sdist_choice).filename == tpi.SDIST
    assert io.err == []  # no warning: nothing forged, the wheel is only not attested
    hook.report()
    (line,) = io.err
    assert line.startswith("wheelmirror: building from source: markupsafe 2.0.1 (")
    assert "its wheels carry no provenance attestation" in line
    assert line.endswith("see `poetry wheelmirror status`")
    assert "/manifest.json" in log  # it was asked, and answered, and was not believed


def test_without_sigstore_the_default_is_never_contacted(
    tmp_path: Path, hostile: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real plugin venv without the extra is tests/e2e/test_poetry_default_mirror.py;
    # here the availability check itself is what is replaced.
    monkeypatch.setattr("poetry_wheelmirror.provenance.sigstore_available", lambda: False)
    url, log = hostile
    hook, io = default_hook(tmp_path, url)
    assert hook.choose_for(tpi.Package(), tpi.sdist_choice).filename == tpi.SDIST
    hook.report()
    (line,) = io.err
    assert "needs sigstore: poetry self add 'poetry-wheelmirror[verify]'" in line
    assert "poetry wheelmirror use URL" in line
    assert log == []


@pytest.mark.skipif(not sigstore_available(), reason="needs the verify extra")
def test_an_unreachable_default_gives_no_connection_warning(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/"
    hook, io = default_hook(tmp_path, url)
    assert hook.choose_for(tpi.Package(), tpi.sdist_choice).filename == tpi.SDIST
    assert io.err == []
    hook.report()
    (line,) = io.err
    assert "the built-in mirror did not answer" in line
    assert "warning" not in line


def test_nothing_is_said_when_every_package_has_a_wheel(tmp_path: Path) -> None:
    hook, io = default_hook(tmp_path, "http://127.0.0.1:9/")
    chosen = hook.choose_for(tpi.Package(), lambda p: tpi.Link("https://f/six-1.16.0-py2.py3-none-any.whl"))
    assert chosen.filename.endswith(".whl")
    hook.report()
    assert io.err == []
    assert io.out == []
    assert not default_gate.SourceBuilds()
