"""A small fake of GitHub's Releases REST API and download host, on loopback.

GitHub is unreachable from the machines this project is developed and tested on, so the
GitHub publishing backend is tested against this fake. It implements what
``poetry_wheelmirror.mirror.github`` uses, with GitHub's documented behaviour:

* ``GET /repos/O/R/releases/tags/TAG`` (404 when missing, and for a draft),
  ``POST /repos/O/R/releases`` (422 ``already_exists`` for a taken tag; ``draft``),
  ``GET /repos/O/R/releases`` (drafts included), ``PATCH /repos/O/R/releases/ID``
  (``draft: false`` publishes);
* ``immutable_releases``: GitHub's "immutable releases" setting, under which an upload to
  a published release answers 422 ``Cannot upload assets to an immutable release``;
* ``GET /repos/O/R/releases/ID/assets`` paginated with a ``Link: rel="next"`` header;
* ``POST /uploads/repos/O/R/releases/ID/assets?name=N`` (the release's ``upload_url``),
  422 ``already_exists`` for a taken name, renaming names the way GitHub does;
* ``GET /repos/O/R/releases/assets/ID`` with ``Accept: application/octet-stream`` and
  ``GET /O/R/releases/download/TAG/FILE`` both answer 302 to a "CDN" path serving bytes;
* ``DELETE /repos/O/R/releases/assets/ID``;
* every API call needs ``Authorization: Bearer <token>`` (401 otherwise).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from devtools.loopback import serving

__all__ = ["FakeAsset", "FakeGitHub", "FakeRelease", "github_rename", "serve_fake_github"]


def github_rename(name: str) -> str:
    """How GitHub renames an uploaded asset (characters outside ``[A-Za-z0-9._-]`` become
    '.', leading and trailing periods go)."""
    return re.sub(r"[^A-Za-z0-9._-]", ".", name).strip(".") or "default"


@dataclass
class FakeAsset:
    id: int
    name: str
    data: bytes
    state: str = "uploaded"


@dataclass
class FakeRelease:
    id: int
    tag: str
    name: str
    assets: dict[str, FakeAsset] = field(default_factory=dict)
    draft: bool = False


class FakeGitHub:
    """Server state: repositories' releases, a request log, and knobs for the tests."""

    def __init__(self, token: str = "ghs_faketoken123") -> None:
        self.token = token
        self.url = ""
        self.lock = threading.Lock()
        self.releases: dict[tuple[str, str], FakeRelease] = {}  # (repo, tag) -> release
        self.log: list[tuple[str, str]] = []
        self.page_size = 2  # small, so the client must follow pagination
        self.report_digest = True
        #: Store uploads with their first byte flipped (damage in transit or storage),
        #: so the digest GitHub reports is not the one of the bytes sent.
        self.damage_uploads = False
        self.rename: Callable[[str], str] = github_rename
        self.immutable_releases = False
        self._next_id = 1000

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def release_json(self, repo: str, rel: FakeRelease) -> dict[str, Any]:
        return {
            "id": rel.id,
            "tag_name": rel.tag,
            "name": rel.name,
            "upload_url": f"{self.url}/uploads/repos/{repo}/releases/{rel.id}/assets{{?name,label}}",
            "draft": rel.draft,
            "html_url": f"{self.url}/{repo}/releases/tag/{rel.tag}",
        }

    def asset_json(self, repo: str, rel: FakeRelease, asset: FakeAsset) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": asset.id,
            "name": asset.name,
            "size": len(asset.data),
            "state": asset.state,
            "content_type": "application/octet-stream",
            "browser_download_url": f"{self.url}/{repo}/releases/download/{rel.tag}/{asset.name}",
        }
        if self.report_digest:
            data["digest"] = "sha256:" + hashlib.sha256(asset.data).hexdigest()
        return data

    def find_asset(self, asset_id: int) -> tuple[str, FakeRelease, FakeAsset] | None:
        for (repo, _tag), rel in self.releases.items():
            for asset in rel.assets.values():
                if asset.id == asset_id:
                    return repo, rel, asset
        return None

    def writes(self) -> list[tuple[str, str]]:
        """Every request that changed state (anything but GET)."""
        return [entry for entry in self.log if entry[0] != "GET"]


_REPO = r"(?P<repo>[^/]+/[^/]+)"


def _handler(state: FakeGitHub) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(
            self, status: int, body: Any = None, headers: dict[str, str] | None = None
        ) -> None:
            raw = (
                b""
                if body is None
                else body
                if isinstance(body, bytes)
                else json.dumps(body).encode()
            )
            self.send_response(status)
            ctype = "application/octet-stream" if isinstance(body, bytes) else "application/json"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def _error(self, status: int, message: str, code: str = "") -> None:
            body: dict[str, Any] = {"message": message}
            if code:
                body["errors"] = [{"resource": "ReleaseAsset", "code": code}]
            self._send(status, body)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {state.token}":
                return True
            self._error(401, "Bad credentials")
            return False

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _route(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(parts.path)
            query = urllib.parse.parse_qs(parts.query)
            body = self._body() if self.command in ("POST", "PATCH", "PUT") else b""
            with state.lock:
                state.log.append((self.command, path))
                self._dispatch(path, query, body)

        def _dispatch(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
            method = self.command
            m = re.fullmatch(r"/cdn/(?P<id>\d+)", path)
            if m and method in ("GET", "HEAD"):
                found = state.find_asset(int(m["id"]))
                if found is None:
                    self._error(404, "Not Found")
                else:
                    self._send(200, found[2].data)
                return
            m = re.fullmatch(rf"/{_REPO}/releases/download/(?P<tag>[^/]+)/(?P<name>[^/]+)", path)
            if m and method in ("GET", "HEAD"):
                rel = state.releases.get((m["repo"], m["tag"]))
                asset = rel.assets.get(m["name"]) if rel and not rel.draft else None
                if asset is None or asset.state != "uploaded":
                    self._error(404, "Not Found")
                else:
                    self._send(302, None, {"Location": f"{state.url}/cdn/{asset.id}"})
                return
            if not self._authorised():
                return
            m = re.fullmatch(rf"/repos/{_REPO}/releases/tags/(?P<tag>[^/]+)", path)
            if m and method == "GET":
                rel = state.releases.get((m["repo"], m["tag"]))
                if rel is None or rel.draft:
                    self._error(404, "Not Found")
                else:
                    self._send(200, state.release_json(m["repo"], rel))
                return
            m = re.fullmatch(rf"/repos/{_REPO}/releases", path)
            if m and method == "GET":
                listed = [
                    state.release_json(rp, r) for (rp, _), r in state.releases.items() if rp == m["repo"]
                ]
                self._send(200, listed)
                return
            m = re.fullmatch(rf"/repos/{_REPO}/releases/(?P<id>\d+)", path)
            if m and method == "PATCH":
                found = next(
                    (r for (rp, _), r in state.releases.items() if rp == m["repo"] and r.id == int(m["id"])),
                    None,
                )
                if found is None:
                    self._error(404, "Not Found")
                else:
                    if json.loads(body or b"{}").get("draft") is False:
                        found.draft = False
                    self._send(200, state.release_json(m["repo"], found))
                return
            m = re.fullmatch(rf"/repos/{_REPO}/releases", path)
            if m and method == "POST":
                data = json.loads(body or b"{}")
                tag = str(data.get("tag_name", ""))
                if not tag:
                    self._error(422, "Validation Failed", "missing_field")
                elif (m["repo"], tag) in state.releases:
                    self._error(422, "Validation Failed", "already_exists")
                else:
                    rel = FakeRelease(
                        id=state.new_id(),
                        tag=tag,
                        name=str(data.get("name", tag)),
                        draft=bool(data.get("draft", False)),
                    )
                    state.releases[(m["repo"], tag)] = rel
                    self._send(201, state.release_json(m["repo"], rel))
                return
            m = re.fullmatch(rf"/repos/{_REPO}/releases/(?P<id>\d+)/assets", path)
            if m and method == "GET":
                self._list_assets(m["repo"], int(m["id"]), query)
                return
            m = re.fullmatch(rf"/uploads/repos/{_REPO}/releases/(?P<id>\d+)/assets", path)
            if m and method == "POST":
                self._upload(m["repo"], int(m["id"]), query, body)
                return
            m = re.fullmatch(rf"/repos/{_REPO}/releases/assets/(?P<id>\d+)", path)
            if m:
                found = state.find_asset(int(m["id"]))
                if found is None or found[0] != m["repo"]:
                    self._error(404, "Not Found")
                elif method == "GET":
                    if self.headers.get("Accept") == "application/octet-stream":
                        self._send(302, None, {"Location": f"{state.url}/cdn/{found[2].id}"})
                    else:
                        self._send(200, state.asset_json(*found))
                elif method == "DELETE":
                    del found[1].assets[found[2].name]
                    self._send(204)
                else:
                    self._error(405, "Method Not Allowed")
                return
            self._error(404, "Not Found")

        def _list_assets(self, repo: str, release_id: int, query: dict[str, list[str]]) -> None:
            rel = next(
                (r for (rp, _), r in state.releases.items() if rp == repo and r.id == release_id),
                None,
            )
            if rel is None:
                self._error(404, "Not Found")
                return
            page = int(query.get("page", ["1"])[0])
            size = min(int(query.get("per_page", ["30"])[0]), state.page_size)
            items = sorted(rel.assets.values(), key=lambda a: a.id)
            chunk = items[(page - 1) * size : page * size]
            headers = {}
            if page * size < len(items):
                headers["Link"] = (
                    f"<{state.url}/repos/{repo}/releases/{release_id}/assets"
                    f'?per_page={size}&page={page + 1}>; rel="next"'
                )
            self._send(200, [state.asset_json(repo, rel, a) for a in chunk], headers)

        def _upload(
            self, repo: str, release_id: int, query: dict[str, list[str]], body: bytes
        ) -> None:
            rel = next(
                (r for (rp, _), r in state.releases.items() if rp == repo and r.id == release_id),
                None,
            )
            if rel is None:
                self._error(404, "Not Found")
                return
            if state.immutable_releases and not rel.draft:
                self._error(422, "Cannot upload assets to an immutable release.")
                return
            if self.headers.get("Content-Type") != "application/octet-stream":
                self._error(422, "Validation Failed", "content_type")
                return
            name = state.rename(query.get("name", [""])[0])
            if name in rel.assets:
                self._error(422, "Validation Failed", "already_exists")
                return
            if state.damage_uploads and body:
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            asset = FakeAsset(id=state.new_id(), name=name, data=body)
            rel.assets[name] = asset
            self._send(201, state.asset_json(repo, rel, asset))

        do_GET = do_POST = do_DELETE = do_HEAD = do_PATCH = _route

    return Handler


@contextmanager
def serve_fake_github(token: str = "ghs_faketoken123") -> Iterator[FakeGitHub]:
    """Run the fake on 127.0.0.1 (a free port) for the duration of the block."""
    state = FakeGitHub(token)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield state
