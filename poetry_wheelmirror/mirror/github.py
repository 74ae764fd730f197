"""A small client for the GitHub Releases REST API (only what publishing needs).

One release per package-version (tag ``<name>-<version>``), assets are write-once. The
token comes from ``$GITHUB_TOKEN`` or ``$GH_TOKEN`` and is never part of a message.
The API and web hosts default to ``$GITHUB_API_URL`` / ``$GITHUB_SERVER_URL`` (set on
every Actions runner, and pointing at GitHub Enterprise there), else github.com; the
tests point both at a loopback fake.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from poetry_wheelmirror import __version__
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.urls import url_scheme_problem

if TYPE_CHECKING:
    import requests

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_SERVER_URL",
    "Asset",
    "GitHubReleases",
    "Release",
    "asset_name_problem",
    "github_token",
    "release_tag",
]

DEFAULT_API_URL: Final = "https://api.github.com"
DEFAULT_SERVER_URL: Final = "https://github.com"
TOKEN_ENVS: Final = ("GITHUB_TOKEN", "GH_TOKEN")

# GitHub keeps these characters in an asset name and replaces the others (spaces,
# '~', '(', ':', '+' and more have been seen turned into '.'); it also renames names
# with a leading or trailing period. Only names GitHub keeps as they are are allowed,
# so the URL recorded in the manifest is the URL GitHub serves.
_ASSET_SAFE: Final = re.compile(r"[A-Za-z0-9._-]")
_REPO: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_API_VERSION: Final = "2022-11-28"


def asset_name_problem(name: str) -> str | None:
    """Why GitHub would not keep *name* as a release asset name, or None.

    >>> asset_name_problem("markupsafe-2.0.1-cp311-cp311-manylinux_2_17_x86_64.whl") is None
    True
    >>> asset_name_problem("foo-1.0+local-py3-none-any.whl")
    "GitHub would rename asset 'foo-1.0+local-py3-none-any.whl' to 'foo-1.0.local-py3-none-any.whl'"
    """
    renamed = "".join(c if _ASSET_SAFE.match(c) else "." for c in name).strip(".")
    if not name or renamed != name:
        return f"GitHub would rename asset {name!r} to {renamed!r}"
    return None


def release_tag(name: str, version: str) -> str:
    """The release tag of one package-version: ``markupsafe-2.0.1``.

    >>> release_tag("markupsafe", "2.0.1")
    'markupsafe-2.0.1'
    """
    tag = f"{name}-{version}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", tag) or ".." in tag:
        msg = f"cannot make a release tag from {name} {version}: {tag!r} is not a safe tag"
        raise PublishError(msg)
    return tag


def github_token(environ: Mapping[str, str] | None = None) -> str:
    """The API token from ``$GITHUB_TOKEN`` or ``$GH_TOKEN``; ConfigError when neither is set."""
    env = os.environ if environ is None else environ
    for key in TOKEN_ENVS:
        if env.get(key):
            return env[key]
    msg = "no GitHub token: set GITHUB_TOKEN or GH_TOKEN"
    raise ConfigError(msg)


@dataclass(frozen=True)
class Asset:
    """A release asset as the API reports it."""

    id: int
    name: str
    size: int
    state: str
    download_url: str
    digest: str = ""  # "sha256:<hex>" where GitHub reports it

    @property
    def sha256(self) -> str:
        """The sha256 GitHub reports, or "" when it reports none."""
        algo, _, value = self.digest.partition(":")
        return value if algo == "sha256" else ""


@dataclass(frozen=True)
class Release:
    """A release as the API reports it."""

    id: int
    tag: str
    upload_url: str
    #: A draft is not public yet: its assets are uploaded first, then it is published
    #: (with GitHub's "immutable releases", a published release takes no new assets).
    draft: bool = False


class GitHubReleases:
    """Get-or-create releases, list and upload assets for one repository."""

    def __init__(
        self,
        repo: str,
        token: str,
        *,
        api_url: str | None = None,
        server_url: str | None = None,
        timeout: tuple[float, float] = (10.0, 300.0),
        session: requests.Session | None = None,
    ) -> None:
        if not _REPO.match(repo):
            msg = f"not a GitHub repository name (OWNER/NAME): {repo!r}"
            raise ConfigError(msg)
        self.repo = repo
        self.api_url = _base(api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)
        self.server_url = _base(
            server_url or os.environ.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL
        )
        self.timeout = timeout
        self._token = token
        self._session = session

    def __repr__(self) -> str:  # never show the token
        return f"GitHubReleases({self.repo!r}, api_url={self.api_url!r})"

    # -- URLs ---------------------------------------------------------------------------

    def download_url(self, tag: str, filename: str) -> str:
        """The public URL GitHub serves an asset at (302 to its CDN)."""
        quoted = urllib.parse.quote(tag, safe="")
        return f"{self.server_url}/{self.repo}/releases/download/{quoted}/{filename}"

    # -- releases -----------------------------------------------------------------------

    def get_release(self, tag: str) -> Release | None:
        """The release for *tag*, or None."""
        response = self._call("GET", f"/repos/{self.repo}/releases/tags/{_q(tag)}", ok=(200, 404))
        if response.status_code == 404:
            return None
        return _release(response.json())

    def ensure_release(self, tag: str, *, title: str = "", body: str = "") -> tuple[Release, bool]:
        """The release for *tag*: the published one, else a draft left by an unfinished
        run, else a new draft (published by :meth:`publish_release` once its assets are
        uploaded); and whether it was created."""
        found = self.get_release(tag) or self.find_draft(tag)
        if found is not None:
            return found, False
        payload = {
            "tag_name": tag,
            "name": title or tag,
            "body": body,
            "draft": True,
            "prerelease": False,
        }
        response = self._call("POST", f"/repos/{self.repo}/releases", json=payload, ok=(201, 422))
        if response.status_code == 422:  # created meanwhile by a concurrent run
            found = self.get_release(tag) or self.find_draft(tag)
            if found is None:
                msg = f"GitHub refused to create release {tag}: {_message(response)}"
                raise PublishError(msg)
            return found, False
        return _release(response.json()), True

    def find_draft(self, tag: str) -> Release | None:
        """A draft release for *tag* (``releases/tags/TAG`` does not show drafts)."""
        for item in self._paged(f"/repos/{self.repo}/releases"):
            if item.get("draft") and item.get("tag_name") == tag:
                return _release(item)
        return None

    def publish_release(self, release: Release) -> Release:
        """Turn a draft into a published release (not marked latest)."""
        payload = {"draft": False, "make_latest": "false"}
        response = self._call(
            "PATCH", f"/repos/{self.repo}/releases/{release.id}", json=payload, ok=(200,)
        )
        return _release(response.json())

    # -- assets -------------------------------------------------------------------------

    def list_assets(self, release: Release) -> dict[str, Asset]:
        """Every asset of *release*, by name (follows pagination)."""
        assets: dict[str, Asset] = {}
        for item in self._paged(f"/repos/{self.repo}/releases/{release.id}/assets"):
            asset = _asset(item)
            assets[asset.name] = asset
        return assets

    def upload_asset(self, release: Release, path: Path, name: str) -> Asset:
        """Upload *path* as asset *name*; PublishError when GitHub refuses or renames it."""
        problem = asset_name_problem(name)
        if problem:
            raise PublishError(problem)
        url = _expand_upload_url(release.upload_url)
        problem = url_scheme_problem(url)
        if problem:
            msg = f"refused upload URL: {problem}"
            raise PublishError(msg)
        size = path.stat().st_size
        with path.open("rb") as data:
            response = self._call(
                "POST",
                url,
                params={"name": name},
                data=data,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                ok=(201, 422),
            )
        if response.status_code == 422:
            reason = _message(response)
            if "immutable" in reason.lower():
                msg = (
                    f"GitHub refused asset {name}: release {release.tag} is published and the"
                    f" repository has immutable releases ({reason}); new wheels for a"
                    " published version cannot be added there: turn off 'Immutable"
                    " releases' (Settings > General > Releases) to add them"
                )
            else:
                msg = f"GitHub refused asset {name} in {release.tag}: {reason}"
            raise PublishError(msg)
        asset = _asset(response.json())
        if asset.name != name:
            msg = f"GitHub stored asset {name!r} as {asset.name!r} in {release.tag}"
            raise PublishError(msg)
        if asset.size != size:
            msg = f"GitHub stored {asset.size} bytes for {name}, expected {size}"
            raise PublishError(msg)
        return asset

    def delete_asset(self, asset: Asset) -> None:
        """Delete an asset (only ever used for a broken, never-served partial upload)."""
        self._call("DELETE", f"/repos/{self.repo}/releases/assets/{asset.id}", ok=(204, 404))

    def download(self, asset: Asset, max_bytes: int = 2 * 1024**3) -> bytes:
        """The bytes of *asset* through the API (follows GitHub's redirect to its CDN)."""
        response = self._call(
            "GET",
            f"/repos/{self.repo}/releases/assets/{asset.id}",
            headers={"Accept": "application/octet-stream"},
            ok=(200,),
            stream=True,
        )
        chunks: list[bytes] = []
        total = 0
        with response:
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > max_bytes:
                    msg = f"asset {asset.name} is larger than {max_bytes} bytes"
                    raise PublishError(msg)
                chunks.append(chunk)
        return b"".join(chunks)

    # -- plumbing -----------------------------------------------------------------------

    def _session_obj(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def _paged(self, path: str) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.api_url}{path}?per_page=100"
        pages = 0
        while url is not None and pages < 100:
            response = self._call("GET", url, ok=(200,))
            items = response.json()
            if not isinstance(items, list):
                msg = f"unexpected answer from {_strip_query(url)}: not a list"
                raise PublishError(msg)
            yield from (item for item in items if isinstance(item, dict))
            url = response.links.get("next", {}).get("url")
            pages += 1

    def _call(
        self,
        method: str,
        path_or_url: str,
        *,
        ok: tuple[int, ...],
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        import requests

        url = path_or_url if "://" in path_or_url else f"{self.api_url}{path_or_url}"
        all_headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": _API_VERSION,
            "User-Agent": f"poetry-wheelmirror/{__version__}",
            **(headers or {}),
        }
        where = f"{method} {_strip_query(url)}"
        try:
            response = self._session_obj().request(
                method, url, headers=all_headers, timeout=self.timeout, **kwargs
            )
        except requests.exceptions.Timeout:
            msg = f"{where}: timed out"
            raise PublishError(msg) from None
        except requests.exceptions.RequestException as e:
            host = urllib.parse.urlsplit(url).netloc
            msg = f"{where}: cannot reach {host}: {type(e).__name__}"
            raise PublishError(msg) from None
        if response.status_code in ok:
            return response
        status = response.status_code
        if status == 401:
            msg = f"{where}: HTTP 401, the GitHub token was refused"
        elif status == 403 and response.headers.get("x-ratelimit-remaining") == "0":
            msg = f"{where}: HTTP 403, GitHub API rate limit exceeded"
        elif status in (403, 404):
            msg = (
                f"{where}: HTTP {status}, no access: does {self.repo} exist and may the token "
                "write its releases (contents: write)?"
            )
        else:
            msg = f"{where}: HTTP {status}: {_message(response)}"
        response.close()
        raise PublishError(msg)


def _base(url: str) -> str:
    problem = url_scheme_problem(url)
    if problem:
        raise ConfigError(problem)
    return url.rstrip("/")


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def _expand_upload_url(template: str) -> str:
    # "https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}"
    return re.sub(r"\{[^}]*\}$", "", template)


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason or "no details"
    if not isinstance(data, dict):
        return "no details"
    message = str(data.get("message", "no details"))
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code") or errors[0].get("message")
        if code:
            message += f" ({code})"
    return message.replace("\n", " ")[:200]


def _release(data: object) -> Release:
    if not isinstance(data, dict):
        raise PublishError("unexpected release answer from GitHub: not an object")
    try:
        return Release(
            id=int(data["id"]),
            tag=str(data["tag_name"]),
            upload_url=data["upload_url"],
            draft=bool(data.get("draft", False)),
        )
    except (KeyError, TypeError, ValueError):
        raise PublishError("unexpected release answer from GitHub: missing fields") from None


def _asset(data: object) -> Asset:
    if not isinstance(data, dict):
        raise PublishError("unexpected asset answer from GitHub: not an object")
    try:
        return Asset(
            id=int(data["id"]),
            name=str(data["name"]),
            size=int(data["size"]),
            state=str(data.get("state", "uploaded")),
            download_url=str(data.get("browser_download_url", "")),
            digest=str(data.get("digest") or ""),
        )
    except (KeyError, TypeError, ValueError):
        raise PublishError("unexpected asset answer from GitHub: missing fields") from None
