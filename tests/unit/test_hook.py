"""plugin/hook.py with stand-ins for Poetry's objects (devtools/poetry_standins.py).

The real-Poetry behaviour is proven in tests/e2e/test_poetry_plugin.py; these check the
hook's own logic quickly: what is fetched, what is patched and restored, which errors
propagate.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from devtools.poetry_standins import IO
from devtools.poetry_standins import SDIST
from devtools.poetry_standins import WHEEL
from devtools.poetry_standins import WHEEL_BYTES
from devtools.poetry_standins import Link
from devtools.poetry_standins import Package
from devtools.poetry_standins import make_hook
from devtools.poetry_standins import sdist_choice
from devtools.poetry_standins import write_mirror
from poetry_wheelmirror import manifest as m
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.plugin import hook as hook_module
from poetry_wheelmirror.plugin.hook import Hook


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return write_mirror(tmp_path / "mirror")


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
        # issue 12: a RecursionError used to escape as an "internal error", per package
        ("nested", "nested deeper than 64 levels"),
        ("token", "http://***@127.0.0.1:9/"),
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
    elif breakage == "nested":
        (mirror / "manifest.json").write_text('{"schema": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif breakage == "token":
        url = "http://user:s3cr3t@127.0.0.1:9/"
    else:
        url = "http://127.0.0.1:9/"
    hook, io = make_hook(tmp_path, url)
    for _ in range(3):
        assert hook.choose_for(Package(), sdist_choice).filename == SDIST
    (warning,) = io.err
    assert expected in warning
    assert "installing without it" in warning
    assert "s3cr3t" not in warning


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


def artifact_hook(tmp_path: Path, url: str) -> tuple[Hook, IO, Path]:
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
        wheel.write_bytes(WHEEL_BYTES + b"x" * (hook_module._WHEEL_SIZE_SLACK + 1))
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
    with pytest.raises(WheelmirrorError, match=r"cannot download it from 127\.0\.0\.1:9: "):
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
