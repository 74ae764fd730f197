"""Verify a wheel's build-provenance attestation (a Sigstore bundle) offline.

The workflow's ``actions/attest-build-provenance`` step signs, with a short-lived
Fulcio certificate bound to the workflow run's GitHub Actions OIDC identity, an in-toto
statement naming each wheel's sha256; the mirror records that bundle next to the
wheel (``WheelFile.provenance``). A bundle is accepted for a wheel only when all of
these hold:

1. the certificate was issued for the GitHub Actions OIDC issuer
   (``https://token.actions.githubusercontent.com``);
2. its Build Config URI (the top-level workflow: the one that ran the attest step)
   is ``https://github.com/<repository>/<workflow path>@<ref>`` for the *expected*
   repository and workflow, which come from the user's settings, never from the
   mirror (a mirror that could choose the identity could sign its own wheels);
3. sigstore-python verifies the certificate chain against Sigstore's public-good
   trusted root, the transparency-log inclusion proof and signed entry timestamp,
   and the DSSE signature; offline: the trusted root is the one shipped with
   sigstore-python (or its local TUF cache), no network is used;
4. the verified statement's subjects include the wheel's sha256.

sigstore-python (~88 MB with its dependencies) is the optional extra
``poetry-wheelmirror[verify]``; it is imported only when a verification runs.
Every failure is a one-line :class:`~poetry_wheelmirror.errors.ProvenanceError`.
Which policy applies and whose signature is expected (pure) is ``provenance_policy``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import ProvenanceError
from poetry_wheelmirror.errors import WheelmirrorError
from poetry_wheelmirror.settings import TOOL_TABLE

if TYPE_CHECKING:
    from poetry_wheelmirror.manifest import WheelFile
    from poetry_wheelmirror.mirror_client import MirrorReader
    from poetry_wheelmirror.provenance_policy import Expected
    from poetry_wheelmirror.provenance_policy import Policy

__all__ = [
    "GITHUB_ISSUER",
    "MAX_BUNDLE_BYTES",
    "TrustRootError",
    "Verdict",
    "Verified",
    "bundle_from_pep740",
    "check_wheel",
    "fetch_bundle",
    "missing_extra_message",
    "require_sigstore",
    "sigstore_available",
    "verify_bundle",
    "verify_recorded",
]

GITHUB_ISSUER: Final = "https://token.actions.githubusercontent.com"
#: A bundle is a few KB; refuse anything much larger before parsing it.
MAX_BUNDLE_BYTES: Final = 1024 * 1024
_DSSE_TYPE: Final = "application/vnd.in-toto+json"
_BUNDLE_MEDIA_TYPE: Final = "application/vnd.dev.sigstore.bundle.v0.3+json"
# Fulcio certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md).
_OID_ISSUER_V1: Final = "1.3.6.1.4.1.57264.1.1"
_OID_ISSUER_V2: Final = "1.3.6.1.4.1.57264.1.8"
_OID_SOURCE_REPOSITORY_URI: Final = "1.3.6.1.4.1.57264.1.12"
_OID_BUILD_CONFIG_URI: Final = "1.3.6.1.4.1.57264.1.18"


@dataclass(frozen=True)
class Verified:
    """What a verified bundle says."""

    build_config_uri: str
    subjects: frozenset[str]


# -- the optional extra -----------------------------------------------------------------


def missing_extra_message() -> str:
    return (
        "provenance verification needs sigstore, the optional extra: "
        "pip install 'poetry-wheelmirror[verify]' "
        "(for Poetry: poetry self add 'poetry-wheelmirror[verify]')"
    )


def sigstore_available() -> bool:
    """Whether sigstore-python can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("sigstore") is not None


def require_sigstore() -> None:
    """ConfigError with the install command when the ``verify`` extra is missing."""
    if not sigstore_available():
        raise ConfigError(missing_extra_message())


class TrustRootError(ProvenanceError):
    """sigstore's trusted root cannot be loaded: nothing can be verified (not a bad bundle)."""


_VERIFIER: Any = None


def _verifier() -> Any:
    """sigstore's production Verifier with its offline trust root (made once)."""
    global _VERIFIER
    if _VERIFIER is None:
        import logging

        from sigstore.verify import Verifier

        # offline=True: the trusted root shipped with sigstore (or its TUF cache), no
        # TUF refresh; sigstore logs a warning saying so, which is expected here.
        tuf_logger = logging.getLogger("sigstore._internal.tuf")
        level = tuf_logger.level
        tuf_logger.setLevel(logging.ERROR)
        try:
            _VERIFIER = Verifier.production(offline=True)
        except Exception as e:
            msg = f"cannot load sigstore's offline trusted root: {_one_line(e)}"
            raise TrustRootError(msg) from None
        finally:
            tuf_logger.setLevel(level)
    return _VERIFIER


# -- verification -----------------------------------------------------------------------


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return (text[:300] + "...") if len(text) > 300 else (text or type(error).__name__)


def _utf8_ext(cert: Any, oid: str, *, der: bool) -> str | None:
    from cryptography.x509 import ExtensionNotFound
    from cryptography.x509 import ObjectIdentifier

    try:
        raw: bytes = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value.value
    except ExtensionNotFound:
        return None
    if der:
        # A DER UTF8String: tag 0x0C, then a short or long length.
        if len(raw) < 2 or raw[0] != 0x0C:
            return None
        length, body = raw[1], raw[2:]
        if length & 0x80:
            count = length & 0x7F
            length, body = int.from_bytes(body[:count], "big"), body[count:]
        raw = body[:length]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _check_identity(cert: Any, expected: Expected) -> str:
    """The certificate's Build Config URI, once it names the expected identity."""
    issuer = _utf8_ext(cert, _OID_ISSUER_V2, der=True) or _utf8_ext(cert, _OID_ISSUER_V1, der=False)
    if issuer != GITHUB_ISSUER:
        msg = f"signed by an identity from issuer {issuer or '(none)'}, not GitHub Actions"
        raise ProvenanceError(msg)
    uri = _utf8_ext(cert, _OID_BUILD_CONFIG_URI, der=True)
    if uri is None:  # older certificates: the SAN names the (top-level) workflow
        from cryptography.x509 import SubjectAlternativeName
        from cryptography.x509 import UniformResourceIdentifier

        try:
            san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
            uris = san.get_values_for_type(UniformResourceIdentifier)
        except Exception:
            uris = []
        uri = uris[0] if uris else ""
    if not uri.startswith(expected.prefix):
        source = _utf8_ext(cert, _OID_SOURCE_REPOSITORY_URI, der=True) or ""
        signer = uri.split("@", 1)[0] or source or "(no workflow identity)"
        msg = (
            f"signed by {signer}, not by the expected workflow"
            f" https://github.com/{expected.repository}/{expected.workflow}"
        )
        raise ProvenanceError(msg)
    return uri


def _subjects(payload: bytes) -> frozenset[str]:
    try:
        statement = json.loads(payload)
        return frozenset(
            str(s["digest"]["sha256"]).lower()
            for s in statement["subject"]
            if isinstance(s, dict) and isinstance(s.get("digest"), dict) and "sha256" in s["digest"]
        )
    except (ValueError, KeyError, TypeError):
        msg = "the signed payload is not an in-toto statement"
        raise ProvenanceError(msg) from None


def verify_bundle(bundle: bytes, sha256: str, expected: Expected) -> Verified:
    """Verify a Sigstore bundle (JSON bytes) for the file whose digest is *sha256*,
    signed by *expected*; ProvenanceError (one line) says why not."""
    if len(bundle) > MAX_BUNDLE_BYTES:
        msg = f"the bundle is {len(bundle)} bytes, over the {MAX_BUNDLE_BYTES}-byte limit"
        raise ProvenanceError(msg)
    require_sigstore()
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle

    try:
        parsed = Bundle.from_json(bundle)
    except (SigstoreError, ValueError, TypeError, KeyError) as e:
        msg = f"not a Sigstore bundle: {_one_line(e)}"
        raise ProvenanceError(msg) from None
    uri = _check_identity(parsed.signing_certificate, expected)
    verifier = _verifier()

    class _Identity:
        """sigstore's policy hook: the identity was checked above (with clearer
        messages); checked again here on the certificate sigstore verifies."""

        def verify(self, cert: Any) -> None:
            try:
                _check_identity(cert, expected)
            except ProvenanceError as e:
                raise SigstoreError(str(e)) from None

    try:
        payload_type, payload = verifier.verify_dsse(parsed, _Identity())
    except SigstoreError as e:
        msg = f"signature not verified: {_one_line(e)}"
        raise ProvenanceError(msg) from None
    except Exception as e:  # malformed parts sigstore trips over
        msg = f"signature not verified: {type(e).__name__}: {_one_line(e)}"
        raise ProvenanceError(msg) from None
    if payload_type != _DSSE_TYPE:
        msg = f"the signed payload is {payload_type}, not an in-toto statement"
        raise ProvenanceError(msg)
    subjects = _subjects(payload)
    if sha256.lower() not in subjects:
        msg = (
            f"the attestation does not name this file's sha256 {sha256}"
            f" (it names {len(subjects)} other file(s))"
        )
        raise ProvenanceError(msg)
    return Verified(build_config_uri=uri, subjects=subjects)


def verify_recorded(bundle: bytes, wheel: WheelFile, expected: Expected) -> Verified:
    """Verify the bundle fetched for *wheel*: first that it is the one the package
    document records (its sha256), then :func:`verify_bundle` for the wheel's sha256."""
    import hashlib

    if wheel.provenance is None:
        msg = f"{wheel.filename}: no provenance attestation is recorded"
        raise ProvenanceError(msg)
    digest = hashlib.sha256(bundle).hexdigest()
    if digest != wheel.provenance.sha256:
        msg = f"the bundle's sha256 {digest} is not the recorded {wheel.provenance.sha256}"
        raise ProvenanceError(msg)
    return verify_bundle(bundle, wheel.sha256, expected)


def bundle_from_pep740(attestation: Mapping[str, Any]) -> bytes:
    """A PEP 740 attestation object (as PyPI's integrity API serves them) as a
    Sigstore bundle v0.3 (JSON bytes): the same conversion as pypi-attestations'
    ``Attestation.to_bundle``, without the dependency."""
    try:
        material = attestation["verification_material"]
        envelope = attestation["envelope"]
        cert = str(material["certificate"])
        statement = str(envelope["statement"])
        signature = str(envelope["signature"])
        entries = material["transparency_entries"]
        base64.b64decode(cert, validate=True)
        base64.b64decode(statement, validate=True)
        if not isinstance(entries, list) or not entries:
            raise KeyError("transparency_entries")
    except (KeyError, TypeError, binascii.Error):
        msg = "not a PEP 740 attestation (verification_material, envelope)"
        raise ProvenanceError(msg) from None
    bundle = {
        "mediaType": _BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"certificate": {"rawBytes": cert}, "tlogEntries": [entries[0]]},
        "dsseEnvelope": {
            "payload": statement,
            "payloadType": _DSSE_TYPE,
            "signatures": [{"sig": signature}],
        },
    }
    return json.dumps(bundle, sort_keys=True).encode()


# -- the policy -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether a mirror wheel may be used under the provenance policy, and what to say."""

    use: bool
    #: A warning for the user (empty: nothing to say).
    message: str = ""
    #: Non-empty: warn only once per run for this kind of message (the first wheel).
    once: str = ""
    verified: bool = False


def check_wheel(
    wheel: WheelFile,
    policy: Policy,
    expected: Expected | None,
    fetch_bundle: Callable[[], bytes],
    *,
    label: str,
) -> Verdict:
    """Apply *policy* to *wheel* (named *label* in messages).

    ``off``: always used, nothing fetched. ``warn``: a recorded bundle is verified
    when sigstore is installed; a failed verification refuses the wheel; when it
    cannot be verified (no bundle, no extra, bundle not fetched) the wheel is used
    with a warning. ``require``: only a wheel with a verified bundle is used.
    *fetch_bundle* downloads the recorded bundle (called only when verifying).
    """
    if policy == "off":
        return Verdict(True)
    strict = policy == "require"
    tail = f"(provenance = {policy})"

    def cannot(reason: str, *, once: str = "") -> Verdict:
        if strict:  # every refusal is said: each one changes what gets installed
            return Verdict(False, f"{reason}: refusing the mirror wheel {tail}")
        return Verdict(True, f"{reason}: using the mirror wheel unverified {tail}", once=once)

    if wheel.provenance is None:
        return cannot(f"{label}: no provenance attestation is recorded", once="unattested")
    if not sigstore_available():
        return cannot(missing_extra_message(), once="extra")
    if expected is None:
        return cannot(
            "no expected repository to verify provenance against"
            f" (set provenance-repository in [tool.{TOOL_TABLE}])",
            once="expected",
        )
    try:
        bundle = fetch_bundle()
    except WheelmirrorError as e:
        return cannot(f"{label}: cannot fetch its attestation ({e})")
    try:
        verify_recorded(bundle, wheel, expected)
    except TrustRootError as e:
        return cannot(str(e), once="trust-root")
    except WheelmirrorError as e:
        return Verdict(False, f"{label}: refusing the mirror wheel: provenance not verified: {e}")
    return Verdict(True, verified=True)


def fetch_bundle(reader: MirrorReader, name: str, wheel: WheelFile) -> bytes:
    """The bundle recorded for *wheel* of package *name*, through the reader's client
    (cached, size-limited); FetchError / ProvenanceError when it cannot be had."""
    from poetry_wheelmirror.urls import join_url
    from poetry_wheelmirror.urls import link_problem

    if wheel.provenance is None:
        msg = f"{wheel.filename}: no provenance attestation is recorded"
        raise ProvenanceError(msg)
    doc_url = reader.package_url(name)
    if doc_url is None:
        msg = f"{name} is not on this mirror"
        raise ProvenanceError(msg)
    url = join_url(doc_url, wheel.provenance.url)
    # The same rule as for wheels: a remote document may not name a local file.
    problem = link_problem(doc_url, url)
    if problem:
        msg = f"attestation URL refused: {problem}"
        raise ProvenanceError(msg)
    return reader.client.get(url, max_bytes=MAX_BUNDLE_BYTES).body
