"""mirror/tree.py: the one rendering of the mirror tree, and its two writers
(MirrorStore for a mirror directory, site.write_site for a site to publish)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from packaging.utils import canonicalize_name

from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.site import PublishedState
from poetry_wheelmirror.mirror.site import write_site
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.tree import PreviousRoot
from poetry_wheelmirror.mirror.tree import document_bytes
from poetry_wheelmirror.mirror.tree import render_index_tree

NAME = canonicalize_name("demo")
WHEEL = "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
DOC = PackageDocument(
    name=NAME,
    versions={
        "1.0": VersionEntry(
            version="1.0",
            source=SourceDist("demo-1.0.tar.gz", "a" * 64, "https://f/demo-1.0.tar.gz"),
            wheels=(WheelFile(WHEEL, f"../files/demo/{WHEEL}", "b" * 64, 3),),
        )
    },
)
UPSTREAM = UpstreamProject(
    name=NAME,
    files=(UpstreamFile("demo-1.0.tar.gz", "https://f/demo-1.0.tar.gz", "a" * 64, 3),),
)
SHA = hashlib.sha256(document_bytes(DOC, "(test)")).hexdigest()


def render(previous: PreviousRoot | None, mirror_name: str = "m") -> dict[str, bytes]:
    files = render_index_tree(
        {NAME: DOC},
        {NAME: SHA},
        {NAME: UPSTREAM},
        mirror_name=mirror_name,
        previous=previous,
        now="2030-01-01T00:00:00Z",
    )
    return {f.path: f.data for f in files}


def generated_at(files: dict[str, bytes]) -> str:
    return str(json.loads(files["manifest.json"])["generated_at"])


def test_pages_then_root_then_project_list() -> None:
    files = render_index_tree({NAME: DOC}, {NAME: SHA}, {}, mirror_name="m", previous=None, now="t")
    assert [(f.path, f.durable) for f in files] == [
        ("simple/demo/index.html", False),
        ("simple/demo/index.json", False),
        ("manifest.json", True),
        ("simple/index.html", False),
        ("simple/index.json", False),
    ]


def test_generated_at_moves_only_with_the_content() -> None:
    before = "2020-01-01T00:00:00Z"
    assert generated_at(render(PreviousRoot("m", before, {NAME: SHA}))) == before
    assert generated_at(render(None)) == "2030-01-01T00:00:00Z"
    for previous in (
        PreviousRoot("m", before, {NAME: "c" * 64}),  # a document changed
        PreviousRoot("m", before, {}),  # a package was added
        PreviousRoot("other", before, {NAME: SHA}),  # renamed mirror
        PreviousRoot("m", "", {NAME: SHA}),  # no time recorded
    ):
        assert generated_at(render(previous)) == "2030-01-01T00:00:00Z"


def test_both_writers_write_the_same_tree(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(site, {NAME: DOC}, {NAME: UPSTREAM}, mirror_name="m")
    mirror = tmp_path / "mirror"
    shutil.copytree(site, mirror)
    shutil.rmtree(mirror / "simple")
    written = MirrorStore(mirror).regenerate_index()
    assert sorted(written) == [
        "simple/demo/index.html",
        "simple/demo/index.json",
        "simple/index.html",
        "simple/index.json",
    ]
    tree = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert tree == {p.relative_to(mirror): p.read_bytes() for p in mirror.rglob("*") if p.is_file()}
    # And the site writer, given what it published, changes nothing.
    previous = PublishedState.from_directory(site)
    assert write_site(site, {NAME: DOC}, {NAME: UPSTREAM}, mirror_name="m", previous=previous) == []
