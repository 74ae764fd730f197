"""The lock planner on the real lock files in tests/fixtures/locks, with PyPI's file lists
taken from uv.lock (which records each file's URL, sha256 and size as PyPI served it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from packaging.utils import NormalizedName
from packaging.utils import canonicalize_name
from packaging.version import Version

from poetry_wheelmirror.locks.read import read_lock_file
from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror.lockplan import as_matrix_plan
from poetry_wheelmirror.mirror.lockplan import plan_lock
from poetry_wheelmirror.mirror.plan import matrix_json
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.targets import parse_targets

LOCKS = Path(__file__).resolve().parents[1] / "fixtures" / "locks"
TARGETS = parse_targets(["linux-x86_64/3.11", "macos-arm64/3.12"])
LOCK_FILES = [
    "uv.lock",
    "requirements-uv.txt",
    "poetry/poetry.lock",
    "poetry/requirements-export.txt",
]
#: What builds from source, per target, decided from PyPI's file lists.
EXPECTED_BUILDS = {
    "linux-x86_64/3.11": {"crcmod", "markupsafe"},
    "macos-arm64/3.12": {"crcmod", "markupsafe", "msgpack"},
}


def pypi_pages() -> dict[NormalizedName, UpstreamProject]:
    data = tomllib.loads((LOCKS / "uv.lock").read_text())
    pages = {}
    for package in data["package"]:
        files = [package["sdist"], *package.get("wheels", [])] if "sdist" in package else []
        name = canonicalize_name(package["name"])
        pages[name] = UpstreamProject(
            name=name,
            files=tuple(
                UpstreamFile(
                    filename=f["url"].rsplit("/", 1)[-1],
                    url=f["url"],
                    sha256=f["hash"].removeprefix("sha256:"),
                    size=f["size"],
                )
                for f in files
            ),
        )
    return pages


def plan(path: str, pages=None, mirror=None, asked: list[str] | None = None):
    pages = pypi_pages() if pages is None else pages
    lock = read_lock_file(LOCKS / path)
    proxies = {d.source_detail for d in lock.dists if d.source == "index"}

    def upstream(name: NormalizedName, version: str) -> list[UpstreamFile] | None:
        if asked is not None:
            asked.append(name)
        page = pages.get(name)
        return None if page is None else [f for f in page.files if f.version() == Version(version)]

    return plan_lock(
        lock,
        TARGETS,
        upstream=upstream,
        mirror=lambda name: (mirror or {}).get(name),
        pypi_proxies=sorted(proxies),
    )


@pytest.mark.parametrize("path", LOCK_FILES)
def test_each_real_lock_names_what_builds_on_each_target(path: str) -> None:
    result = plan(path)
    for tp in result.targets:
        builds = {a.name for a in tp.by_answer("build")}
        assert builds == EXPECTED_BUILDS[tp.target.label], tp.target.label
        wheels = {a.name for a in tp.by_answer("pypi-wheel")}
        assert wheels == {"six", "idna", "pyyaml", "markupsafe", "crcmod", "msgpack"} - builds
        assert tp.not_installed == 1  # colorama: Windows only
    mac = result.targets[1]
    msgpack = next(a for a in mac.answers if a.name == "msgpack")
    assert msgpack.sdist is not None
    assert msgpack.sdist.filename == "msgpack-1.0.5.tar.gz"


def test_pages_are_read_only_for_pins_that_need_them() -> None:
    asked: list[str] = []
    plan("poetry/poetry.lock", asked=asked)
    # poetry.lock names every file: PyPI is asked only to confirm the sdists to build.
    assert set(asked) == {"crcmod", "markupsafe", "msgpack"}


def test_a_changed_sdist_hash_is_refused_and_the_rest_still_plan() -> None:
    pages = pypi_pages()
    crcmod = pages[canonicalize_name("crcmod")]
    (sdist,) = crcmod.files
    pages[crcmod.name] = UpstreamProject(
        name=crcmod.name, files=(UpstreamFile(**{**sdist.__dict__, "sha256": "0" * 64}),)
    )
    for path in LOCK_FILES:
        result = plan(path, pages=pages)
        for tp in result.targets:
            (refused,) = tp.by_answer("refused")
            assert refused.name == "crcmod"
            assert "\n" not in refused.detail
            assert "crcmod-1.7.tar.gz" in refused.detail
            builds = {a.name for a in tp.by_answer("build")}
            assert builds == EXPECTED_BUILDS[tp.target.label] - {"crcmod"}
        assert all(m.package != "crcmod" for m in as_matrix_plan([result]).missing)


def test_no_sdist_on_pypi_is_no_source() -> None:
    pages = pypi_pages()
    del pages[canonicalize_name("crcmod")]
    result = plan("poetry/poetry.lock", pages=pages)
    (answer,) = result.targets[0].by_answer("no-source")
    assert answer.name == "crcmod"


def test_a_mirror_wheel_counts_for_the_target_it_fits() -> None:
    wheel = WheelFile(
        filename="MarkupSafe-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        url="",
        sha256="1" * 64,
        size=1,
    )
    doc = PackageDocument(
        name=canonicalize_name("markupsafe"),
        versions={
            "2.0.1": VersionEntry(
                version="2.0.1",
                source=SourceDist(filename="MarkupSafe-2.0.1.tar.gz", sha256="2" * 64, url=""),
                wheels=(wheel,),
            )
        },
    )
    result = plan("uv.lock", mirror={doc.name: doc})
    linux, mac = result.targets
    assert [a.detail for a in linux.by_answer("mirror-wheel")] == [wheel.filename]
    assert "markupsafe" in {a.name for a in mac.by_answer("build")}


def test_matrix_has_the_recipe_planners_shape() -> None:
    matrix = matrix_json(as_matrix_plan([plan("uv.lock"), plan("poetry/poetry.lock")]))
    jobs = {(j["package"], j["python"], j["platform"]) for j in matrix["include"]}
    assert jobs == {
        ("crcmod", "3.11", "linux-x86_64"),
        ("markupsafe", "3.11", "linux-x86_64"),
        ("crcmod", "3.12", "macos-arm64"),
        ("markupsafe", "3.12", "macos-arm64"),
        ("msgpack", "3.12", "macos-arm64"),
    }
    job = next(j for j in matrix["include"] if j["package"] == "msgpack")
    assert set(job) == {
        "package",
        "version",
        "python",
        "platform",
        "runner",
        "build",
        "sdist",
        "sdist_url",
        "sdist_sha256",
    }
    assert (job["runner"], job["build"]) == ("macos-15", "cp312-macosx_arm64")


def test_pins_from_another_index_are_notes_not_plans() -> None:
    lock = read_lock_file(LOCKS / "poetry" / "poetry.lock")
    result = plan_lock(lock, TARGETS, upstream=lambda n, v: None, mirror=lambda n: None)
    assert all(tp.answers == () for tp in result.targets)
    assert any("crcmod 1.7: from index http://127.0.0.1:" in n for n in result.notes)
