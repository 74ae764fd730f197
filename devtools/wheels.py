"""Make small but valid wheels for tests (METADATA, WHEEL, RECORD)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

__all__ = ["make_wheel"]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


def make_wheel(
    folder: Path,
    filename: str,
    *,
    requires_python: str | None = None,
    module_body: str = "",
    entry_points: str = "",
) -> Path:
    """Write a wheel named *filename* with a pure module named after the project
    (``<dist>_mod``) and, when given, an ``entry_points.txt``."""
    parts = filename[: -len(".whl")].split("-")
    dist, version = parts[0], parts[1]
    tags = parts[-3:]
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    wheel_lines = ["Wheel-Version: 1.0", "Generator: wheelmirror-tests", "Root-Is-Purelib: false"]
    for py in tags[0].split("."):
        for abi in tags[1].split("."):
            for plat in tags[2].split("."):
                wheel_lines.append(f"Tag: {py}-{abi}-{plat}")
    files = {
        f"{dist.lower()}_mod.py": (module_body or f"NAME = {filename!r}\n").encode(),
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": ("\n".join(wheel_lines) + "\n").encode(),
    }
    if entry_points:
        files[f"{info}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{name},{_record_hash(data)}\n" for name, data in files.items())
    record += f"{info}/RECORD,,\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
        zf.writestr(zipfile.ZipInfo(f"{info}/RECORD", (2020, 1, 1, 0, 0, 0)), record)
    return path
