from __future__ import annotations

import json

from packaging.utils import canonicalize_name

from poetry_wheelmirror.manifest import PackageDocument
from poetry_wheelmirror.manifest import SourceDist
from poetry_wheelmirror.manifest import VersionEntry
from poetry_wheelmirror.manifest import WheelFile
from poetry_wheelmirror.mirror.plan import make_plan
from poetry_wheelmirror.mirror.plan import matrix_json
from poetry_wheelmirror.mirror.pypi import UpstreamFile
from poetry_wheelmirror.mirror.pypi import UpstreamProject
from poetry_wheelmirror.mirror.pypi import parse_simple_json
from poetry_wheelmirror.mirror.recipes import parse_recipe

SHA = "a" * 64
NAME = canonicalize_name("demo")


def _file(filename: str, **kw: object) -> UpstreamFile:
    return UpstreamFile(
        filename=filename, url=f"https://files.example/{filename}", sha256=SHA, size=1, **kw
    )  # type: ignore[arg-type]


def _recipe(pythons: str = '["3.11", "3.12"]', platforms: str = '["linux-x86_64", "macos-arm64"]'):
    return parse_recipe(
        f'name = "demo"\nversions = ["1.0"]\npython = {pythons}\nplatforms = {platforms}\n'
    )


def _plan(files: list[UpstreamFile], mirror: PackageDocument | None = None, recipe=None):
    recipe = recipe or _recipe()
    upstream = {NAME: UpstreamProject(name=NAME, files=tuple(files))}
    return make_plan({NAME: recipe}, upstream, {NAME: mirror})


def _combos(plan) -> set[tuple[str, str]]:
    return {(m.python, m.platform) for m in plan.missing}


def test_sdist_only_means_every_combination_is_missing() -> None:
    plan = _plan([_file("demo-1.0.tar.gz")])
    assert _combos(plan) == {
        ("3.11", "linux-x86_64"),
        ("3.11", "macos-arm64"),
        ("3.12", "linux-x86_64"),
        ("3.12", "macos-arm64"),
    }
    entry = next(m for m in plan.missing if m.python == "3.11" and m.platform == "macos-arm64")
    assert (entry.runner, entry.build, entry.sdist) == (
        "macos-15",
        "cp311-macosx_arm64",
        "demo-1.0.tar.gz",
    )


def test_pypi_wheels_that_a_client_would_install_count() -> None:
    plan = _plan(
        [
            _file("demo-1.0.tar.gz"),
            _file("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            _file("demo-1.0-cp312-abi3-macosx_10_9_universal2.whl"),
            # Too new a glibc for the manylinux_2_28 client: does not count.
            _file("demo-1.0-cp312-cp312-manylinux_2_34_x86_64.whl"),
            # Yanked: does not count.
            _file("demo-1.0-cp311-cp311-macosx_11_0_arm64.whl", yanked=True),
        ]
    )
    assert _combos(plan) == {("3.11", "macos-arm64"), ("3.12", "linux-x86_64")}
    assert plan.covered == 2


def test_a_pure_wheel_covers_everything() -> None:
    plan = _plan([_file("demo-1.0.tar.gz"), _file("demo-1.0-py3-none-any.whl")])
    assert plan.missing == ()
    assert plan.covered == 4


def test_requires_python_of_wheels_and_sdist() -> None:
    plan = _plan(
        [
            _file("demo-1.0.tar.gz", requires_python=">=3.12"),
            _file("demo-1.0-py3-none-any.whl", requires_python="<3.12"),
        ]
    )
    # 3.11 is excluded by the sdist; the pure wheel does not serve 3.12.
    assert _combos(plan) == {("3.12", "linux-x86_64"), ("3.12", "macos-arm64")}


def test_mirror_wheels_count_and_missing_things_become_notes() -> None:
    source = SourceDist(filename="demo-1.0.tar.gz", sha256=SHA, url="https://x/demo-1.0.tar.gz")
    wheel = WheelFile(
        filename="demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        url="../files/demo/x.whl",
        sha256=SHA,
        size=1,
    )
    doc = PackageDocument(name=NAME, versions={"1.0": VersionEntry("1.0", source, (wheel,))})
    plan = _plan([_file("demo-1.0.tar.gz")], mirror=doc)
    assert ("3.11", "linux-x86_64") not in _combos(plan)
    assert len(plan.missing) == 3

    no_sdist = _plan([_file("demo-1.0-cp39-cp39-win_amd64.whl")])
    assert no_sdist.missing == ()
    assert [(n.version, n.reason) for n in no_sdist.notes] == [("1.0", "no sdist on PyPI")]
    unknown = make_plan({NAME: _recipe()}, {NAME: None}, {})
    assert unknown.notes[0].reason == "not on PyPI"


def test_matrix_json_is_a_github_matrix() -> None:
    matrix = matrix_json(_plan([_file("demo-1.0.tar.gz")]))
    assert list(matrix) == ["include"]
    assert len(matrix["include"]) == 4
    job = matrix["include"][0]
    assert set(job) >= {"package", "version", "python", "platform", "runner", "build"}
    assert all(isinstance(v, str) for v in job.values())
    json.dumps(matrix)


def test_parse_simple_json_reads_pep691_and_pep714_fields() -> None:
    page = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0.tar.gz",
                "url": "../../packages/demo-1.0.tar.gz",
                "hashes": {"sha256": SHA},
                "size": 10,
                "requires-python": ">=3.8",
                "yanked": "broken",
                "upload-time": "2020-01-01T00:00:00.000000Z",
            },
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "https://f/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": SHA},
                "size": 5,
                "core-metadata": {"sha256": "b" * 64},
            },
            {"filename": "demo-0.1.tar.gz", "url": "https://f/demo-0.1.tar.gz", "hashes": {}},
        ],
    }
    project = parse_simple_json(
        json.dumps(page).encode(), name="Demo", source="https://pypi.example/simple/demo/"
    )
    assert [f.filename for f in project.files] == ["demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"]
    sdist, wheel = project.files
    assert sdist.url == "https://pypi.example/packages/demo-1.0.tar.gz"
    assert (sdist.yanked, sdist.yanked_reason, sdist.requires_python) == (True, "broken", ">=3.8")
    assert wheel.core_metadata_sha256 == "b" * 64
    assert project.sdist_for("1.0") is None  # the only sdist is yanked
