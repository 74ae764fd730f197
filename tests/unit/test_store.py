from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from devtools.wheels import make_wheel
from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.mirror.build import add_build_tag
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.store import NewWheel

SHA = "a" * 64


def _new(folder: Path, filename: str, *, body: str = "", sdist_sha: str = SHA) -> NewWheel:
    folder.mkdir(parents=True, exist_ok=True)
    path = make_wheel(folder, filename, module_body=body)
    name, version = filename.split("-")[:2]
    data = path.read_bytes()
    return NewWheel(
        name=canonicalize_name(name),
        version=version,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        metadata=f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        source=SourceDist(
            filename=f"{name}-{version}.tar.gz",
            sha256=sdist_sha,
            url=f"https://f/{name}-{version}.tar.gz",
        ),
        build=BuildInfo(platform="manylinux_2_17_x86_64", python="3.11.7"),
    )


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


UPSTREAM = UpstreamProject(
    name=canonicalize_name("demo"),
    files=(
        UpstreamFile(
            filename="Demo-1.0-cp310-cp310-manylinux_2_17_x86_64.whl",
            url="https://f/Demo-1.0-cp310-cp310-manylinux_2_17_x86_64.whl",
            sha256=SHA,
            size=3,
        ),
        UpstreamFile(
            filename="demo-1.0.tar.gz", url="https://f/demo-1.0.tar.gz", sha256=SHA, size=3
        ),
    ),
)


def test_add_writes_the_layout_and_a_second_add_changes_nothing(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    store = MirrorStore(mirror)
    wheel = _new(tmp_path / "w", "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    result = store.add([wheel], {wheel.name: UPSTREAM})
    assert result.added == (f"files/demo/{wheel.filename}",)
    for rel in [
        "manifest.json",
        "packages/demo.json",
        f"files/demo/{wheel.filename}",
        f"files/demo/{wheel.filename}.metadata",
        "upstream/demo.json",
        "simple/index.html",
        "simple/index.json",
        "simple/demo/index.html",
        "simple/demo/index.json",
    ]:
        assert (mirror / rel).is_file(), rel
    root = store.root()
    assert root is not None
    assert list(root.packages) == ["demo"]
    assert (
        root.packages["demo"].sha256
        == hashlib.sha256((mirror / "packages/demo.json").read_bytes()).hexdigest()
    )
    page = (mirror / "simple/demo/index.html").read_text()
    assert page.index(wheel.filename) < page.index("demo-1.0.tar.gz")  # mirror first, then PyPI

    before = _snapshot(mirror)
    again = store.add([wheel], {wheel.name: UPSTREAM})
    assert again.added == ()
    assert again.written == ()
    assert again.already_present == (f"files/demo/{wheel.filename}",)
    assert _snapshot(mirror) == before
    assert store.regenerate_index() == []
    assert _snapshot(mirror) == before


def test_refusals_leave_the_mirror_as_it_was(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    store = MirrorStore(mirror)
    name = "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    store.add([_new(tmp_path / "a", name)], {canonicalize_name("demo"): UPSTREAM})
    before = _snapshot(mirror)
    with pytest.raises(PublishError, match="exists with other bytes"):
        store.add([_new(tmp_path / "b", name, body="X = 2\n")])
    # PyPI's own filename, spelled differently: still the same file for an installer.
    with pytest.raises(PublishError, match="PyPI already has"):
        store.add([_new(tmp_path / "c", "demo-1.0-cp310-cp310-manylinux_2_17_x86_64.whl")])
    with pytest.raises(PublishError, match="was built from"):
        store.add(
            [
                _new(
                    tmp_path / "d",
                    "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
                    sdist_sha="b" * 64,
                )
            ]
        )
    assert _snapshot(mirror) == before


def test_a_build_tagged_rebuild_sits_beside_the_original(tmp_path: Path) -> None:
    store = MirrorStore(tmp_path / "mirror")
    name = "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    store.add([_new(tmp_path / "a", name)])
    rebuilt = _new(tmp_path / "b", name, body="X = 2\n")
    tagged_path = add_build_tag(rebuilt.path, 1, tmp_path)
    assert tagged_path.name == "demo-1.0-1-cp311-cp311-manylinux_2_17_x86_64.whl"
    data = tagged_path.read_bytes()
    tagged = NewWheel(
        **{
            **rebuilt.__dict__,
            "path": tagged_path,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
    )
    store.add([tagged])
    doc = store.package("demo")
    assert doc is not None
    assert sorted(w.filename for w in doc.versions["1.0"].wheels) == [tagged_path.name, name]


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    wheels = [
        _new(tmp_path / f"w{i}", f"demo-1.0-cp3{i % 10}-cp3{i % 10}-manylinux_2_{i}_x86_64.whl")
        for i in range(5, 25)
    ]
    errors: list[BaseException] = []

    def worker(batch: list[NewWheel]) -> None:
        try:
            for wheel in batch:
                MirrorStore(mirror).add([wheel])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(wheels[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    doc = MirrorStore(mirror).package("demo")
    assert doc is not None
    assert len(doc.versions["1.0"].wheels) == len(wheels)


def test_regenerate_index_rebuilds_deleted_pages_and_drops_stale_ones(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    store = MirrorStore(mirror)
    store.add([_new(tmp_path / "a", "demo-1.0-py3-none-any.whl")], {UPSTREAM.name: UPSTREAM})
    page = (mirror / "simple/demo/index.html").read_bytes()
    (mirror / "simple/demo/index.html").unlink()
    (mirror / "simple/gone").mkdir()
    (mirror / "simple/gone/index.html").write_text("old")
    written = store.regenerate_index()
    assert sorted(written) == ["simple/demo/index.html", "simple/gone/index.html"]
    assert (mirror / "simple/demo/index.html").read_bytes() == page
    assert not (mirror / "simple/gone").exists()


# -- crash recovery (writes are staged beside the mirror, then journaled) -----------------


def _crash_site(tmp_path: Path) -> tuple[MirrorStore, Path]:
    mirror = tmp_path / "mirror"
    (mirror / "packages").mkdir(parents=True)
    (mirror / "manifest.json").write_bytes(b"old root\n")
    store = MirrorStore(mirror)
    store.staging_dir.mkdir()
    return store, mirror


def test_staged_but_unjournaled_writes_are_dropped(tmp_path: Path) -> None:
    store, mirror = _crash_site(tmp_path)
    (store.staging_dir / "000000-manifest.json").write_bytes(b"new root\n")
    (mirror / "packages" / ".x.json.123.tmp").write_bytes(b"torn")  # an older writer's
    with store.locked():
        pass
    assert (mirror / "manifest.json").read_bytes() == b"old root\n"
    assert not store.staging_dir.exists()
    assert sorted(p.name for p in mirror.rglob("*")) == ["manifest.json", "packages"]


def test_a_journaled_commit_is_rolled_forward(tmp_path: Path) -> None:
    import json

    store, mirror = _crash_site(tmp_path)
    (store.staging_dir / "000000-x.json").write_bytes(b"doc\n")
    (store.staging_dir / "000001-manifest.json").write_bytes(b"new root\n")
    (mirror / "simple" / "gone").mkdir(parents=True)
    (mirror / "simple" / "gone" / "index.html").write_bytes(b"stale page")
    journal = [
        ["packages/x.json", "000000-x.json"],
        ["manifest.json", "000001-manifest.json"],
        ["simple/gone/index.html", None],
    ]
    (store.staging_dir / "journal.json").write_text(json.dumps(journal))
    with store.locked():
        assert (mirror / "manifest.json").read_bytes() == b"new root\n"
    assert (mirror / "packages" / "x.json").read_bytes() == b"doc\n"
    assert not (mirror / "simple" / "gone").exists()
    assert not store.staging_dir.exists()
