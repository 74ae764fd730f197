"""MirrorReader checks every package document against the sha256 the root manifest lists
for it, before parsing it: a document changed after the root was written is refused in
one line, over file: and over loopback HTTP alike."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from devtools.static_server import serve_static
from poetry_wheelmirror.client import CachedClient
from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.mirror_client import MirrorReader

GOOD = Path(__file__).parents[1] / "fixtures" / "manifests" / "good"


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOOD, tmp_path / "mirror"))


def _reader(base: str, tmp_path: Path) -> MirrorReader:
    return MirrorReader(base, CachedClient(tmp_path / "cache", retries=0, timeout=(1, 2)))


def _tamper(mirror: Path, name: str) -> None:
    doc = mirror / "packages" / f"{name}.json"
    doc.write_bytes(doc.read_bytes() + b" ")  # still valid JSON, another sha256


def test_untouched_documents_are_read(mirror: Path, tmp_path: Path) -> None:
    reader = _reader(str(mirror), tmp_path)
    names = sorted(reader.root().packages)
    assert names
    for name in names:
        doc = reader.package(name)
        assert doc is not None
        assert doc.name == name


def test_a_changed_document_is_refused_from_a_directory(mirror: Path, tmp_path: Path) -> None:
    reader = _reader(str(mirror), tmp_path)
    name = sorted(reader.root().packages)[0]
    _tamper(mirror, name)
    with pytest.raises(ManifestError, match="does not match the root manifest's") as info:
        reader.package(name)
    assert "\n" not in str(info.value)


def test_a_changed_document_is_refused_over_http(mirror: Path, tmp_path: Path) -> None:
    with serve_static(mirror) as base:
        reader = _reader(base, tmp_path)
        name = sorted(reader.root().packages)[0]
        _tamper(mirror, name)
        with pytest.raises(ManifestError, match="does not match the root manifest's"):
            reader.package(name)
