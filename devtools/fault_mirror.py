"""A small valid mirror as bytes (root manifest, package documents, wheels), to serve
from devtools.faulty_server for the client, router and plugin fault tests and
bench/fault_table.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from devtools.faulty_server import Fault
from devtools.faulty_server import FaultyServer

__all__ = ["MirrorDocs", "mirror_docs", "publish"]


@dataclass(frozen=True)
class MirrorDocs:
    """The bytes of a one-package mirror, keyed by path under the mirror base."""

    files: dict[str, bytes]
    wheel_path: str
    wheel_sha256: str
    package_path: str
    name: str = "demo"
    version: str = "1.0"
    wheel_filename: str = "demo-1.0-py3-none-any.whl"


def mirror_docs(
    wheel: bytes = b"PK\x03\x04 not really a zip " * 64, names: tuple[str, ...] = ("demo",)
) -> MirrorDocs:
    """A valid mirror (root manifest, a package document and a 1.0 wheel per name) as
    bytes; the MirrorDocs fields describe the first name."""
    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.manifest import PackageRef
    from poetry_wheelmirror.manifest import RootManifest
    from poetry_wheelmirror.manifest import SourceDist
    from poetry_wheelmirror.manifest import VersionEntry
    from poetry_wheelmirror.manifest import WheelFile
    from poetry_wheelmirror.manifest import dump_document
    from poetry_wheelmirror.manifest import package_document_json
    from poetry_wheelmirror.manifest import root_manifest_json

    wheel_sha = hashlib.sha256(wheel).hexdigest()
    files: dict[str, bytes] = {}
    refs = {}
    for raw in names:
        name = canonicalize_name(raw)
        filename = f"{name.replace('-', '_')}-1.0-py3-none-any.whl"
        doc = PackageDocument(
            name=name,
            versions={
                "1.0": VersionEntry(
                    version="1.0",
                    source=SourceDist(
                        filename=f"{name.replace('-', '_')}-1.0.tar.gz",
                        sha256="0" * 64,
                        url=f"https://files.pythonhosted.org/packages/{name}-1.0.tar.gz",
                    ),
                    wheels=(
                        WheelFile(
                            filename=filename,
                            url=f"../files/{name}/{filename}",
                            sha256=wheel_sha,
                            size=len(wheel),
                        ),
                    ),
                )
            },
        )
        doc_bytes = dump_document(package_document_json(doc))
        refs[name] = PackageRef(
            name=name, url=f"packages/{name}.json", sha256=hashlib.sha256(doc_bytes).hexdigest()
        )
        files[f"packages/{name}.json"] = doc_bytes
        files[f"files/{name}/{filename}"] = wheel
    root = RootManifest(
        mirror_name="faulty",
        index_url="simple/",
        generated_at="2026-12-01T00:00:00Z",
        packages=refs,
    )
    files["manifest.json"] = dump_document(root_manifest_json(root))
    first = canonicalize_name(names[0])
    first_file = f"{first.replace('-', '_')}-1.0-py3-none-any.whl"
    return MirrorDocs(
        files=files,
        wheel_path=f"files/{first}/{first_file}",
        wheel_sha256=wheel_sha,
        package_path=f"packages/{first}.json",
        name=first,
        wheel_filename=first_file,
    )


def publish(server: FaultyServer, docs: MirrorDocs, prefix: str = "/m/") -> str:
    """Serve every file of *docs* under *prefix* (all ``ok``); returns the mirror base URL."""
    for path, body in docs.files.items():
        ctype = "application/json" if path.endswith(".json") else "application/octet-stream"
        server.set(prefix + path, body, Fault(content_type=ctype))
    return server.url_for(prefix)
