"""The pure-ish helpers of the build pipeline (no compiler needed)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
import tomlkit

from devtools.wheels import make_wheel
from poetry_wheelmirror.errors import BuildError
from poetry_wheelmirror.mirror.build import add_build_requires
from poetry_wheelmirror.mirror.build import add_build_tag
from poetry_wheelmirror.mirror.build import find_interpreter
from poetry_wheelmirror.mirror.build.wheelfile import next_build_number as _next_build_number
from poetry_wheelmirror.mirror.sdist_patch import sdist_epoch as _epoch
from poetry_wheelmirror.mirror.sdist_patch import unpack_sdist as _unpack


def _requires(src: Path) -> list[str]:
    return list(tomlkit.parse((src / "pyproject.toml").read_text())["build-system"]["requires"])


def test_build_requires_for_an_sdist_without_pyproject(tmp_path: Path) -> None:
    add_build_requires(tmp_path, ["Cython<3"])
    doc = tomlkit.parse((tmp_path / "pyproject.toml").read_text())
    assert doc["build-system"]["build-backend"] == "setuptools.build_meta:__legacy__"
    assert _requires(tmp_path) == ["setuptools>=40.8.0", "wheel", "Cython<3"]


def test_build_requires_appends_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core"]\nbuild-backend = "flit_core.buildapi"\n'
        "[tool.x]\nkeep = 1\n"
    )
    add_build_requires(tmp_path, ["Cython<3"])
    assert _requires(tmp_path) == ["flit_core", "Cython<3"]
    assert "keep = 1" in (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pyproject.toml").write_text("[tool.x]\nkeep = 1\n")
    add_build_requires(tmp_path / "other", ["numpy"])
    assert _requires(tmp_path / "other")[-1] == "numpy"


def test_build_numbers_and_tagging(tmp_path: Path) -> None:
    name = "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    taken = {
        name,
        "demo-1.0-2-cp311-cp311-manylinux_2_17_x86_64.whl",
        "demo-1.0-7-cp312-cp312-manylinux_2_17_x86_64.whl",
    }
    assert _next_build_number(name, taken) == 3
    assert _next_build_number(name, set()) == 1
    wheel = make_wheel(tmp_path, name)
    out = tmp_path / "out"
    out.mkdir()
    tagged = add_build_tag(wheel, 3, out)
    assert tagged.name == "demo-1.0-3-cp311-cp311-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(tagged) as zf:
        info = next(n for n in zf.namelist() if n.endswith("/WHEEL"))
        assert "Build: 3" in zf.read(info).decode()
        record = zf.read(info[: -len("WHEEL")] + "RECORD").decode()
        assert f"{info},sha256=" in record


def test_source_date_epoch_comes_from_the_upload_time() -> None:
    assert _epoch("2021-05-18T17:18:29.123456Z") == 1621358309
    assert _epoch(None) == 315532800
    assert _epoch("garbage") == 315532800


def test_unpack_refuses_members_outside_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        data = b"x"
        member = tarfile.TarInfo("../outside.txt")
        member.size = len(data)
        tf.addfile(member, io.BytesIO(data))
    with pytest.raises((BuildError, tarfile.TarError)):
        _unpack(archive, tmp_path / "dest")
    assert not (tmp_path / "outside.txt").exists()


def test_find_interpreter_reports_this_one_and_refuses_bad_specs() -> None:
    import sys

    from poetry_wheelmirror.errors import ConfigError

    interp = find_interpreter()
    assert interp.version[:2] == tuple(sys.version_info[:2])
    assert interp.tags[0].interpreter == interp.cp
    with pytest.raises(ConfigError, match=r"X\.Y or an interpreter path"):
        find_interpreter("python-latest")
    with pytest.raises(ConfigError, match=r"no CPython 3\.99"):
        find_interpreter("3.99")
