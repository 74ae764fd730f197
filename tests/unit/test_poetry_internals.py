"""poetry_internals.py with stand-ins for Poetry's objects (no Poetry in the dev venv).

The real-Poetry behaviour is proven in tests/e2e/test_poetry_plugin.py; these check the
hook's own logic quickly: what is fetched, what is patched and restored, which errors
propagate.
"""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from poetry_wheelmirror import manifest as m
from poetry_wheelmirror.plugin import poetry_internals as pi
from poetry_wheelmirror.selection import supported_tags
from poetry_wheelmirror.settings import PluginSettings

SDIST = "MarkupSafe-2.0.1.tar.gz"
WHEEL = "markupsafe-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_BYTES = b"not really a zip, only hashed"


class Version:
    text = "2.0.1"


class Package:
    def __init__(self, name: str = "markupsafe", sdist_sha: str = "a" * 64) -> None:
        self.name = name
        self.version = Version()
        self.source_type = None
        self.files = [{"file": SDIST, "hash": f"sha256:{sdist_sha}"}]


class Link:
    def __init__(self, url: str) -> None:
        self.url = url
        self.filename = url.split("#", 1)[0].rsplit("/", 1)[-1]


class Env:
    supported_tags = supported_tags("3.11", "manylinux_2_28_x86_64")
    version_info = (3, 11, 7, "final", 0)


class IO:
    def __init__(self, verbose: bool = False) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.verbose = verbose

    def write_line(self, line: str) -> None:
        self.out.append(line)

    def write_error_line(self, line: str) -> None:
        self.err.append(line)

    def is_verbose(self) -> bool:
        return self.verbose


class Config:
    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def get(self, key: str) -> Any:
        return str(self.cache) if key == "cache-dir" else None


class Poetry:
    def __init__(self, cache: Path, data: dict[str, Any] | None = None) -> None:
        self.config = Config(cache)
        self.pyproject = types.SimpleNamespace(data=data or {})


def write_mirror(base: Path, sdist_sha: str = "a" * 64) -> Path:
    files = base / "files" / "markupsafe"
    files.mkdir(parents=True)
    (files / WHEEL).write_bytes(WHEEL_BYTES)
    key = canonicalize_name("markupsafe")
    doc = m.PackageDocument(
        name=key,
        versions={
            "2.0.1": m.VersionEntry(
                version="2.0.1",
                source=m.SourceDist(SDIST, sdist_sha, f"https://x/{SDIST}"),
                wheels=(
                    m.WheelFile(
                        filename=WHEEL,
                        url=f"../files/markupsafe/{WHEEL}",
                        sha256=hashlib.sha256(WHEEL_BYTES).hexdigest(),
                        size=len(WHEEL_BYTES),
                    ),
                ),
            )
        },
    )
    body = m.dump_document(m.package_document_json(doc))
    (base / "packages").mkdir()
    (base / "packages" / "markupsafe.json").write_bytes(body)
    root = m.RootManifest(
        mirror_name="t",
        index_url="simple/",
        generated_at="2026-01-01T00:00:00Z",
        packages={
            key: m.PackageRef(key, "packages/markupsafe.json", hashlib.sha256(body).hexdigest())
        },
    )
    (base / "manifest.json").write_bytes(m.dump_document(m.root_manifest_json(root)))
    return base


def make_hook(
    tmp_path: Path, url: str, *, binary: bool = True, io: IO | None = None
) -> tuple[pi.Hook, IO]:
    io = io or IO()
    hook = pi.Hook(
        settings=PluginSettings(url=url, url_source="env"),
        io=io,
        env=Env(),
        poetry=Poetry(tmp_path / "poetry-cache"),
        binary_allowed=lambda name: binary,
        link_factory=Link,
    )
    return hook, io


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return write_mirror(tmp_path / "mirror")


def sdist_choice(package: Any) -> Link:
    return Link(f"https://files/{SDIST}#sha256={'a' * 64}")


def test_sdist_choice_is_redirected_and_files_restored(tmp_path: Path, mirror: Path) -> None:
    hook, io = make_hook(tmp_path, mirror.as_uri())
    package = Package()
    original_files = package.files
    link = hook.choose_for(package, sdist_choice)
    digest = hashlib.sha256(WHEEL_BYTES).hexdigest()
    assert link.url == f"{mirror.as_uri()}/files/markupsafe/{WHEEL}#sha256={digest}"
    assert package.files == [*original_files, {"file": WHEEL, "hash": f"sha256:{digest}"}]
    # Asked twice (Poetry retries), the entry is not added twice.
    hook.choose_for(package, sdist_choice)
    assert len(package.files) == 2
    hook.restore()
    assert package.files is original_files
    hook.report()
    assert io.out == ["wheelmirror: 1 package from the mirror: markupsafe 2.0.1"]
    assert io.err == []


def test_wheel_choice_stands_and_nothing_is_fetched(tmp_path: Path) -> None:
    hook, _ = make_hook(tmp_path, "http://127.0.0.1:9/unreachable/")
    package = Package()
    wheel = Link(f"https://files/{WHEEL}")
    assert hook.choose_for(package, lambda p: wheel) is wheel
    assert hook._reader is None


def test_no_candidate_is_answered_by_the_mirror_or_reraised(tmp_path: Path, mirror: Path) -> None:
    def none_found(package: Any) -> Link:
        msg = f"Unable to find installation candidates for {package.name} (2.0.1)"
        raise RuntimeError(msg)

    hook, _ = make_hook(tmp_path, mirror.as_uri())
    assert hook.choose_for(Package(), none_found).filename == WHEEL
    with pytest.raises(RuntimeError, match="Unable to find installation candidates for six"):
        hook.choose_for(Package("six"), none_found)


def test_other_chooser_errors_propagate_untouched(tmp_path: Path, mirror: Path) -> None:
    def hash_error(package: Any) -> Link:
        raise RuntimeError("Retrieved digests for links x not in poetry.lock metadata")

    hook, _ = make_hook(tmp_path, mirror.as_uri())
    with pytest.raises(RuntimeError, match="Retrieved digests"):
        hook.choose_for(Package(), hash_error)
    assert hook._reader is None


def test_no_binary_and_provenance_refusals(tmp_path: Path, mirror: Path) -> None:
    hook, io = make_hook(tmp_path, mirror.as_uri(), binary=False)
    assert hook.choose_for(Package(), sdist_choice).filename == SDIST
    assert io.err == []
    hook, io = make_hook(tmp_path, mirror.as_uri())
    assert hook.choose_for(Package(sdist_sha="f" * 64), sdist_choice).filename == SDIST
    (warning,) = io.err
    assert "refusing the mirror wheel for markupsafe 2.0.1" in warning


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("root", "not valid JSON"),
        ("doc", "does not match the root manifest's"),
        ("unreachable", "cannot reach 127.0.0.1"),
    ],
)
def test_broken_mirror_warns_once_and_keeps_poetrys_choice(
    tmp_path: Path, mirror: Path, breakage: str, expected: str
) -> None:
    url = mirror.as_uri()
    if breakage == "root":
        (mirror / "manifest.json").write_text("{")
    elif breakage == "doc":
        (mirror / "packages" / "markupsafe.json").write_text("{}")
    else:
        url = "http://127.0.0.1:9/"
    hook, io = make_hook(tmp_path, url)
    for _ in range(3):
        assert hook.choose_for(Package(), sdist_choice).filename == SDIST
    (warning,) = io.err
    assert expected in warning
    assert "installing without it" in warning


def test_warnings_wait_until_execution_ends(tmp_path: Path) -> None:
    hook, io = make_hook(tmp_path, "http://127.0.0.1:9/")
    hook.begin_execution()
    assert hook.choose_for(Package(), sdist_choice).filename == SDIST
    assert io.err == []
    hook.end_execution()
    (warning,) = io.err
    assert "cannot reach 127.0.0.1" in warning


def test_download_copies_local_mirror_files_only(tmp_path: Path, mirror: Path) -> None:
    hook, _ = make_hook(tmp_path, mirror.as_uri())
    link = hook.choose_for(Package(), sdist_choice)
    calls: list[str] = []
    dest = tmp_path / "dest.whl"
    hook.download_archive(lambda op, url, d: calls.append(url), None, link.url, dest)
    assert dest.read_bytes() == WHEEL_BYTES
    assert calls == []
    hook.download_archive(lambda op, url, d: calls.append(url), None, "https://x/y.whl", dest)
    assert calls == ["https://x/y.whl"]


def test_bad_cached_copy_is_replaced_by_the_verified_wheel(tmp_path: Path, mirror: Path) -> None:
    cache = tmp_path / "artifacts"
    cache.mkdir()
    (cache / WHEEL).write_bytes(b"tampered")
    hook, _ = make_hook(tmp_path, mirror.as_uri())
    hook.cache_dir_for_link = lambda link: cache
    hook.choose_for(Package(), sdist_choice)
    assert (cache / WHEEL).read_bytes() == WHEEL_BYTES
    assert [p.name for p in cache.iterdir()] == [WHEEL]


def artifact_hook(tmp_path: Path, url: str) -> tuple[pi.Hook, IO, Path]:
    cache = tmp_path / "artifacts"
    hook, io = make_hook(tmp_path, url)
    hook.cache_dir_for_link = lambda link: cache / link.filename.split("-", 1)[0]
    return hook, io, cache / "markupsafe"


def test_wheel_is_prefetched_verified_into_poetrys_cache(tmp_path: Path, mirror: Path) -> None:
    hook, io, cache = artifact_hook(tmp_path, mirror.as_uri())
    link = hook.choose_for(Package(), sdist_choice)
    assert link.filename == WHEEL
    assert (cache / WHEEL).read_bytes() == WHEEL_BYTES
    assert [p.name for p in cache.iterdir()] == [WHEEL]  # no temporary file left
    assert io.err == []


@pytest.mark.parametrize("breakage", ["missing", "too big"])
def test_wheel_that_cannot_be_had_keeps_poetrys_choice(
    tmp_path: Path, mirror: Path, breakage: str
) -> None:
    wheel = mirror / "files" / "markupsafe" / WHEEL
    if breakage == "missing":
        wheel.unlink()
    else:
        wheel.write_bytes(WHEEL_BYTES + b"x" * (pi._WHEEL_SIZE_SLACK + 1))
    hook, io, cache = artifact_hook(tmp_path, mirror.as_uri())
    package = Package()
    original_files = package.files
    hook.begin_execution()
    for _ in range(2):
        assert hook.choose_for(package, sdist_choice).filename == SDIST
    hook.end_execution()
    assert package.files is original_files
    assert not hook.redirected
    (warning,) = io.err
    assert warning.startswith("<warning>wheelmirror: warning: markupsafe: mirror wheel not used:")
    assert "installing as without the plugin" in warning
    assert not cache.exists() or list(cache.iterdir()) == []


def test_wheel_that_cannot_be_had_over_http_names_the_host(tmp_path: Path) -> None:
    hook, _, _ = artifact_hook(tmp_path, "http://127.0.0.1:9/")
    wheel = m.WheelFile(filename=WHEEL, url=f"http://127.0.0.1:9/{WHEEL}", sha256="0" * 64, size=9)
    link = Link(f"http://127.0.0.1:9/{WHEEL}#sha256={'0' * 64}")
    with pytest.raises(pi.WheelmirrorError, match=r"cannot download it from 127\.0\.0\.1:9: "):
        hook._prefetch(link, link.url, wheel)


def test_wheel_with_wrong_bytes_is_left_to_poetrys_hash_check(tmp_path: Path, mirror: Path) -> None:
    (mirror / "files" / "markupsafe" / WHEEL).write_bytes(b"X" * len(WHEEL_BYTES))
    hook, io, cache = artifact_hook(tmp_path, mirror.as_uri())
    package = Package()
    # Fail-closed: the redirect stands (Poetry downloads the bytes and refuses them),
    # and nothing unverified is put into Poetry's cache.
    assert hook.choose_for(package, sdist_choice).filename == WHEEL
    assert len(package.files) == 2
    assert not cache.exists() or list(cache.iterdir()) == []
    assert io.err == []


# -- start-up checks and wrapping -------------------------------------------------------


class Chooser:
    def __init__(self) -> None:
        self._env = Env()
        policy = types.SimpleNamespace(allows=lambda package_name: True)
        self._no_binary_policy = policy
        self._only_binary_policy = policy

    def choose_for(self, package: Any) -> Link:
        return sdist_choice(package)


class Executor:
    def __init__(self) -> None:
        self._chooser = Chooser()
        self.seen_files: list[Any] = []

    def execute(self, operations: list[Any]) -> int:
        for op in operations:
            self._chooser.choose_for(op.package)
            self.seen_files.append(list(op.package.files))
        return 0

    def _download_archive(self, operation: Any, url: str, dest: Path) -> None:
        raise AssertionError("not for local files")


@pytest.fixture
def fake_poetry_core(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("poetry", "poetry.core", "poetry.core.packages", "poetry.core.packages.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    link_module = types.ModuleType("poetry.core.packages.utils.link")
    link_module.Link = Link  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "poetry.core.packages.utils.link", link_module)
    monkeypatch.setattr(pi, "poetry_version_problem", lambda: None)


def command_for(tmp_path: Path, url: str, name: str = "install") -> Any:
    installer = types.SimpleNamespace(executor=Executor())
    data = {"tool": {"poetry-wheelmirror": {"url": url}}}
    return types.SimpleNamespace(
        name=name, _installer=installer, poetry=Poetry(tmp_path / "cache", data)
    )


@pytest.mark.usefixtures("fake_poetry_core")
def test_listener_wraps_execute_and_restores_files(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POETRY_WHEELMIRROR_URL", raising=False)
    monkeypatch.delenv("POETRY_WHEELMIRROR_DISABLE", raising=False)
    command = command_for(tmp_path, mirror.as_uri())
    io = IO()
    pi.on_command(types.SimpleNamespace(command=command, io=io), "console.command", None)
    executor = command._installer.executor
    package = Package()
    before = package.files
    op = types.SimpleNamespace(job_type="install", skipped=False, package=package)
    assert executor.execute([op]) == 0
    assert [f["file"] for f in executor.seen_files[0]] == [SDIST, WHEEL]
    assert package.files is before
    assert io.out == ["wheelmirror: 1 package from the mirror: markupsafe 2.0.1"]
    assert io.err == []


@pytest.mark.usefixtures("fake_poetry_core")
@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda c: setattr(c, "_installer", None), "the command has no installer"),
        (lambda c: delattr(c._installer.executor, "_chooser"), "Executor._chooser is missing"),
        (
            lambda c: setattr(c._installer.executor, "_download_archive", lambda *a: None),
            "Executor._download_archive",
        ),
        (
            lambda c: delattr(c._installer.executor._chooser, "_no_binary_policy"),
            "Chooser._no_binary_policy is missing",
        ),
    ],
)
def test_changed_internals_give_one_warning(
    tmp_path: Path, mirror: Path, damage: Any, detail: str
) -> None:
    command = command_for(tmp_path, mirror.as_uri())
    damage(command)
    io = IO()
    pi.on_command(types.SimpleNamespace(command=command, io=io), "console.command", None)
    (warning,) = io.err
    assert f"Poetry internals changed ({detail}" in warning
    assert warning.endswith("installing without the mirror</warning>")


@pytest.mark.parametrize("name", ["self install", "self add", "lock", "show", "build"])
def test_only_installing_commands_are_hooked(tmp_path: Path, name: str) -> None:
    command = command_for(tmp_path, "http://127.0.0.1:9/", name=name)
    original = command._installer.executor.execute
    io = IO()
    pi.on_command(types.SimpleNamespace(command=command, io=io), "console.command", None)
    assert command._installer.executor.execute == original
    assert io.err == []


@pytest.mark.usefixtures("fake_poetry_core")
def test_invalid_settings_warn_and_do_nothing(tmp_path: Path) -> None:
    command = command_for(tmp_path, "x")
    command.poetry.pyproject.data["tool"]["poetry-wheelmirror"]["colour"] = "red"
    original = command._installer.executor.execute
    io = IO()
    pi.on_command(types.SimpleNamespace(command=command, io=io), "console.command", None)
    assert command._installer.executor.execute == original
    (warning,) = io.err
    assert "unknown key 'colour'" in warning


# -- plugin.py: the entry class ---------------------------------------------------------


@pytest.fixture
def plugin_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    """plugin.py imported against stand-ins for poetry.plugins and cleo."""
    import importlib

    stubs = {
        "poetry": {},
        "poetry.plugins": {},
        "poetry.plugins.application_plugin": {"ApplicationPlugin": object},
        "cleo": {},
        "cleo.events": {},
        "cleo.events.console_events": {"COMMAND": "console.command"},
    }
    for name, attrs in stubs.items():
        module = types.ModuleType(name)
        for key, value in attrs.items():
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, "poetry_wheelmirror.plugin.plugin", raising=False)
    return importlib.import_module("poetry_wheelmirror.plugin.plugin")


def test_plugin_registers_commands_and_a_low_priority_listener(plugin_module: Any) -> None:
    registered: dict[str, Any] = {}
    listeners: list[tuple[str, Any, int]] = []
    app = types.SimpleNamespace(
        command_loader=types.SimpleNamespace(register_factory=registered.__setitem__),
        event_dispatcher=types.SimpleNamespace(
            add_listener=lambda event, fn, priority=0: listeners.append((event, fn, priority))
        ),
    )
    plugin_module.WheelmirrorPlugin().activate(app)
    assert sorted(registered) == [
        "wheelmirror doctor",
        "wheelmirror refresh",
        "wheelmirror status",
        "wheelmirror use",
    ]
    ((event, listener, priority),) = listeners
    assert event == "console.command"
    assert priority < 0  # after Poetry's configure_installer_for_event (priority 0)
    # Other commands cost one attribute read and import nothing.
    before = set(sys.modules)
    listener(types.SimpleNamespace(command=types.SimpleNamespace(name="show")), "x", None)
    listener(types.SimpleNamespace(command=types.SimpleNamespace(name="self install")), "x", None)
    assert set(sys.modules) == before


def test_plugin_module_imports_no_mirror_side_code() -> None:
    """In a fresh interpreter, importing plugin.py loads only tiny modules of ours."""
    import subprocess

    code = (
        "import sys, types\n"
        "for n in ('poetry', 'poetry.plugins', 'poetry.plugins.application_plugin'):\n"
        "    sys.modules[n] = types.ModuleType(n)\n"
        "sys.modules['poetry.plugins.application_plugin'].ApplicationPlugin = object\n"
        "import poetry_wheelmirror.plugin.plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith('poetry_wheelmirror')))\n"
        "print('requests' in sys.modules, 'packaging.tags' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == str(
        ["poetry_wheelmirror", "poetry_wheelmirror.plugin", "poetry_wheelmirror.plugin.plugin"]
    )
    assert out[1] == "False False"
