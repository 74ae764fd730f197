"""Property tests for names, filenames, URLs, platform tags and pip-like wheel ranking.

The ranking oracle is pip itself: ``pip._internal``'s CandidateEvaluator, fed the same
ordered tag list, must pick a wheel with the same sort key as ``select_wheel``.
"""

from __future__ import annotations

import re
import string
from pathlib import PurePosixPath
from pathlib import PureWindowsPath

import pytest
from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st
from packaging.tags import Tag

from devtools.fuzz import FUZZ
from devtools.oracles import PEP508_NAME
from devtools.oracles import filename_violation
from poetry_wheelmirror.cli.common import parse_pin
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import NoCompatibleWheelError
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.names import filename_problem
from poetry_wheelmirror.names import normalize
from poetry_wheelmirror.selection import PLATFORM_ALIASES
from poetry_wheelmirror.selection import expand_platform
from poetry_wheelmirror.selection import rank_wheels
from poetry_wheelmirror.selection import select_wheel
from poetry_wheelmirror.selection import supported_tags
from poetry_wheelmirror.urls import url_scheme_problem

SAFE = string.ascii_letters + string.digits + "._+!-"
safe_names = st.text(alphabet=SAFE, min_size=1, max_size=30).filter(
    lambda s: s[0].isalnum() and ".." not in s
)
#: Pieces that must never survive in a filename taken from a manifest.
HOSTILE = [
    "/",
    "\\",
    "..",
    "\x00",
    "\n",
    "\r",
    "\t",
    "\x7f",
    "\u202e",
    "\u200b",
    "\uff0f",
    "é",
    " ",
]
control_chars = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Zs"])
odd_unicode = st.characters(min_codepoint=0x80, exclude_categories=["Cs"])


# -- filenames --------------------------------------------------------------------------


@FUZZ
@given(safe_names, st.sampled_from(HOSTILE) | control_chars | odd_unicode, st.integers(0, 30))
def test_hostile_pieces_are_rejected(name: str, piece: str, at: int) -> None:
    at = min(at, len(name))
    candidate = name[:at] + piece + name[at:]
    problem = filename_problem(candidate)
    assert problem is not None
    assert "\n" not in problem  # one line: the name is shown with repr()


@FUZZ
@given(st.text(max_size=40))
@example(".")
@example("..")
@example("...")
@example("a..b")
@example("-rf")
@example(".bashrc")
@example("C:evil.whl")
@example("con")
def test_accepted_filenames_are_single_safe_segments(name: str) -> None:
    if filename_problem(name) is not None:
        assert filename_violation(name) is not None, name  # the written rule agrees
        return
    assert filename_violation(name) is None, name
    assert name not in (".", "..")
    assert ".." not in name
    assert all(33 <= ord(c) < 127 for c in name)
    assert name[0].isalnum()  # no leading dot or dash (hidden files, option-like names)
    assert PurePosixPath(name).name == name
    assert PureWindowsPath(name).name == name
    assert ":" not in name


@FUZZ
@given(st.text(max_size=40))
def test_project_names_normalise_or_raise_value_error(name: str) -> None:
    try:
        normal = normalize(name)
    except ValueError:
        assert not PEP508_NAME.fullmatch(name), name
        return
    assert PEP508_NAME.fullmatch(name), name
    assert re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", normal)
    assert normalize(normal) == normal


# -- URLs -------------------------------------------------------------------------------


@FUZZ
@given(
    st.text(max_size=60)
    | st.builds(
        lambda scheme, rest: f"{scheme}://{rest}",
        st.sampled_from(["http", "https", "HTTP", "file", "ftp", "javascript", ""]),
        st.text(max_size=40),
    )
)
@example("https://[x")
@example("http://[::1")
@example("http://127.0.0.1.evil.example/")
@example("http://localhost.evil.example/")
@example("http://0x7f000001/")
@example("http://[::ffff:127.0.0.1]/")
@example("http://evil.example#@127.0.0.1/")
@example("http://127.0.0.1@evil.example/")
def test_url_rule_never_raises_and_never_allows_remote_plain_http(url: str) -> None:
    problem = url_scheme_problem(url)
    assert problem is None or isinstance(problem, str)
    if problem is None:
        scheme = url.split(":", 1)[0].lower()
        assert scheme in ("https", "http", "file")
        if scheme == "http":
            import urllib.parse

            host = (urllib.parse.urlsplit(url).hostname or "").strip("[]")
            assert host == "localhost" or host.endswith(".localhost") or _is_loopback_ip(host)


def _is_loopback_ip(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- platform tags and pins --------------------------------------------------------------


@FUZZ
@given(
    st.text(max_size=30)
    | st.builds(
        lambda prefix, a, b, arch: f"{prefix}{a}_{b}_{arch}",
        st.sampled_from(["manylinux_", "musllinux_", "macosx_"]),
        st.integers(-5, 10**9),
        st.integers(-5, 10**9),
        st.sampled_from(["x86_64", "arm64", "aarch64", "", "a_b"]),
    )
    | st.sampled_from(sorted(PLATFORM_ALIASES))
)
@example("manylinux_2_3000000_x86_64")
@example("macosx_3000000_0_arm64")
def test_platform_expansion_is_bounded_or_config_error(platform: str) -> None:
    try:
        tags = expand_platform(platform)
    except ConfigError:
        return
    assert 1 <= len(tags) <= 2000  # macosx_99_99 lists ~700: bounded, not a hang
    assert all(isinstance(t, str) for t in tags)


@FUZZ
@given(st.text(max_size=30))
@example("demo==1.0")
@example("demo===1.0")
@example("demo==1.*")
@example("demo>=1,<2")
def test_parse_pin_returns_a_pin_or_config_error(pin: str) -> None:
    try:
        name, version = parse_pin(pin)
    except ConfigError:
        return
    assert PEP508_NAME.fullmatch(name), name
    assert version
    compact = "".join(pin.split())  # what was accepted is exactly NAME==VERSION (or ===)
    assert compact in (f"{name}=={version}", f"{name}==={version}"), pin


# -- ranking against pip -----------------------------------------------------------------

pip_wheel = pytest.importorskip("pip._internal.models.wheel", reason="pip is the oracle")
from pip._internal.index.package_finder import CandidateEvaluator  # noqa: E402
from pip._internal.models.candidate import InstallationCandidate  # noqa: E402
from pip._internal.models.link import Link  # noqa: E402
from pip._vendor.packaging.specifiers import SpecifierSet as PipSpecifierSet  # noqa: E402
from pip._vendor.packaging.tags import parse_tag as pip_parse_tag  # noqa: E402

TARGETS = [
    ("3.11", "manylinux_2_28_x86_64"),
    ("3.12", "macos-arm64"),
    ("3.9", "musllinux_1_2_aarch64"),
    ("3.13", "macosx_10_9_x86_64"),
]
TAG_LISTS = {target: supported_tags(*target) for target in TARGETS}
FOREIGN = [Tag("cp27", "cp27mu", "linux_x86_64"), Tag("pp310", "pypy310_pp73", "win_amd64")]


@st.composite
def wheel_sets(draw: st.DrawFn) -> tuple[list[Tag], list[WheelFile]]:
    tags = TAG_LISTS[draw(st.sampled_from(TARGETS))]
    pool = tags[:40] + tags[-20:] + FOREIGN
    wheels: list[WheelFile] = []
    for index in range(draw(st.integers(1, 6))):
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        # A compressed tag set (PEP 425): dot-joined values per field.
        interp = ".".join(sorted({t.interpreter for t in chosen}))
        abi = ".".join(sorted({t.abi for t in chosen}))
        plat = ".".join(sorted({t.platform for t in chosen}))
        build = draw(st.none() | st.tuples(st.integers(0, 3), st.sampled_from(["", "a", "b"])))
        build_part = f"-{build[0]}{build[1]}" if build else ""
        filename = f"demo-1.0{build_part}-{interp}-{abi}-{plat}.whl"
        assume(filename not in {w.filename for w in wheels})
        wheels.append(
            WheelFile(
                filename=filename,
                url=f"../files/demo/{filename}",
                sha256=f"{index:064x}",
                size=1,
                yanked=draw(st.booleans()),
            )
        )
    return tags, wheels


def pip_key(evaluator: CandidateEvaluator, wheel: WheelFile) -> object:
    link = Link(f"https://h.example/{wheel.filename}", yanked_reason="" if wheel.yanked else None)
    return evaluator._sort_key(InstallationCandidate("demo", "1.0", link))


@FUZZ
@given(wheel_sets())
def test_ranking_agrees_with_pip(data: tuple[list[Tag], list[WheelFile]]) -> None:
    tags, wheels = data
    pip_tags = [next(iter(pip_parse_tag(str(t)))) for t in tags]
    evaluator = CandidateEvaluator("demo", supported_tags=pip_tags, specifier=PipSpecifierSet())
    supported = set(pip_tags)
    compatible = [w for w in wheels if pip_wheel.Wheel(w.filename).file_tags & supported]
    ranked = rank_wheels(wheels, tags, "3.11.0")
    usable = [c.wheel for c in ranked if c.key is not None]
    assert {w.filename for w in usable} == {w.filename for w in compatible}
    keys = [pip_key(evaluator, w) for w in usable]
    assert keys == sorted(keys, reverse=True), "order differs from pip's"
    if not compatible:
        with pytest.raises(NoCompatibleWheelError):
            select_wheel(wheels, tags, "3.11.0")
        return
    chosen = select_wheel(wheels, tags, "3.11.0")
    best = max(compatible, key=lambda w: pip_key(evaluator, w))
    assert pip_key(evaluator, chosen) == pip_key(evaluator, best)
