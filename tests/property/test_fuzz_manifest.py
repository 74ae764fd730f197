"""Property tests for the manifest parser and renderers (hostile input, round trips).

* arbitrary bytes, arbitrary JSON, and valid documents with one field replaced by
  arbitrary JSON only ever parse or raise ManifestError;
* whatever parses keeps the parser's promises: safe filenames, allowed URL schemes,
  sha256 digests, matching names and versions;
* render -> parse is the identity for generated valid documents, and render is
  canonical (parse -> render gives the same bytes).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from devtools.fuzz import FUZZ
from devtools.manifest_strategies import json_values
from devtools.manifest_strategies import package_documents
from devtools.manifest_strategies import root_manifests
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
from poetry_wheelmirror.names import filename_problem
from poetry_wheelmirror.urls import url_scheme_problem

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


def check_promises(doc: PackageDocument) -> None:
    for key, entry in doc.versions.items():
        assert filename_problem(entry.source.filename) is None
        for wheel in entry.wheels:
            assert filename_problem(wheel.filename) is None
            name, version, _, _ = parse_wheel_filename(wheel.filename)
            assert name == doc.name
            assert version == Version(key)
            for url in (wheel.url, entry.source.url):
                if "://" in url or url.startswith("file:"):
                    assert url_scheme_problem(url) is None
                else:
                    assert not url.startswith("//")
            assert len(wheel.sha256) == 64
            assert wheel.size >= 0


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
def test_hostile_filenames_and_urls_never_parse_unsafe(path: tuple[Any, ...], value: str) -> None:
    doc = parse_quietly(
        parse_package_document, json.dumps(mutate(VALID_PACKAGE, path, value, False))
    )
    if doc is not None:
        check_promises(doc)


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
            assert len(ref.sha256) == 64
            assert not ref.url.startswith("//")
        if "://" in root.index_url or root.index_url.startswith("file:"):
            assert url_scheme_problem(root.index_url) is None


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
