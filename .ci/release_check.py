"""Build and check a release of poetry-wheelmirror: the logic behind release.yml.

Standard library only, so it runs before anything is installed, on CI and locally:

    python .ci/release_check.py build DIST            # sdist + wheel (python -m build)
    python .ci/release_check.py check DIST [--tag v0.1.0]
        # twine check --strict; the wheel holds both packages, the JSON schemas and the
        # entry points; the sdist holds the sources; the tag matches the version
    python .ci/release_check.py verify DIST --poetry 2.5.1 [--index-url URL] [--work DIR]
        # the wheel installs into a fresh venv and `wheelmirror --version` runs; a real
        # Poetry gets it by `poetry self add`, lists it in `poetry self show plugins`,
        # and every `poetry wheelmirror <action> --help` works

``--index-url`` gives ``poetry self add`` a primary source (for machines where PyPI's
JSON API is unavailable: ``poetry self add`` then needs a simple-API source). Exits
non-zero with one line naming the first problem.
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIST_NAME = "poetry_wheelmirror"
PROJECT = "poetry-wheelmirror"
#: What the wheel must carry: the one import package, the schemas, the entry points.
REQUIRED_WHEEL_FILES = (
    "poetry_wheelmirror/__init__.py",
    "poetry_wheelmirror/cli/main.py",
    "poetry_wheelmirror/plugin/plugin.py",
    "poetry_wheelmirror/schema/manifest-v1.schema.json",
)
REQUIRED_ENTRY_POINTS = {
    "console_scripts": {"wheelmirror": "poetry_wheelmirror.cli.main:main"},
    "poetry.application.plugin": {
        "wheelmirror": "poetry_wheelmirror.plugin.plugin:WheelmirrorPlugin"
    },
}
REQUIRED_SDIST_FILES = ("pyproject.toml", "README.md", "poetry_wheelmirror/__init__.py")


#: The publish action release.yml pins, by commit, and the twine and packaging versions it
#: bundles (its requirements/runtime.txt at that commit): `check` runs `twine check` with
#: exactly these, so what passes here is what the upload step accepts.
PUBLISH_ACTION = {
    "dc37677b2e1c63e2034f94d8a5b11f265b73ba33": {
        "tag": "v1.14.2",
        "twine": "7.0.0",
        "packaging": "26.2",
    },
}
_ACTION_USE = re.compile(r"pypa/gh-action-pypi-publish@([0-9a-f]{40})")


class CheckFailed(Exception):
    """A release check failed; the message is one line."""


def _run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=1800
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-15:]
        print("\n".join(tail), file=sys.stderr)
        msg = f"{' '.join(cmd)} exited {result.returncode}"
        raise CheckFailed(msg)
    return result.stdout


def _dists(dist: Path) -> tuple[Path, Path]:
    wheels = sorted(dist.glob(f"{DIST_NAME}-*.whl"))
    sdists = sorted(dist.glob(f"{DIST_NAME}-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        msg = (
            f"{dist} must hold exactly one wheel and one sdist, has {len(wheels)} and {len(sdists)}"
        )
        raise CheckFailed(msg)
    return wheels[0], sdists[0]


def build(dist: Path) -> None:
    """sdist and wheel into *dist* (emptied first) with pypa/build."""
    if dist.exists():
        shutil.rmtree(dist)
    _run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(REPO)])
    wheel, sdist = _dists(dist)
    print(f"built {sdist.name} and {wheel.name}")


def _version_of(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def _required_wheel_files() -> list[str]:
    """The fixed list plus every JSON Schema shipped in the source tree."""
    schemas = sorted((REPO / DIST_NAME / "schema").glob("*.json"))
    return [*REQUIRED_WHEEL_FILES, *(f"{DIST_NAME}/schema/{p.name}" for p in schemas)]


def publish_action_tools(workflow: Path | None = None) -> dict[str, str]:
    """The tag and bundled tool versions of the publish action release.yml pins."""
    text = (workflow or REPO / ".github" / "workflows" / "release.yml").read_text()
    pins = set(_ACTION_USE.findall(text))
    if len(pins) != 1:
        msg = f"release.yml must pin pypa/gh-action-pypi-publish by one commit, found {pins}"
        raise CheckFailed(msg)
    (sha,) = pins
    if sha not in PUBLISH_ACTION:
        msg = (
            f"release.yml pins pypa/gh-action-pypi-publish@{sha}, whose bundled twine is not"
            " recorded in PUBLISH_ACTION (.ci/release_check.py): look up its"
            " requirements/runtime.txt and add it"
        )
        raise CheckFailed(msg)
    return PUBLISH_ACTION[sha]


def check_same_twine_as_the_action() -> None:
    """Refuse to check with another twine/packaging than the publish step bundles."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version

    action = publish_action_tools()
    for tool in ("twine", "packaging"):
        try:
            have = version(tool)
        except PackageNotFoundError:
            have = "none"
        if have != action[tool]:
            msg = (
                f"{tool} {have} is installed, but the publish action {action['tag']} runs"
                f" {tool} {action[tool]}: pip install -r .ci/release-requirements.txt"
            )
            raise CheckFailed(msg)


def check(dist: Path, tag: str | None) -> None:
    """twine check (with the publish action's twine), then the contents of the wheel
    and the sdist."""
    wheel, sdist = _dists(dist)
    check_same_twine_as_the_action()
    _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)])
    version = _version_of(wheel)
    if tag is not None and tag != f"v{version}":
        msg = f"tag {tag!r} does not match the package version {version} (expected v{version})"
        raise CheckFailed(msg)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [n for n in _required_wheel_files() if n not in names]
        if missing:
            msg = f"{wheel.name} lacks {', '.join(missing)}"
            raise CheckFailed(msg)
        info = f"{DIST_NAME}-{version}.dist-info"
        parser = configparser.ConfigParser()
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(zf.read(f"{info}/entry_points.txt").decode())
        metadata = zf.read(f"{info}/METADATA").decode()
    for group, wanted in REQUIRED_ENTRY_POINTS.items():
        for name, target in wanted.items():
            found = parser.get(group, name, fallback=None)
            if found is None or found.strip() != target:
                msg = (
                    f"{wheel.name}: entry point [{group}] {name} is {found!r}, expected {target!r}"
                )
                raise CheckFailed(msg)
    if not re.search(rf"^Name: {PROJECT}$", metadata, re.MULTILINE):
        msg = f"{wheel.name}: METADATA does not name {PROJECT}"
        raise CheckFailed(msg)
    with tarfile.open(sdist) as tf:
        root = f"{DIST_NAME}-{version}/"
        members = {m.name[len(root) :] for m in tf.getmembers() if m.name.startswith(root)}
    missing = [n for n in REQUIRED_SDIST_FILES if n not in members]
    if missing:
        msg = f"{sdist.name} lacks {', '.join(missing)}"
        raise CheckFailed(msg)
    print(f"ok: {wheel.name} and {sdist.name} pass twine check and hold what they must")


def _clean_env(**extra: str) -> dict[str, str]:
    drop = ("PIP_", "UV_", "POETRY_", "WHEELMIRROR_", "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    if "PIP_CERT" in os.environ:
        env["SSL_CERT_FILE"] = os.environ["PIP_CERT"]
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def _venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / ("Scripts" if os.name == "nt" else "bin")


def verify(dist: Path, poetry_version: str, index_url: str | None, work: Path) -> None:
    """The wheel installs and runs on its own, and loads as a plugin in a real Poetry."""
    wheel, _ = _dists(dist)
    env = _clean_env()
    bin_dir = _venv(work / "plain")
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], env=env)
    out = _run([str(bin_dir / "wheelmirror"), "--version"], env=env)
    if _version_of(wheel) not in out:
        msg = f"`wheelmirror --version` printed {out.strip()!r}, not {_version_of(wheel)}"
        raise CheckFailed(msg)
    print(f"ok: {wheel.name} installs into a fresh venv: {out.strip()}")

    poetry_bin = _venv(work / "poetry")
    pip = [str(poetry_bin / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, f"poetry=={poetry_version}"], env=env)
    config = work / "poetry-config"
    config.mkdir(parents=True, exist_ok=True)
    if index_url:
        (config / "pyproject.toml").write_text(
            '[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = "index"\n'
            f'url = "{index_url}"\npriority = "primary"\n'
        )
    poetry_env = _clean_env(
        POETRY_CONFIG_DIR=str(config),
        POETRY_CACHE_DIR=str(work / "poetry-cache"),
        POETRY_DATA_DIR=str(work / "poetry-data"),
    )
    poetry = [str(poetry_bin / "poetry"), "--no-ansi", "--no-interaction"]
    _run([*poetry, "self", "add", str(wheel)], env=poetry_env, cwd=work)
    plugins = _run([*poetry, "self", "show", "plugins"], env=poetry_env, cwd=work)
    if not re.search(rf"^\s*-\s+{PROJECT}\s+\(", plugins, re.MULTILINE):
        msg = f"`poetry self show plugins` does not list {PROJECT}:\n{plugins}"
        raise CheckFailed(msg)
    # The plugin's commands are `wheelmirror <action>`: each must load and answer --help.
    listing = _run([*poetry, "list", "wheelmirror"], env=poetry_env, cwd=work)
    commands = sorted(set(re.findall(r"^\s*(wheelmirror \w[\w-]*)", listing, re.MULTILINE)))
    if not commands:
        msg = f"`poetry list wheelmirror` shows no wheelmirror commands:\n{listing}"
        raise CheckFailed(msg)
    for command in commands:
        _run([*poetry, *command.split(), "--help"], env=poetry_env, cwd=work)
    answered = ", ".join(commands)
    print(f"ok: Poetry {poetry_version} lists {PROJECT} as a plugin; {answered} answer --help")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="release_check", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p_build = sub.add_parser("build", help="build the sdist and the wheel")
    p_build.add_argument("dist", type=Path)
    p_check = sub.add_parser("check", help="twine check and inspect the distributions")
    p_check.add_argument("dist", type=Path)
    p_check.add_argument("--tag", help="the pushed tag (default: $GITHUB_REF_NAME on a tag push)")
    p_verify = sub.add_parser("verify", help="install the wheel and add it to a real Poetry")
    p_verify.add_argument("dist", type=Path)
    p_verify.add_argument("--poetry", required=True, metavar="VERSION")
    p_verify.add_argument("--index-url", help="primary source for `poetry self add`")
    p_verify.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args(argv)
    try:
        if args.step == "build":
            build(args.dist)
        elif args.step == "check":
            tag = args.tag
            if tag is None and os.environ.get("GITHUB_REF_TYPE") == "tag":
                tag = os.environ.get("GITHUB_REF_NAME")
            check(args.dist, tag)
        elif args.work is not None:
            args.work.mkdir(parents=True, exist_ok=True)
            verify(args.dist, args.poetry, args.index_url, args.work)
        else:
            with tempfile.TemporaryDirectory(prefix="release-verify-") as tmp:
                verify(args.dist, args.poetry, args.index_url, Path(tmp))
    except CheckFailed as e:
        print(f"release_check: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
