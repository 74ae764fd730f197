"""Helpers for the publishing tests: small source mirrors and Sigstore-shaped bundles."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.utils import parse_wheel_filename

from devtools.wheels import make_wheel
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.mirror.store import MirrorStore
from poetry_wheelmirror.mirror.store import NewWheel

__all__ = ["build_markupsafe", "fake_bundle", "make_source_mirror", "tree_state"]


def make_source_mirror(folder: Path, filenames: list[str], *, body: str = "") -> MirrorStore:
    """A local mirror at *folder* holding small valid wheels named *filenames*."""
    store = MirrorStore(folder, mirror_name="test")
    new = []
    build_dir = folder.parent / f".{folder.name}-wheels"
    for filename in filenames:
        path = make_wheel(build_dir, filename, requires_python=">=3.8", module_body=body)
        name, version, _build, _tags = parse_wheel_filename(filename)
        with zipfile.ZipFile(path) as zf:
            metadata = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA")))
        sdist = f"{name}-{version}.tar.gz"
        new.append(
            NewWheel(
                name=canonicalize_name(name),
                version=str(version),
                path=path,
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                size=path.stat().st_size,
                metadata=metadata,
                source=SourceDist(
                    filename=sdist,
                    sha256=hashlib.sha256(sdist.encode()).hexdigest(),
                    url=f"https://files.example.invalid/{sdist}",
                ),
                build=BuildInfo(platform="any", python="3.11", runner="test"),
                requires_python=">=3.8",
            )
        )
    store.add(new)
    return store


def fake_bundle(subjects: dict[str, str], *, repository: str = "o/r") -> dict[str, object]:
    """A bundle shaped like actions/attest-build-provenance output (unsigned: the
    publisher records bundles, it does not verify them)."""
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in subjects.items()],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "externalParameters": {
                    "workflow": {
                        "repository": f"https://github.com/{repository}",
                        "path": ".github/workflows/build.yml",
                        "ref": "refs/heads/main",
                    }
                }
            }
        },
    }
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "AAAA"}},
        "dsseEnvelope": {
            "payload": payload,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": "AAAA"}],
        },
    }


def tree_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under *folder* with its bytes and mtime (to prove a no-op run)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def build_markupsafe(base: Path) -> Path:
    """A real local mirror: ``wheelmirror build markupsafe==2.0.1`` (PyPI's sdist, ~2 s)."""
    import os
    import subprocess
    import sys

    from devtools.cleanenv import clean_env

    mirror = base / "built"
    result = subprocess.run(
        [sys.executable, "-m", "poetry_wheelmirror.cli.main", "build", "markupsafe==2.0.1",
         "--mirror", str(mirror), "--cache-dir", str(base / "cache")],
        env=clean_env(PIP_CONFIG_FILE=os.devnull),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return mirror
