"""Manifest v1: the shipped examples, strict parsing, canonical rendering, schema agreement."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.manifest import dump_document
from poetry_wheelmirror.manifest import package_document_json
from poetry_wheelmirror.manifest import parse_package_document
from poetry_wheelmirror.manifest import parse_root_manifest
from poetry_wheelmirror.manifest import root_manifest_json

FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests"
GOOD = FIXTURES / "good"
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "poetry_wheelmirror/schema/manifest-v1.schema.json").read_text()
)


def test_good_root_parses() -> None:
    root = parse_root_manifest((GOOD / "manifest.json").read_bytes())
    assert set(root.packages) == {"crcmod", "markupsafe"}
    assert root.packages["markupsafe"].url == "packages/markupsafe.json"
    assert root.index_url == "simple/"


def test_good_package_parses_and_round_trips_byte_identically() -> None:
    raw = (GOOD / "packages" / "markupsafe.json").read_bytes()
    doc = parse_package_document(raw, expected_name="MarkupSafe")
    entry = doc.entry_for("2.0.1")
    assert entry is not None
    assert entry.source.filename == "MarkupSafe-2.0.1.tar.gz"
    assert len(entry.wheels) == 3
    assert entry.wheels[0].build is not None
    assert dump_document(package_document_json(doc)) == raw


def test_root_round_trips_byte_identically() -> None:
    raw = (GOOD / "manifest.json").read_bytes()
    assert dump_document(root_manifest_json(parse_root_manifest(raw))) == raw


def test_entry_for_compares_versions() -> None:
    doc = parse_package_document((GOOD / "packages" / "crcmod.json").read_bytes())
    assert doc.entry_for("1.7.0") is not None
    assert doc.entry_for("1.8") is None
    assert doc.entry_for("not a version") is None


@pytest.mark.parametrize("path", sorted(GOOD.rglob("*.json")), ids=lambda p: p.name)
def test_good_documents_match_the_json_schema(path: Path) -> None:
    jsonschema.validate(json.loads(path.read_text()), SCHEMA)


BAD_CASES = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())


def _read_mirror(folder: Path) -> None:
    """Parse a fixture mirror the way MirrorReader does, from disk."""
    root = parse_root_manifest((folder / "manifest.json").read_bytes(), source="m.json")
    for name, ref in root.packages.items():
        body = (folder / ref.url).read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        if digest != ref.sha256:
            msg = f"sha256 {digest} does not match the root manifest's {ref.sha256}"
            raise ManifestError(msg)
        parse_package_document(body, expected_name=name)


def test_reader_accepts_good() -> None:
    _read_mirror(GOOD)


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda p: p.name)
def test_each_bad_example_raises_one_line_naming_the_problem(case: Path) -> None:
    expect = (case / "EXPECT").read_text().strip()
    with pytest.raises(ManifestError) as info:
        _read_mirror(case)
    assert expect in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in BAD_CASES
        if c.name
        not in {"package-doc-tampered", "not-json", "wrong-wheel-name", "wrong-wheel-version"}
    ],
    ids=lambda p: p.name,
)
def test_schema_also_rejects_what_the_parser_rejects(case: Path) -> None:
    # Filename/name agreement and cross-document hashes are beyond JSON Schema; the rest
    # of the parser's rules are also expressed in the schema.
    docs = [case / "manifest.json", *sorted((case / "packages").glob("*.json"))]
    errors = []
    for doc in docs:
        try:
            jsonschema.validate(json.loads(doc.read_text()), SCHEMA)
        except jsonschema.ValidationError as e:
            errors.append(e)
    assert errors


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda d: d.update(schema_version="1"), "expected MAJOR.MINOR"),
        (lambda d: d.update(name="bad name!"), "invalid project name"),
        (lambda d: d.update(name="crcmod"), "document is for 'crcmod'"),
        (lambda d: d["versions"].update({"x.y": d["versions"]["2.0.1"]}), "invalid version 'x.y'"),
        (
            lambda d: d["versions"]["2.0.1"]["wheels"].append(d["versions"]["2.0.1"]["wheels"][0]),
            "duplicate wheel",
        ),
        (lambda d: d["versions"]["2.0.1"]["wheels"][0].update(size=-1), "non-negative integer"),
        (lambda d: d["versions"]["2.0.1"]["wheels"][0].update(size=True), "non-negative integer"),
        (
            lambda d: d["versions"]["2.0.1"]["wheels"][0].update(filename="x.whl"),
            "Invalid wheel filename",
        ),
        (
            lambda d: d["versions"]["2.0.1"]["wheels"][0].update(
                filename="Mark\x00upSafe-2.0.1-py3-none-any.whl"
            ),
            "unsafe filename",
        ),
        (
            lambda d: d["versions"]["2.0.1"]["wheels"][0].update(url="//evil.example/x.whl"),
            "scheme-relative",
        ),
        (
            lambda d: d["versions"]["2.0.1"]["wheels"][0].update(requires_python="3.6+"),
            "invalid specifier",
        ),
        (
            lambda d: d["versions"]["2.0.1"]["wheels"][0].update(yanked="yes"),
            "expected true or false",
        ),
        (
            lambda d: d["versions"]["2.0.1"]["source"].update(filename="Other-2.0.1.tar.gz"),
            "is not markupsafe 2.0.1",
        ),
        (lambda d: d["versions"]["2.0.1"].update(wheels={}), "expected a list"),
        (lambda d: d["versions"]["2.0.1"].pop("source"), "source: missing required field"),
    ],
)
def test_package_document_rejections(mutate, expect: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((GOOD / "packages" / "markupsafe.json").read_text())
    mutate(data)
    with pytest.raises(ManifestError, match=None) as info:
        parse_package_document(json.dumps(data), expected_name="markupsafe", source="doc.json")
    assert expect in str(info.value)
    assert str(info.value).startswith("doc.json: ")


def test_loopback_http_and_file_urls_are_allowed() -> None:
    data = json.loads((GOOD / "packages" / "markupsafe.json").read_text())
    wheels = data["versions"]["2.0.1"]["wheels"]
    wheels[0]["url"] = "http://127.0.0.1:8080/files/x.whl"
    wheels[1]["url"] = "file:///srv/mirror/files/x.whl"
    wheels[2]["url"] = "https://github.com/o/r/releases/download/markupsafe-2.0.1/x.whl"
    doc = parse_package_document(json.dumps(data))
    urls = sorted(w.url for w in doc.versions["2.0.1"].wheels)
    assert urls[1].startswith("http://127.0.0.1")


def test_root_rejects_unnormalised_package_keys() -> None:
    data = json.loads((GOOD / "manifest.json").read_text())
    data["packages"]["MarkupSafe"] = data["packages"].pop("markupsafe")
    with pytest.raises(ManifestError, match="normalised"):
        parse_root_manifest(json.dumps(data))


def test_minor_version_additions_are_accepted() -> None:
    data = json.loads((GOOD / "manifest.json").read_text())
    data["schema_version"] = "1.7"
    data["future_field"] = {"anything": True}
    assert parse_root_manifest(json.dumps(data)).schema_version == "1.7"


def test_non_object_document() -> None:
    with pytest.raises(ManifestError, match="expected a JSON object"):
        parse_root_manifest("[]")


# -- hostile documents (issue 12) --------------------------------------------------------


def _markupsafe() -> dict:  # type: ignore[type-arg]
    return json.loads((GOOD / "packages" / "markupsafe.json").read_text())  # type: ignore[no-any-return]


def _first_wheel(data: dict) -> dict:  # type: ignore[type-arg]
    return data["versions"]["2.0.1"]["wheels"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "FILE:/etc/passwd", "http:evil.example/x.whl", "data:,x"]
)
def test_scheme_urls_are_not_taken_as_relative(url: str) -> None:
    data = _markupsafe()
    _first_wheel(data)["url"] = url
    with pytest.raises(ManifestError) as info:
        parse_package_document(json.dumps(data), source="doc.json")
    assert "url" in str(info.value)


def test_equal_versions_under_two_spellings_are_refused() -> None:
    data = _markupsafe()
    entry = data["versions"]["2.0.1"]
    data["versions"]["2.0.1.0"] = json.loads(json.dumps(entry))
    with pytest.raises(ManifestError, match="same version"):
        parse_package_document(json.dumps(data), source="doc.json")


def test_duplicate_json_keys_are_refused() -> None:
    raw = (GOOD / "manifest.json").read_text()
    doubled = raw.replace('"mirror":', '"generated_at": "x", "mirror":', 1)
    assert doubled != raw
    with pytest.raises(ManifestError, match="duplicate key 'generated_at'"):
        parse_root_manifest(doubled, source="m.json")


def test_schema_version_needs_ascii_digits() -> None:
    data = json.loads((GOOD / "manifest.json").read_text())
    data["schema_version"] = "\u0661.\u0660"  # Arabic-Indic "1.0"
    with pytest.raises(ManifestError, match=r"MAJOR\.MINOR"):
        parse_root_manifest(json.dumps(data))


def test_huge_size_is_refused() -> None:
    raw = json.dumps(_markupsafe()).replace('"size": 31337', '"size": 1' + "0" * 400, 1)
    assert "0" * 400 in raw
    with pytest.raises(ManifestError, match="out of range"):
        parse_package_document(raw, source="doc.json")


def test_deep_nesting_is_a_one_line_error() -> None:
    raw = '{"schema": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ManifestError) as info:
        parse_root_manifest(raw, source="m.json")
    assert "nested deeper" in str(info.value)


def test_lone_surrogate_is_refused() -> None:
    data = _markupsafe()
    _first_wheel(data).update(yanked=True, yanked_reason="\ud800")
    with pytest.raises(ManifestError, match="surrogate"):
        parse_package_document(json.dumps(data), source="doc.json")


@pytest.mark.parametrize("text", ["\x1b[2J\x1b[31mowned", "a\rb", "x\x9bc"])
def test_terminal_control_characters_are_refused(text: str) -> None:
    data = _markupsafe()
    _first_wheel(data).update(yanked=True, yanked_reason=text)
    with pytest.raises(ManifestError, match="control character"):
        parse_package_document(json.dumps(data), source="doc.json")
    root = json.loads((GOOD / "manifest.json").read_text())
    root["mirror"]["name"] = text
    with pytest.raises(ManifestError, match="control character"):
        parse_root_manifest(json.dumps(root), source="m.json")


@pytest.mark.parametrize(
    ("tags", "expect"),
    [
        # 7 x 7 x 7 = 343 tags from a 60-character name
        (".".join(f"p{i}" for i in range(7)), "expands to 343 tags"),
        # the case: a 1.4 KB name that expands to a million tags
        (".".join(f"cp3{i}" for i in range(100)), "longer than 255"),
    ],
)
def test_compressed_tag_set_that_multiplies_out_is_refused_fast(tags: str, expect: str) -> None:
    import time

    filename = f"MarkupSafe-2.0.1-{tags}-{tags}-{tags}.whl"
    data = _markupsafe()
    _first_wheel(data)["filename"] = filename
    started = time.perf_counter()
    with pytest.raises(ManifestError, match=expect):
        parse_package_document(json.dumps(data), source="doc.json")
    assert time.perf_counter() - started < 0.1
