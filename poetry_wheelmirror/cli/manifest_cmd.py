"""``wheelmirror manifest check TARGET``."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.client import read_local_file
from poetry_wheelmirror.errors import HashMismatchError
from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.mirror_client import MirrorReader
from poetry_wheelmirror.urls import redact_url
from poetry_wheelmirror.urls import url_to_path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    manifest = sub.add_parser("manifest", help="inspect and validate mirror manifests")
    msub = manifest.add_subparsers(dest="manifest_command", metavar="ACTION")
    msub.required = True
    check = msub.add_parser(
        "check",
        help="validate a root manifest and every package document it names",
        description=(
            "Validate a mirror's root manifest and every package document it names. TARGET is "
            "a root manifest file, a local mirror directory, or a mirror URL. Exits non-zero "
            "with a one-line message naming the first problem."
        ),
    )
    check.add_argument("target", metavar="TARGET")
    check.add_argument(
        "--files",
        action="store_true",
        help="also check each local wheel file's size and sha256 (local mirrors only)",
    )
    add_client_options(check)
    check.set_defaults(handler=_check)


def _reader_for(target: str, args: argparse.Namespace) -> MirrorReader:
    client = make_client(args)
    path = Path(target)
    if "://" not in target and not target.startswith("file:"):
        if path.is_file():
            reader = MirrorReader(str(path.resolve().parent), client)
            reader.root_url = path.resolve().as_uri()
            return reader
        if not path.is_dir():
            msg = f"no such file or directory: {target}"
            raise ManifestError(msg)
    elif target.endswith(".json"):
        base = target.rsplit("/", 1)[0]
        reader = MirrorReader(base, client)
        reader.root_url = target
        return reader
    return MirrorReader(target, client)


def _check(args: argparse.Namespace) -> int:
    reader = _reader_for(args.target, args)
    root = reader.root(revalidate=True)
    versions = wheels = 0
    for name in root.packages:
        doc = reader.package(name, revalidate=True)
        assert doc is not None  # listed in the root
        for entry in doc.versions.values():
            versions += 1
            for wheel in entry.wheels:
                wheels += 1
                if args.files:
                    _check_file(reader.wheel_url(name, wheel), wheel.sha256, wheel.size)
    print(
        f"ok: {redact_url(reader.root_url)}: {len(root.packages)} package(s), "
        f"{versions} version(s), "
        f"{wheels} wheel(s)"
    )
    return 0


def _check_file(url: str, sha256: str, size: int) -> None:
    if not url.startswith("file:"):
        return
    path = url_to_path(url)
    try:
        found = path.stat().st_size
    except OSError:
        msg = f"listed wheel is missing: {path}"
        raise ManifestError(msg) from None
    if found != size:
        msg = f"{path}: size {found} does not match the manifest's {size}"
        raise HashMismatchError(msg)
    # Regular files only (not /dev/zero, not a FIFO), never more than the listed size.
    data = read_local_file(path, size)
    if hashlib.sha256(data).hexdigest() != sha256:
        msg = f"{path}: sha256 does not match the manifest"
        raise HashMismatchError(msg)
