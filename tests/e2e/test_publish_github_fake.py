"""``wheelmirror publish --to github`` against a FAKE GitHub.

GitHub is unreachable from the machines these tests run on, so the GitHub Releases
backend is tested against ``devtools/fake_github.py``: a loopback fake of the
Releases REST API (releases by tag, paginated asset lists, uploads with ``?name=``,
GitHub's renaming of asset names, ``releases/download/TAG/FILE`` answering 302 to a CDN
path). What these tests prove is our side of that protocol; GitHub's real behaviour is
as documented and as the fake models it.

The source mirror is a real MarkupSafe 2.0.1 build; real pip installs it through the
static index written for GitHub Pages, downloading the wheel from the fake's release URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.fake_github import FakeAsset
from devtools.fake_github import FakeGitHub
from devtools.fake_github import FakeRelease
from devtools.fake_github import serve_fake_github
from devtools.publishing import build_markupsafe
from devtools.publishing import fake_bundle
from devtools.publishing import make_source_mirror
from devtools.publishing import tree_state

pytestmark = pytest.mark.e2e

TOKEN = "ghs_e2eSecretToken0123456789"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_markupsafe(tmp_path_factory.mktemp("publish-gh"))


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve_fake_github(TOKEN) as state:
        yield state


def publish(fake: FakeGitHub, mirror: Path, pages: Path, *extra: str, token: str = TOKEN):
    return run_wheelmirror(
        "publish", "--mirror", str(mirror), "--to", "github", "--repo", "o/r",
        "--pages-dir", str(pages), "--api-url", fake.url, "--server-url", fake.url, *extra,
        env=clean_env(GITHUB_TOKEN=token),
    )


def _wheel(source: Path) -> Path:
    return next((source / "files" / "markupsafe").glob("*.whl"))


def _doc(pages: Path, name: str = "markupsafe") -> dict:
    return json.loads((pages / "packages" / f"{name}.json").read_text())


def test_publish_uploads_assets_and_writes_pages(fake: FakeGitHub, source: Path, tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    result = publish(fake, source, pages)
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    wheel = _wheel(source)
    release = fake.releases[("o/r", "markupsafe-2.0.1")]
    assert sorted(release.assets) == [wheel.name, wheel.name + ".metadata"]
    assert release.assets[wheel.name].data == wheel.read_bytes()
    [listed] = _doc(pages)["versions"]["2.0.1"]["wheels"]
    assert listed["url"] == f"{fake.url}/o/r/releases/download/markupsafe-2.0.1/{wheel.name}"
    assert not (pages / "files").exists()  # wheels live on Releases, not on Pages
    check = run_wheelmirror("manifest", "check", str(pages))
    assert check.returncode == 0, check.stderr
    assert "1 package(s), 1 version(s), 1 wheel(s)" in check.stdout


def test_pip_installs_through_the_pages_index_from_release_urls(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    assert publish(fake, source, pages).returncode == 0
    fake.log.clear()
    target = tmp_path / "target"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary", ":all:",
         "--no-cache-dir", "--index-url", (pages / "simple").as_uri() + "/",
         "--target", str(target), "markupsafe==2.0.1"],
        env=clean_env(PIP_CONFIG_FILE=os.devnull),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((target / "markupsafe").glob("_speedups*.so"))
    wheel = _wheel(source)
    assert ("GET", f"/o/r/releases/download/markupsafe-2.0.1/{wheel.name}") in fake.log
    assert ("GET", f"/cdn/{fake.releases[('o/r', 'markupsafe-2.0.1')].assets[wheel.name].id}") in fake.log
    # pip read the PEP 658 metadata from its own release asset before the wheel.
    metadata = f"/o/r/releases/download/markupsafe-2.0.1/{wheel.name}.metadata"
    assert ("GET", metadata) in fake.log
    assert "metadata" in result.stdout


@pytest.mark.parametrize("digest", [True, False], ids=["digest", "no-digest"])
def test_publishing_again_is_a_no_op(
    fake: FakeGitHub, source: Path, tmp_path: Path, digest: bool
) -> None:
    pages = tmp_path / "pages"
    assert publish(fake, source, pages).returncode == 0
    writes, before = list(fake.writes()), tree_state(pages)
    fake.report_digest = digest  # without a digest the publisher compares the bytes
    result = publish(fake, source, pages)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("published 0 file(s), 2 already present")
    assert fake.writes() == writes
    assert tree_state(pages) == before
    downloads = [p for m, p in fake.log if m == "GET" and p.startswith("/cdn/")]
    assert bool(downloads) is not digest  # bytes fetched only when GitHub gives no digest


def test_a_conflicting_asset_is_refused_before_anything_is_uploaded(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    wheel = _wheel(source)
    release = FakeRelease(id=fake.new_id(), tag="markupsafe-2.0.1", name="seeded")
    release.assets[wheel.name] = FakeAsset(id=fake.new_id(), name=wheel.name, data=b"other")
    fake.releases[("o/r", release.tag)] = release
    pages = tmp_path / "pages"
    result = publish(fake, source, pages)
    assert result.returncode == 8, result.stderr
    assert "already has" in result.stderr
    assert "refusing to overwrite" in result.stderr
    # No published document lists it: an orphan of a run that never deployed; say so.
    assert "no published document lists it" in result.stderr
    assert fake.writes() == []
    assert release.assets[wheel.name].data == b"other"
    assert not (pages / "manifest.json").exists()


@pytest.mark.parametrize("digest", [True, False], ids=["digest", "no-digest"])
def test_a_same_size_asset_with_other_bytes_is_refused(
    fake: FakeGitHub, source: Path, tmp_path: Path, digest: bool
) -> None:
    """The size matches, so only the sha256 comparison can tell the assets apart: from
    GitHub's ``digest`` field when it reports one, else from the bytes it serves."""
    wheel = _wheel(source)
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped: same size, other sha256
    release = FakeRelease(id=fake.new_id(), tag="markupsafe-2.0.1", name="seeded")
    release.assets[wheel.name] = FakeAsset(id=fake.new_id(), name=wheel.name, data=bytes(data))
    fake.releases[("o/r", release.tag)] = release
    fake.report_digest = digest
    pages = tmp_path / "pages"
    result = publish(fake, source, pages)
    assert result.returncode == 8, result.stdout + result.stderr
    assert f"already has {wheel.name} with other bytes" in result.stderr
    assert "refusing to overwrite" in result.stderr
    assert fake.writes() == []
    assert release.assets[wheel.name].data == bytes(data)
    assert not (pages / "manifest.json").exists()
    downloads = [p for m, p in fake.log if m == "GET" and p.startswith("/cdn/")]
    assert bool(downloads) is not digest  # the bytes are fetched only without a digest


def test_a_name_github_would_rename_is_refused(fake: FakeGitHub, tmp_path: Path) -> None:
    mirror = make_source_mirror(tmp_path / "m", ["demo-1.0+local-py3-none-any.whl"])
    result = publish(fake, mirror.path, tmp_path / "pages")
    assert result.returncode == 8, result.stderr
    assert "GitHub would rename asset 'demo-1.0+local-py3-none-any.whl'" in result.stderr
    assert fake.writes() == []


def test_a_bad_token_fails_in_one_line_without_printing_it(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    result = publish(fake, source, tmp_path / "pages", token="ghs_wrongwrongwrong")
    assert result.returncode == 8
    assert "HTTP 401" in result.stderr
    assert "ghs_wrongwrongwrong" not in result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_no_token_is_a_config_error(fake: FakeGitHub, source: Path, tmp_path: Path) -> None:
    result = publish(fake, source, tmp_path / "pages", token="")
    assert result.returncode == 2
    assert "GITHUB_TOKEN or GH_TOKEN" in result.stderr


def test_attestations_are_published_and_recorded(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    wheel = _wheel(source)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    bundle = tmp_path / "attestation.jsonl"
    bundle.write_text(json.dumps(fake_bundle({wheel.name: digest})) + "\n")
    pages = tmp_path / "pages"
    result = publish(fake, source, pages, "--attestations", str(bundle))
    assert result.returncode == 0, result.stderr
    assert "1 with provenance" in result.stdout
    [listed] = _doc(pages)["versions"]["2.0.1"]["wheels"]
    provenance = listed["provenance"]
    name = wheel.name + ".sigstore.json"
    assert provenance["url"] == f"{fake.url}/o/r/releases/download/markupsafe-2.0.1/{name}"
    assert provenance["repository"] == "https://github.com/o/r"
    assert provenance["workflow"] == ".github/workflows/build.yml@refs/heads/main"
    stored = fake.releases[("o/r", "markupsafe-2.0.1")].assets[name].data
    assert hashlib.sha256(stored).hexdigest() == provenance["sha256"]
    assert json.loads(stored)["dsseEnvelope"]
    assert run_wheelmirror("manifest", "check", str(pages)).returncode == 0
    # A later run with a fresh bundle for the same wheel keeps what was published.
    writes = list(fake.writes())
    bundle.write_text(json.dumps(fake_bundle({wheel.name: digest}, repository="o/other")) + "\n")
    again = publish(fake, source, pages, "--attestations", str(bundle))
    assert again.returncode == 0, again.stderr
    assert fake.writes() == writes
    assert _doc(pages)["versions"]["2.0.1"]["wheels"][0]["provenance"] == provenance


def test_merge_from_the_published_site_keeps_its_wheels(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    first = tmp_path / "pages1"
    assert publish(fake, source, first).returncode == 0
    other = make_source_mirror(tmp_path / "other", ["demo-1.0-py3-none-any.whl"])
    second = tmp_path / "pages2"  # a fresh Pages artifact, as on every CI run
    result = publish(fake, other.path, second, "--merge-from", first.as_uri() + "/")
    assert result.returncode == 0, result.stderr
    check = run_wheelmirror("manifest", "check", str(second))
    assert check.returncode == 0, check.stderr
    assert "2 package(s), 2 version(s), 2 wheel(s)" in check.stdout
    assert _doc(second)["versions"] == _doc(first)["versions"]
    assert (second / "upstream" / "markupsafe.json").is_file()  # PyPI's files stay listed


def test_merge_from_a_site_without_manifest_needs_allow_new(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    empty = (tmp_path / "empty").as_uri() + "/"
    refused = publish(fake, source, tmp_path / "pages", "--merge-from", empty)
    assert refused.returncode == 2
    assert "pass --allow-new" in refused.stderr
    assert fake.writes() == []
    allowed = publish(fake, source, tmp_path / "pages", "--merge-from", empty, "--allow-new")
    assert allowed.returncode == 0, allowed.stderr


def test_an_interrupted_upload_is_replaced(fake: FakeGitHub, source: Path, tmp_path: Path) -> None:
    """GitHub leaves a failed upload as an asset in state "starter": never served, so it
    is deleted and uploaded again (the only delete the publisher ever does)."""
    wheel = _wheel(source)
    release = FakeRelease(id=fake.new_id(), tag="markupsafe-2.0.1", name="seeded")
    broken = FakeAsset(id=fake.new_id(), name=wheel.name, data=b"half", state="starter")
    release.assets[wheel.name] = broken
    fake.releases[("o/r", release.tag)] = release
    result = publish(fake, source, tmp_path / "pages")
    assert result.returncode == 0, result.stderr
    assert release.assets[wheel.name].data == wheel.read_bytes()
    assert ("DELETE", f"/repos/o/r/releases/assets/{broken.id}") in fake.writes()


def test_a_dry_run_checks_everything_and_changes_nothing(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    result = publish(fake, source, pages, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("dry run: would publish 2 file(s) (0 already present)")
    assert "would write manifest.json" in result.stderr
    assert fake.writes() == []
    assert not pages.exists()
    # It still finds a conflict.
    wheel = _wheel(source)
    release = FakeRelease(id=fake.new_id(), tag="markupsafe-2.0.1", name="seeded")
    release.assets[wheel.name] = FakeAsset(id=fake.new_id(), name=wheel.name, data=b"other")
    fake.releases[("o/r", release.tag)] = release
    assert publish(fake, source, pages, "--dry-run").returncode == 8


def test_releases_are_drafts_until_their_assets_are_uploaded(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    """GitHub's "immutable releases": a published release takes no new assets, so a new
    release is created as a draft, filled, then published."""
    fake.immutable_releases = True
    pages = tmp_path / "pages"
    result = publish(fake, source, pages)
    assert result.returncode == 0, result.stderr
    release = fake.releases[("o/r", "markupsafe-2.0.1")]
    assert not release.draft
    wheel = _wheel(source)
    assert release.assets[wheel.name].data == wheel.read_bytes()
    writes = [m for m, p in fake.writes() if "/releases" in p]
    assert writes[0] == "POST"  # created (as a draft) ...
    assert writes[-1] == "PATCH"  # ... and published after the uploads
    # Publishing again changes nothing, immutable or not.
    assert publish(fake, source, pages).returncode == 0
    assert [m for m, _ in fake.writes()].count("PATCH") == 1


def test_a_draft_left_by_an_unfinished_run_is_reused(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    wheel = _wheel(source)
    draft = FakeRelease(id=fake.new_id(), tag="markupsafe-2.0.1", name="left", draft=True)
    draft.assets[wheel.name] = FakeAsset(id=fake.new_id(), name=wheel.name, data=wheel.read_bytes())
    fake.releases[("o/r", draft.tag)] = draft
    fake.immutable_releases = True
    result = publish(fake, source, tmp_path / "pages")
    assert result.returncode == 0, result.stderr
    assert fake.releases[("o/r", draft.tag)] is draft
    assert not draft.draft
    assert sorted(draft.assets) == [wheel.name, wheel.name + ".metadata"]


def test_adding_to_an_immutable_published_release_says_what_to_change(
    fake: FakeGitHub, source: Path, tmp_path: Path
) -> None:
    wheel = _wheel(source)
    published = FakeRelease(id=fake.new_id(), tag="markupsafe-2.0.1", name="old")
    published.assets[wheel.name] = FakeAsset(id=fake.new_id(), name=wheel.name, data=wheel.read_bytes())
    fake.releases[("o/r", published.tag)] = published
    fake.immutable_releases = True
    result = publish(fake, source, tmp_path / "pages")
    assert result.returncode == 8, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if "error" in x]
    assert "release markupsafe-2.0.1 is published and the repository has immutable releases" in line
    assert "turn off 'Immutable releases' (Settings > General > Releases)" in line
    assert sorted(published.assets) == [wheel.name]
