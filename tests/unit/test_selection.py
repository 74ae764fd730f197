"""Wheel selection against explicit tag lists, so every case runs on any host."""

from __future__ import annotations

import pytest
from packaging.tags import Tag

from devtools.candidates import CANDIDATES
from devtools.candidates import MS
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import NoCompatibleWheelError
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.selection import expand_platform
from poetry_wheelmirror.selection import rank_wheels
from poetry_wheelmirror.selection import select_wheel
from poetry_wheelmirror.selection import supported_tags


def wheel(filename: str, **kw: object) -> WheelFile:
    return WheelFile(filename=filename, url=filename, sha256="0" * 64, size=1, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("python", "platform", "candidates", "expected"),
    [
        # Apple Silicon: the newest minimum macOS it supports wins over universal2.
        ("3.11", "macosx_14_0_arm64", CANDIDATES, f"{MS}-cp311-cp311-macosx_14_0_arm64.whl"),
        # macOS 12 cannot use a wheel built for macOS 14.
        ("3.11", "macosx_12_0_arm64", CANDIDATES, f"{MS}-cp311-cp311-macosx_11_0_arm64.whl"),
        # Only universal2 fits arm64 when no arm64 wheel exists.
        (
            "3.11",
            "macosx_14_0_arm64",
            [c for c in CANDIDATES if "arm64" not in c and "any" not in c],
            f"{MS}-cp311-cp311-macosx_10_9_universal2.whl",
        ),
        # Intel macOS: native x86_64 beats universal2 at the same minimum version.
        ("3.11", "macosx_13_0_x86_64", CANDIDATES, f"{MS}-cp311-cp311-macosx_10_9_x86_64.whl"),
        # glibc 2.31 cannot use manylinux_2_28? It can (2.28 <= 2.31): the newer tag wins.
        (
            "3.11",
            "manylinux_2_31_x86_64",
            CANDIDATES,
            f"{MS}-cp311-cp311-manylinux_2_28_x86_64.whl",
        ),
        # glibc 2.27 falls back to manylinux2014.
        (
            "3.11",
            "manylinux_2_27_x86_64",
            CANDIDATES,
            f"{MS}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        ),
        (
            "3.11",
            "manylinux_2_28_aarch64",
            CANDIDATES,
            f"{MS}-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        ),
        ("3.11", "musllinux_1_2_x86_64", CANDIDATES, f"{MS}-cp311-cp311-musllinux_1_1_x86_64.whl"),
        (
            "3.11",
            "musllinux_1_2_aarch64",
            CANDIDATES,
            f"{MS}-cp311-cp311-musllinux_1_2_aarch64.whl",
        ),
        # cp313 has no version-specific wheel: abi3 beats the pure wheel.
        ("3.13", "manylinux_2_17_x86_64", CANDIDATES, f"{MS}-cp38-abi3-manylinux_2_17_x86_64.whl"),
        # cp37 cannot use a cp38 abi3 wheel: only the pure wheel fits.
        ("3.7", "manylinux_2_17_x86_64", CANDIDATES, f"{MS}-py3-none-any.whl"),
        (
            "3.12",
            "manylinux_2_17_x86_64",
            CANDIDATES,
            f"{MS}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        ),
        # Friendly alias.
        ("3.11", "macos-arm64", CANDIDATES, f"{MS}-cp311-cp311-macosx_11_0_arm64.whl"),
    ],
)
def test_select_matches_pip_ranking(
    python: str, platform: str, candidates: list[str], expected: str
) -> None:
    tags = supported_tags(python, platform)
    assert select_wheel([wheel(c) for c in candidates], tags).filename == expected


def test_build_tag_breaks_ties_and_higher_wins() -> None:
    tags = supported_tags("3.11", "manylinux_2_17_x86_64")
    files = [
        f"{MS}-cp311-cp311-manylinux_2_17_x86_64.whl",
        f"{MS}-2-cp311-cp311-manylinux_2_17_x86_64.whl",
        f"{MS}-10-cp311-cp311-manylinux_2_17_x86_64.whl",
    ]
    assert select_wheel([wheel(f) for f in files], tags).filename == files[2]


def test_tag_priority_beats_build_tag() -> None:
    tags = supported_tags("3.11", "manylinux_2_28_x86_64")
    files = [
        f"{MS}-9-cp311-cp311-manylinux_2_17_x86_64.whl",
        f"{MS}-cp311-cp311-manylinux_2_28_x86_64.whl",
    ]
    assert select_wheel([wheel(f) for f in files], tags).filename == files[1]


def test_yanked_is_used_only_when_nothing_else_fits() -> None:
    tags = supported_tags("3.11", "manylinux_2_28_x86_64")
    best = wheel(f"{MS}-cp311-cp311-manylinux_2_28_x86_64.whl", yanked=True, yanked_reason="broken")
    other = wheel(f"{MS}-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert select_wheel([best, other], tags) is other
    assert select_wheel([best], tags) is best
    assert rank_wheels([best], tags)[0].reason == "yanked: broken"


def test_requires_python_excludes_a_wheel() -> None:
    tags = supported_tags("3.11", "manylinux_2_17_x86_64")
    pure_new = wheel(f"{MS}-py3-none-any.whl", requires_python=">=3.12")
    with pytest.raises(NoCompatibleWheelError, match=r"requires Python >=3.12"):
        select_wheel([pure_new], tags, "3.11")
    assert select_wheel([pure_new], tags, "3.12.1") is pure_new


def test_no_wheel_fits_says_why_for_each() -> None:
    tags = supported_tags("3.11", "win_amd64")
    with pytest.raises(NoCompatibleWheelError) as info:
        select_wheel([wheel(CANDIDATES[0]), wheel(CANDIDATES[4])], tags)
    message = str(info.value)
    assert "none of 2 wheel(s) fits" in message
    assert message.count("no tag matches") == 2


def test_empty_list() -> None:
    with pytest.raises(NoCompatibleWheelError, match="no wheels"):
        select_wheel([], supported_tags("3.11", "win_amd64"))


def test_explicit_tag_list_from_poetry_style_input() -> None:
    # Poetry hands over env.supported_tags: any ordered list of Tag objects works.
    tags = [Tag("cp311", "cp311", "linux_x86_64"), Tag("py3", "none", "any")]
    files = [f"{MS}-cp311-cp311-manylinux_2_17_x86_64.whl", f"{MS}-py3-none-any.whl"]
    assert select_wheel([wheel(f) for f in files], tags).filename == files[1]


def test_expand_platform() -> None:
    many = expand_platform("manylinux_2_17_x86_64")
    assert many[:2] == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    assert "manylinux2010_x86_64" in many
    assert many[-1] == "manylinux1_x86_64"
    assert "manylinux1_aarch64" not in expand_platform("manylinux_2_17_aarch64")
    assert expand_platform("musllinux_1_2_x86_64") == [
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
    ]
    assert "macosx_11_0_universal2" in expand_platform("macosx_11_0_arm64")
    assert expand_platform("win_amd64") == ["win_amd64"]


@pytest.mark.parametrize("bad", ["macosx_x_arm64", "manylinux_2_x_x86_64"])
def test_expand_platform_rejects_malformed(bad: str) -> None:
    with pytest.raises(ConfigError):
        expand_platform(bad)


def test_supported_tags_rejects_bad_python() -> None:
    with pytest.raises(ConfigError, match="invalid Python version"):
        supported_tags("three", None)


def test_supported_tags_default_is_this_interpreter() -> None:
    from packaging.tags import sys_tags

    assert supported_tags() == list(sys_tags())


def test_wheel_whose_tags_multiply_out_is_refused_without_expanding() -> None:
    # issue 12: a 1.4 KB name expanding to a million tags took 3.7 s and 376 MB
    import time

    tags = ".".join(f"cp3{i}" for i in range(100))
    huge = WheelFile(
        filename=f"demo-1.0-{tags}-{tags}-{tags}.whl", url="x", sha256="0" * 64, size=1
    )
    fits = WheelFile(filename="demo-1.0-py3-none-any.whl", url="y", sha256="0" * 64, size=1)
    started = time.perf_counter()
    ranked = rank_wheels([huge, fits], [Tag("py3", "none", "any")])
    assert time.perf_counter() - started < 0.1
    assert ranked[0].wheel is fits
    assert ranked[1].key is None
    assert "longer than 255" in ranked[1].reason
