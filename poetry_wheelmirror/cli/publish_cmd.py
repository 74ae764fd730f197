"""``wheelmirror publish`` and ``wheelmirror collect``: the CI publish job's steps.

``collect`` adds wheels built elsewhere (cibuildwheel artifacts) to a local mirror
directory; ``publish`` uploads a local mirror's wheels (GitHub Releases, or a plain
directory) and writes the manifest and static index for the site.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.recipes_opt import add_recipes_option
from poetry_wheelmirror.errors import ConfigError

if TYPE_CHECKING:
    from poetry_wheelmirror.mirror.publishers import Publisher
    from poetry_wheelmirror.mirror.site import PublishedState

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    publish = sub.add_parser(
        "publish",
        help="upload a local mirror's wheels and write the manifest and static index",
        description=(
            "Publish every wheel of the local mirror DIR, write-once: `--to github` uploads "
            "them as assets of one GitHub release per package-version (token from "
            "$GITHUB_TOKEN or $GH_TOKEN) and writes the manifest and index, with wheel URLs "
            "pointing at the release assets, to --pages-dir for GitHub Pages; `--to DIR2` "
            "copies them into the directory or static site DIR2 and writes the documents "
            "there. A file already published with the same bytes is skipped; one with other "
            "bytes stops the run before anything is uploaded."
        ),
    )
    publish.add_argument(
        "--mirror",
        required=True,
        type=Path,
        metavar="DIR",
        help="the local mirror to publish (from `build` or `collect`)",
    )
    publish.add_argument(
        "--to",
        required=True,
        metavar="github|DIR2",
        help="`github` for GitHub Releases, else a target directory",
    )
    publish.add_argument(
        "--repo",
        default=None,
        metavar="OWNER/NAME",
        help="GitHub repository (default: $GITHUB_REPOSITORY)",
    )
    publish.add_argument(
        "--pages-dir",
        type=Path,
        default=None,
        metavar="OUT",
        help="where `--to github` writes manifest and index (default: ./site)",
    )
    publish.add_argument(
        "--merge-from",
        default=None,
        metavar="URL",
        help="the currently published mirror: its documents are kept and "
        "extended (for --to github, usually the GitHub Pages URL)",
    )
    publish.add_argument(
        "--allow-new",
        action="store_true",
        help="with --merge-from: start a new mirror when URL has no manifest",
    )
    publish.add_argument(
        "--attestations",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="Sigstore bundle file (JSON or JSON lines) or a "
        "folder of them; each wheel they attest gets its provenance recorded "
        "(repeatable)",
    )
    publish.add_argument(
        "--mirror-name",
        default=None,
        help="name recorded in the root manifest (default: kept, else the local mirror's)",
    )
    publish.add_argument(
        "--api-url",
        default=None,
        metavar="URL",
        help="GitHub API base (default: $GITHUB_API_URL, else api.github.com)",
    )
    publish.add_argument(
        "--server-url",
        default=None,
        metavar="URL",
        help="GitHub web base for download URLs (default: $GITHUB_SERVER_URL, "
        "else https://github.com)",
    )
    publish.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything (conflicts, names, the published state) and list what "
        "would be uploaded and written, changing nothing",
    )
    add_client_options(publish)
    publish.set_defaults(handler=_publish)

    collect = sub.add_parser(
        "collect",
        help="add wheels built elsewhere (e.g. by cibuildwheel on CI) to a local mirror",
        description=(
            "Add every *.whl under the given files or folders to the local mirror DIR in one "
            "commit: each must be a version its recipe carries, not a linux_* wheel and not "
            "one of PyPI's filenames; its sdist on PyPI is recorded as its source."
        ),
    )
    collect.add_argument("wheels", nargs="+", type=Path, metavar="WHEEL|DIR")
    collect.add_argument("--mirror", required=True, type=Path, metavar="DIR")
    collect.add_argument(
        "--runner",
        default=None,
        help="runner recorded in each wheel's build info (default on GitHub "
        "Actions: the runner label of the wheel's platform, else local)",
    )
    collect.add_argument("--mirror-name", default="local")
    collect.add_argument(
        "--plan",
        type=Path,
        default=None,
        metavar="FILE",
        help="also accept the (package, version) jobs of this matrix from `plan --lock "
        "--matrix`: lock-planned packages need no recipe",
    )
    add_recipes_option(collect)
    add_client_options(collect)
    collect.set_defaults(handler=_collect)


def _progress(line: str) -> None:
    print(f"wheelmirror: {line}", file=sys.stderr, flush=True)


def _backend(args: argparse.Namespace) -> tuple[Publisher, Path]:
    from poetry_wheelmirror.mirror.github import GitHubReleases
    from poetry_wheelmirror.mirror.github import github_token
    from poetry_wheelmirror.mirror.publishers import DirectoryPublisher
    from poetry_wheelmirror.mirror.publishers import GitHubPublisher

    if args.to == "github":
        repo = args.repo or os.environ.get("GITHUB_REPOSITORY")
        if not repo:
            msg = "--to github needs --repo OWNER/NAME (or $GITHUB_REPOSITORY)"
            raise ConfigError(msg)
        api = GitHubReleases(repo, github_token(), api_url=args.api_url, server_url=args.server_url)
        return GitHubPublisher(api), args.pages_dir or Path("site")
    if args.pages_dir is not None:
        msg = "--pages-dir is for --to github; a directory target holds its own documents"
        raise ConfigError(msg)
    target = Path(args.to)
    if target.resolve() == args.mirror.resolve():
        msg = f"--to {target} is the mirror being published"
        raise ConfigError(msg)
    return DirectoryPublisher(target), target


def _published_state(args: argparse.Namespace, site: Path) -> PublishedState:
    from poetry_wheelmirror.cli.common import make_client
    from poetry_wheelmirror.errors import FetchError
    from poetry_wheelmirror.mirror.site import PublishedState
    from poetry_wheelmirror.mirror.site import read_published

    state = PublishedState.from_directory(site)
    if args.merge_from is None:
        return state
    try:
        remote = read_published(args.merge_from, make_client(args))
    except FetchError as e:
        if "HTTP 404" in str(e) or "not found" in str(e):
            if args.allow_new:
                _progress(f"no manifest at {args.merge_from}: starting a new mirror")
                return state
            msg = (
                f"no published manifest at {args.merge_from} ({e}); pass --allow-new to "
                "start a new mirror"
            )
            raise ConfigError(msg) from None
        raise
    return remote.merged_with(state)


def _publish(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.mirror.attest import load_attestations
    from poetry_wheelmirror.mirror.publish import publish_mirror

    publisher, site = _backend(args)
    attestations = load_attestations(args.attestations)
    if args.attestations:
        _progress(f"{len(attestations)} attested file digest(s) in the bundles given")
    state = _published_state(args, site)
    _progress(f"publishing {args.mirror} to {publisher.label}, documents to {site}")
    report = publish_mirror(
        args.mirror,
        publisher,
        site,
        published=state,
        attestations=attestations,
        mirror_name=args.mirror_name,
        progress=_progress,
        dry_run=args.dry_run,
    )
    if args.dry_run:
        print(
            f"dry run: would publish {len(report.uploaded)} file(s) "
            f"({len(report.present)} already present) and write {len(report.written)} "
            f"document(s) to {site}"
        )
        return 0
    print(
        f"published {len(report.uploaded)} file(s), {len(report.present)} already present, "
        f"{len(report.attested)} with provenance; {len(report.written)} document(s) written "
        f"to {site}"
    )
    return 0


def _collect_recipes(args: argparse.Namespace) -> dict[Any, Any]:
    from poetry_wheelmirror.cli.lock_plan import plan_recipes
    from poetry_wheelmirror.cli.recipes_opt import recipes_from_args

    if args.plan is None:
        return dict(recipes_from_args(args, required=True))
    # A package's own recipe wins over the plan's default one.
    return {**plan_recipes(args.plan), **recipes_from_args(args, required=False)}


def _collect(args: argparse.Namespace) -> int:
    from poetry_wheelmirror.cli.common import make_client
    from poetry_wheelmirror.mirror.collect import collect_wheels
    from poetry_wheelmirror.mirror.pypi import PypiClient
    from poetry_wheelmirror.mirror.store import MirrorStore

    # On Actions each wheel's runner follows from its platform; elsewhere say "local".
    runner = args.runner or (None if os.environ.get("GITHUB_ACTIONS") == "true" else "local")
    result = collect_wheels(
        args.wheels,
        store=MirrorStore(args.mirror, mirror_name=args.mirror_name),
        pypi=PypiClient(make_client(args)),
        recipes=_collect_recipes(args),
        runner=runner,
    )
    for path in result.added:
        print(f"added    {path}")
    for path in result.already_present:
        print(f"present  {path}")
    return 0
