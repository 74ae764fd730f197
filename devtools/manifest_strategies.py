"""Hypothesis strategies for valid manifest documents (package documents, root
manifests) and arbitrary JSON, shared by the property tests in tests/property/."""

from __future__ import annotations

import string

from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import Provenance
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile

__all__ = [
    "absolute_urls",
    "build_tags",
    "json_scalars",
    "json_values",
    "name_parts",
    "names",
    "package_documents",
    "platform_tags",
    "relative_urls",
    "root_manifests",
    "safe_text",
    "sha256s",
    "urls",
    "versions",
    "wheel_files",
]

# -- strategies -------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)

sha256s = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
name_parts = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=6)
names = st.lists(name_parts, min_size=1, max_size=3).map("-".join)
versions = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30) | st.none()).map(
    lambda t: ".".join(str(p) for p in t if p is not None)
)
platform_tags = st.sampled_from(
    [
        "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp311-cp311-macosx_11_0_arm64",
        "cp39-abi3-musllinux_1_2_aarch64",
        "py3-none-any",
        "py2.py3-none-any",
    ]
)
build_tags = st.none() | st.tuples(st.integers(0, 99), st.text(string.ascii_lowercase, max_size=3))
# Control characters (Cc) are refused by the manifest reader (they could reach a terminal).
safe_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20)
relative_urls = st.builds(
    lambda parts: "../files/" + "/".join(parts),
    st.lists(
        st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=8),
        min_size=1,
        max_size=3,
    ),
)
absolute_urls = st.sampled_from(
    [
        "https://github.com/o/r/releases/download/t/x.whl",
        "http://127.0.0.1:8080/files/x.whl",
        "http://localhost/x",
        "file:///srv/mirror/x.whl",
    ]
)
urls = relative_urls | absolute_urls


@st.composite
def wheel_files(draw: st.DrawFn, name: str, version: str) -> WheelFile:
    build = draw(build_tags)
    build_part = f"-{build[0]}{build[1]}" if build else ""
    filename = f"{name.replace('-', '_')}-{version}{build_part}-{draw(platform_tags)}.whl"
    return WheelFile(
        filename=filename,
        url=draw(urls),
        sha256=draw(sha256s),
        size=draw(st.integers(0, 2**40)),
        requires_python=draw(
            st.none() | st.sampled_from([">=3.8", ">=3.9,<4", "~=3.11", "!=3.10.*"])
        ),
        yanked=draw(st.booleans()),
        yanked_reason=draw(safe_text),
        metadata_sha256=draw(st.none() | sha256s),
        build=draw(
            st.none()
            | st.builds(
                BuildInfo,
                platform=safe_text,
                python=safe_text,
                runner=safe_text.filter(bool),
                built_at=safe_text,
                tool=safe_text,
            )
        ),
        provenance=draw(
            st.none()
            | st.builds(
                Provenance, url=urls, sha256=sha256s, repository=safe_text, workflow=safe_text
            )
        ),
    )


@st.composite
def package_documents(draw: st.DrawFn) -> PackageDocument:
    name = draw(names)
    entries: dict[str, VersionEntry] = {}
    for version in draw(st.lists(versions, max_size=3, unique_by=lambda v: Version(v))):
        wheels = draw(
            st.lists(wheel_files(name, version), max_size=3, unique_by=lambda w: w.filename)
        )
        entries[version] = VersionEntry(
            version=version,
            source=SourceDist(
                filename=f"{name}-{version}.tar.gz", sha256=draw(sha256s), url=draw(urls)
            ),
            wheels=tuple(sorted(wheels, key=lambda w: w.filename)),
        )
    return PackageDocument(name=canonicalize_name(name), versions=entries)


@st.composite
def root_manifests(draw: st.DrawFn) -> RootManifest:
    refs = {
        canonicalize_name(n): PackageRef(
            name=canonicalize_name(n), url=f"packages/{n}.json", sha256=draw(sha256s)
        )
        for n in draw(st.lists(names, max_size=4, unique_by=canonicalize_name))
    }
    return RootManifest(
        mirror_name=draw(safe_text),
        index_url=draw(st.sampled_from(["simple/", "https://h.example/simple/"])),
        generated_at=draw(safe_text),
        packages=refs,
    )
