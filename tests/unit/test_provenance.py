"""provenance.py without the network: identities, settings, and the off / warn / require
policy (the real-bundle checks are in tests/e2e/test_provenance.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools import poetry_standins as standins
from poetry_wheelmirror import manifest as m
from poetry_wheelmirror import provenance as pv
from poetry_wheelmirror import provenance_policy as pp
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import FetchError
from poetry_wheelmirror.errors import ProvenanceError
from poetry_wheelmirror.settings import PluginSettings
from poetry_wheelmirror.settings import load_settings

WHEEL = m.WheelFile("a-1.0-py3-none-any.whl", "a-1.0-py3-none-any.whl", "ab" * 32, 10)
ATTESTED = m.WheelFile(
    "a-1.0-py3-none-any.whl",
    "a-1.0-py3-none-any.whl",
    "ab" * 32,
    10,
    provenance=m.Provenance("a.sigstore.json", "cd" * 32, "https://github.com/o/r", "x"),
)
EXPECTED = pp.Expected("o/r")


def test_identities_are_normalised() -> None:
    assert pp.normalize_repository("https://github.com/O/R.git/") == "O/R"
    assert (
        pp.normalize_workflow(".github/workflows/b.yaml@refs/tags/v1") == ".github/workflows/b.yaml"
    )
    assert pp.Expected.of("o/r").prefix == "https://github.com/o/r/.github/workflows/build.yml@"
    for bad in ("o", "o/r/x", "https://gitlab.com/o/r", "o r/x"):
        with pytest.raises(ConfigError, match="is not a GitHub repository"):
            pp.normalize_repository(bad)
    for bad in ("build.yml", ".github/workflows/../x.yml", ".github/workflows/x.txt"):
        with pytest.raises(ConfigError, match="is not a workflow path"):
            pp.normalize_workflow(bad)
    assert pp.repository_from_mirror_url("https://o.github.io/r/sub/") == "o/r"
    assert pp.repository_from_mirror_url("https://o.github.io.evil/r/") is None
    assert pp.repository_from_mirror_url("file:///m") is None


def test_settings() -> None:
    default = load_settings(None, {})
    assert default.provenance == "require"  # the built-in default: pinned, see config.py
    assert default.expected_repository() == "poetry-wheelmirror/mirror"
    assert default.provenance_workflow == ".github/workflows/build.yml"
    configured = load_settings({"url": "https://o.github.io/r/"}, {})
    assert configured.provenance == "off"
    assert configured.provenance_repository == ""
    assert configured.expected_repository() == "o/r"  # from the URL
    s = load_settings(
        {
            "url": "https://example.org/m/",
            "provenance": "warn",
            "provenance-repository": "https://github.com/A/B",
            "provenance-workflow": ".github/workflows/release.yml",
        },
        {},
    )
    assert (s.provenance, s.provenance_repository, s.provenance_workflow) == (
        "warn",
        "A/B",
        ".github/workflows/release.yml",
    )
    assert s.expected_repository() == "A/B"
    assert load_settings({"url": "https://example.org/m/"}, {}).expected_repository() == ""
    env = {"POETRY_WHEELMIRROR_PROVENANCE": " Require "}
    assert load_settings({"provenance": "warn"}, env).provenance == "require"
    bad: list[tuple[dict[str, Any], dict[str, str], str]] = [
        ({"provenance": "yes"}, {}, "provenance must be one of off / warn / require"),
        ({"provenance": True}, {}, "provenance must be one of"),
        ({}, {"POETRY_WHEELMIRROR_PROVENANCE": "strict"}, "'strict' is not one of"),
        ({"provenance-repository": ""}, {}, "must be a non-empty string"),
        ({"provenance-repository": "x"}, {}, "is not a GitHub repository"),
        ({"provenance-workflow": "build.yml"}, {}, "is not a workflow path"),
    ]
    for table, environ, message in bad:
        with pytest.raises(ConfigError, match=message) as info:
            load_settings(table, environ)
        assert "\n" not in str(info.value)


def test_missing_extra_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pv, "sigstore_available", lambda: False)
    with pytest.raises(ConfigError, match=r"pip install 'poetry-wheelmirror\[verify\]'"):
        pv.require_sigstore()
    with pytest.raises(ConfigError, match="needs sigstore"):
        pv.verify_bundle(b"{}", "ab" * 32, EXPECTED)


def test_the_plugin_module_does_not_import_sigstore() -> None:
    import subprocess
    import sys

    from devtools.cleanenv import clean_env

    code = (
        "import sys, poetry_wheelmirror.plugin.listener;"
        "from poetry_wheelmirror.settings import load_settings;"
        "load_settings({'provenance': 'require'}, {});"
        "import poetry_wheelmirror.provenance;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sigstore', 'cryptography')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), check=True
    )
    assert out.stdout.strip() == "[]"


# -- the policy -------------------------------------------------------------------------


class Fetch:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.error = error

    def __call__(self) -> bytes:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return b"bundle"


def run(
    monkeypatch: pytest.MonkeyPatch,
    policy: pp.Policy,
    wheel: m.WheelFile = ATTESTED,
    *,
    extra: bool = True,
    outcome: Exception | None = None,
    fetch: Fetch | None = None,
    expected: pp.Expected | None = EXPECTED,
) -> tuple[pv.Verdict, Fetch]:
    fetch = fetch or Fetch()

    def fake_verify(bundle: bytes, w: m.WheelFile, e: pp.Expected) -> pv.Verified:
        assert (bundle, w, e) == (b"bundle", wheel, expected)
        if outcome is not None:
            raise outcome
        return pv.Verified("https://github.com/o/r/.github/workflows/build.yml@x", frozenset())

    monkeypatch.setattr(pv, "sigstore_available", lambda: extra)
    monkeypatch.setattr(pv, "verify_recorded", fake_verify)
    return pv.check_wheel(wheel, policy, expected, fetch, label="a 1.0"), fetch


def test_off_never_verifies_or_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    for wheel in (WHEEL, ATTESTED):
        verdict, fetch = run(monkeypatch, "off", wheel, outcome=ProvenanceError("bad"))
        assert verdict == pv.Verdict(True)
        assert fetch.calls == 0


def test_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, fetch = run(monkeypatch, "warn")
    assert ok == pv.Verdict(True, verified=True)
    assert fetch.calls == 1
    # A failed verification refuses the wheel (Poetry installs normally).
    bad, _ = run(monkeypatch, "warn", outcome=ProvenanceError("signed by x/y, not z"))
    assert not bad.use
    assert bad.message == (
        "a 1.0: refusing the mirror wheel: provenance not verified: signed by x/y, not z"
    )
    # Cannot verify: used, with a warning said once per run (for the first wheel).
    none, fetch = run(monkeypatch, "warn", WHEEL)
    assert none.use
    assert none.message
    assert not none.verified
    assert fetch.calls == 0
    assert "no provenance attestation is recorded: using the mirror wheel unverified" in (
        none.message
    )
    missing, fetch = run(monkeypatch, "warn", extra=False)
    assert missing.use
    assert missing.once == "extra"
    assert fetch.calls == 0
    assert missing.message.startswith("provenance verification needs sigstore")
    unknown, fetch = run(monkeypatch, "warn", expected=None)
    assert unknown.use
    assert unknown.once == "expected"
    assert "set provenance-repository" in unknown.message
    no_root, _ = run(monkeypatch, "warn", outcome=pv.TrustRootError("cannot load"))
    assert no_root.use
    assert no_root.once == "trust-root"
    unfetched, _ = run(monkeypatch, "warn", fetch=Fetch(FetchError("HTTP 404")))
    assert unfetched.use
    assert "cannot fetch its attestation (HTTP 404)" in unfetched.message


def test_require(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, _ = run(monkeypatch, "require")
    assert ok == pv.Verdict(True, verified=True)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"wheel": WHEEL}, "no provenance attestation is recorded: refusing"),
        ({"extra": False}, "needs sigstore"),
        ({"expected": None}, "no expected repository"),
        ({"fetch": Fetch(FetchError("HTTP 404"))}, "cannot fetch its attestation"),
        ({"outcome": ProvenanceError("the attestation does not name")}, "not verified"),
        ({"outcome": pv.TrustRootError("cannot load sigstore's")}, "cannot load sigstore's"),
    ]
    for kwargs, text in cases:
        verdict, _ = run(monkeypatch, "require", **kwargs)
        assert not verdict.use, kwargs
        assert text in verdict.message
        assert "\n" not in verdict.message


def test_recorded_bundle_digest_is_checked_first() -> None:
    with pytest.raises(ProvenanceError, match="is not the recorded"):
        pv.verify_recorded(b"other bytes", ATTESTED, EXPECTED)
    with pytest.raises(ProvenanceError, match="no provenance attestation is recorded"):
        pv.verify_recorded(b"", WHEEL, EXPECTED)


def test_malformed_bundles_fail_in_one_line() -> None:
    if not pv.sigstore_available():
        pytest.skip("sigstore (the verify extra) is not installed")
    for bundle in (b"", b"{", b"{}", b'{"mediaType": "x"}', b"x" * (pv.MAX_BUNDLE_BYTES + 1)):
        with pytest.raises(ProvenanceError) as info:
            pv.verify_bundle(bundle, "ab" * 32, EXPECTED)
        assert "\n" not in str(info.value)
    with pytest.raises(ProvenanceError, match="not a PEP 740 attestation"):
        pv.bundle_from_pep740({"envelope": {}})


# -- the plugin's decision point --------------------------------------------------------


def hook_for(tmp_path: Path, mirror: Path, policy: str) -> tuple[Any, standins.IO]:
    hook, io = standins.make_hook(tmp_path, mirror.as_uri())
    hook.settings = PluginSettings(url=mirror.as_uri(), url_source="env", provenance=policy)
    return hook, io


def test_plugin_policies_on_an_unattested_mirror_wheel(tmp_path: Path) -> None:
    mirror = standins.write_mirror(tmp_path / "mirror")
    # off: used, no warning.
    hook, io = hook_for(tmp_path, mirror, "off")
    assert hook.choose_for(standins.Package(), standins.sdist_choice).filename == standins.WHEEL
    assert io.err == []
    # warn: used, one warning however often asked.
    hook, io = hook_for(tmp_path, mirror, "warn")
    for _ in range(2):
        assert hook.choose_for(standins.Package(), standins.sdist_choice).filename == standins.WHEEL
    (warning,) = io.err
    assert "no provenance attestation is recorded: using the mirror wheel unverified" in warning
    # require: Poetry's own choice, with a warning.
    hook, io = hook_for(tmp_path, mirror, "require")
    package = standins.Package()
    files = package.files
    assert hook.choose_for(package, standins.sdist_choice).filename == standins.SDIST
    assert package.files is files  # nothing patched
    (warning,) = io.err
    assert "no provenance attestation is recorded: refusing the mirror wheel" in warning
    assert "installing as without the plugin" in warning


def test_plugin_warns_once_for_every_unattested_wheel(tmp_path: Path) -> None:
    from poetry_wheelmirror.redirect import Decision

    mirror = standins.write_mirror(tmp_path / "mirror")
    hook, io = hook_for(tmp_path, mirror, "warn")
    hook.io.verbose = True
    for name in ("a", "b"):
        decision = hook._check_provenance(name, "1.0", Decision(True, "x", wheel=WHEEL))
        assert decision.use_mirror
    (warning,) = io.err
    assert "a 1.0: no provenance attestation is recorded: using the mirror wheel" in warning
    assert any("b 1.0: no provenance attestation is recorded" in line for line in io.out)
    # require names every refusal.
    hook, io = hook_for(tmp_path, mirror, "require")
    for name in ("a", "b"):
        decision = hook._check_provenance(name, "1.0", Decision(True, "x", wheel=WHEEL))
        assert not decision.use_mirror
        assert decision.warn


class _RemoteReader:
    """The two things fetch_bundle asks of a MirrorReader, for a remote mirror."""

    def __init__(self) -> None:
        self.fetched: list[str] = []
        self.client = self

    def package_url(self, name: str) -> str:
        return f"https://mirror.example/packages/{name}.json"

    def get(self, url: str, **_: Any) -> Any:
        self.fetched.append(url)
        raise AssertionError("a remote document's file: bundle URL must not be read")


def test_remote_document_cannot_name_a_local_bundle() -> None:
    # issue 12: the same link rule as for wheels and documents applies to bundles.
    wheel = m.WheelFile(
        filename=WHEEL.filename,
        url=WHEEL.url,
        sha256=WHEEL.sha256,
        size=WHEEL.size,
        provenance=m.Provenance("file:///dev/zero", "cd" * 32),
    )
    reader = _RemoteReader()
    with pytest.raises(ProvenanceError, match="may not name a local file"):
        pv.fetch_bundle(reader, "markupsafe", wheel)  # type: ignore[arg-type]
    assert reader.fetched == []
