"""`wheelmirror select` and select_wheel pick the same file real pip downloads.

For each case, real pip (`pip download --platform ... --python-version ...`) chooses
among the same set of wheels in a find-links folder; pip's own tag list comes from
`pip debug --verbose` with the same target, so the comparison uses pip's tag list
as well as ours.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import Tag

from devtools.candidates import CANDIDATES
from devtools.cleanenv import clean_env
from devtools.wheels import make_wheel
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.selection import PLATFORM_ALIASES
from poetry_wheelmirror.selection import expand_platform
from poetry_wheelmirror.selection import select_wheel
from poetry_wheelmirror.selection import supported_tags

pytestmark = pytest.mark.e2e

CASES = [
    ("3.11", "macosx_14_0_arm64"),
    ("3.11", "macosx_12_0_arm64"),
    ("3.11", "macosx_13_0_x86_64"),
    ("3.11", "manylinux_2_31_x86_64"),
    ("3.11", "manylinux_2_27_x86_64"),
    ("3.11", "manylinux_2_28_aarch64"),
    ("3.11", "musllinux_1_2_x86_64"),
    ("3.11", "musllinux_1_2_aarch64"),
    ("3.12", "manylinux_2_17_x86_64"),
    ("3.13", "manylinux_2_17_x86_64"),
    ("3.9", "macosx_11_0_arm64"),
    ("3.11", "linux-aarch64"),
]


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    for name in CANDIDATES:
        make_wheel(folder, name)
    # A build-tagged duplicate: pip prefers the higher build number at equal tag priority.
    make_wheel(
        folder, "MarkupSafe-2.0.1-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )
    return folder


def _target_args(python: str, platform: str) -> list[str]:
    platform = PLATFORM_ALIASES.get(platform, platform)
    plats = [platform] if platform.startswith("macosx") else expand_platform(platform)
    args = []
    for p in plats:
        args += ["--platform", p]
    abi = "cp" + python.replace(".", "")
    return [*args, "--python-version", python, "--implementation", "cp", "--abi", abi]


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
        timeout=120,
    )


def _pip_tags(python: str, platform: str) -> list[Tag]:
    out = _pip("debug", "--verbose", *_target_args(python, platform)).stdout
    lines = out.split("Compatible tags:", 1)[1].splitlines()[1:]
    tags = []
    for line in lines:
        if not line.startswith("  "):
            break
        interp, abi, plat = line.strip().split("-")
        tags.append(Tag(interp, abi, plat))
    assert tags, out
    return tags


def _pip_choice(wheel_dir: Path, dest: Path, python: str, platform: str) -> str:
    result = _pip(
        "download", "--no-deps", "--no-index", "--find-links", str(wheel_dir),
        "--only-binary", ":all:", "-d", str(dest), *_target_args(python, platform),
        "markupsafe==2.0.1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (chosen,) = [p.name for p in dest.iterdir()]
    return chosen


@pytest.mark.parametrize(("python", "platform"), CASES)
def test_select_picks_what_pip_downloads(
    wheel_dir: Path, tmp_path: Path, python: str, platform: str
) -> None:
    wheels = [
        WheelFile(filename=p.name, url=p.name, sha256="0" * 64, size=1)
        for p in sorted(wheel_dir.iterdir())
    ]
    pip_pick = _pip_choice(wheel_dir, tmp_path / "dl", python, platform)
    assert select_wheel(wheels, _pip_tags(python, platform)).filename == pip_pick
    assert select_wheel(wheels, supported_tags(python, platform)).filename == pip_pick


def _write_mirror(folder: Path, wheel_dir: Path) -> None:
    """A mirror directory over the test wheels, written as the manifest format says."""
    from poetry_wheelmirror.manifest import PackageDocument
    from poetry_wheelmirror.manifest import SourceDist
    from poetry_wheelmirror.manifest import VersionEntry
    from poetry_wheelmirror.manifest import dump_document
    from poetry_wheelmirror.manifest import package_document_json

    wheels = tuple(
        WheelFile(
            filename=p.name,
            url=f"../files/markupsafe/{p.name}",
            sha256=hashlib.sha256(p.read_bytes()).hexdigest(),
            size=p.stat().st_size,
        )
        for p in sorted(wheel_dir.iterdir())
    )
    source = SourceDist(
        filename="MarkupSafe-2.0.1.tar.gz", sha256="1" * 64, url="https://x.invalid/s.tar.gz"
    )
    doc = PackageDocument(
        name="markupsafe", versions={"2.0.1": VersionEntry("2.0.1", source, wheels)}
    )  # type: ignore[arg-type]
    body = dump_document(package_document_json(doc))
    (folder / "packages").mkdir(parents=True)
    (folder / "packages" / "markupsafe.json").write_bytes(body)
    root = {
        "schema": "poetry-wheelmirror/root",
        "schema_version": "1.0",
        "generated_at": "2026-12-01T00:00:00Z",
        "mirror": {"name": "t", "index_url": "simple/"},
        "packages": {
            "markupsafe": {
                "url": "packages/markupsafe.json",
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        },
    }
    (folder / "manifest.json").write_text(json.dumps(root))


@pytest.mark.parametrize(("python", "platform"), CASES[:4] + CASES[-1:])
def test_cli_select_agrees(wheel_dir: Path, tmp_path: Path, python: str, platform: str) -> None:
    mirror = tmp_path / "mirror"
    _write_mirror(mirror, wheel_dir)
    pip_pick = _pip_choice(wheel_dir, tmp_path / "dl", python, platform)
    result = subprocess.run(
        [sys.executable, "-m", "poetry_wheelmirror.cli.main", "select", "markupsafe==2.0.1",
         "--manifest", str(mirror), "--python", python, "--platform", platform],
        capture_output=True, text=True, env=clean_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == pip_pick


def test_cli_select_says_why_nothing_fits(wheel_dir: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    _write_mirror(mirror, wheel_dir)
    result = subprocess.run(
        [sys.executable, "-m", "poetry_wheelmirror.cli.main", "select", "markupsafe==9.9",
         "--manifest", str(mirror)],
        capture_output=True, text=True, env=clean_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 6
    assert result.stderr.strip().startswith("wheelmirror: error: the mirror has no markupsafe 9.9")
    assert "Traceback" not in result.stderr
    # A known version but a platform none of its wheels supports: each wheel's reason.
    pure_free = tmp_path / "mirror2"
    (wheel_dir / "MarkupSafe-2.0.1-py3-none-any.whl").rename(tmp_path / "pure.whl")
    try:
        _write_mirror(pure_free, wheel_dir)
    finally:
        (tmp_path / "pure.whl").rename(wheel_dir / "MarkupSafe-2.0.1-py3-none-any.whl")
    result = subprocess.run(
        [sys.executable, "-m", "poetry_wheelmirror.cli.main", "select", "markupsafe==2.0.1",
         "--manifest", str(pure_free), "--python", "3.11", "--platform", "win_amd64"],
        capture_output=True, text=True, env=clean_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 6
    assert "none of 12 wheel(s) fits" in result.stderr
    assert "no tag matches this interpreter/platform" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
