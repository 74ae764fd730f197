"""Static index generation for a synthetic mirror of 50,000 wheels (target: < 5 s).

    .venv/bin/python -m bench.bench_index [WHEELS]

500 packages x 10 versions x 10 wheels, each package also carrying a 100-file upstream
snapshot. Reports the pure render (index.render_index) and the full on-disk regeneration
(MirrorStore.regenerate_index: read and verify every document, write every page), first
into an empty simple/ and then as a no-op over an up-to-date tree.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

from packaging.utils import canonicalize_name

from poetry_wheelmirror.fs import atomic_write
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import root_manifest_json
from poetry_wheelmirror.mirror.index import render_index
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.pypi import upstream_snapshot_json
from poetry_wheelmirror.mirror.store import MirrorStore

PLATFORMS = [
    "manylinux_2_17_x86_64",
    "manylinux_2_17_aarch64",
    "macosx_11_0_arm64",
    "macosx_10_9_x86_64",
    "musllinux_1_2_x86_64",
]


def synthetic(total: int) -> dict:
    packages = {}
    per_package = 100
    for p in range(max(1, total // per_package)):
        name = canonicalize_name(f"pkg-{p}")
        versions = {}
        for v in range(10):
            version = f"1.{v}.0"
            sha = hashlib.sha256(f"{name}{version}".encode()).hexdigest()
            source = SourceDist(
                f"{name.replace('-', '_')}-{version}.tar.gz",
                sha,
                f"https://files.example/{name}-{version}.tar.gz",
            )
            wheels = tuple(
                WheelFile(
                    filename=f"{name.replace('-', '_')}-{version}-cp3{py}-cp3{py}-{plat}.whl",
                    url=f"../files/{name}/{name.replace('-', '_')}-{version}-cp3{py}-{plat}.whl",
                    sha256=sha,
                    size=123456,
                    requires_python=">=3.9",
                    metadata_sha256=sha,
                )
                for py in (12, 13)
                for plat in PLATFORMS
            )
            versions[version] = VersionEntry(version, source, wheels)
        upstream = UpstreamProject(
            name=name,
            files=tuple(
                UpstreamFile(
                    filename=f"{name.replace('-', '_')}-0.{i}.tar.gz",
                    url=f"https://files.example/{name}-0.{i}.tar.gz",
                    sha256="b" * 64,
                    size=1000,
                    requires_python=">=3.8",
                    upload_time="2024-01-01T00:00:00Z",
                )
                for i in range(100)
            ),
        )
        packages[name] = (PackageDocument(name=name, versions=versions), upstream)
    return packages


def main() -> int:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    packages = synthetic(total)
    wheels = sum(len(e.wheels) for d, _ in packages.values() for e in d.versions.values())
    started = time.perf_counter()
    pages = render_index(packages)
    render = time.perf_counter() - started
    size = sum(len(p) for p in pages.values())
    print(
        f"index for {len(packages)} packages, {wheels} mirror wheels (+{len(packages) * 100} "
        f"upstream files): {len(pages)} pages, {size / 1e6:.1f} MB"
    )
    print(f"  render_index (pure): {render:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        mirror = Path(tmp)
        refs = {}
        for name, (doc, upstream) in packages.items():
            data = dump_document(package_document_json(doc))
            atomic_write(mirror / "packages" / f"{name}.json", data)
            atomic_write(
                mirror / "upstream" / f"{name}.json",
                dump_document(upstream_snapshot_json(upstream)),
            )
            refs[name] = PackageRef(name, f"packages/{name}.json", hashlib.sha256(data).hexdigest())
        root = RootManifest("bench", "simple/", "2026-01-01T00:00:00Z", refs)
        atomic_write(mirror / "manifest.json", dump_document(root_manifest_json(root)))
        store = MirrorStore(mirror)
        started = time.perf_counter()
        written = store.regenerate_index()
        full = time.perf_counter() - started
        started = time.perf_counter()
        again = store.regenerate_index()
        noop = time.perf_counter() - started
    print(f"  regenerate_index on disk, empty simple/: {full:.2f} s ({len(written)} files)")
    print(f"  regenerate_index on disk, no change:     {noop:.2f} s ({len(again)} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
