"""Provenance attestations: Sigstore bundles matched to the files they attest (pure).

``actions/attest-build-provenance`` writes one bundle per line (JSON lines) for all the
files it attested; a bundle's DSSE payload is an in-toto statement whose ``subject``
list names each file with its sha256. The publisher uses these digests to find each
wheel's bundle; it records bundles, it does not verify them (the optional ``verify``
extra, sigstore-python, can do that offline).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from poetry_wheelmirror.errors import PublishError

__all__ = ["ATTESTATION_SUFFIX", "Attestation", "load_attestations"]

#: A wheel's Sigstore bundle is published as ``<wheel filename>.sigstore.json``.
ATTESTATION_SUFFIX = ".sigstore.json"
_MAX_BUNDLE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Attestation:
    """One Sigstore bundle and what it attests."""

    bundle: bytes
    sha256: str
    subjects: frozenset[str]  # sha256 digests of the attested files
    repository: str = ""
    workflow: str = ""


def _parse_bundle(data: bytes, source: str) -> Attestation:
    try:
        bundle = json.loads(data)
        payload = base64.b64decode(bundle["dsseEnvelope"]["payload"], validate=True)
        statement = json.loads(payload)
        subjects = frozenset(
            str(s["digest"]["sha256"]).lower()
            for s in statement["subject"]
            if isinstance(s, dict) and "sha256" in s.get("digest", {})
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        msg = f"{source}: not a Sigstore bundle with an in-toto statement"
        raise PublishError(msg) from None
    repository = workflow = ""
    predicate = statement.get("predicate")
    if isinstance(predicate, dict):
        definition = predicate.get("buildDefinition") or {}
        params = definition.get("externalParameters") or {} if isinstance(definition, dict) else {}
        wf = params.get("workflow") if isinstance(params, dict) else None
        if isinstance(wf, dict):
            repository = str(wf.get("repository", ""))
            workflow = str(wf.get("path", ""))
            if wf.get("ref"):
                workflow = f"{workflow}@{wf['ref']}"
    canonical = (json.dumps(bundle, sort_keys=True, separators=(",", ":")) + "\n").encode()
    return Attestation(
        bundle=canonical,
        sha256=hashlib.sha256(canonical).hexdigest(),
        subjects=subjects,
        repository=repository,
        workflow=workflow,
    )


def load_attestations(paths: Iterable[Path]) -> dict[str, Attestation]:
    """Bundles from files (one JSON bundle, or JSON lines) or folders of them, by the
    sha256 of each file they attest."""
    found: dict[str, Attestation] = {}
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            msg = f"no such attestation file or folder: {path}"
            raise PublishError(msg)
    for file in files:
        data = file.read_bytes()
        if len(data) > _MAX_BUNDLE_BYTES * 64:
            msg = f"{file}: too large for attestation bundles"
            raise PublishError(msg)
        text = data.strip()
        chunks = [text] if text.startswith(b"{") and b"\n{" not in text else text.splitlines()
        for index, chunk in enumerate(c for c in chunks if c.strip()):
            att = _parse_bundle(chunk, f"{file}:{index + 1}")
            for digest in att.subjects:
                found.setdefault(digest, att)
    return found
