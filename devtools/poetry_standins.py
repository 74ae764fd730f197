"""Stand-ins for Poetry's objects (no Poetry in the dev venv) and a small local mirror,
for the plugin's hook tests (tests/unit/test_hook.py, test_listener.py, test_provenance.py
and tests/e2e/test_provenance.py).

The real-Poetry behaviour is proven in tests/e2e/test_poetry_plugin.py.
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from poetry_wheelmirror import manifest as m
from poetry_wheelmirror.plugin.hook import Hook
from poetry_wheelmirror.selection import supported_tags
from poetry_wheelmirror.settings import PluginSettings

SDIST = "MarkupSafe-2.0.1.tar.gz"
WHEEL = "markupsafe-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_BYTES = b"not really a zip, only hashed"


class Version:
    text = "2.0.1"


class Package:
    def __init__(self, name: str = "markupsafe", sdist_sha: str = "a" * 64) -> None:
        self.name = name
        self.version = Version()
        self.source_type = None
        self.files = [{"file": SDIST, "hash": f"sha256:{sdist_sha}"}]


class Link:
    def __init__(self, url: str) -> None:
        self.url = url
        self.filename = url.split("#", 1)[0].rsplit("/", 1)[-1]


class Env:
    supported_tags = supported_tags("3.11", "manylinux_2_28_x86_64")
    version_info = (3, 11, 7, "final", 0)


class IO:
    def __init__(self, verbose: bool = False) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.verbose = verbose

    def write_line(self, line: str) -> None:
        self.out.append(line)

    def write_error_line(self, line: str) -> None:
        self.err.append(line)

    def is_verbose(self) -> bool:
        return self.verbose


class Config:
    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def get(self, key: str) -> Any:
        return str(self.cache) if key == "cache-dir" else None


class Poetry:
    def __init__(self, cache: Path, data: dict[str, Any] | None = None) -> None:
        self.config = Config(cache)
        self.pyproject = types.SimpleNamespace(data=data or {})


def write_mirror(base: Path, sdist_sha: str = "a" * 64) -> Path:
    files = base / "files" / "markupsafe"
    files.mkdir(parents=True)
    (files / WHEEL).write_bytes(WHEEL_BYTES)
    key = canonicalize_name("markupsafe")
    doc = m.PackageDocument(
        name=key,
        versions={
            "2.0.1": m.VersionEntry(
                version="2.0.1",
                source=m.SourceDist(SDIST, sdist_sha, f"https://x/{SDIST}"),
                wheels=(
                    m.WheelFile(
                        filename=WHEEL,
                        url=f"../files/markupsafe/{WHEEL}",
                        sha256=hashlib.sha256(WHEEL_BYTES).hexdigest(),
                        size=len(WHEEL_BYTES),
                    ),
                ),
            )
        },
    )
    body = m.dump_document(m.package_document_json(doc))
    (base / "packages").mkdir()
    (base / "packages" / "markupsafe.json").write_bytes(body)
    root = m.RootManifest(
        mirror_name="t",
        index_url="simple/",
        generated_at="2026-01-01T00:00:00Z",
        packages={
            key: m.PackageRef(key, "packages/markupsafe.json", hashlib.sha256(body).hexdigest())
        },
    )
    (base / "manifest.json").write_bytes(m.dump_document(m.root_manifest_json(root)))
    return base


def make_hook(
    tmp_path: Path, url: str, *, binary: bool = True, io: IO | None = None
) -> tuple[Hook, IO]:
    io = io or IO()
    hook = Hook(
        settings=PluginSettings(url=url, url_source="env"),
        io=io,
        env=Env(),
        poetry=Poetry(tmp_path / "poetry-cache"),
        binary_allowed=lambda name: binary,
        link_factory=Link,
    )
    return hook, io


def sdist_choice(package: Any) -> Link:
    return Link(f"https://files/{SDIST}#sha256={'a' * 64}")


class Chooser:
    def __init__(self) -> None:
        self._env = Env()
        policy = types.SimpleNamespace(allows=lambda package_name: True)
        self._no_binary_policy = policy
        self._only_binary_policy = policy

    def choose_for(self, package: Any) -> Link:
        return sdist_choice(package)


class Executor:
    def __init__(self) -> None:
        self._chooser = Chooser()
        self.seen_files: list[Any] = []

    def execute(self, operations: list[Any]) -> int:
        for op in operations:
            self._chooser.choose_for(op.package)
            self.seen_files.append(list(op.package.files))
        return 0

    def _download_archive(self, operation: Any, url: str, dest: Path) -> None:
        raise AssertionError("not for local files")


def command_for(tmp_path: Path, url: str, name: str = "install") -> Any:
    installer = types.SimpleNamespace(executor=Executor())
    data = {"tool": {"poetry-wheelmirror": {"url": url}}}
    return types.SimpleNamespace(
        name=name, _installer=installer, poetry=Poetry(tmp_path / "cache", data)
    )
