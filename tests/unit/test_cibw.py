"""Recipe -> cibuildwheel options (poetry_wheelmirror.mirror.cibw) and its two CLI steps."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from poetry_wheelmirror.cli.cibw_cmd import source_date_epoch
from poetry_wheelmirror.cli.common import parse_name_or_pin
from poetry_wheelmirror.cli.main import main
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import RecipeError
from poetry_wheelmirror.mirror.cibw import CONSTRAINTS_FILE
from poetry_wheelmirror.mirror.cibw import build_identifiers
from poetry_wheelmirror.mirror.cibw import cibw_options
from poetry_wheelmirror.mirror.cibw import dnf_package_names
from poetry_wheelmirror.mirror.cibw import render_cibw_config
from poetry_wheelmirror.mirror.cibw import target_for_identifier
from poetry_wheelmirror.mirror.recipes import load_recipes
from poetry_wheelmirror.mirror.recipes import parse_recipe

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]

GRPC = """
name = "grpcio"
versions = ["1.48.2"]
python = ["3.11", "3.12"]
platforms = ["linux-x86_64", "macos-arm64"]
[build]
constraints = ["setuptools<70", "Cython<3"]
strip = true
import-check = "grpc._cython.cygrpc"
timeout-minutes = 120
before-build = ["echo hi"]
[build.env]
GRPC_PYTHON_BUILD_WITH_CYTHON = "1"
ODD = "two words; $HOME"
[build.system-packages]
linux = ["libxml2-dev", "libxslt1-dev"]
macos = ["libxml2"]
"""

PLAIN = """
name = "MarkupSafe"
versions = ["2.0.1"]
python = ["3.11"]
platforms = ["linux-aarch64"]
"""


def test_identifiers_are_python_times_targets() -> None:
    recipe = parse_recipe(GRPC)
    assert build_identifiers(recipe) == [
        "cp311-manylinux_x86_64",
        "cp312-manylinux_x86_64",
        "cp311-macosx_arm64",
        "cp312-macosx_arm64",
    ]
    assert target_for_identifier("cp312-macosx_arm64").runner == "macos-15"
    assert target_for_identifier("cp311-manylinux_aarch64").runner == "ubuntu-24.04-arm"
    with pytest.raises(RecipeError):
        target_for_identifier("cp311-win_amd64")


def test_recipe_settings_map_to_cibuildwheel_options() -> None:
    options = cibw_options(parse_recipe(GRPC))
    assert options["build"] == (
        "cp311-manylinux_x86_64 cp312-manylinux_x86_64 cp311-macosx_arm64 cp312-macosx_arm64"
    )
    assert "*-musllinux_*" in options["skip"]
    env = options["environment"]
    assert env["GRPC_PYTHON_BUILD_WITH_CYTHON"] == "1"
    # cibuildwheel reads values as shell words: a value must mean itself.
    assert env["ODD"] == "'two words; $HOME'"
    for key in ("PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT", "UV_BUILD_CONSTRAINT"):
        assert env[key] == CONSTRAINTS_FILE
    assert options["before-build"] == ["echo hi"]
    assert options["test-command"] == 'python -c "import grpc._cython.cygrpc"'
    linux, macos = options["linux"], options["macos"]
    assert linux["archs"] == ["x86_64"]
    assert macos["archs"] == ["arm64"]
    # The constraints file is written before anything installs, on both OSes.
    written = f"printf '%s\\n' 'setuptools<70' 'Cython<3' > {CONSTRAINTS_FILE}"
    assert linux["before-all"][0] == written
    assert macos["before-all"][0] == written
    assert linux["before-all"][1] == "dnf install -y libxml2-devel libxslt-devel"
    assert macos["before-all"][1] == "brew install libxml2"
    assert linux["repair-wheel-command"] == "auditwheel repair --strip -w {dest_dir} {wheel}"
    assert linux["environment-pass"] == ["SOURCE_DATE_EPOCH"]
    assert macos["environment"]["MACOSX_DEPLOYMENT_TARGET"] == "15.0"


def test_a_plain_recipe_gets_plain_options() -> None:
    options = cibw_options(parse_recipe(PLAIN))
    assert options["build"] == "cp311-manylinux_aarch64"
    assert options["environment"] == {}
    assert "macos" not in options
    assert "before-all" not in options["linux"]
    assert options["linux"]["repair-wheel-command"] == "auditwheel repair -w {dest_dir} {wheel}"
    assert options["test-command"] == 'python -c "import markupsafe"'
    assert "test-requires" not in options


def test_import_check_requires_become_test_requires() -> None:
    text = PLAIN + '\n[build]\nimport-check-requires = ["ruamel.yaml<0.18"]\n'
    options = cibw_options(parse_recipe(text))
    assert options["test-requires"] == ["ruamel.yaml<0.18"]


def test_cpython_compat_puts_the_sdists_headers_first_on_the_include_path() -> None:
    text = PLAIN + '\n[build]\ncpython-compat = true\nenv = { CFLAGS = "-O1 -g0" }\n'
    options = cibw_options(parse_recipe(text))
    assert options["environment"] == {
        "CFLAGS": "'-I_wheelmirror_compat -O1 -g0'",
        "CXXFLAGS": "-I_wheelmirror_compat",
    }


def test_dnf_names() -> None:
    assert dnf_package_names(("zlib1g-dev", "libbar-dev", "make")) == [
        "zlib-devel",
        "libbar-devel",
        "make",
    ]


def test_rendered_config_round_trips_and_is_byte_stable() -> None:
    recipe = parse_recipe(GRPC)
    text = render_cibw_config(recipe)
    assert text == render_cibw_config(recipe)
    parsed = tomllib.loads(text)["tool"]["cibuildwheel"]
    assert parsed == json.loads(json.dumps(cibw_options(recipe)))


def _cibuildwheel_schema() -> dict:
    try:
        files = resources.files("cibuildwheel") / "resources" / "cibuildwheel.schema.json"
        return json.loads(files.read_text())
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.fail("cibuildwheel is in the dev extra; install it")


def test_every_shipped_recipe_validates_against_cibuildwheels_schema() -> None:
    import jsonschema

    schema = _cibuildwheel_schema()
    recipes = load_recipes(ROOT / "recipes")
    assert {"grpcio", "grpcio-tools", "lxml", "markupsafe", "crcmod"} <= set(recipes)
    for recipe in [*recipes.values(), parse_recipe(GRPC)]:
        table = tomllib.loads(render_cibw_config(recipe))["tool"]["cibuildwheel"]
        jsonschema.validate(table, schema)
    bad = {"bogus-option": 1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize(
    ("value", "need", "expected"),
    [
        ("markupsafe==2.0.1", True, ("markupsafe", "2.0.1")),
        ("grpcio", False, ("grpcio", None)),
        ("grpcio == 1.48.2", False, ("grpcio", "1.48.2")),
    ],
)
def test_parse_pin(value: str, need: bool, expected: tuple[str, str | None]) -> None:
    assert parse_name_or_pin(value, need_version=need) == expected


@pytest.mark.parametrize(
    ("value", "need"), [("grpcio", True), ("grpcio==", False), ("../x", False)]
)
def test_parse_pin_refuses(value: str, need: bool) -> None:
    with pytest.raises(ConfigError):
        parse_name_or_pin(value, need_version=need)


def test_source_date_epoch() -> None:
    assert source_date_epoch("2021-05-18T17:18:22.000000Z") == 1621358302
    assert source_date_epoch("garbage") == 315532800
    assert source_date_epoch("1970-01-02T00:00:00Z") == 315532800


def test_cibw_config_command_writes_file_and_step_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    config = tmp_path / "sub" / "grpcio.toml"
    code = main(
        [
            "cibw-config",
            "grpcio==1.48.2",
            "--recipes",
            str(ROOT / "recipes"),
            "-o",
            str(config),
            "--github-output",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(config)
    assert "GRPC_PYTHON_BUILD_WITH_CYTHON" in config.read_text()
    assert output.read_text() == f"path={config}\ntimeout-minutes=120\n"


def test_cibw_config_refuses_a_version_the_recipe_does_not_carry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["cibw-config", "grpcio==1.0", "--recipes", str(ROOT / "recipes")])
    assert code == RecipeError.exit_code
    assert "does not carry version 1.0" in capsys.readouterr().err


def test_github_output_without_the_variable_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    code = main(
        [
            "cibw-config",
            "markupsafe",
            "--recipes",
            str(ROOT / "recipes"),
            "-o",
            str(tmp_path / "c.toml"),
            "--github-output",
        ]
    )
    assert code == ConfigError.exit_code
    assert "$GITHUB_OUTPUT is not set" in capsys.readouterr().err


# -- the sdist fetch-sdist patches for cibuildwheel (recipe build.requires) -------------


def _tiny_sdist(folder: Path, *, mtime: int = 1_600_000_000) -> Path:
    """An old-style sdist: setup.py and PKG-INFO, no pyproject.toml."""
    import io
    import tarfile

    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "oldpkg-1.0.tar.gz"
    files = {
        "oldpkg-1.0/PKG-INFO": b"Metadata-Version: 1.1\nName: oldpkg\nVersion: 1.0\n",
        "oldpkg-1.0/setup.py": b"from setuptools import setup\nsetup(name='oldpkg')\n",
        "oldpkg-1.0/src/oldpkg/__init__.py": b"",
    }
    with tarfile.open(archive, "w:gz") as tf:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            member.mtime = mtime
            member.uid, member.uname = 1000, "someone"
            tf.addfile(member, io.BytesIO(data))
    return archive


def test_patched_sdist_gets_the_recipes_requires_and_a_legacy_backend(tmp_path: Path) -> None:
    import tarfile

    from poetry_wheelmirror.mirror.sdist_patch import patch_sdist

    sdist = _tiny_sdist(tmp_path / "in")
    patched = patch_sdist(sdist, ["Cython<3"], tmp_path / "out", epoch=1_663_815_000)
    assert patched == tmp_path / "out" / "oldpkg-1.0.tar.gz"
    with tarfile.open(patched) as tf:
        members = tf.getmembers()
        names = [m.name for m in members]
        pyproject = tf.extractfile("oldpkg-1.0/pyproject.toml")
        assert pyproject is not None
        doc = tomllib.loads(pyproject.read().decode())
        setup = tf.extractfile("oldpkg-1.0/setup.py")
        assert setup is not None
        assert b"setup(name='oldpkg')" in setup.read()
    assert doc["build-system"] == {
        "requires": ["setuptools>=40.8.0", "wheel", "Cython<3"],
        "build-backend": "setuptools.build_meta:__legacy__",
    }
    assert names == sorted(names)
    assert {n.split("/")[0] for n in names} == {"oldpkg-1.0"}
    assert {"oldpkg-1.0/PKG-INFO", "oldpkg-1.0/src/oldpkg/__init__.py"} <= set(names)
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (1_663_815_000, 0, 0, "", "")
    # The original is left alone: it is the file whose sha256 PyPI lists.
    with tarfile.open(sdist) as tf:
        assert "oldpkg-1.0/pyproject.toml" not in tf.getnames()


def test_fetch_sdist_prepare_copies_the_compat_headers(tmp_path: Path) -> None:
    import tarfile

    from poetry_wheelmirror.cli.cibw_cmd import _prepare
    from poetry_wheelmirror.mirror.build.cpython_compat import COMPAT_HEADERS
    from poetry_wheelmirror.mirror.build.cpython_compat import compat_include_dir
    from poetry_wheelmirror.mirror.recipes import parse_recipe as parse
    from poetry_wheelmirror.mirror.sdist_patch import patch_sdist

    settings = parse(PLAIN + "\n[build]\ncpython-compat = true\n").build
    sdist = _tiny_sdist(tmp_path / "in")
    prepare = _prepare(settings, tmp_path, "oldpkg")
    patched = patch_sdist(sdist, [], tmp_path / "out", epoch=1_663_815_000, prepare=prepare)
    with tarfile.open(patched) as tf:
        for header in COMPAT_HEADERS:
            copied = tf.extractfile(f"oldpkg-1.0/_wheelmirror_compat/{header}")
            assert copied is not None
            assert copied.read() == (compat_include_dir() / header).read_bytes()


def test_patching_is_byte_reproducible(tmp_path: Path) -> None:
    import time

    from poetry_wheelmirror.mirror.sdist_patch import patch_sdist

    sdist = _tiny_sdist(tmp_path / "in")
    first = patch_sdist(sdist, ["Cython<3"], tmp_path / "a", epoch=1_663_815_000)
    time.sleep(1.1)  # unpacked files get new mtimes: none may reach the archive
    second = patch_sdist(sdist, ["Cython<3"], tmp_path / "b", epoch=1_663_815_000)
    assert first.read_bytes() == second.read_bytes()
    other = patch_sdist(sdist, ["Cython<3"], tmp_path / "c", epoch=1_700_000_000)
    assert other.read_bytes() != first.read_bytes()


def test_a_zip_sdist_is_repacked_as_tar_gz_and_never_over_the_original(tmp_path: Path) -> None:
    import tarfile
    import zipfile

    from poetry_wheelmirror.errors import BuildError
    from poetry_wheelmirror.mirror.sdist_patch import patch_sdist

    sdist = tmp_path / "oldpkg-1.0.zip"
    with zipfile.ZipFile(sdist, "w") as zf:
        zf.writestr("oldpkg-1.0/setup.py", "from setuptools import setup\nsetup()\n")
        zf.writestr("oldpkg-1.0/pyproject.toml", '[build-system]\nrequires = ["setuptools"]\n')
    patched = patch_sdist(sdist, ["numpy"], tmp_path / "out", epoch=315532800)
    assert patched.name == "oldpkg-1.0.tar.gz"
    with tarfile.open(patched) as tf:
        pyproject = tf.extractfile("oldpkg-1.0/pyproject.toml")
        assert pyproject is not None
        assert tomllib.loads(pyproject.read().decode())["build-system"]["requires"] == [
            "setuptools",
            "numpy",
        ]
    tar = _tiny_sdist(tmp_path / "same")
    with pytest.raises(BuildError):
        patch_sdist(tar, ["numpy"], tar.parent, epoch=315532800)


def test_collect_records_pypis_sdist_not_the_patched_copy(tmp_path: Path) -> None:
    """The CI wheel is built from fetch-sdist's patched copy; the mirror's source record
    is still the sdist PyPI lists (filename, url, sha256), which is what its hash chains to."""
    from devtools.wheels import make_wheel
    from poetry_wheelmirror.mirror.collect import collect_wheels
    from poetry_wheelmirror.mirror.pypi import UpstreamFile
    from poetry_wheelmirror.mirror.pypi import UpstreamProject
    from poetry_wheelmirror.mirror.store import MirrorStore

    pypi_sdist = UpstreamFile(
        filename="grpcio-1.48.2.tar.gz",
        url="https://files.example.invalid/grpcio-1.48.2.tar.gz",
        sha256="90e5da224c6b9b23658adf6f36de6f435ef7dbcc9c5c12330314d70d6f8de1f7",
        size=21992949,
        upload_time="2022-09-22T02:50:00.000000Z",
    )
    project = UpstreamProject(name="grpcio", files=(pypi_sdist,))  # type: ignore[arg-type]

    class Pypi:
        def project(self, name: str, *, revalidate: bool = False) -> UpstreamProject:
            return project

    wheel = make_wheel(
        tmp_path / "wheelhouse", "grpcio-1.48.2-cp311-cp311-manylinux_2_28_x86_64.whl"
    )
    store = MirrorStore(tmp_path / "mirror")
    recipes = load_recipes(ROOT / "recipes")
    collect_wheels([wheel.parent], store=store, pypi=Pypi(), recipes=recipes)  # type: ignore[arg-type]
    doc = store.package("grpcio")
    assert doc is not None
    entry = doc.entry_for("1.48.2")
    assert entry is not None
    source = entry.source
    assert (source.filename, source.sha256, source.url) == (
        pypi_sdist.filename,
        pypi_sdist.sha256,
        pypi_sdist.url,
    )
