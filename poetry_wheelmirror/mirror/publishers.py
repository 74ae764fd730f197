"""Where a mirror's wheels are published: write-once file stores behind one
:class:`Publisher` protocol (a directory, or GitHub releases); ``mirror.publish`` drives
them.

Write-once: a file already there with the same sha256 and size is skipped, one with
other bytes is a :class:`FileConflict` raised before anything is written, never an
overwrite.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Protocol

from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.mirror.github import asset_name_problem
from poetry_wheelmirror.mirror.github import release_tag
from poetry_wheelmirror.mirror.store import sha256_file
from poetry_wheelmirror.names import filename_problem

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from poetry_wheelmirror.mirror.github import Asset
    from poetry_wheelmirror.mirror.github import GitHubReleases
    from poetry_wheelmirror.mirror.github import Release

__all__ = ["DirectoryPublisher", "FileConflict", "GitHubPublisher", "Publisher", "Upload"]


@dataclass(frozen=True)
class Upload:
    """One immutable file to publish: a wheel, its ``.metadata`` file, or a bundle."""

    name: NormalizedName
    version: str
    filename: str
    path: Path
    sha256: str
    size: int


class FileConflict(PublishError):
    """A published file's name is taken by other bytes."""

    def __init__(self, message: str, filename: str) -> None:
        super().__init__(message)
        self.filename = filename


class Publisher(Protocol):
    """A write-once file store (the wheels' home); documents go to the site directory."""

    #: Shown in progress lines: "directory /srv/mirror", "github owner/repo".
    label: str

    def url_for(self, item: Upload) -> str:
        """The URL a package document records for *item* (absolute, or relative to
        ``packages/<name>.json``)."""
        ...

    def check(self, items: Iterable[Upload]) -> set[str]:
        """The items' filenames already published with the same bytes; PublishError for
        a name taken by other bytes (or one the store would rename). Writes nothing."""
        ...

    def put(self, item: Upload) -> bool:
        """Publish *item* unless it is there already; True when it was written."""
        ...


# -- backends ---------------------------------------------------------------------------


class DirectoryPublisher:
    """Wheels under ``<root>/files/<name>/``, next to the documents (docs/layout.md)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = f"directory {root}"

    def _dest(self, item: Upload) -> Path:
        problem = filename_problem(item.filename)
        if problem:
            raise PublishError(problem)
        return self.root / "files" / item.name / item.filename

    def url_for(self, item: Upload) -> str:
        return f"../files/{item.name}/{item.filename}"

    def check(self, items: Iterable[Upload]) -> set[str]:
        present = set()
        for item in items:
            dest = self._dest(item)
            if not dest.exists():
                continue
            if dest.stat().st_size != item.size or sha256_file(dest) != item.sha256:
                msg = f"{dest} exists with other bytes: refusing to overwrite a published file"
                raise FileConflict(msg, item.filename)
            present.add(item.filename)
        return present

    def put(self, item: Upload) -> bool:
        if self.check([item]):
            return False
        dest = self._dest(item)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, item.path.open("rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            if sha256_file(Path(tmp)) != item.sha256:
                msg = f"{item.path} changed while it was copied"
                raise PublishError(msg)
            _link_new(Path(tmp), dest)
        except FileExistsError:
            self.check([item])  # another writer won the race: fine if the bytes match
            return False
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return True


def _link_new(tmp: Path, dest: Path) -> None:
    """Move *tmp* to *dest* only if *dest* does not exist (FileExistsError otherwise):
    link() cannot replace a file another writer published meanwhile. Filesystems without
    hard links get a rename after a fresh existence check (the site lock serialises
    wheelmirror writers)."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:
        if dest.exists():
            raise FileExistsError(dest) from None
        os.replace(tmp, dest)


class GitHubPublisher:
    """Wheels as assets of one release per package-version."""

    def __init__(self, api: GitHubReleases) -> None:
        self.api = api
        self.label = f"github {api.repo}"
        self._releases: dict[str, Release | None] = {}
        self._assets: dict[str, dict[str, Asset]] = {}

    def url_for(self, item: Upload) -> str:
        # The URL recorded must be the one GitHub serves: refuse names it would rename.
        problem = asset_name_problem(item.filename)
        if problem:
            raise PublishError(problem)
        return self.api.download_url(release_tag(item.name, item.version), item.filename)

    def _existing(self, tag: str) -> dict[str, Asset]:
        if tag not in self._releases:
            # A draft is one an unfinished run created: its uploads count as present.
            release = self.api.get_release(tag) or self.api.find_draft(tag)
            self._releases[tag] = release
            self._assets[tag] = self.api.list_assets(release) if release else {}
        return self._assets[tag]

    def _same(self, asset: Asset, item: Upload) -> bool:
        if asset.size != item.size:
            return False
        if asset.sha256:
            return asset.sha256 == item.sha256
        # GitHub reported no digest: compare the bytes it serves.
        return hashlib.sha256(self.api.download(asset)).hexdigest() == item.sha256

    def check(self, items: Iterable[Upload]) -> set[str]:
        present = set()
        for item in items:
            problem = asset_name_problem(item.filename)
            if problem:
                raise PublishError(problem)
            tag = release_tag(item.name, item.version)
            asset = self._existing(tag).get(item.filename)
            if asset is None or asset.state != "uploaded":
                continue  # a broken partial upload is replaced by put()
            if not self._same(asset, item):
                msg = (
                    f"release {tag} already has {item.filename} with other bytes: "
                    "refusing to overwrite a published asset (a rebuild needs a build tag)"
                )
                raise FileConflict(msg, item.filename)
            present.add(item.filename)
        return present

    def put(self, item: Upload) -> bool:
        if self.check([item]):
            return False
        tag = release_tag(item.name, item.version)
        release = self._releases.get(tag)
        if release is None:
            release, _created = self.api.ensure_release(
                tag,
                title=f"{item.name} {item.version}",
                body=f"Wheels of {item.name} {item.version} built by poetry-wheelmirror.",
            )
            self._releases[tag] = release
            self._assets[tag] = self.api.list_assets(release)
        broken = self._assets[tag].get(item.filename)
        if broken is not None and broken.state != "uploaded":
            self.api.delete_asset(broken)  # never served: an interrupted upload
        asset = self.api.upload_asset(release, item.path, item.filename)
        if asset.sha256 and asset.sha256 != item.sha256:
            msg = f"GitHub reports sha256 {asset.sha256} for {item.filename}, not {item.sha256}"
            raise PublishError(msg)
        self._assets[tag][asset.name] = asset
        return True

    def finish(self) -> None:
        """Publish the draft releases this run uploaded into."""
        for tag, release in self._releases.items():
            if release is not None and release.draft:
                self._releases[tag] = self.api.publish_release(release)
