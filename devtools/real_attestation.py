"""A genuine Sigstore build-provenance attestation of a real PyPI file, fetched from PyPI.

GitHub is unreachable here and this project's own workflow has never run, so the tests
use an attestation somebody else's GitHub workflow made: ``trailofbits/pypi-attestations``
signs its releases from ``.github/workflows/release.yml``. For its 0.0.19 sdist,
``pypi_attestations-0.0.19.tar.gz`` (on PyPI), there are two real attestations, both
signed with a Fulcio certificate for that workflow's GitHub Actions identity and logged
in Rekor (Sigstore production):

* a SLSA v1 build-provenance statement (``buildType`` actions.github.io workflow/v1,
  the kind ``actions/attest-build-provenance`` makes: what this mirror records);
* the PyPI publish attestation (PEP 740), the one PyPI's integrity API serves.

Where they come from, in order: PyPI's integrity API
(``/integrity/<project>/<version>/<file>/provenance``, PEP 740), when it serves one;
else the test assets inside the ``pypi-attestations`` sdist on PyPI (the project keeps
both attestations of its 0.0.19 sdist there, in PEP 740 form). Either way each is
converted into a Sigstore bundle as ``pypi-attestations`` does (``bundle_from_pep740``),
and the attested file itself is downloaded from PyPI and checked against PyPI's sha256.
Fetched once per test session.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from poetry_wheelmirror import manifest as m
from poetry_wheelmirror.provenance import bundle_from_pep740

__all__ = [
    "PROJECT",
    "TAMPERED",
    "VERSION",
    "WHEEL",
    "RealAttestation",
    "fetch_real_attestation",
    "write_attested_mirror",
]

PROJECT = "pypi-attestations"
VERSION = "0.0.19"
FILENAME = "pypi_attestations-0.0.19.tar.gz"
#: The sdist whose test assets hold the attestations (pinned: sha256 from PyPI, checked).
ASSETS_SDIST = "pypi_attestations-0.0.30.tar.gz"
REPOSITORY = "trailofbits/pypi-attestations"
WORKFLOW = ".github/workflows/release.yml"
_SIMPLE = "https://pypi.org/simple/{}/"
_INTEGRITY = "https://pypi.org/integrity/{}/{}/{}/provenance"


@dataclass(frozen=True)
class RealAttestation:
    filename: str
    data: bytes  # the attested file's bytes, from PyPI
    sha256: str
    bundle: bytes  # SLSA build provenance, as a Sigstore bundle
    publish_bundle: bytes  # PEP 740 publish attestation, as a Sigstore bundle
    source: str  # where the attestations came from
    repository: str = REPOSITORY
    workflow: str = WORKFLOW


def _get(url: str, accept: str | None = None) -> bytes:
    headers = {"User-Agent": "poetry-wheelmirror-tests"}
    if accept:
        headers["Accept"] = accept
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        body: bytes = r.read()
        return body


def _files(project: str) -> dict[str, dict[str, Any]]:
    page = json.loads(_get(_SIMPLE.format(project), "application/vnd.pypi.simple.v1+json"))
    return {f["filename"]: f for f in page["files"]}


def _download(info: dict[str, Any]) -> bytes:
    data = _get(info["url"])
    digest = hashlib.sha256(data).hexdigest()
    assert digest == info["hashes"]["sha256"], f"{info['filename']}: sha256 {digest} from PyPI"
    return data


def _from_integrity_api() -> tuple[bytes, bytes] | None:
    try:
        body = _get(_INTEGRITY.format(PROJECT, VERSION, FILENAME))
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 404:  # PyPI serves no provenance for this file: use the assets sdist
            return None
        raise
    bundles = json.loads(body)["attestation_bundles"]
    publish = bundle_from_pep740(bundles[0]["attestations"][0])
    return publish, publish  # the API serves the publish attestation only


def _from_assets_sdist(files: dict[str, dict[str, Any]]) -> tuple[bytes, bytes]:
    data = _download(files[ASSETS_SDIST])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:

        def member(suffix: str) -> Any:
            name = f"{ASSETS_SDIST.removesuffix('.tar.gz')}/test/assets/{FILENAME}{suffix}"
            f = tar.extractfile(name)
            assert f is not None, name
            return json.load(f)

        slsa = member(".slsa.attestation")
        provenance = member(".provenance")
    publisher = provenance["attestation_bundles"][0]["publisher"]
    assert publisher["repository"] == REPOSITORY, publisher
    assert publisher["workflow"] == WORKFLOW.rsplit("/", 1)[-1], publisher
    publish = bundle_from_pep740(provenance["attestation_bundles"][0]["attestations"][0])
    return bundle_from_pep740(slsa), publish


_CACHE: list[RealAttestation] = []


def _unreachable(error: BaseException) -> bool:
    """True for "could not talk to PyPI at all": no route, refused, reset, timed out, or
    a 5xx. An HTTP 4xx, a missing file or key, a changed format is not that: it fails."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500
    if isinstance(error, urllib.error.URLError):
        return isinstance(error.reason, (OSError, str))
    return isinstance(error, (TimeoutError, ConnectionError))


def fetch_real_attestation() -> RealAttestation:
    """The attested file and its two bundles (once per session).

    Skips, saying so in pytest's summary (``-ra``), only when PyPI cannot be reached.
    Anything else (a file or key gone from PyPI's data, a changed test-asset layout, a
    sha256 mismatch) fails the test loudly: a silent skip would hide every real-sigstore
    test behind an upstream change."""
    if _CACHE:
        return _CACHE[0]
    try:
        files = _files(PROJECT)
        data = _download(files[FILENAME])
        integrity = _from_integrity_api()
        # The SLSA build provenance (what the mirror records) is only in the assets
        # sdist; the integrity API, when it answers, is the PEP 740 source.
        slsa, publish = _from_assets_sdist(files)
        source = f"{ASSETS_SDIST} test assets from PyPI"
        if integrity is not None:
            publish, source = integrity[0], source + f" and PyPI's integrity API for {FILENAME}"
    except Exception as e:
        if isinstance(e, urllib.error.HTTPError):
            e.close()  # its response holds a socket
        if _unreachable(e):
            pytest.skip(f"REAL-SIGSTORE TESTS NOT RUN: PyPI unreachable ({e!r})")
        msg = f"the real attestation could not be loaded from PyPI's data: {e!r}"
        raise AssertionError(msg) from e
    att = RealAttestation(
        filename=FILENAME,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        bundle=slsa,
        publish_bundle=publish,
        source=source,
    )
    _CACHE.append(att)
    return att


WHEEL = "pypi_attestations-0.0.19-py3-none-any.whl"
TAMPERED = "pypi_attestations-0.0.19-1-py3-none-any.whl"


def write_attested_mirror(
    base: Path,
    att: RealAttestation,
    *,
    bundle: bytes | None = None,
    wheels: tuple[str, ...] = (WHEEL, TAMPERED),
) -> Path:
    """A local mirror carrying pypi-attestations 0.0.19 with up to two "wheels", each
    recording the real bundle: WHEEL's bytes are the attested PyPI file (its sha256 is
    the bundle's subject), TAMPERED's bytes differ in one byte (another sha256)."""
    bundle = att.bundle if bundle is None else bundle
    key = canonicalize_name(PROJECT)
    files = base / "files" / key
    files.mkdir(parents=True)
    (files / (WHEEL + ".sigstore.json")).write_bytes(bundle)
    provenance = m.Provenance(
        url=f"../files/{key}/{WHEEL}.sigstore.json",
        sha256=hashlib.sha256(bundle).hexdigest(),
        repository=f"https://github.com/{att.repository}",
        workflow=f"{att.workflow}@refs/tags/v{VERSION}",
    )
    entries = []
    contents = {WHEEL: att.data, TAMPERED: att.data[:-1] + bytes([att.data[-1] ^ 1])}
    for filename in wheels:
        data = contents[filename]
        (files / filename).write_bytes(data)
        entries.append(
            m.WheelFile(
                filename=filename,
                url=f"../files/{key}/{filename}",
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                provenance=provenance,
            )
        )
    doc = m.PackageDocument(
        name=key,
        versions={
            VERSION: m.VersionEntry(
                version=VERSION,
                source=m.SourceDist(FILENAME, att.sha256, f"https://files.example/{FILENAME}"),
                wheels=tuple(entries),
            )
        },
    )
    body = m.dump_document(m.package_document_json(doc))
    (base / "packages").mkdir()
    (base / "packages" / f"{key}.json").write_bytes(body)
    root = m.RootManifest(
        mirror_name="provenance-test",
        index_url="simple/",
        generated_at="2026-01-01T00:00:00Z",
        packages={key: m.PackageRef(key, f"packages/{key}.json", hashlib.sha256(body).hexdigest())},
    )
    (base / "manifest.json").write_bytes(m.dump_document(m.root_manifest_json(root)))
    return base
