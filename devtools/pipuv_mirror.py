"""Helpers for the pip/uv/serve tests: serve a mirror with ``wheelmirror serve``, run
real pip and uv (their mirror is the e2e session's ``wheelmirror build markupsafe==2.0.1``,
tests/e2e/conftest.py: PyPI has no cp311 wheel for it). ``write_mirror`` writes a
one-wheel mirror from any wheel with manifest.py's renderers, for the in-process router
tests and the benchmark."""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from packaging.utils import canonicalize_name

from devtools.cleanenv import clean_env
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import root_manifest_json
from poetry_wheelmirror.simple_index import IndexFile
from poetry_wheelmirror.simple_index import ProjectPage
from poetry_wheelmirror.simple_index import file_version
from poetry_wheelmirror.simple_index import merge_files
from poetry_wheelmirror.simple_index import parse_project_page
from poetry_wheelmirror.simple_index import render_project_html as render_html
from poetry_wheelmirror.simple_index import render_project_json as render_json
from poetry_wheelmirror.simple_index import render_root_html
from poetry_wheelmirror.simple_index import render_root_json

__all__ = [
    "MS_TAG",
    "ServedMirror",
    "installed_tags",
    "pip_env",
    "serve_mirror",
    "venv_python",
    "write_mirror",
]

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MS_TAG = "cp311-cp311-manylinux_2_17_x86_64"


def pip_env(home: Path, **extra: str) -> dict[str, str]:
    """clean_env() and also no machine-wide or user pip config (this machine's add a
    constraint and local find-links/extra indexes): only the config under test counts."""
    xdg = home / "xdg"
    (xdg / "etc").mkdir(parents=True, exist_ok=True)
    (xdg / "config").mkdir(parents=True, exist_ok=True)
    return clean_env(XDG_CONFIG_DIRS=str(xdg / "etc"), XDG_CONFIG_HOME=str(xdg / "config"), **extra)


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


def write_mirror(
    root: Path,
    wheel_src: Path,
    *,
    sdist: SourceDist,
    upstream_page: bytes | None = None,
    upstream_url: str = "https://pypi.org/simple/",
) -> WheelFile:
    """Write a one-wheel mirror at *root* (docs/layout.md); the static pages also list
    *upstream_page*'s files (the upstream's own) when given."""
    data = wheel_src.read_bytes()
    name_part, version = wheel_src.name.split("-")[:2]
    name = canonicalize_name(name_part)
    files_dir = root / "files" / name
    files_dir.mkdir(parents=True, exist_ok=True)
    (files_dir / wheel_src.name).write_bytes(data)
    metadata = _metadata(wheel_src)
    (files_dir / f"{wheel_src.name}.metadata").write_bytes(metadata)
    wheel = WheelFile(
        filename=wheel_src.name,
        url=f"../files/{name}/{wheel_src.name}",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        requires_python=">=3.6",
        metadata_sha256=hashlib.sha256(metadata).hexdigest(),
    )
    doc = PackageDocument(
        name=name,
        versions={version: VersionEntry(version=version, source=sdist, wheels=(wheel,))},
    )
    doc_bytes = dump_document(package_document_json(doc))
    (root / "packages").mkdir(parents=True, exist_ok=True)
    (root / "packages" / f"{name}.json").write_bytes(doc_bytes)
    mirror_file = IndexFile(
        filename=wheel.filename,
        url=f"../../files/{name}/{wheel.filename}",
        sha256=wheel.sha256,
        requires_python=">=3.6",
        metadata_sha256=wheel.metadata_sha256,
        size=wheel.size,
        version=file_version(wheel.filename),
    )
    upstream: tuple[IndexFile, ...] = ()
    if upstream_page is not None:
        upstream = parse_project_page(upstream_page, f"{upstream_url}{name}/", name).files
    page = ProjectPage(name=name, files=merge_files([mirror_file], upstream))
    simple = root / "simple" / name
    simple.mkdir(parents=True, exist_ok=True)
    (simple / "index.html").write_bytes(render_html(page))
    (simple / "index.json").write_bytes(render_json(page))
    (root / "simple" / "index.html").write_bytes(render_root_html([name]))
    (root / "simple" / "index.json").write_bytes(render_root_json([name]))
    rm = RootManifest(
        mirror_name="test-mirror",
        index_url="simple/",
        generated_at="2026-12-01T00:00:00Z",
        packages={
            name: PackageRef(
                name=name,
                url=f"packages/{name}.json",
                sha256=hashlib.sha256(doc_bytes).hexdigest(),
            )
        },
    )
    (root / "manifest.json").write_bytes(dump_document(root_manifest_json(rm)))
    return wheel


class ServedMirror:
    def __init__(self, proc: subprocess.Popen[str], url: str, banner: str) -> None:
        self.proc = proc
        self.url = url
        self.banner = banner


@contextmanager
def serve_mirror(
    directory: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[ServedMirror]:
    """Run ``wheelmirror serve --mirror DIR --port 0 ARGS`` and yield its URL (from its
    banner)."""
    cmd = [
        PYTHON,
        "-m",
        "poetry_wheelmirror.cli.main",
        "serve",
        "--mirror",
        str(directory),
        "--port",
        "0",
        *args,
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or clean_env(),
        cwd=REPO,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"at (http://\S+/) ", line)
    if match is None:
        proc.kill()
        _out, err = proc.communicate(timeout=10)
        raise AssertionError(f"serve did not start: {line!r} {err}")
    try:
        yield ServedMirror(proc, match.group(1), line)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def venv_python(path: Path) -> Path:
    """A fresh venv with pip (uv makes it in a fraction of a second)."""
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "uv"), "venv", "-q", "--seed", "--python", PYTHON, str(path)],
        check=True,
        env=clean_env(),
        capture_output=True,
        timeout=300,
    )
    return path / "bin" / "python"


def installed_tags(venv: Path, dist: str) -> list[str]:
    """The ``Tag:`` lines of an installed distribution's WHEEL file."""
    lib = next((venv / "lib").glob("python3*/site-packages"))
    info = next(
        p
        for p in lib.glob("*.dist-info")
        if canonicalize_name(p.name.split("-")[0]) == canonicalize_name(dist)
    )
    text = (info / "WHEEL").read_text()
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET *url* without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


__all__ += ["fetch"]
