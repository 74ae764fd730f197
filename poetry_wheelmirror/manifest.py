"""Manifest v1: the contract between a mirror and its clients (pure: parse and render only).

A mirror publishes a small *root* document at ``<base>/manifest.json`` and one *package*
document per supported package (``<base>/packages/<name>.json`` by default; the root
names each one with its URL and sha256), so a client fetches only what it needs.
URLs may be relative to the document that names them. The JSON Schema lives in
``poetry_wheelmirror/schema/manifest-v1.schema.json``.

One module (over the usual ~450 lines) on purpose: each field's parse rule sits next to
the renderer that writes it, so a change to the contract is made, and reviewed, in one
place; the schema file mirrors it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

from packaging.specifiers import InvalidSpecifier
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidSdistFilename
from packaging.utils import InvalidWheelFilename
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.utils import parse_sdist_filename
from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion
from packaging.version import Version

from poetry_wheelmirror.errors import ManifestError
from poetry_wheelmirror.jsonload import JsonDocumentError
from poetry_wheelmirror.jsonload import load_json
from poetry_wheelmirror.names import filename_problem
from poetry_wheelmirror.names import valid_project_name
from poetry_wheelmirror.names import wheel_filename_problem
from poetry_wheelmirror.urls import url_scheme_problem

__all__ = [
    "PACKAGE_SCHEMA",
    "ROOT_MANIFEST_PATH",
    "ROOT_SCHEMA",
    "SCHEMA_MAJOR",
    "BuildInfo",
    "PackageDocument",
    "PackageRef",
    "Provenance",
    "RootManifest",
    "SourceDist",
    "VersionEntry",
    "WheelFile",
    "dump_document",
    "package_document_path",
    "parse_package_document",
    "parse_root_manifest",
]

ROOT_SCHEMA: Final = "poetry-wheelmirror/root"
PACKAGE_SCHEMA: Final = "poetry-wheelmirror/package"
SCHEMA_MAJOR: Final = 1
SCHEMA_VERSION: Final = "1.0"
#: Where a client finds the root manifest under a mirror's base URL.
ROOT_MANIFEST_PATH: Final = "manifest.json"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: C0 and C1 control characters: a string holding one could rewrite a terminal
#: (``select -v`` prints manifest text) or split a one-line message.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: A URL scheme (RFC 3986): anything that has one is absolute, never a relative path.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def package_document_path(name: NormalizedName) -> str:
    """Path of a package document relative to the mirror base (and to the root manifest)."""
    return f"packages/{name}.json"


@dataclass(frozen=True)
class BuildInfo:
    """How and where a wheel was built."""

    platform: str
    python: str
    runner: str = "local"
    built_at: str = ""
    tool: str = ""


@dataclass(frozen=True)
class Provenance:
    """A build-provenance attestation (Sigstore bundle) for a wheel."""

    url: str
    sha256: str
    repository: str = ""
    workflow: str = ""


@dataclass(frozen=True)
class WheelFile:
    """One published wheel."""

    filename: str
    url: str
    sha256: str
    size: int
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str = ""
    metadata_sha256: str | None = None
    build: BuildInfo | None = None
    provenance: Provenance | None = None


@dataclass(frozen=True)
class SourceDist:
    """The PyPI sdist a version's wheels were built from."""

    filename: str
    sha256: str
    url: str


@dataclass(frozen=True)
class VersionEntry:
    """One version of a package: its source and the wheels built from it."""

    version: str
    source: SourceDist
    wheels: tuple[WheelFile, ...] = ()


@dataclass(frozen=True)
class PackageDocument:
    """Everything the mirror publishes for one package."""

    name: NormalizedName
    versions: Mapping[str, VersionEntry] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    def entry_for(self, version: str) -> VersionEntry | None:
        """The entry for *version*, compared as versions (``1.0`` finds ``1.0.0``)."""
        if version in self.versions:
            return self.versions[version]
        try:
            wanted = Version(version)
        except InvalidVersion:
            return None
        for entry in self.versions.values():
            if Version(entry.version) == wanted:
                return entry
        return None


@dataclass(frozen=True)
class PackageRef:
    """The root manifest's pointer to a package document."""

    name: NormalizedName
    url: str
    sha256: str


@dataclass(frozen=True)
class RootManifest:
    """The small document a client fetches first."""

    mirror_name: str
    index_url: str
    generated_at: str
    packages: Mapping[NormalizedName, PackageRef] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION


# -- parsing ---------------------------------------------------------------------------


def _shown(key: str) -> str:
    """A JSON key as it may appear in a one-line error: repr() when it has control
    characters (a key "demo\\n" must not split the message)."""
    return key if key.isprintable() else repr(key)


class _Reader:
    """Typed access to a JSON object that raises ManifestError naming the field."""

    def __init__(self, data: object, path: str, source: str | None) -> None:
        self.path = path
        self.source = source
        if not isinstance(data, dict):
            raise ManifestError("expected a JSON object", field=path or "(document)", source=source)
        self.data: dict[str, Any] = data

    def _fail(self, key: str, message: str) -> ManifestError:
        return ManifestError(message, field=self._at(key), source=self.source)

    def _at(self, key: str) -> str:
        key = _shown(key)
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def get_str(
        self, key: str, *, optional: bool = False, default: str = "", checked: bool = False
    ) -> str:
        """A string field; *checked*: the caller applies a stricter rule of its own
        (filenames), otherwise control characters are refused here."""
        if key not in self.data or self.data[key] is None:
            if optional:
                return default
            raise self._fail(key, "missing required field")
        value = self.data[key]
        if not isinstance(value, str):
            raise self._fail(key, f"expected a string, got {type(value).__name__}")
        control = None if checked else _CONTROL.search(value)
        if control:
            raise self._fail(key, f"control character {control.group()!r} in a string")
        return value

    def get_int(self, key: str) -> int:
        if key not in self.data:
            raise self._fail(key, "missing required field")
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._fail(key, "expected a non-negative integer")
        return value

    def get_bool(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self._fail(key, "expected true or false")
        return value

    def get_sha256(self, key: str, *, optional: bool = False) -> str:
        value = self.get_str(key, optional=optional)
        if optional and not value:
            return value
        if not _SHA256.fullmatch(value):  # not match: "$" also matches before a final "\n"
            raise self._fail(key, f"not a sha256 hex digest (64 lowercase hex digits): {value!r}")
        return value

    def get_url(self, key: str) -> str:
        value = self.get_str(key)
        if not value:
            raise self._fail(key, "empty URL")
        scheme = _SCHEME.match(value)
        if scheme:
            # "javascript:x", "FILE:/etc" and "http:host/x" are absolute URLs (with a
            # scheme), never paths relative to the document.
            if scheme.group() != scheme.group().lower():
                raise self._fail(key, f"URL scheme must be lowercase: {value!r}")
            problem = url_scheme_problem(value)
            if problem:
                raise self._fail(key, problem)
        elif value.startswith("//"):
            raise self._fail(key, f"scheme-relative URLs are not allowed: {value!r}")
        return value

    def get_obj(self, key: str) -> _Reader:
        if key not in self.data:
            raise self._fail(key, "missing required field")
        return _Reader(self.data[key], self._at(key), self.source)

    def get_optional_obj(self, key: str) -> _Reader | None:
        if self.data.get(key) is None:
            return None
        return _Reader(self.data[key], self._at(key), self.source)

    def get_list(self, key: str) -> list[object]:
        value = self.data.get(key)
        if not isinstance(value, list):
            raise self._fail(
                key, "expected a list" if key in self.data else "missing required field"
            )
        return value


def _load_json(data: bytes | str, source: str | None) -> object:
    try:
        return load_json(data)
    except JsonDocumentError as e:
        raise ManifestError(str(e), source=source) from None


def _check_header(reader: _Reader, schema: str) -> str:
    found = reader.get_str("schema")
    if found != schema:
        raise reader._fail("schema", f"expected {schema!r}, got {found!r}")
    version = reader.get_str("schema_version")
    major = version.split(".", 1)[0]
    if not re.fullmatch(r"[0-9]+\.[0-9]+", version):  # ASCII: \d also takes "\u0661"
        raise reader._fail("schema_version", f"expected MAJOR.MINOR, got {version!r}")
    if int(major) != SCHEMA_MAJOR:
        raise reader._fail(
            "schema_version",
            f"unsupported major version {major} (this client reads {SCHEMA_MAJOR}.x)",
        )
    return version


def parse_root_manifest(data: bytes | str, *, source: str | None = None) -> RootManifest:
    """Parse and validate a root manifest; raise ManifestError naming the first bad field."""
    reader = _Reader(_load_json(data, source), "", source)
    version = _check_header(reader, ROOT_SCHEMA)
    mirror = reader.get_obj("mirror")
    packages_obj = reader.get_obj("packages")
    packages: dict[NormalizedName, PackageRef] = {}
    for key in sorted(packages_obj.data):
        if not valid_project_name(key) or canonicalize_name(key) != key:
            raise ManifestError(
                "package keys must be normalised project names",
                field=f"packages.{_shown(key)}",
                source=source,
            )
        ref = packages_obj.get_obj(key)
        name = canonicalize_name(key)
        packages[name] = PackageRef(
            name=name, url=ref.get_url("url"), sha256=ref.get_sha256("sha256")
        )
    return RootManifest(
        mirror_name=mirror.get_str("name"),
        index_url=mirror.get_url("index_url"),
        generated_at=reader.get_str("generated_at"),
        packages=packages,
        schema_version=version,
    )


def _parse_wheel(reader: _Reader, name: NormalizedName, version: Version) -> WheelFile:
    filename = reader.get_str("filename", checked=True)
    problem = filename_problem(filename) or wheel_filename_problem(filename)
    if problem:
        raise reader._fail("filename", problem)
    try:
        wheel_name, wheel_version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as e:
        raise reader._fail("filename", str(e)) from None
    if wheel_name != name:
        raise reader._fail("filename", f"wheel {filename!r} is for {wheel_name!r}, not {name!r}")
    if wheel_version != version:
        raise reader._fail(
            "filename", f"wheel {filename!r} is version {wheel_version}, not {version}"
        )
    requires_python = reader.get_str("requires_python", optional=True) or None
    if requires_python is not None:
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier:
            raise reader._fail(
                "requires_python", f"invalid specifier {requires_python!r}"
            ) from None
    build = reader.get_optional_obj("build")
    provenance = reader.get_optional_obj("provenance")
    return WheelFile(
        filename=filename,
        url=reader.get_url("url"),
        sha256=reader.get_sha256("sha256"),
        size=reader.get_int("size"),
        requires_python=requires_python,
        yanked=reader.get_bool("yanked"),
        yanked_reason=reader.get_str("yanked_reason", optional=True),
        metadata_sha256=reader.get_sha256("metadata_sha256", optional=True) or None,
        build=None
        if build is None
        else BuildInfo(
            platform=build.get_str("platform"),
            python=build.get_str("python"),
            runner=build.get_str("runner", optional=True, default="local"),
            built_at=build.get_str("built_at", optional=True),
            tool=build.get_str("tool", optional=True),
        ),
        provenance=None
        if provenance is None
        else Provenance(
            url=provenance.get_url("url"),
            sha256=provenance.get_sha256("sha256"),
            repository=provenance.get_str("repository", optional=True),
            workflow=provenance.get_str("workflow", optional=True),
        ),
    )


def _parse_source(reader: _Reader, name: NormalizedName, version: Version) -> SourceDist:
    filename = reader.get_str("filename", checked=True)
    problem = filename_problem(filename)
    if problem:
        raise reader._fail("filename", problem)
    try:
        sdist_name, sdist_version = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidVersion) as e:
        raise reader._fail("filename", str(e)) from None
    if sdist_name != name or sdist_version != version:
        raise reader._fail("filename", f"sdist {filename!r} is not {name} {version}")
    return SourceDist(
        filename=filename, sha256=reader.get_sha256("sha256"), url=reader.get_url("url")
    )


def parse_package_document(
    data: bytes | str,
    *,
    source: str | None = None,
    expected_name: str | None = None,
) -> PackageDocument:
    """Parse and validate a package document; raise ManifestError naming the first bad field."""
    reader = _Reader(_load_json(data, source), "", source)
    version = _check_header(reader, PACKAGE_SCHEMA)
    raw_name = reader.get_str("name")
    if not valid_project_name(raw_name):
        raise reader._fail("name", f"invalid project name {raw_name!r}")
    name = canonicalize_name(raw_name)
    if expected_name is not None and name != canonicalize_name(expected_name):
        raise reader._fail("name", f"document is for {name!r}, expected {expected_name!r}")
    versions_obj = reader.get_obj("versions")
    versions: dict[str, VersionEntry] = {}
    spelled: dict[Version, str] = {}
    for key in sorted(versions_obj.data):
        entry = versions_obj.get_obj(key)
        try:
            parsed_version = Version(key)
        except InvalidVersion:
            msg = f"invalid version {key!r}"
            raise ManifestError(msg, field=f"versions.{_shown(key)}", source=source) from None
        if parsed_version in spelled:
            # "1.0" and "1.0.0" are one version: its wheels would be listed twice.
            msg = f"{spelled[parsed_version]!r} and {key!r} are the same version"
            raise ManifestError(msg, field=f"versions.{_shown(key)}", source=source)
        spelled[parsed_version] = key
        wheels = []
        for index, item in enumerate(entry.get_list("wheels")):
            wheel_reader = _Reader(item, f"{entry.path}.wheels[{index}]", source)
            wheels.append(_parse_wheel(wheel_reader, name, parsed_version))
        seen: set[str] = set()
        for wheel in wheels:
            if wheel.filename in seen:
                msg = f"duplicate wheel {wheel.filename!r}"
                raise ManifestError(msg, field=entry.path, source=source)
            seen.add(wheel.filename)
        versions[key] = VersionEntry(
            version=key,
            source=_parse_source(entry.get_obj("source"), name, parsed_version),
            wheels=tuple(wheels),
        )
    return PackageDocument(name=name, versions=versions, schema_version=version)


# -- rendering -------------------------------------------------------------------------


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    # By identity for False: `0 in (None, "", False)` is true, and dropping a 0 size
    # made the parser reject the rendered document ("size: missing required field").
    return {k: v for k, v in data.items() if v is not None and v is not False and v != ""}


def _wheel_json(wheel: WheelFile) -> dict[str, Any]:
    data: dict[str, Any] = {
        "filename": wheel.filename,
        "url": wheel.url,
        "sha256": wheel.sha256,
        "size": wheel.size,
        "requires_python": wheel.requires_python,
        "yanked": wheel.yanked,
        "yanked_reason": wheel.yanked_reason,
        "metadata_sha256": wheel.metadata_sha256,
    }
    if wheel.build is not None:
        data["build"] = {
            # Required by the parser, so never dropped, even when empty.
            "platform": wheel.build.platform,
            "python": wheel.build.python,
            **_drop_empty(
                {
                    "runner": wheel.build.runner,
                    "built_at": wheel.build.built_at,
                    "tool": wheel.build.tool,
                }
            ),
        }
    if wheel.provenance is not None:
        data["provenance"] = _drop_empty(
            {
                "url": wheel.provenance.url,
                "sha256": wheel.provenance.sha256,
                "repository": wheel.provenance.repository,
                "workflow": wheel.provenance.workflow,
            }
        )
    return _drop_empty(data)


def package_document_json(doc: PackageDocument) -> dict[str, Any]:
    """The JSON object for a package document."""
    return {
        "schema": PACKAGE_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "name": doc.name,
        "versions": {
            key: {
                "source": {
                    "filename": entry.source.filename,
                    "sha256": entry.source.sha256,
                    "url": entry.source.url,
                },
                "wheels": [_wheel_json(w) for w in sorted(entry.wheels, key=lambda w: w.filename)],
            }
            for key, entry in sorted(doc.versions.items(), key=lambda kv: Version(kv[0]))
        },
    }


def root_manifest_json(root: RootManifest) -> dict[str, Any]:
    """The JSON object for a root manifest."""
    return {
        "schema": ROOT_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": root.generated_at,
        "mirror": {"name": root.mirror_name, "index_url": root.index_url},
        "packages": {
            name: {"url": ref.url, "sha256": ref.sha256}
            for name, ref in sorted(root.packages.items())
        },
    }


def dump_document(data: Mapping[str, Any]) -> bytes:
    """Canonical bytes for a document: stable key order and layout, so equal content is
    byte-identical and a no-op rebuild changes nothing."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


__all__ += ["package_document_json", "root_manifest_json"]
