"""``wheelmirror index DIR``: regenerate a local mirror's static simple index."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import add_mirror_dir_option
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.cli.common import mirror_dir_from

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "index",
        help="regenerate the static PEP 503/691 index of a local mirror directory",
        description=(
            "Rewrite DIR/simple/ from the root manifest, the package documents and the "
            "upstream/<name>.json snapshots of PyPI's file lists. Offline and deterministic "
            "unless --refresh-upstream fetches PyPI's current lists first. Only changed "
            "files are written."
        ),
    )
    add_mirror_dir_option(parser, help="the local mirror directory")
    parser.add_argument(
        "--refresh-upstream",
        action="store_true",
        help="re-read PyPI's file list for every package first",
    )
    add_client_options(parser)
    parser.set_defaults(handler=_index)


def _index(args: argparse.Namespace) -> int:
    args.mirror = mirror_dir_from(args, "index")

    from poetry_wheelmirror.errors import ManifestError
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.pypi import UpstreamProject
    from poetry_wheelmirror.mirror.store import MirrorStore

    store = MirrorStore(args.mirror)
    root = store.root()
    if root is None:
        msg = f"{args.mirror}: no manifest.json (not a mirror directory)"
        raise ManifestError(msg)
    upstream: dict[NormalizedName, UpstreamProject] = {}
    if args.refresh_upstream:
        pypi = PypiClient(make_client(args))
        for name in root.packages:
            project = pypi.project(name, revalidate=True)
            if project is not None:
                upstream[name] = project
    written = store.regenerate_index(upstream)
    for path in written:
        print(f"wrote    {path}")
    print(f"index of {len(root.packages)} package(s): {len(written)} file(s) changed")
    return 0
