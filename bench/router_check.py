"""Helpers of bench/bench_router.py: nginx serving pre-rendered bytes, and checks of the
answers themselves (wrk counts 3xx as success, so each run also samples real answers).

nginx (Debian's package: ``apt-get install -y nginx``) serves, for each page, the exact
bytes the routing index answers: ``simple/<name>/index.json`` and, for gzip_static, the
routing index's own gzip body as ``index.json.gz``. One worker process, no access log,
keep-alive without a request cap: the ceiling for serving those bytes from one process.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

__all__ = [
    "Answer",
    "Expect",
    "Sampler",
    "fetch",
    "free_port",
    "nginx_binary",
    "nginx_conf",
    "require",
    "run_server",
    "wait_ok",
]


def require(condition: bool, message: str) -> None:
    """A check of the benchmark's own premises (not stripped by ``python -O``)."""
    if not condition:
        raise RuntimeError(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_server(cmd: list[str], env: dict[str, str], cwd: Path) -> Iterator[int]:
    """Run a server process for the duration of the block and yield its pid; SIGINT,
    then kill, at the end."""
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Answer:
    status: int
    encoding: str
    body: bytes  # as sent (gzip bytes when gzip)

    def decoded(self) -> bytes:
        return gzip.decompress(self.body) if self.encoding == "gzip" else self.body


def fetch(url: str, headers: dict[str, str], timeout: float = 10.0) -> Answer:
    """One GET without following redirects (a 3xx is returned as it is)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/", headers=headers)
        resp = conn.getresponse()
        return Answer(resp.status, resp.getheader("Content-Encoding") or "", resp.read())
    finally:
        conn.close()


def wait_ok(url: str, headers: dict[str, str], timeout: float = 30.0) -> Answer:
    """Poll until *url* answers 200 itself (a redirect is not "ready")."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = fetch(url, headers, timeout=5)
        except OSError as e:
            last = str(e)
        else:
            if answer.status == 200:
                return answer
            last = f"HTTP {answer.status}"
        time.sleep(0.1)
    msg = f"server at {url} did not answer 200 within {timeout:.0f} s ({last})"
    raise RuntimeError(msg)


@dataclass(frozen=True)
class Expect:
    """What a valid answer is: status 200, this Content-Encoding, this decoded length."""

    encoding: str
    length: int


@dataclass
class Sampler:
    """Fetches *count* answers spread over a wrk run (in a thread) and checks each."""

    url: str
    headers: dict[str, str]
    expect: Expect
    count: int = 5
    interval: float = 0.5
    problems: list[str] = field(default_factory=list)
    checked: int = 0
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        for _ in range(self.count):
            time.sleep(self.interval)
            try:
                answer = fetch(self.url, self.headers)
            except OSError as e:
                self.problems.append(f"no answer: {e}")
                continue
            self.checked += 1
            if answer.status != 200:
                self.problems.append(f"HTTP {answer.status}")
            elif answer.encoding != self.expect.encoding:
                self.problems.append(f"Content-Encoding {answer.encoding or 'identity'!r}")
            elif len(answer.decoded()) != self.expect.length:
                self.problems.append(f"{len(answer.decoded())} bytes, not {self.expect.length}")

    @contextlib.contextmanager
    def during(self) -> Iterator[Sampler]:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._thread.join(timeout=60)


def nginx_conf(root: Path, port: int) -> Path:
    """nginx.conf under *root* serving *root*/html on 127.0.0.1:*port*."""
    for sub in ("html", "tmp", "logs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    tmp = root / "tmp"
    conf = root / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
daemon off;
user root;
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/html;
        location /simple/ {{
            index index.json;
            types {{ }}
            default_type application/vnd.pypi.simple.v1+json;
            gzip_static on;
        }}
    }}
}}
"""
    )
    return conf


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
