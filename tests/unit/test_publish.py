"""Publishing building blocks: GitHub asset-name rules, the Releases client, the directory
backend, attestation bundles and document merging.

GitHub is unreachable from the machines these tests run on: the Releases client is
tested against ``devtools/fake_github.py``, a loopback fake of the REST API.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from devtools.fake_github import FakeGitHub
from devtools.fake_github import github_rename
from devtools.fake_github import serve_fake_github
from devtools.publishing import fake_bundle
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import PublishError
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror.attest import load_attestations
from poetry_wheelmirror.mirror.github import GitHubReleases
from poetry_wheelmirror.mirror.github import asset_name_problem
from poetry_wheelmirror.mirror.github import github_token
from poetry_wheelmirror.mirror.github import release_tag
from poetry_wheelmirror.mirror.publishers import DirectoryPublisher
from poetry_wheelmirror.mirror.publishers import GitHubPublisher
from poetry_wheelmirror.mirror.publishers import Upload
from poetry_wheelmirror.mirror.site import PublishedState

WHEEL = "markupsafe-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


@pytest.mark.parametrize(
    ("name", "renamed"),
    [
        (WHEEL, None),
        (WHEEL + ".metadata", None),
        (WHEEL + ".sigstore.json", None),
        ("foo-1.0+local-py3-none-any.whl", "foo-1.0.local-py3-none-any.whl"),
        ("foo-1!2.0-py3-none-any.whl", "foo-1.2.0-py3-none-any.whl"),
        ("a b.whl", "a.b.whl"),
        ("~x.whl", "x.whl"),
        (".hidden", "hidden"),
        ("trailing.", "trailing"),
    ],
)
def test_asset_names_github_keeps_or_renames(name: str, renamed: str | None) -> None:
    problem = asset_name_problem(name)
    if renamed is None:
        assert problem is None
    else:
        assert problem == f"GitHub would rename asset {name!r} to {renamed!r}"
        assert github_rename(name) == renamed  # the fake renames the same way


def test_release_tag() -> None:
    assert release_tag("markupsafe", "2.0.1") == "markupsafe-2.0.1"
    with pytest.raises(PublishError):
        release_tag("x", "1.0+local")


def test_token_comes_from_the_environment_and_is_never_shown() -> None:
    assert github_token({"GH_TOKEN": "b"}) == "b"
    assert github_token({"GITHUB_TOKEN": "a", "GH_TOKEN": "b"}) == "a"
    with pytest.raises(ConfigError, match="GITHUB_TOKEN or GH_TOKEN"):
        github_token({})
    api = GitHubReleases("o/r", "sekrit-token", api_url="http://127.0.0.1:1")
    assert "sekrit" not in repr(api)


@pytest.mark.parametrize("repo", ["o", "o/r/x", "-o/r", "o/r r"])
def test_repo_names_are_checked(repo: str) -> None:
    with pytest.raises(ConfigError):
        GitHubReleases(repo, "t", api_url="http://127.0.0.1:1")


def test_plain_http_api_is_refused_off_loopback() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        GitHubReleases("o/r", "t", api_url="http://api.example.com")


@pytest.fixture
def fake() -> FakeGitHub:
    with serve_fake_github() as state:
        yield state


def _client(fake: FakeGitHub, token: str | None = None) -> GitHubReleases:
    return GitHubReleases("o/r", token or fake.token, api_url=fake.url, server_url=fake.url)


def test_release_get_or_create_and_paginated_assets(fake: FakeGitHub, tmp_path: Path) -> None:
    api = _client(fake)
    assert api.get_release("x-1.0") is None
    release, created = api.ensure_release("x-1.0")
    assert created
    again, created_again = api.ensure_release("x-1.0")
    assert (again, created_again) == (release, False)
    names = [f"x-1.0-{i}-py3-none-any.whl" for i in range(5)]
    for i, name in enumerate(names):
        path = tmp_path / name
        path.write_bytes(b"wheel %d" % i)
        asset = api.upload_asset(release, path, name)
        assert asset.sha256 == hashlib.sha256(b"wheel %d" % i).hexdigest()
    assert fake.page_size < len(names)  # the listing spans pages
    listed = api.list_assets(release)
    assert sorted(listed) == sorted(names)
    assert api.download(listed[names[3]]) == b"wheel 3"
    assert api.download_url("x-1.0", names[0]) == f"{fake.url}/o/r/releases/download/x-1.0/{names[0]}"


def test_uploading_a_taken_name_is_refused(fake: FakeGitHub, tmp_path: Path) -> None:
    api = _client(fake)
    release, _ = api.ensure_release("x-1.0")
    path = tmp_path / "x-1.0-py3-none-any.whl"
    path.write_bytes(b"one")
    api.upload_asset(release, path, path.name)
    path.write_bytes(b"two")
    with pytest.raises(PublishError, match="refused asset"):
        api.upload_asset(release, path, path.name)
    assert fake.releases[("o/r", "x-1.0")].assets[path.name].data == b"one"


@pytest.mark.parametrize("digest", [True, False], ids=["digest", "no-digest"])
def test_an_upload_github_stored_with_other_bytes_is_an_error(
    fake: FakeGitHub, tmp_path: Path, digest: bool
) -> None:
    """After uploading, the publisher compares the digest GitHub reports with the bytes
    it sent; without a digest there is nothing to compare and the upload stands."""
    fake.damage_uploads = True
    fake.report_digest = digest
    path = tmp_path / "x-1.0-py3-none-any.whl"
    path.write_bytes(b"the wheel")
    sha = hashlib.sha256(b"the wheel").hexdigest()
    item = Upload("x", "1.0", path.name, path, sha, len(b"the wheel"))
    publisher = GitHubPublisher(_client(fake))
    if digest:
        message = f"GitHub reports sha256 [0-9a-f]{{64}} for {path.name}, not {sha}"
        with pytest.raises(PublishError, match=message):
            publisher.put(item)
    else:
        assert publisher.put(item) is True


def test_a_name_github_renamed_anyway_is_an_error(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.rename = str.upper  # a stricter GitHub than the rules above know
    api = _client(fake)
    release, _ = api.ensure_release("x-1.0")
    path = tmp_path / "x-1.0-py3-none-any.whl"
    path.write_bytes(b"one")
    with pytest.raises(PublishError, match=re.escape("stored asset 'x-1.0-py3-none-any.whl' as 'X-1.0")):
        api.upload_asset(release, path, path.name)


def test_a_bad_token_is_a_one_line_error_without_the_token(fake: FakeGitHub) -> None:
    api = _client(fake, token="wrong-token-value")
    with pytest.raises(PublishError) as info:
        api.get_release("x-1.0")
    message = str(info.value)
    assert "HTTP 401" in message
    assert "token was refused" in message
    assert "wrong-token-value" not in message
    assert "\n" not in message


def test_an_unreachable_api_is_a_one_line_error() -> None:
    api = GitHubReleases("o/r", "t", api_url="http://127.0.0.1:9", timeout=(1.0, 1.0))
    with pytest.raises(PublishError, match=re.escape("cannot reach 127.0.0.1:9")):
        api.get_release("x-1.0")


# -- directory backend ------------------------------------------------------------------


def _upload(tmp_path: Path, data: bytes, filename: str = "x-1.0-py3-none-any.whl") -> Upload:
    path = tmp_path / "src" / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Upload("x", "1.0", filename, path, hashlib.sha256(data).hexdigest(), len(data))  # type: ignore[arg-type]


def test_directory_backend_is_write_once(tmp_path: Path) -> None:
    site = tmp_path / "site"
    backend = DirectoryPublisher(site)
    item = _upload(tmp_path, b"one")
    assert backend.url_for(item) == "../files/x/x-1.0-py3-none-any.whl"
    assert backend.check([item]) == set()
    assert backend.put(item) is True
    assert backend.put(item) is False
    assert backend.check([item]) == {item.filename}
    other = _upload(tmp_path, b"two")
    with pytest.raises(PublishError, match="exists with other bytes"):
        backend.check([other])
    with pytest.raises(PublishError, match="exists with other bytes"):
        backend.put(other)
    assert (site / "files" / "x" / item.filename).read_bytes() == b"one"
    assert [p.name for p in (site / "files" / "x").iterdir()] == [item.filename]  # no temp left


def test_directory_backend_refuses_unsafe_names(tmp_path: Path) -> None:
    item = _upload(tmp_path, b"one")
    bad = Upload(item.name, item.version, "../evil.whl", item.path, item.sha256, item.size)
    with pytest.raises(PublishError, match="unsafe filename"):
        DirectoryPublisher(tmp_path / "site").put(bad)


# -- attestations -----------------------------------------------------------------------


def test_bundles_are_matched_by_subject_digest(tmp_path: Path) -> None:
    a, b, c = (hashlib.sha256(x).hexdigest() for x in (b"a", b"b", b"c"))
    one = tmp_path / "one.json"
    one.write_text(json.dumps(fake_bundle({"a.whl": a, "b.whl": b})))
    lines = tmp_path / "dir" / "attestation.jsonl"
    lines.parent.mkdir()
    lines.write_text(json.dumps(fake_bundle({"c.whl": c})) + "\n" + json.dumps(fake_bundle({})) + "\n")
    found = load_attestations([one, lines.parent])
    assert set(found) == {a, b, c}
    assert found[a] is found[b]
    assert found[a].repository == "https://github.com/o/r"
    assert found[a].workflow == ".github/workflows/build.yml@refs/heads/main"
    assert found[c].sha256 == hashlib.sha256(found[c].bundle).hexdigest()


def test_a_file_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"dsseEnvelope": {"payload": "not base64!"}}')
    with pytest.raises(PublishError, match="not a Sigstore bundle"):
        load_attestations([bad])
    with pytest.raises(PublishError, match="no such attestation"):
        load_attestations([tmp_path / "missing"])


# -- merging with what a site publishes ---------------------------------------------------


def _doc(sha: str, wheel: str = WHEEL) -> PackageDocument:
    source = SourceDist("MarkupSafe-2.0.1.tar.gz", "1" * 64, "https://x.invalid/s.tar.gz")
    entry = VersionEntry("2.0.1", source, (WheelFile(wheel, f"https://x.invalid/{wheel}", sha, 3),))
    return PackageDocument(name="markupsafe", versions={"2.0.1": entry})  # type: ignore[arg-type]


def test_merging_keeps_published_wheels_and_refuses_conflicts() -> None:
    base = PublishedState(packages={"markupsafe": _doc("a" * 64)})  # type: ignore[dict-item]
    other = "markupsafe-2.0.1-cp312-cp312-manylinux_2_17_x86_64.whl"
    merged = base.merged_with(PublishedState(packages={"markupsafe": _doc("b" * 64, other)}))  # type: ignore[dict-item]
    assert sorted(w.filename for w in merged.packages["markupsafe"].versions["2.0.1"].wheels) == sorted(
        [WHEEL, other]
    )
    same = base.merged_with(PublishedState(packages={"markupsafe": _doc("a" * 64)}))  # type: ignore[dict-item]
    assert same.packages == base.packages
    with pytest.raises(PublishError, match="refusing to overwrite"):
        base.merged_with(PublishedState(packages={"markupsafe": _doc("c" * 64)}))  # type: ignore[dict-item]
