"""Provenance verification inside a real Poetry 2.5.1 that has the verify extra: the
plugin added as a user adds it, ``poetry self add 'poetry-wheelmirror[verify]'`` (here
the working tree's wheel with ``[verify]``, which brings sigstore into Poetry's venv).

The only file reachable here with a genuine GitHub Actions build-provenance attestation
is pypi-attestations 0.0.19's sdist (devtools/real_attestation.py; GitHub is unreachable
and PyPI's integrity API answers 404 here). The mirror lists those exact bytes as that
version's wheel, so the attestation's subject is the "wheel"'s sha256:

* verified (provenance = require): the plugin verifies the bundle offline and chooses
  the mirror wheel; Poetry downloads it and accepts its sha256; unpacking then fails,
  because the bytes are a tar.gz, not a zip. That failure, after the hash check, is
  the proof that Poetry took exactly the attested file from the mirror.
* tampered: a wheel one byte off that records the same bundle is refused before any
  download ("does not name this file's sha256"), and Poetry installs from the sdist as
  it would without the plugin.

The project's source is a loopback PyPI pass-through whose pypi-attestations page lists
the sdist only (as for a package without wheels); the lock is trimmed to that one
package (its dependencies dropped) so that each install is one package.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit

from devtools.passthrough import PassthroughIndex
from devtools.passthrough import serve_passthrough
from devtools.poetry_env import PoetryInstall
from devtools.poetry_env import ensure_plain_poetry
from devtools.poetry_env import ensure_plugin_poetry
from devtools.poetry_env import project_env
from devtools.real_attestation import FILENAME
from devtools.real_attestation import PROJECT
from devtools.real_attestation import TAMPERED
from devtools.real_attestation import VERSION
from devtools.real_attestation import WHEEL
from devtools.real_attestation import RealAttestation
from devtools.real_attestation import fetch_real_attestation
from devtools.real_attestation import write_attested_mirror

pytestmark = pytest.mark.e2e

POETRY = "2.5.1"


@pytest.fixture(scope="module")
def att() -> RealAttestation:
    return fetch_real_attestation()


@pytest.fixture(scope="module")
def index(att: RealAttestation) -> Iterator[PassthroughIndex]:
    with serve_passthrough() as state:
        status, page = state.page(PROJECT)  # PyPI's own page, through the pass-through
        assert status == 200, status
        lines = page.decode().splitlines()
        (sdist,) = [ln for ln in lines if f">{FILENAME}<" in ln]
        assert f"#sha256={att.sha256}" in sdist, sdist
        kept = [ln for ln in lines if "<a " not in ln or ln == sdist]
        state.pages[PROJECT] = (200, "\n".join(kept).encode())
        yield state


@pytest.fixture(scope="module")
def verifying_poetry(index: PassthroughIndex, plugin_wheel: Path) -> PoetryInstall:
    poetry = ensure_plugin_poetry(POETRY, plugin_wheel, index.url, extras=("verify",))
    found = subprocess.run(
        [str(poetry.python), "-c", "import sigstore, poetry_wheelmirror; print(sigstore.__version__)"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr  # the extra really is in Poetry's venv
    return poetry


def pyproject(index_url: str, mirror: Path, att: RealAttestation) -> str:
    return (
        "[project]\n"
        'name = "demo"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.11,<3.12"\n'
        f'dependencies = ["{PROJECT} (=={VERSION})"]\n\n'
        "[tool.poetry]\n"
        "package-mode = false\n\n"
        "[[tool.poetry.source]]\n"
        'name = "loopback"\n'
        f'url = "{index_url}"\n'
        'priority = "primary"\n\n'
        "[tool.poetry-wheelmirror]\n"
        f'url = "{mirror.as_uri()}"\n'
        'provenance = "require"\n'
        f'provenance-repository = "{att.repository}"\n'
        f'provenance-workflow = "{att.workflow}"\n'
    )


@pytest.fixture(scope="module")
def lock(
    index: PassthroughIndex, att: RealAttestation, tmp_path_factory: pytest.TempPathFactory
) -> bytes:
    """poetry.lock by the plain Poetry, trimmed to pypi-attestations alone."""
    work = tmp_path_factory.mktemp("lock")
    project = work / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(pyproject(index.url, work / "no-mirror", att))
    ensure_plain_poetry(POETRY).run("lock", cwd=project, env=project_env(work))
    doc = tomlkit.parse((project / "poetry.lock").read_text())
    packages = doc["package"]
    keep = [p for p in packages if p["name"] == PROJECT]
    assert [f["file"] for f in keep[0]["files"]] == [FILENAME]  # the sdist only
    assert keep[0]["files"][0]["hash"] == f"sha256:{att.sha256}"
    keep[0].pop("dependencies", None)
    packages.clear()
    packages.append(keep[0])
    return tomlkit.dumps(doc).encode()


def install(
    poetry: PoetryInstall,
    work: Path,
    index: PassthroughIndex,
    att: RealAttestation,
    lock: bytes,
    wheels: tuple[str, ...],
) -> tuple[int, str, Path]:
    mirror = write_attested_mirror(work / "mirror", att, wheels=wheels)
    project = work / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(pyproject(index.url, mirror, att))
    (project / "poetry.lock").write_bytes(lock)
    result = poetry.run("install", "-v", cwd=project, env=project_env(work), check=False)
    return result.returncode, result.stdout + result.stderr, project


def test_real_poetry_takes_the_verified_wheel(
    verifying_poetry: PoetryInstall,
    index: PassthroughIndex,
    att: RealAttestation,
    lock: bytes,
    tmp_path: Path,
) -> None:
    code, out, _ = install(verifying_poetry, tmp_path, index, att, lock, (WHEEL,))
    assert f"wheelmirror: {PROJECT} {VERSION}: provenance verified ({WHEEL})" in out, out
    assert "refusing" not in out, out
    # Poetry checked the sha256 and took the mirror's bytes: an sdist's tar.gz, so the
    # wheel installer (which reads zip files) fails after the download, not before.
    assert code != 0, out
    assert "is not a zip file" in out.lower() or "badzipfile" in out.lower(), out
    assert "not found in known hashes" not in out, out
    assert f"the mirror's wheel had been chosen for: {PROJECT} {VERSION}" in out, out


def test_real_poetry_refuses_a_tampered_attested_wheel(
    verifying_poetry: PoetryInstall,
    index: PassthroughIndex,
    att: RealAttestation,
    lock: bytes,
    tmp_path: Path,
) -> None:
    code, out, project = install(verifying_poetry, tmp_path, index, att, lock, (TAMPERED,))
    warning = (
        f"{PROJECT} {VERSION}: refusing the mirror wheel: provenance not"
        " verified: the attestation does not name this file's sha256"
    )
    assert warning in out, out
    assert "from the mirror" not in out, out
    assert code == 0, out  # installed as without the plugin: built from the sdist
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    assert (site / "pypi_attestations").is_dir()
    (info,) = site.glob("pypi_attestations-*.dist-info")
    assert "-1-" not in info.name
