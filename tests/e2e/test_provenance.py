"""Provenance verification with a genuine Sigstore attestation (devtools/real_attestation.py):
the library, the plugin's decision point, and `wheelmirror verify`.

The attestation and the file it attests come from PyPI at test time (once per session);
verification itself is offline (sigstore-python's shipped trusted root).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import poetry_standins as standins
from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.real_attestation import PROJECT
from devtools.real_attestation import TAMPERED
from devtools.real_attestation import VERSION
from devtools.real_attestation import WHEEL
from devtools.real_attestation import RealAttestation
from devtools.real_attestation import fetch_real_attestation
from devtools.real_attestation import write_attested_mirror
from poetry_wheelmirror import provenance as pv
from poetry_wheelmirror import provenance_policy as pp
from poetry_wheelmirror.errors import ProvenanceError
from poetry_wheelmirror.settings import PluginSettings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def att() -> Iterator[RealAttestation]:
    if not pv.sigstore_available():
        pytest.skip("sigstore (the verify extra) is not installed: pip install -e '.[verify]'")
    return fetch_real_attestation()


@pytest.fixture
def right(att: RealAttestation) -> pp.Expected:
    return pp.Expected.of(att.repository, att.workflow)


def test_a_genuine_bundle_verifies_offline(att: RealAttestation, right: pp.Expected) -> None:
    verified = pv.verify_bundle(att.bundle, att.sha256, right)
    assert verified.build_config_uri == (
        "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml"
        "@refs/tags/v0.0.19"
    )
    assert att.sha256 in verified.subjects
    # The PEP 740 publish attestation of the same file verifies the same way.
    assert pv.verify_bundle(att.publish_bundle, att.sha256, right).subjects == verified.subjects
    # Warm, a verification costs milliseconds.
    start = time.perf_counter()
    for _ in range(10):
        pv.verify_bundle(att.bundle, att.sha256, right)
    assert (time.perf_counter() - start) / 10 < 0.1


def _mutate(bundle: bytes, change: Any) -> bytes:
    data = json.loads(bundle)
    change(data)
    return json.dumps(data).encode()


def _flip_signature(data: dict[str, Any]) -> None:
    sig = base64.b64decode(data["dsseEnvelope"]["signatures"][0]["sig"])
    data["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(
        sig[:-1] + bytes([sig[-1] ^ 1])
    ).decode()


def _swap_subject(data: dict[str, Any]) -> None:
    statement = json.loads(base64.b64decode(data["dsseEnvelope"]["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    data["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "wrong repository",
            "signed by https://github.com/trailofbits/pypi-attestations/.github/workflows/"
            "release.yml, not by the expected workflow https://github.com/trailofbits/"
            "rfc8785.py/.github/workflows/release.yml",
        ),
        (
            "wrong workflow",
            "not by the expected workflow https://github.com/trailofbits/pypi-attestations/"
            ".github/workflows/build.yml",
        ),
        (
            "tampered digest",
            "the attestation does not name this file's sha256 " + "f" * 64,
        ),
        ("tampered signature", "signature not verified: DSSE: invalid signature"),
        ("swapped subject", "signature not verified"),
        ("another certificate", "signature not verified"),
    ],
)
def test_verification_failures_are_one_line(
    att: RealAttestation, right: pp.Expected, case: str, message: str
) -> None:
    bundle, sha256, expected = att.bundle, att.sha256, right
    if case == "wrong repository":
        expected = pp.Expected.of("trailofbits/rfc8785.py", att.workflow)
    elif case == "wrong workflow":
        expected = pp.Expected.of(att.repository)
    elif case == "tampered digest":
        sha256 = "f" * 64  # the wheel's sha256 changed
    elif case == "tampered signature":
        bundle = _mutate(bundle, _flip_signature)
    elif case == "swapped subject":
        sha256 = "0" * 64
        bundle = _mutate(bundle, _swap_subject)
    else:
        # The publish attestation's certificate with the build attestation's envelope.
        publish = json.loads(att.publish_bundle)
        bundle = _mutate(
            bundle,
            lambda d: d.update(verificationMaterial=publish["verificationMaterial"]),
        )
    with pytest.raises(ProvenanceError) as info:
        pv.verify_bundle(bundle, sha256, expected)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


# -- the plugin's decision point, real bundle -------------------------------------------


def _decide(
    tmp_path: Path, att: RealAttestation, policy: str, wheels: tuple[str, ...], **settings: Any
) -> tuple[str, standins.IO]:
    mirror = write_attested_mirror(tmp_path / "mirror", att, wheels=wheels)
    hook, io = standins.make_hook(tmp_path, mirror.as_uri(), io=standins.IO(verbose=True))
    hook.settings = PluginSettings(
        url=mirror.as_uri(),
        url_source="env",
        provenance=policy,
        provenance_repository=settings.get("repository", att.repository),
        provenance_workflow=settings.get("workflow", att.workflow),
    )
    package = standins.Package(PROJECT, sdist_sha=att.sha256)
    package.version.text = VERSION  # an instance attribute: Version stays as it is
    sdist = f"{PROJECT.replace('-', '_')}-{VERSION}.tar.gz"
    link = hook.choose_for(package, lambda p: standins.Link(f"https://files/{sdist}"))
    return str(link.filename), io


@pytest.mark.parametrize("policy", ["warn", "require"])
def test_plugin_uses_a_verified_wheel_and_refuses_a_tampered_one(
    tmp_path: Path, att: RealAttestation, policy: str
) -> None:
    chosen, io = _decide(tmp_path / "good", att, policy, (WHEEL,))
    assert chosen == WHEEL
    assert io.err == []
    assert f"{PROJECT} {VERSION}: provenance verified ({WHEEL})" in "\n".join(io.out)

    chosen, io = _decide(tmp_path / "bad", att, policy, (TAMPERED,))
    assert chosen.endswith(".tar.gz")  # Poetry's own choice
    (warning,) = io.err
    assert f"{PROJECT} {VERSION}: refusing the mirror wheel: provenance not verified" in warning
    assert "does not name this file's sha256" in warning

    chosen, io = _decide(tmp_path / "other", att, policy, (WHEEL,), repository="o/r")
    assert chosen.endswith(".tar.gz")
    (warning,) = io.err
    assert "not by the expected workflow https://github.com/o/r/" in warning


def test_the_default_mirror_refuses_a_genuine_attestation_from_another_workflow(
    tmp_path: Path, att: RealAttestation
) -> None:
    """A hostile server at the default's address, with a real, valid attestation that
    somebody else's workflow made: the pinned identity is what refuses it, loudly."""
    from poetry_wheelmirror.config import DEFAULT_URL_ENV
    from poetry_wheelmirror.settings import load_settings

    mirror = write_attested_mirror(tmp_path / "mirror", att, wheels=(WHEEL,))
    hook, io = standins.make_hook(tmp_path, mirror.as_uri())
    environ = {DEFAULT_URL_ENV: mirror.as_uri(), "WHEELMIRROR_CONFIG": str(tmp_path / "no.toml")}
    # Whatever the project says about provenance, the default is held to the pin.
    table = {"provenance": "off", "provenance-repository": att.repository}
    hook.settings = load_settings(table, environ)
    package = standins.Package(PROJECT, sdist_sha=att.sha256)
    package.version.text = VERSION  # an instance attribute: Version stays as it is
    link = hook.choose_for(package, lambda p: standins.Link("https://files/x-1.tar.gz"))
    assert link.filename == "x-1.tar.gz"
    (warning,) = io.err
    assert "signed by https://github.com/trailofbits/pypi-attestations/" in warning
    assert (
        "not by the expected workflow"
        " https://github.com/poetry-wheelmirror/mirror/.github/workflows/build.yml" in warning
    )


def test_plugin_policy_off_fetches_no_bundle(tmp_path: Path, att: RealAttestation) -> None:
    mirror = write_attested_mirror(tmp_path / "mirror", att, wheels=(TAMPERED,))
    bundle = mirror / "files" / PROJECT / f"{WHEEL}.sigstore.json"
    bundle.unlink()  # would fail any verification or fetch
    hook, io = standins.make_hook(tmp_path, mirror.as_uri())
    package = standins.Package(PROJECT, sdist_sha=att.sha256)
    package.version.text = VERSION  # an instance attribute: Version stays as it is
    link = hook.choose_for(package, lambda p: standins.Link("https://files/x-1.tar.gz"))
    assert link.filename == TAMPERED
    assert io.err == []


# -- wheelmirror verify -----------------------------------------------------------------


def _verify(tmp_path: Path, mirror: Path, *args: str) -> tuple[int, list[str], str]:
    env = clean_env(WHEELMIRROR_CACHE_DIR=str(tmp_path / "cache"))
    result = run_wheelmirror("verify", "--mirror", str(mirror), *args, env=env, timeout=120)
    return result.returncode, result.stdout.splitlines(), result.stderr


def test_verify_command(tmp_path: Path, att: RealAttestation) -> None:
    who = ["--repository", att.repository, "--workflow", att.workflow]
    good = write_attested_mirror(tmp_path / "good", att, wheels=(WHEEL,))
    code, lines, err = _verify(tmp_path, good, f"{PROJECT}=={VERSION}", *who)
    assert code == 0, err
    assert lines == [
        f"OK         {WHEEL}: signed by https://github.com/trailofbits/pypi-attestations/"
        ".github/workflows/release.yml@refs/tags/v0.0.19"
    ]
    assert "1 wheel(s): 1 verified, 0 failed" in err

    both = write_attested_mirror(tmp_path / "both", att)
    code, lines, err = _verify(tmp_path, both, "--all", *who)
    assert code == ProvenanceError.exit_code, err
    assert lines[0].startswith(f"FAILED     {TAMPERED}: the attestation does not name")
    assert lines[1].startswith(f"OK         {WHEEL}")
    assert "2 wheel(s): 1 verified, 1 failed" in err

    code, lines, err = _verify(
        tmp_path, good, f"{PROJECT}=={VERSION}", "--repository", "o/r", "--workflow", att.workflow
    )
    assert code == ProvenanceError.exit_code
    assert lines == [
        f"FAILED     {WHEEL}: signed by https://github.com/trailofbits/pypi-attestations/"
        ".github/workflows/release.yml, not by the expected workflow "
        "https://github.com/o/r/.github/workflows/release.yml"
    ]

    code, lines, err = _verify(tmp_path, good, f"{PROJECT}=={VERSION}", "--repository", "o/r@x")
    assert code == 2
    assert "is not a GitHub repository" in err

    code, lines, err = _verify(tmp_path, good, f"{PROJECT}=={VERSION}")
    assert code == 2
    assert "use --repository" in err

    code, _, err = _verify(tmp_path, good, f"{PROJECT}==9.9", *who)
    assert code == 2
    assert f"the mirror has no build of {PROJECT} 9.9" in err


def test_verify_command_policy_for_unattested_wheels(tmp_path: Path) -> None:
    if not pv.sigstore_available():
        pytest.skip("sigstore (the verify extra) is not installed")
    mirror = standins.write_mirror(tmp_path / "mirror")
    who = ["--repository", "o/r"]
    code, lines, err = _verify(tmp_path, mirror, "markupsafe==2.0.1", *who)
    assert code == ProvenanceError.exit_code
    assert lines == [f"MISSING    {standins.WHEEL}: no provenance attestation is recorded"]
    code, lines, err = _verify(tmp_path, mirror, "markupsafe==2.0.1", *who, "--policy", "warn")
    assert code == 0, err
    assert lines == [f"UNVERIFIED {standins.WHEEL}: no provenance attestation is recorded"]
