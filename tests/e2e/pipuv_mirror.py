"""A real one-package mirror for the pip/uv/serve tests: MarkupSafe 2.0.1 built from its
PyPI sdist (PyPI has no cp311 wheel for it), plus helpers to run real pip and uv.

The wheel is built with ``pip wheel`` (about 2 s) and retagged ``manylinux_2_17`` by
rewriting its WHEEL file and RECORD: its only extension links nothing but libc, which
is what ``auditwheel repair`` would conclude; this keeps the fixture free of patchelf.
The documents are written with manifest.py's renderers, the pages with pip_shim.pages.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from packaging.utils import canonicalize_name

from pip_shim.pages import IndexFile
from pip_shim.pages import ProjectPage
from pip_shim.pages import merge_files
from pip_shim.pages import parse_project_page
from pip_shim.pages import render_html
from pip_shim.pages import render_json
from pip_shim.pages import render_root_html
from pip_shim.pages import render_root_json
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import root_manifest_json
from tests.support.cleanenv import clean_env

__all__ = [
    "MS_TAG",
    "ServedMirror",
    "installed_tags",
    "make_mirror",
    "markupsafe_wheel",
    "pip_env",
    "serve_mirror",
    "venv_python",
    "write_mirror",
]

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
MS_TAG = "cp311-cp311-manylinux_2_17_x86_64"
MS_WHEEL = f"markupsafe-2.0.1-{MS_TAG}.manylinux2014_x86_64.whl"
MS_SDIST_SHA256 = "594c67807fb16238b30c44bdf74f36c02cdf22d1c8cda91ef8a0ed8dabf5620a"


def pip_env(home: Path, **extra: str) -> dict[str, str]:
    """clean_env() and also no machine-wide or user pip config (this machine's add a
    constraint and local find-links/extra indexes): only the config under test counts."""
    xdg = home / "xdg"
    (xdg / "etc").mkdir(parents=True, exist_ok=True)
    (xdg / "config").mkdir(parents=True, exist_ok=True)
    return clean_env(
        XDG_CONFIG_DIRS=str(xdg / "etc"), XDG_CONFIG_HOME=str(xdg / "config"), **extra
    )


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _retag(src: Path, dest: Path) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        members = {i.filename: zin.read(i) for i in zin.infolist()}
        wheel_name = next(n for n in members if n.endswith(".dist-info/WHEEL"))
        record_name = next(n for n in members if n.endswith(".dist-info/RECORD"))
        text = members[wheel_name].decode()
        text = re.sub(r"^Tag: .*$", "", text, flags=re.M).rstrip("\n") + "\n"
        for tag in (MS_TAG, MS_TAG.replace("manylinux_2_17", "manylinux2014")):
            text += f"Tag: {tag}\n"
        members[wheel_name] = text.encode()
        lines = [
            _record_line(n, d) for n, d in members.items() if n != record_name
        ] + [f"{record_name},,"]
        members[record_name] = ("\n".join(lines) + "\n").encode()
        for name, data in members.items():
            zout.writestr(zipfile.ZipInfo(name, (2021, 5, 18, 0, 0, 0)), data)


@functools.lru_cache(maxsize=1)
def markupsafe_wheel() -> Path:
    """The MarkupSafe 2.0.1 cp311 manylinux wheel, built once per test session."""
    work = Path(tempfile.mkdtemp(prefix="wm-markupsafe-"))
    env = pip_env(work)
    subprocess.run(
        [PYTHON, "-m", "pip", "wheel", "--no-deps", "--no-binary", "markupsafe", "-q",
         "-w", str(work / "raw"), "markupsafe==2.0.1"],
        check=True, env=env, capture_output=True, timeout=300,
    )
    raw = next((work / "raw").glob("*.whl"))
    dest = work / MS_WHEEL
    _retag(raw, dest)
    return dest


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
        hashes=(("sha256", wheel.sha256),),
        requires_python=">=3.6",
        core_metadata=(("sha256", wheel.metadata_sha256 or ""),),
        size=wheel.size,
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


MS_SDIST = SourceDist(
    filename="MarkupSafe-2.0.1.tar.gz",
    sha256=MS_SDIST_SHA256,
    url="https://files.pythonhosted.org/packages/bf/10/ff66fea6d1788c458663a84d88787bae15d45daa16f6b3ef33322a51fc7e/MarkupSafe-2.0.1.tar.gz",
)


def make_mirror(root: Path, upstream_page: bytes | None = None) -> WheelFile:
    """A complete mirror of MarkupSafe 2.0.1 (the real wheel) at *root*."""
    return write_mirror(root, markupsafe_wheel(), sdist=MS_SDIST, upstream_page=upstream_page)


class ServedMirror:
    def __init__(self, proc: subprocess.Popen[str], url: str, banner: str) -> None:
        self.proc = proc
        self.url = url
        self.banner = banner


@contextmanager
def serve_mirror(
    directory: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[ServedMirror]:
    """Run ``wheelmirror serve DIR --port 0 ARGS`` and yield its URL (from its banner)."""
    cmd = [PYTHON, "-m", "poetry_wheelmirror.cli.main", "serve", str(directory), "--port", "0", *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env or clean_env(), cwd=REPO,
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
        check=True, env=clean_env(), capture_output=True, timeout=300,
    )
    return path / "bin" / "python"


def installed_tags(venv: Path, dist: str) -> list[str]:
    """The ``Tag:`` lines of an installed distribution's WHEEL file."""
    lib = next((venv / "lib").glob("python3*/site-packages"))
    info = next(p for p in lib.glob("*.dist-info") if canonicalize_name(p.name.split("-")[0]) == canonicalize_name(dist))
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
