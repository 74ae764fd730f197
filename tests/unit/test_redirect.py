"""redirect.py: the plugin's pure decision, table-driven."""

from __future__ import annotations

import pytest
from packaging.utils import canonicalize_name

from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.redirect import choice_kind
from poetry_wheelmirror.redirect import decide
from poetry_wheelmirror.redirect import file_entry
from poetry_wheelmirror.redirect import link_url
from poetry_wheelmirror.redirect import precheck
from poetry_wheelmirror.selection import supported_tags
from poetry_wheelmirror.settings import PluginSettings

SDIST_SHA = "a" * 64
LINUX_311 = supported_tags("3.11", "manylinux_2_28_x86_64")
MAC_ARM_311 = supported_tags("3.11", "macosx_14_0_arm64")


def wheel(tags: str, sha: str = "b" * 64, **kw: object) -> WheelFile:
    name = f"markupsafe-2.0.1-{tags}.whl"
    return WheelFile(filename=name, url=f"../files/markupsafe/{name}", sha256=sha, size=1, **kw)  # type: ignore[arg-type]


def doc(*wheels: WheelFile, sdist_sha: str = SDIST_SHA) -> PackageDocument:
    entry = VersionEntry(
        version="2.0.1",
        source=SourceDist(
            "MarkupSafe-2.0.1.tar.gz", sdist_sha, "https://x/MarkupSafe-2.0.1.tar.gz"
        ),
        wheels=wheels,
    )
    return PackageDocument(name=canonicalize_name("markupsafe"), versions={"2.0.1": entry})


LOCKED = {f"sha256:{SDIST_SHA}", "sha256:" + "c" * 64}
LINUX_WHEEL = wheel("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64")
MAC_WHEEL = wheel("cp311-cp311-macosx_11_0_arm64", sha="d" * 64)


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("markupsafe-2.0.1-cp311-cp311-manylinux_2_17_x86_64.whl", "wheel"),
        ("MarkupSafe-2.0.1.tar.gz", "sdist"),
        ("MarkupSafe-2.0.1.zip", "sdist"),
        (None, "none"),
    ],
)
def test_choice_kind(filename: str | None, kind: str) -> None:
    assert choice_kind(filename) == kind


@pytest.mark.parametrize(
    ("chosen", "settings", "binary", "reason"),
    [
        ("six-1.16.0-py2.py3-none-any.whl", PluginSettings(), True, "PyPI has a compatible wheel"),
        (
            "MarkupSafe-2.0.1.tar.gz",
            PluginSettings(enabled=False, disabled_reason="X=1"),
            True,
            "disabled (X=1)",
        ),
        (
            "MarkupSafe-2.0.1.tar.gz",
            PluginSettings(deny=frozenset({canonicalize_name("markupsafe")})),
            True,
            "packages.deny",
        ),
        (
            "MarkupSafe-2.0.1.tar.gz",
            PluginSettings(allow=frozenset({canonicalize_name("grpcio")})),
            True,
            "not in [tool.poetry-wheelmirror] packages.allow",
        ),
        (
            "MarkupSafe-2.0.1.tar.gz",
            PluginSettings(platforms=("macos-arm64",)),
            True,
            "platform is not in",
        ),
        ("MarkupSafe-2.0.1.tar.gz", PluginSettings(), False, "installer.no-binary"),
        (None, PluginSettings(), False, "installer.no-binary"),
    ],
)
def test_precheck_says_no(
    chosen: str | None, settings: PluginSettings, binary: bool, reason: str
) -> None:
    decision = precheck("MarkupSafe", chosen, settings, LINUX_311, binary_allowed=binary)
    assert decision is not None
    assert not decision.use_mirror
    assert reason in decision.reason


@pytest.mark.parametrize(
    "settings",
    [
        PluginSettings(),
        PluginSettings(allow=frozenset({canonicalize_name("markupsafe")})),
        PluginSettings(platforms=("linux-x86_64",)),
        PluginSettings(platforms=("any",)),
        PluginSettings(platforms=("macos-arm64", "manylinux_2_17_x86_64")),
    ],
)
@pytest.mark.parametrize("chosen", ["MarkupSafe-2.0.1.tar.gz", None])
def test_precheck_asks_the_mirror(settings: PluginSettings, chosen: str | None) -> None:
    assert precheck("markupsafe", chosen, settings, LINUX_311, binary_allowed=True) is None


@pytest.mark.parametrize(
    ("document", "tags", "version", "locked", "use", "reason", "warn"),
    [
        (
            doc(LINUX_WHEEL, MAC_WHEEL),
            LINUX_311,
            "2.0.1",
            LOCKED,
            True,
            LINUX_WHEEL.filename,
            False,
        ),
        (
            doc(LINUX_WHEEL, MAC_WHEEL),
            MAC_ARM_311,
            "2.0.1",
            LOCKED,
            True,
            MAC_WHEEL.filename,
            False,
        ),
        # version compared as a version
        (doc(LINUX_WHEEL), LINUX_311, "2.0.1.0", LOCKED, True, LINUX_WHEEL.filename, False),
        (None, LINUX_311, "2.0.1", LOCKED, False, "does not carry markupsafe", False),
        (
            doc(LINUX_WHEEL),
            LINUX_311,
            "2.0.0",
            LOCKED,
            False,
            "no build of markupsafe 2.0.0",
            False,
        ),
        (doc(MAC_WHEEL), LINUX_311, "2.0.1", LOCKED, False, "no mirror wheel fits", False),
        (doc(), LINUX_311, "2.0.1", LOCKED, False, "no wheels for this version", False),
        (
            doc(LINUX_WHEEL, sdist_sha="e" * 64),
            LINUX_311,
            "2.0.1",
            LOCKED,
            False,
            "built from MarkupSafe-2.0.1.tar.gz (sha256 " + "e" * 64,
            True,
        ),
        (doc(LINUX_WHEEL), LINUX_311, "2.0.1", set(), False, "not among the files", True),
        (
            doc(wheel("cp311-cp311-manylinux_2_17_x86_64", yanked=True, yanked_reason="bad")),
            LINUX_311,
            "2.0.1",
            LOCKED,
            False,
            "is yanked",
            False,
        ),
        (
            doc(wheel("cp311-cp311-manylinux_2_17_x86_64", requires_python=">=3.12")),
            LINUX_311,
            "2.0.1",
            LOCKED,
            False,
            "requires Python >=3.12",
            False,
        ),
    ],
)
def test_decide(
    document: PackageDocument | None,
    tags: list[object],
    version: str,
    locked: set[str],
    use: bool,
    reason: str,
    warn: bool,
) -> None:
    decision = decide("MarkupSafe", version, document, tags, "3.11.7", locked)  # type: ignore[arg-type]
    assert decision.use_mirror is use
    assert reason in decision.reason
    assert decision.warn is warn
    assert (decision.wheel is not None) is use


def test_best_of_several_wheels_by_pip_ranking() -> None:
    old = wheel("cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64", sha="1" * 64)
    new = wheel("cp311-cp311-manylinux_2_17_x86_64", sha="2" * 64)
    abi3 = wheel("cp37-abi3-manylinux_2_17_x86_64", sha="3" * 64)
    decision = decide("markupsafe", "2.0.1", doc(old, abi3, new), LINUX_311, "3.11.7", LOCKED)
    assert decision.wheel == new


def test_link_and_file_entry() -> None:
    assert link_url("https://h/w.whl", "ab") == "https://h/w.whl#sha256=ab"
    assert link_url("https://h/w.whl#md5=x", "ab") == "https://h/w.whl#sha256=ab"
    assert file_entry(LINUX_WHEEL) == {
        "file": LINUX_WHEEL.filename,
        "hash": f"sha256:{LINUX_WHEEL.sha256}",
    }
