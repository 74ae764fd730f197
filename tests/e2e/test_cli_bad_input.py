"""The `wheelmirror` command fed bad input, as a user types it: one line, no traceback,
the documented exit status (errors.EXIT_CODES), and no file changed.

Every case runs in a folder holding a mirror, a file, a project with a pyproject.toml, a
virtual environment's pip.conf and a HOME; the whole folder is snapshotted (path, bytes,
mode) before and after each case. Each case runs in-process through ``cli.main.main``
(what the console script calls) with the same environment and folder; the installed
console script itself runs the cases in SCRIPT_CASES and the network cases, so the
entry point, interpreter start-up and real process exit status are checked too (a
process per case costs about a second each on a busy machine; there are 60 of them).
The network cases use loopback servers started here: a closed port, a TLS server with a
self-signed certificate, a server that accepts and never answers, and a name that
cannot resolve.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.poetry_standins import write_mirror
from poetry_wheelmirror.cli.main import main
from poetry_wheelmirror.errors import EXIT_CODES

pytestmark = pytest.mark.e2e

PIN = "markupsafe==2.0.1"
M = ["--mirror", "mirror"]

#: (arguments, exit status, a fragment of the one line it prints)
CASES: list[tuple[list[str], int, str]] = [
    # build: the mirror folder is checked before anything is downloaded or built
    (["build", "--mirror", "afile", "six==1.16.0"], 2, "'afile' is a file, not a directory"),
    (["build", "--mirror", "afile/sub", "six==1.16.0"], 2, "cannot be created: "),
    (["build", "--mirror", "/proc/wm/mirror", "six==1.16.0"], 2, "cannot be created: /proc"),
    (["build", "--mirror", "new", "crcmod==1.*"], 2, "expected NAME==VERSION, got 'crcmod==1.*'"),
    (["build", "--mirror", "new", "crcmod>=1.7"], 2, "expected NAME==VERSION, got 'crcmod>=1.7'"),
    (["build", "--mirror", "new", "crcmod~=1.7"], 2, "expected NAME==VERSION"),
    (["build", "--mirror", "new", "crcmod"], 2, "expected NAME==VERSION, got 'crcmod'"),
    (["build", "--mirror", "new", "crcmod[x]==1.7"], 2, "expected NAME==VERSION"),
    (["build", "--mirror", "new", "crcmod==1.7; python_version>'3'"], 2, "expected NAME==VERSION"),
    (["build", "--mirror", "new", "crcmod==1.7", "--timeout", "0"], 2, "'0' is not a positive number of seconds"),
    (["build", "crcmod==1.7"], 2, "the following arguments are required: --mirror"),
    # serve
    (["serve", "--port", "99999", "mirror"], 2, "'99999' is not a port number (0-65535"),
    (["serve", "--port", "-1", "mirror"], 2, "'-1' is not a port number"),
    (["serve", "--port", "http", "mirror"], 2, "'http' is not a port number"),
    (["serve", "nonexistent"], 2, "'nonexistent' is not a directory (not found)"),
    (["serve", "afile"], 2, "'afile' is not a directory (a file)"),
    (["serve", "mirror", "--upstream-ttl", "-5"], 2, "'-5' is not a number >= 0"),
    # timeouts, platforms, pythons, pins
    (["select", *M, "--timeout", "0", PIN], 2, "'0' is not a positive number of seconds"),
    (["select", *M, "--timeout", "-1", PIN], 2, "'-1' is not a positive number of seconds"),
    (["select", *M, "--timeout", "nan", PIN], 2, "'nan' is not a positive number of seconds"),
    (["select", *M, "--timeout", "inf", PIN], 2, "'inf' is not a positive number of seconds"),
    (["select", *M, "--platform", "macos-arm", PIN], 2, "unknown platform 'macos-arm'; did you mean 'macos-arm64'?"),
    (["select", *M, "--platform", "windows", PIN], 2, "did you mean 'windows-arm64' or 'windows-x86_64'?"),
    (["select", *M, "--platform", "manylinux_2_17_x86", PIN], 2, "unknown platform 'manylinux_2_17_x86'"),
    (["select", *M, "--python", "3.x", PIN], 2, "'3.x' is not a CPython version X.Y"),
    (["select", *M, "--python", "2.7", PIN], 2, "'2.7' is not a CPython version X.Y"),
    (["select", *M, "markupsafe>=2"], 2, "expected NAME==VERSION, got 'markupsafe>=2'"),
    (["select", "--mirror", "not a url", PIN], 2, "mirror 'not a url' is neither a URL"),
    (["select", "--manifest", "/nonexistent", PIN], 2, "mirror '/nonexistent' is neither a URL"),
    (["doctor", "--platform", "macos-arm"], 2, "did you mean 'macos-arm64'?"),
    (["doctor", "--timeout", "0"], 2, "'0' is not a positive number of seconds"),
    (["doctor", "--max-age", "-1"], 2, "'-1' is not a number >= 0"),
    (["verify", *M, "--timeout", "-3", PIN], 2, "'-3' is not a positive number of seconds"),
    (["verify", *M, "--repository", "a/b/c", PIN], 2, "'a/b/c' is not a GitHub repository"),
    (["cibw-config", "crcmod==1.*"], 2, "got 'crcmod==1.*'"),
    (["fetch-sdist", "crcmod==1.*"], 2, "expected NAME==VERSION, got 'crcmod==1.*'"),
    # plan
    (["plan", "--mirror", "/nonexistent", "--offline"], 2, "mirror '/nonexistent' is neither a URL"),
    (["plan", "--mirror", "afile", "--offline"], 2, "mirror 'afile' is a file"),
    (["plan", "--recipes", "/nonexistent", "--offline"], 2, "'/nonexistent' is not a directory"),
    (["plan", "--timeout", "-2"], 2, "'-2' is not a positive number of seconds"),
    # pip-config / uv-config / hashes: nothing written
    (["pip-config", "--mirror", "not a url", "--print"], 2, "mirror 'not a url' is neither a URL"),
    (["pip-config", "--mirror", "not a url"], 2, "mirror 'not a url' is neither a URL"),
    (["pip-config", "--mirror", "ftp://example.com/m/", "--print"], 2, "unsupported URL scheme 'ftp'"),
    (["pip-config", "--mirror", "https://", "--print"], 2, "URL has no host"),
    (["pip-config", "--mirror", "file:///nonexistent/m/"], 2, "no such directory /nonexistent/m"),
    (["pip-config", "--mode", "routing", *M, "--print"], 2, "--mode routing needs a routing index"),
    (["pip-config", "--mode", "routing", *M], 2, "--mode routing needs a routing index"),
    (["pip-config"], 2, "no mirror chosen for pip"),
    (["uv-config", "--routing", *M, "--project", "project"], 2, "--routing needs a routing index"),
    (["uv-config", "--mirror", "not a url", "--project", "project"], 2, "is neither a URL"),
    (["uv-config", "--project", "project"], 2, "no mirror chosen for uv"),
    (["hashes", "-r", "project/requirements.txt"], 2, "no mirror chosen for pip's hash-checking mode"),
    (["index", "afile"], 2, "'afile' is not a directory (a file)"),
    (["index", "/nonexistent"], 2, "'/nonexistent' is not a directory (not found)"),
    # config
    (["config", "set", "url", "not a url"], 2, "mirror 'not a url' is neither a URL"),
    (["config", "set", "nope", "x"], 2, "invalid choice: 'nope'"),
    # the command line itself
    (["no-such-command"], 2, "invalid choice: 'no-such-command'"),
    ([], 2, "the following arguments are required: COMMAND"),
    (["select", *M, PIN, "--no-such-option"], 2, "unrecognized arguments: --no-such-option"),
    # not usage errors: each its own documented status
    (["select", "--mirror", "badmirror", PIN], 3, "not valid JSON"),
    (["select", *M, "markupsafe==9.9"], 6, "the mirror has no markupsafe 9.9"),
    (["select", *M, "--platform", "macos-arm64", PIN], 6, "no tag matches"),
]

#: Network cases: (name of the server fixture's URL, exit status, fragment)
NETWORK: list[tuple[str, int, str]] = [
    ("closed", 4, "connection refused"),
    ("unresolvable", 4, "host name not resolved"),
    ("self-signed", 4, "TLS certificate not accepted"),
    ("silent", 4, "timed out"),
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("bad-input")
    work = base / "work"
    write_mirror(work / "mirror")
    (work / "badmirror").mkdir()
    (work / "badmirror" / "manifest.json").write_text('{"schema": ')
    (work / "afile").write_text("not a folder\n")
    (work / "project").mkdir()
    (work / "project" / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\ndependencies = ["markupsafe==2.0.1"]\n'
    )
    (work / "project" / "requirements.txt").write_text("markupsafe==2.0.1\n")
    (work / "venv").mkdir()
    (work / "venv" / "pip.conf").write_text("[global]\nindex-url = https://pypi.org/simple/\n")
    (work / "home").mkdir()
    return work


def env_for(work: Path) -> dict[str, str]:
    return clean_env(
        HOME=str(work / "home"),
        XDG_CONFIG_HOME=str(work / "home" / ".config"),
        WHEELMIRROR_CACHE_DIR=str(work.parent / "cache"),
        WHEELMIRROR_RECIPES=str(Path(__file__).resolve().parents[2] / "recipes"),
        VIRTUAL_ENV=str(work / "venv"),
    )


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir",
            p.stat().st_mode,
        )
        for p in sorted(folder.rglob("*"))
    }


def check_one_line_failure(
    work: Path, args: list[str], code: int, fragment: str, timeout: float = 60
) -> None:
    """Run the installed console script and check its one-line failure."""
    before = snapshot(work)
    result = run_wheelmirror(*args, env=env_for(work), cwd=work, timeout=timeout)
    check_output(args, result.returncode, result.stdout, result.stderr, code, fragment)
    assert snapshot(work) == before, args


def check_output(
    args: list[str], returncode: int, stdout: str, stderr: str, code: int, fragment: str
) -> None:
    shown = f"wheelmirror {' '.join(args)}\nstdout: {stdout!r}\nstderr: {stderr!r}"
    assert "Traceback" not in stderr + stdout, shown
    assert "internal error" not in stderr, shown
    assert returncode == code, shown
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    assert fragment in lines[0], shown
    assert lines[0].startswith("wheelmirror"), shown
    assert stdout == "", shown


def in_process(
    work: Path,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    """``main(args)`` in *work* with exactly env_for(work) as the environment."""
    env = env_for(work)
    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(work)
    capfd.readouterr()
    returncode = main(args)
    out, err = capfd.readouterr()
    return returncode, out, err


def test_every_exit_status_used_here_is_documented() -> None:
    documented = {code for code, _ in EXIT_CODES}
    assert {code for _, code, _ in CASES} | {code for _, code, _ in NETWORK} <= documented
    assert len(CASES) + len(NETWORK) >= 40


@pytest.mark.parametrize(
    ("args", "code", "fragment"), CASES, ids=[" ".join(a) or "(none)" for a, _, _ in CASES]
)
def test_bad_input(
    work: Path,
    args: list[str],
    code: int,
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    before = snapshot(work)
    returncode, out, err = in_process(work, args, monkeypatch, capfd)
    check_output(args, returncode, out, err, code, fragment)
    assert snapshot(work) == before, args


#: Through the console script: a usage error, a checked folder, a bad URL, the empty
#: command line and the three other statuses (a file, a missing version, no tag).
SCRIPT_CASES = [
    case
    for case in CASES
    if case[0]
    in (
        ["build", "--mirror", "afile", "six==1.16.0"],
        ["serve", "--port", "99999", "mirror"],
        ["pip-config", "--mirror", "not a url"],
        [],
        ["select", "--mirror", "badmirror", PIN],
        ["select", *M, "markupsafe==9.9"],
        ["select", *M, "--platform", "macos-arm64", PIN],
    )
]


def test_script_cases_are_cases() -> None:
    assert len(SCRIPT_CASES) == 7


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    SCRIPT_CASES,
    ids=[" ".join(a) or "(none)" for a, _, _ in SCRIPT_CASES],
)
def test_bad_input_through_the_console_script(
    work: Path, args: list[str], code: int, fragment: str
) -> None:
    check_one_line_failure(work, args, code, fragment)


# -- the network -------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


@pytest.fixture(scope="module")
def self_signed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An https server whose certificate no CA signed."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(5)
        sock.close()


@pytest.mark.parametrize(("server", "code", "fragment"), NETWORK, ids=[n for n, _, _ in NETWORK])
def test_network_errors_say_what_happened(
    work: Path, silent_server: str, self_signed_server: str, server: str, code: int, fragment: str
) -> None:
    url = {
        "closed": f"http://127.0.0.1:{_closed_port()}/",
        "unresolvable": "https://mirror.wheelmirror-test.invalid/",
        "self-signed": self_signed_server,
        "silent": silent_server,
    }[server]
    args = ["select", "--mirror", url, "--timeout", "1", PIN]
    check_one_line_failure(work, args, code, fragment, timeout=120)
