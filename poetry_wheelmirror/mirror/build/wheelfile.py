"""Reading and re-tagging wheel files (zip surgery only; no subprocesses).

Shared by the local builder and ``wheelmirror collect`` (wheels built on CI).
"""

from __future__ import annotations

import base64
import email.parser
import hashlib
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import parse_wheel_filename

if TYPE_CHECKING:
    from poetry_wheelmirror.errors import WheelmirrorError

__all__ = [
    "add_build_tag",
    "extension_modules",
    "next_build_number",
    "primary_platform",
    "requires_python",
    "top_level_module",
    "wheel_metadata",
]

# ``name.cpython-311-x86_64-linux-gnu.so``, ``name.abi3.so``, ``name.so``, ``name.pyd``.
_EXTENSION = re.compile(r"^(?P<stem>[A-Za-z_][A-Za-z0-9_]*)(?:\.[^./]+)?\.(?:so|pyd)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def wheel_metadata(wheel: Path, error: type[WheelmirrorError]) -> bytes:
    """The wheel's ``.dist-info/METADATA`` bytes; *error* for a damaged wheel."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = [
                n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                msg = f"{wheel.name}: expected one .dist-info/METADATA"
                raise error(msg)
            return zf.read(names[0])
    except zipfile.BadZipFile:
        msg = f"{wheel}: not a zip file"
        raise error(msg) from None


def requires_python(metadata: bytes) -> str | None:
    """``Requires-Python`` of a METADATA file, or None."""
    value = email.parser.BytesParser().parsebytes(metadata).get("Requires-Python")
    return str(value) if value else None


def primary_platform(filename: str) -> str:
    """The platform tag recorded for a wheel: the PEP 600 spelling when it also carries
    a legacy alias (``manylinux_2_17_x86_64`` over ``manylinux2014_x86_64``)."""
    platforms = sorted({t.platform for t in parse_wheel_filename(filename)[3]})
    return next((p for p in platforms if p.startswith("manylinux_")), platforms[0])


def extension_modules(wheel: Path) -> list[str]:
    """Dotted names of the compiled extension modules a wheel carries, sorted.

    Libraries auditwheel grafted (``pkg.libs/``), ``.data/`` files and files in folders
    that are not importable names are not modules and are left out.
    """
    modules: set[str] = set()
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            match = _EXTENSION.match(parts[-1])
            if match is None:
                continue
            folders = parts[:-1]
            if not all(_IDENTIFIER.match(f) for f in folders):
                continue  # *.libs/, *.data/, *.dist-info/
            modules.add(".".join([*folders, match.group("stem")]))
    return sorted(modules)


def top_level_module(wheel: Path, name: str) -> str:
    """The first public name in ``top_level.txt``, else the project name as a module."""
    with zipfile.ZipFile(wheel) as zf:
        for n in zf.namelist():
            if n.endswith(".dist-info/top_level.txt"):
                modules = [m for m in zf.read(n).decode().split() if not m.startswith("_")]
                if modules:
                    return modules[0]
    return name.replace("-", "_")


def next_build_number(filename: str, taken: set[str]) -> int:
    """1 + the highest build tag among *taken* names with the same name, version, tags."""
    name, version, _build, tags = parse_wheel_filename(filename)
    highest = 0
    for other in taken:
        try:
            o_name, o_version, o_build, o_tags = parse_wheel_filename(other)
        except ValueError:
            continue
        if (o_name, o_version, o_tags) == (name, version, tags):
            highest = max(highest, o_build[0] if o_build else 0)
    return highest + 1


def add_build_tag(wheel: Path, build: int, out_dir: Path) -> Path:
    """A copy of *wheel* carrying build tag *build*: renamed, with ``Build:`` in its WHEEL
    file and that file's RECORD line updated (what ``wheel tags --build`` does)."""
    parse_wheel_filename(wheel.name)  # InvalidWheelFilename for a malformed name
    parts = wheel.name[: -len(".whl")].split("-")
    new_name = "-".join([parts[0], parts[1], str(build), *parts[-3:]]) + ".whl"
    target = out_dir / new_name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w") as dst:
        wheel_info = next(n for n in src.namelist() if n.endswith(".dist-info/WHEEL"))
        record = wheel_info[: -len("WHEEL")] + "RECORD"
        lines = [
            ln for ln in src.read(wheel_info).decode().splitlines() if not ln.startswith("Build:")
        ]
        new_wheel_info = ("\n".join([*lines, f"Build: {build}"]) + "\n").encode()
        digest = hashlib.sha256(new_wheel_info).digest()
        hash_field = "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == wheel_info:
                data = new_wheel_info
            elif item.filename == record:
                rows = []
                for row in data.decode().splitlines():
                    if row.startswith(wheel_info + ","):
                        row = f"{wheel_info},{hash_field},{len(new_wheel_info)}"
                    rows.append(row)
                data = ("\n".join(rows) + "\n").encode()
            dst.writestr(item, data)
    return target
