"""The Poetry plugin with the real Poetry, on the lowest (2.0.1) and newest (2.5.1) 2.x.

Each Poetry version is installed with pip in venvs of its own (devtools/poetry_env.py,
cached across runs), once plain and once with this project's wheel added by a real
``poetry self add``. Projects are throwaway directories whose only source is the
loopback PyPI pass-through (PyPI's per-version JSON API is unavailable here); the
mirror is built once per session from MarkupSafe 2.0.1's real sdist with
``wheelmirror build`` (PyPI has no cp311 wheel of it).

Tests marked ``newest_poetry_by_default`` check the plugin's own logic, which does not
change with Poetry's version: the default run takes them on the newest Poetry only, and
``make test-slow`` on 2.0.1 too (the comment beside each names the default test that
covers the same Poetry integration on 2.0.1).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.passthrough import PassthroughIndex
from devtools.poetry_env import project_env
from devtools.poetry_project import Poetries
from devtools.poetry_project import assert_built_from_sdist
from devtools.poetry_project import assert_from_mirror
from devtools.poetry_project import make_project
from devtools.poetry_project import pyproject
from devtools.poetry_project import warnings
from poetry_wheelmirror import manifest as m

pytestmark = pytest.mark.e2e


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_mirror(mirror: Path, dest: Path) -> Path:
    shutil.copytree(mirror, dest)
    return dest


def rewrite_package_doc(mirror: Path, change: dict[str, str]) -> None:
    """Change the markupsafe entry's recorded source and re-sign the root (as a
    republishing mirror would), so only the changed field differs."""
    doc_path = mirror / "packages" / "markupsafe.json"
    data = json.loads(doc_path.read_bytes())
    data["versions"]["2.0.1"]["source"].update(change)
    body = m.dump_document(data)
    doc_path.write_bytes(body)
    root_path = mirror / m.ROOT_MANIFEST_PATH
    root = json.loads(root_path.read_bytes())
    root["packages"]["markupsafe"]["sha256"] = hashlib.sha256(body).hexdigest()
    root_path.write_bytes(m.dump_document(root))


# -- the happy path ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["install", "sync"])
def test_install_uses_mirror_wheel_and_keeps_lock(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path, command: str
) -> None:
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri())
    result = poetries.plugin.run(command, "-v", cwd=project, env=env)
    out = result.stdout + result.stderr
    assert_from_mirror(project, out)
    assert (project / "poetry.lock").read_bytes() == poetries.lock
    # -v names the redirected URL; six has a PyPI wheel, so Poetry's choice stands.
    assert f"<- {mirror.as_uri()}/files/markupsafe/markupsafe-2.0.1-cp311-cp311-" in out, out
    assert "six 1.16.0: not redirected: PyPI has a compatible wheel" in out, out
    assert warnings(out) == []
    # A second run is a no-op and fetches nothing.
    again = poetries.plugin.run(command, cwd=project, env=env)
    assert "from the mirror" not in again.stdout
    assert (project / "poetry.lock").read_bytes() == poetries.lock


@pytest.fixture
def http_mirror(mirror: Path) -> Iterator[tuple[str, list[str]]]:
    """The session mirror served over loopback http; yields (base URL, request log)."""
    import functools
    import http.server
    import threading

    log: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            log.append(self.path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(mirror))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", log
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.newest_poetry_by_default  # on 2.0.1: the plugin's own HTTP client; 2.0.1 installs from the mirror in test_install_uses_mirror_wheel_and_keeps_lock
def test_install_from_http_mirror_fetches_only_needed_documents(
    poetries: Poetries,
    pypi_index: PassthroughIndex,
    http_mirror: tuple[str, list[str]],
    work: Path,
) -> None:
    url, log = http_mirror
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=url)
    result = poetries.plugin.run("install", cwd=project, env=env)
    assert_from_mirror(project, result.stdout + result.stderr)
    # The root, markupsafe's document (six has a PyPI wheel: nothing asked) and the wheel.
    assert sorted(p.split("/")[1] for p in log) == ["files", "manifest.json", "packages"], log
    assert "/packages/markupsafe.json" in log, log
    # The plugin's cache lives under Poetry's cache-dir.
    assert list((work / "poetry-cache" / "wheelmirror" / "http").rglob("*.body"))


def test_update_and_add_write_the_same_lock_as_without_plugin(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    env = project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri())
    # update: re-resolves, installs (from the mirror), then writes the lock.
    project = make_project(work / "update", pypi_index.url, poetries.lock)
    result = poetries.plugin.run("update", cwd=project, env=env)
    assert_from_mirror(project, result.stdout + result.stderr)
    assert (project / "poetry.lock").read_bytes() == poetries.lock

    # add: the plain Poetry only locks; the plugin's Poetry adds and installs.
    plain_dir = work / "add-plain"
    plain_dir.mkdir()
    (plain_dir / "pyproject.toml").write_text(pyproject(pypi_index.url, deps=()))
    plugin_dir = work / "add-plugin"
    shutil.copytree(plain_dir, plugin_dir)
    poetries.plain.run("add", "--lock", "markupsafe==2.0.1", cwd=plain_dir, env=env)
    result = poetries.plugin.run("add", "markupsafe==2.0.1", cwd=plugin_dir, env=env)
    assert_from_mirror(plugin_dir, result.stdout + result.stderr)
    for name in ("poetry.lock", "pyproject.toml"):
        assert (plugin_dir / name).read_bytes() == (plain_dir / name).read_bytes(), name


@pytest.mark.newest_poetry_by_default  # on 2.0.1: the same lock with the plugin: test_update_and_add_write_the_same_lock_as_without_plugin
def test_lock_is_identical_and_installs_without_plugin(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    env = project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri())
    project = make_project(work / "p", pypi_index.url)
    poetries.plugin.run("lock", cwd=project, env=env)
    assert (project / "poetry.lock").read_bytes() == poetries.lock
    poetries.plugin.run("install", cwd=project, env=env)
    # The lock moves to a machine without the plugin: Poetry builds the sdist as usual.
    other = make_project(work / "other", pypi_index.url, (project / "poetry.lock").read_bytes())
    result = poetries.plain.run("install", cwd=other, env=project_env(work / "plain"))
    assert_built_from_sdist(other, result.stdout + result.stderr)
    assert (other / "poetry.lock").read_bytes() == poetries.lock


# -- what must never be installed ------------------------------------------------------


def test_tampered_wheel_fails_with_poetrys_hash_error(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    bad = copy_mirror(mirror, work / "mirror")
    (wheel,) = (bad / "files" / "markupsafe").glob("*.whl")
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=bad.as_uri())
    result = poetries.plugin.run("install", cwd=project, env=env, check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "not found in known hashes" in out, out
    assert wheel.name in out, out
    assert "from the mirror:" not in out, out
    assert "wheelmirror: the installation failed (see above)" in out, out
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    assert not [p for p in site.glob("*.dist-info") if p.name.lower().startswith("markupsafe")]
    assert (project / "poetry.lock").read_bytes() == poetries.lock
    # Once the mirror serves the right bytes again, the bad cached copy is not reused.
    shutil.copyfile(next((mirror / "files" / "markupsafe").glob("*.whl")), wheel)
    result = poetries.plugin.run("install", cwd=project, env=env)
    assert_from_mirror(project, result.stdout + result.stderr)


@pytest.mark.newest_poetry_by_default  # on 2.0.1: the plugin's manifest check; refusal then a normal install: test_poetry_provenance.py
def test_wheel_built_from_another_sdist_is_refused(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    other = copy_mirror(mirror, work / "mirror")
    rewrite_package_doc(other, {"sha256": "0" * 64})
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=other.as_uri())
    result = poetries.plugin.run("install", cwd=project, env=env)
    out = result.stdout + result.stderr
    (warning,) = warnings(out)
    assert "refusing the mirror wheel for markupsafe 2.0.1" in warning
    assert "MarkupSafe-2.0.1.tar.gz (sha256 " + "0" * 64 in warning
    assert "not among the files poetry.lock lists" in warning
    assert_built_from_sdist(project, out)


# -- failures fall back to a normal install --------------------------------------------


def _unreachable(mirror: Path, work: Path) -> str:
    return f"http://127.0.0.1:{_free_port()}/mirror/"


def _malformed_root(mirror: Path, work: Path) -> str:
    bad = copy_mirror(mirror, work / "mirror")
    (bad / m.ROOT_MANIFEST_PATH).write_text('{"schema": "poetry-wheelmirror/root", ')
    return bad.as_uri()


def _schema_2(mirror: Path, work: Path) -> str:
    bad = copy_mirror(mirror, work / "mirror")
    root = json.loads((bad / m.ROOT_MANIFEST_PATH).read_bytes())
    root["schema_version"] = "2.0"
    (bad / m.ROOT_MANIFEST_PATH).write_bytes(m.dump_document(root))
    return bad.as_uri()


def _doc_sha_mismatch(mirror: Path, work: Path) -> str:
    bad = copy_mirror(mirror, work / "mirror")
    doc = bad / "packages" / "markupsafe.json"
    doc.write_bytes(doc.read_bytes() + b"\n")
    return bad.as_uri()


FAILURES = {
    "unreachable": (_unreachable, "cannot reach 127.0.0.1"),
    "malformed-root": (_malformed_root, "not valid JSON"),
    "schema-2.0": (_schema_2, "unsupported major version 2"),
    "doc-sha-mismatch": (_doc_sha_mismatch, "does not match the root manifest's"),
}


@pytest.mark.newest_poetry_by_default  # on 2.0.1: the plugin's mirror reader; a warning then a normal install: test_poetry_provenance.py
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_mirror_failure_falls_back_with_one_warning(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path, failure: str
) -> None:
    make_url, expected = FAILURES[failure]
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=make_url(mirror, work))
    result = poetries.plugin.run("install", cwd=project, env=env)
    out = result.stdout + result.stderr
    (warning,) = warnings(out)
    assert expected in warning, warning
    assert "installing without it" in warning, warning
    assert_built_from_sdist(project, out)
    assert (project / "poetry.lock").read_bytes() == poetries.lock


def test_changed_internals_warn_once_and_install_normally(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    """A Poetry whose executor no longer has the expected download signature."""
    import subprocess

    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri())
    script = (
        "import sys, poetry.installation.executor as ex\n"
        "f = ex.Executor._download_archive\n"
        "ex.Executor._download_archive = lambda self, *a, **k: f(self, *a, **k)\n"
        "from poetry.console.application import main\n"
        "sys.argv[0] = 'poetry'\n"
        "sys.exit(main())\n"
    )
    result = subprocess.run(
        [str(poetries.plugin.python), "-c", script, "--no-ansi", "install"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    (warning,) = warnings(out)
    assert "Poetry internals changed (Executor._download_archive" in warning, warning
    assert_built_from_sdist(project, out)


def test_no_binary_is_honoured(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(
        work, POETRY_WHEELMIRROR_URL=mirror.as_uri(), POETRY_INSTALLER_NO_BINARY="markupsafe"
    )
    result = poetries.plugin.run("install", "-v", cwd=project, env=env)
    out = result.stdout + result.stderr
    assert "installer.no-binary excludes wheels of this package" in out, out
    assert_built_from_sdist(project, out)


def test_only_binary_is_satisfied_by_the_mirror(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    """With only-binary, Poetry alone finds no candidate; the mirror's wheel fits."""
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_INSTALLER_ONLY_BINARY="markupsafe")
    plain = poetries.plain.run("install", cwd=project, env=env, check=False)
    assert plain.returncode != 0
    assert "Unable to find installation candidates" in plain.stdout + plain.stderr
    result = poetries.plugin.run(
        "install", cwd=project, env={**env, "POETRY_WHEELMIRROR_URL": mirror.as_uri()}
    )
    assert_from_mirror(project, result.stdout + result.stderr)
    assert (project / "poetry.lock").read_bytes() == poetries.lock


# -- settings and commands -------------------------------------------------------------


@pytest.mark.newest_poetry_by_default  # on 2.0.1: the plugin's own settings; its commands load: test_status_and_refresh
def test_settings_disable_and_deny(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    deny = f'\n[tool.poetry-wheelmirror]\nurl = "{mirror.as_uri()}"\npackages = {{ deny = ["markupsafe"] }}\n'
    project = make_project(work / "p", pypi_index.url, extra=deny)
    env = project_env(work)
    poetries.plugin.run("lock", cwd=project, env=env)
    status = poetries.plugin.run("wheelmirror", "status", cwd=project, env=env).stdout
    assert "markupsafe is in [tool.poetry-wheelmirror] packages.deny" in status, status
    assert f"Mirror: {mirror.as_uri()} (from [tool.poetry-wheelmirror] url)" in status, status
    off = poetries.plugin.run(
        "wheelmirror", "status", cwd=project, env={**env, "POETRY_WHEELMIRROR_DISABLE": "1"}
    ).stdout
    assert "Plugin: off (POETRY_WHEELMIRROR_DISABLE=1)" in off, off


def test_self_commands_are_left_alone(
    poetries: Poetries, pypi_index: PassthroughIndex, work: Path
) -> None:
    env = project_env(work, POETRY_WHEELMIRROR_URL=f"http://127.0.0.1:{_free_port()}/")
    result = poetries.plugin.run("self", "show", "plugins", cwd=work, env=env)
    out = result.stdout + result.stderr
    assert "poetry-wheelmirror (0.1.0)" in out, out
    assert "1 application plugin" in out, out
    assert "wheelmirror:" not in out, out


def test_status_and_refresh(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri())
    out = poetries.plugin.run("wheelmirror", "status", "-v", cwd=project, env=env).stdout
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert f"Mirror: {mirror.as_uri()} (from $POETRY_WHEELMIRROR_URL)" in out, out
    assert " mirror " in lines["markupsafe"], out
    assert "markupsafe-2.0.1-cp311-cp311-" in lines["markupsafe"], out
    assert f"<- {mirror.as_uri()}/files/markupsafe/" in lines["markupsafe"], out
    assert " pypi-wheel " in lines["six"]
    assert "six-1.16.0-py2.py3-none-any.whl" in lines["six"]
    assert "1 from the mirror, 1 PyPI wheel(s), 0 source build(s)" in out, out
    # With wheels excluded by policy, status says it will build.
    nb = poetries.plugin.run(
        "wheelmirror",
        "status",
        cwd=project,
        env={**env, "POETRY_INSTALLER_NO_BINARY": "markupsafe"},
    ).stdout
    assert "0 from the mirror, 1 PyPI wheel(s), 1 source build(s)" in nb, nb
    refreshed = poetries.plugin.run("wheelmirror", "refresh", cwd=project, env=env).stdout
    assert "Refreshed" in refreshed
    assert "1 package document(s) for this lock" in refreshed


@pytest.mark.newest_poetry_by_default  # on 2.0.1: the plugin's commands load: test_status_and_refresh
def test_doctor_inside_poetry(
    poetries: Poetries, pypi_index: PassthroughIndex, mirror: Path, work: Path
) -> None:
    project = make_project(work / "p", pypi_index.url, poetries.lock)
    env = project_env(work, POETRY_WHEELMIRROR_URL=mirror.as_uri())
    result = poetries.plugin.run("wheelmirror", "doctor", cwd=project, env=env, check=False)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "poetry-wheelmirror" in out, out
    assert "markupsafe" in out, out
    # The mirror is read through Poetry's environment: a JSON report names every check.
    as_json = poetries.plugin.run(
        "wheelmirror", "doctor", "--json", cwd=project, env=env, check=False
    ).stdout
    import json

    report = json.loads(as_json)
    assert report, as_json
    # An unreachable mirror is a failing check and a non-zero exit.
    down = poetries.plugin.run(
        "wheelmirror", "doctor", "--mirror", f"http://127.0.0.1:{_free_port()}/",
        cwd=project, env=env, check=False,
    )  # fmt: skip
    assert down.returncode == 1, down.stdout + down.stderr
    assert "FAIL" in down.stdout, down.stdout
