"""Property tests for the manifest parser and renderers (hostile input, round trips).

* arbitrary bytes, arbitrary JSON, and valid documents with one field replaced by
  arbitrary JSON only ever parse or raise ManifestError;
* whatever parses keeps the parser's promises: safe filenames, allowed URL schemes,
  sha256 digests, matching names and versions; judged by rules written in
  devtools/oracles.py and by packaging's parsers, never by the parser's own checks;
* wheel filenames that packaging accepts but that carry a separator, ``..`` or an
  unsafe character in their tag or build parts are refused;
* render -> parse is the identity for generated valid documents, and render is
  canonical (parse -> render gives the same bytes).
"""

from __future__ import annotations

import copy
import json
import re
import string
from typing import Any

from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.utils import parse_sdist_filename
from packaging.version import Version

from devtools.fuzz import FUZZ
from devtools.manifest_strategies import json_values
from devtools.manifest_strategies import package_documents
from devtools.manifest_strategies import root_manifests
from devtools.oracles import filename_violation
from devtools.oracles import plain_relative_url
from devtools.oracles import url_violation
from devtools.oracles import wheel_identity
from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.manifest import BuildInfo
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import PackageRef
from poetry_wheelmirror.manifest import Provenance
from poetry_wheelmirror.manifest import RootManifest
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.manifest import parse_root_manifest
from poetry_wheelmirror.manifest import root_manifest_json

VALID_PACKAGE = json.loads(
    dump_document(
        package_document_json(
            PackageDocument(
                name=canonicalize_name("demo"),
                versions={
                    "1.0": VersionEntry(
                        version="1.0",
                        source=SourceDist("demo-1.0.tar.gz", "a" * 64, "https://h/demo-1.0.tar.gz"),
                        wheels=(
                            WheelFile(
                                "demo-1.0-py3-none-any.whl",
                                "../files/demo/demo-1.0-py3-none-any.whl",
                                "b" * 64,
                                10,
                                requires_python=">=3.8",
                                yanked=True,
                                yanked_reason="x",
                                metadata_sha256="c" * 64,
                                build=BuildInfo("linux", "3.11", "gha", "now", "build"),
                                provenance=Provenance("p.json", "d" * 64, "o/r", "w.yml"),
                            ),
                        ),
                    )
                },
            )
        )
    )
)
VALID_ROOT = json.loads(
    dump_document(
        root_manifest_json(
            RootManifest(
                "m",
                "simple/",
                "2026-01-01T00:00:00Z",
                {
                    canonicalize_name("demo"): PackageRef(
                        canonicalize_name("demo"), "packages/demo.json", "e" * 64
                    )
                },
            )
        )
    )
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and list indexes) into a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


PACKAGE_PATHS = paths(VALID_PACKAGE)
ROOT_PATHS = paths(VALID_ROOT)


def mutate(document: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    result = copy.deepcopy(document)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def parse_quietly(parser: Any, data: bytes | str) -> Any:
    """Parse, returning None for a ManifestError; any other exception fails the test."""
    try:
        return parser(data)
    except ManifestError as e:
        error = str(e)
    assert "\n" not in error
    return None


def check_url(url: str) -> None:
    if "://" in url or url.startswith("file:"):
        assert url_violation(url) is None, url
    else:
        assert plain_relative_url(url), url


def check_promises(doc: PackageDocument) -> None:
    for key, entry in doc.versions.items():
        assert filename_violation(entry.source.filename) is None, entry.source.filename
        assert parse_sdist_filename(entry.source.filename) == (doc.name, Version(key))
        check_url(entry.source.url)
        for wheel in entry.wheels:
            assert filename_violation(wheel.filename) is None, wheel.filename
            assert wheel_identity(wheel.filename) == (doc.name, Version(key))
            check_url(wheel.url)
            assert re.fullmatch(r"[0-9a-f]{64}", wheel.sha256)
            assert wheel.size >= 0
            if wheel.provenance is not None:
                check_url(wheel.provenance.url)


# -- properties -------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300))
@example(b"\xff\xfe")
@example(b"[]")
@example(b'{"schema": "poetry-wheelmirror/root", "schema_version": "1.99999999999999999999"}')
@example(b'{"schema": "poetry-wheelmirror/root", "schema_version": "\xd9\xa1.0"}')
def test_arbitrary_bytes_only_raise_manifest_error(data: bytes) -> None:
    parse_quietly(parse_root_manifest, data)
    parse_quietly(parse_package_document, data)


@FUZZ
@given(json_values)
def test_arbitrary_json_only_raises_manifest_error(value: Any) -> None:
    data = json.dumps(value)
    assert parse_quietly(parse_root_manifest, data) is None or isinstance(value, dict)
    parse_quietly(parse_package_document, data)


@FUZZ
@given(st.sampled_from(PACKAGE_PATHS), json_values, st.booleans())
def test_mutated_package_document_parses_safely(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    assume(path or not delete)
    data = json.dumps(mutate(VALID_PACKAGE, path, value, delete and bool(path)))
    doc = parse_quietly(parse_package_document, data)
    if doc is not None:
        check_promises(doc)


@FUZZ
@given(
    st.sampled_from([p for p in PACKAGE_PATHS if p and p[-1] in ("filename", "url")]),
    st.text(max_size=40)
    | st.sampled_from(
        [
            "../../etc/passwd",
            "demo-1.0-py3-none-any.whl/../../x",
            "demo-1.0-py3-none-any.whl\x00",
            "demo-1.0-py3-none-any.whl\n",
            "demo-1.0-py3-none-any.whl\\x",
            "\uff44\uff45\uff4d\uff4f-1.0-py3-none-any.whl"  # fullwidth "demo",
            "demo-1.0-py3-none-any.whl\u202e",
            "//evil.example/x.whl",
            "http://evil.example/x.whl",
            "javascript:alert(1)",
            "ftp://h/x",
            "HTTP://evil.example/x",
        ]
    ),
)
@example(("versions", "1.0", "source", "url"), "javascript:alert(1)")
def test_hostile_filenames_and_urls_never_parse_unsafe(path: tuple[Any, ...], value: str) -> None:
    doc = parse_quietly(
        parse_package_document, json.dumps(mutate(VALID_PACKAGE, path, value, False))
    )
    if doc is not None:
        check_promises(doc)


#: Pieces a wheel filename must never carry, placed where packaging's parser does not
#: look (the tag and build parts): it accepts "demo-1.0-py3-none-../../x.whl".
UNSAFE_PIECES = ["/", "\\", "..", "../..", "\x00", " ", ":", "\u202e", "\uff0f", "\u00e9", "%2f"]
tag_text = st.text(alphabet=string.ascii_letters + string.digits + "._", min_size=1, max_size=8)


@st.composite
def smuggled_wheel_names(draw: st.DrawFn) -> str:
    parts = [draw(tag_text) for _ in range(3)]
    build = draw(st.none() | st.integers(0, 99).map(str))
    piece = draw(
        st.sampled_from(UNSAFE_PIECES) | st.characters(codec="utf-8", exclude_categories=["Cs"])
    )
    slot = draw(st.integers(0, 3 if build is None else 4))
    at = draw(st.integers(0, 8))
    fields = [*parts, *([] if build is None else [build])]
    index = min(slot, len(fields) - 1)
    text = fields[index]
    fields[index] = text[:at] + piece + text[at:]
    if build is not None:
        fields = [fields[3], *fields[:3]]
    return "-".join(["demo", "1.0", *fields]) + ".whl"


@FUZZ
@given(smuggled_wheel_names())
@example("demo-1.0-py3-none-../../x.whl")
@example("demo-1.0-1..-py3-none-any.whl")
@example("demo-1.0-py3-none-any\\..\\x.whl")
def test_smuggled_wheel_filenames_are_refused(filename: str) -> None:
    """Refused exactly when the test's own rule says the name is unsafe (and packaging,
    the other oracle, parses it to demo 1.0, so only the filename rule can refuse it)."""
    assume(wheel_identity(filename) == ("demo", Version("1.0")))
    data = mutate(VALID_PACKAGE, ("versions", "1.0", "wheels", 0, "filename"), filename, False)
    doc = parse_quietly(parse_package_document, json.dumps(data))
    if filename_violation(filename) is None:
        assert doc is not None, filename
        check_promises(doc)
    else:
        assert doc is None, f"accepted unsafe wheel filename {filename!r}"


@FUZZ
@given(st.sampled_from(ROOT_PATHS), json_values, st.booleans())
def test_mutated_root_manifest_parses_safely(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    assume(path or not delete)
    root = parse_quietly(
        parse_root_manifest, json.dumps(mutate(VALID_ROOT, path, value, delete and bool(path)))
    )
    if root is not None:
        for name, ref in root.packages.items():
            assert canonicalize_name(name) == name
            assert re.fullmatch(r"[0-9a-f]{64}", ref.sha256)
            check_url(ref.url)
        check_url(root.index_url)


def test_root_keys_with_a_trailing_newline_are_refused() -> None:
    """`$` in a regex also matches before a final newline: names.py used `match`."""
    data = copy.deepcopy(VALID_ROOT)
    data["packages"]["demo\n"] = data["packages"].pop("demo")
    assert parse_quietly(parse_root_manifest, json.dumps(data)) is None
    data = copy.deepcopy(VALID_ROOT)
    data["packages"]["demo"]["sha256"] += "\n"
    assert parse_quietly(parse_root_manifest, json.dumps(data)) is None


@FUZZ
@given(package_documents())
def test_package_document_round_trip(doc: PackageDocument) -> None:
    data = dump_document(package_document_json(doc))
    parsed = parse_package_document(data, expected_name=doc.name)
    assert parsed == doc
    assert dump_document(package_document_json(parsed)) == data


@FUZZ
@given(root_manifests())
def test_root_manifest_round_trip(root: RootManifest) -> None:
    data = dump_document(root_manifest_json(root))
    parsed = parse_root_manifest(data)
    assert parsed == root
    assert dump_document(root_manifest_json(parsed)) == data
