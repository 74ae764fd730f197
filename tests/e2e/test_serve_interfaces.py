"""The served routing index (granian, RSGI) answers exactly as the ASGI app does.

``wheelmirror serve`` runs serve/rsgi.py; the unit tests drive the ASGI app in
serve/router.py. Both must give the same status, headers and body bytes for every kind
of request: each format, gzip, 304, 301, 404, 405, 406, HEAD, and static files small
(cached) and large (streamed in chunks).
"""

from __future__ import annotations

import asyncio
import http.client
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from devtools.pipuv_mirror import serve_mirror
from poetry_wheelmirror.serve.router import RoutingIndex

pytestmark = pytest.mark.e2e

PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
BIG = "markupsafe-9.9-py3-none-any.whl"
#: Headers the server itself adds; not the app's answer.
SERVER_HEADERS = {"server", "date"}


@pytest.fixture(scope="module")
def big_mirror(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's mirror (conftest.py) with one more, large file."""
    copy = tmp_path_factory.mktemp("interfaces") / "mirror"
    shutil.copytree(mirror, copy)
    # Over the 1 MiB in-memory limit: streamed in chunks by both adapters.
    (copy / "files" / "markupsafe" / BIG).write_bytes(os.urandom(1_500_000))
    return copy


def _asgi(app: RoutingIndex, method: str, path: str, headers: dict[str, str]) -> Any:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    hdrs = sorted((k.decode(), v.decode()) for k, v in sent[0]["headers"])
    body = b"" if method == "HEAD" else b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], hdrs, body


def _http(port: int, method: str, path: str, headers: dict[str, str]) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        hdrs = sorted(
            (k.lower(), v) for k, v in resp.getheaders() if k.lower() not in SERVER_HEADERS
        )
        return resp.status, hdrs, body
    finally:
        conn.close()


def test_served_answers_equal_the_asgi_app(big_mirror: Path) -> None:
    mirror = big_mirror
    app = RoutingIndex(mirror)
    etag = _asgi(app, "GET", "/simple/markupsafe/", {"Accept": PIP_ACCEPT})[1]
    tag = dict(etag)["etag"]
    wheel = next(p.name for p in (mirror / "files" / "markupsafe").glob("*.whl") if p.name != BIG)
    requests = [
        ("GET", "/simple/markupsafe/", {"Accept": PIP_ACCEPT}),
        ("GET", "/simple/markupsafe/", {"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip, deflate"}),
        ("GET", "/simple/markupsafe/", {"Accept": "text/html"}),
        ("GET", "/simple/markupsafe/", {"Accept": "application/vnd.pypi.simple.v1+html"}),
        ("GET", "/simple/markupsafe/", {}),
        ("GET", "/simple/markupsafe/", {"Accept": PIP_ACCEPT, "If-None-Match": tag}),
        ("GET", "/simple/markupsafe/", {"Accept": PIP_ACCEPT, "If-None-Match": '"other"'}),
        ("GET", "/simple/markupsafe/", {"Accept": "application/vnd.pypi.simple.v2+json"}),
        ("HEAD", "/simple/markupsafe/", {"Accept": PIP_ACCEPT}),
        ("GET", "/simple/MarkupSafe/", {}),
        ("GET", "/simple/markupsafe", {}),
        ("GET", "/simple", {}),
        ("GET", "/simple/", {"Accept": PIP_ACCEPT}),
        ("GET", "/simple/six/", {}),
        ("GET", "/simple/-bad-/", {}),
        ("GET", "/simple/markupsafe/x/", {}),
        ("POST", "/simple/", {}),
        ("GET", "/", {}),
        ("GET", "/nothing", {}),
        ("GET", "/manifest.json", {}),
        ("GET", f"/files/markupsafe/{wheel}", {}),
        ("HEAD", f"/files/markupsafe/{wheel}", {}),
        ("GET", f"/files/markupsafe/{BIG}", {}),
        ("GET", "/files/markupsafe/..%2Fmanifest.json", {}),
        ("GET", "/files/markupsafe/missing.whl", {}),
    ]
    with serve_mirror(mirror) as served:
        port = int(served.url.rstrip("/").rsplit(":", 1)[1])
        file_tag = dict(_http(port, "GET", "/manifest.json", {})[1])["etag"]
        requests.append(("GET", "/manifest.json", {"If-None-Match": file_tag}))
        for method, path, headers in requests:
            got = _http(port, method, path, headers)
            want = _asgi(app, method, path, headers)
            assert got == want, (method, path, headers)
    statuses = {_asgi(app, m, p, h)[0] for m, p, h in requests}
    assert statuses == {200, 301, 304, 404, 405, 406}  # the table covers every kind
