"""Installing system packages with dnf, apk and Homebrew.

This build machine is Debian: apt runs for real in the build tests, but dnf, apk, rpm and
brew do not exist here. So these tests put small stand-in executables on PATH that
record their argv and answer "installed" only for the packages listed in a file; they
check which manager is chosen, which packages count as missing, what command runs, and
the refusal without root.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from poetry_wheelmirror.mirror.build import sysdeps
from poetry_wheelmirror.mirror.build.job import StepFailed
from poetry_wheelmirror.mirror.build.job import StepLog

# Query tools exit 0 for an installed package (one listed in $INSTALLED), 1 otherwise;
# installers succeed. Every call is appended to $CALLS.
_STANDIN = """#!/bin/sh
echo "$(basename "$0") $*" >> "$CALLS"
case "$(basename "$0")" in
  rpm) last=$(eval echo \\${$#}); grep -qx "$last" "$INSTALLED" ;;
  apk) if [ "$1" = info ]; then grep -qx "$3" "$INSTALLED"; fi ;;
  brew) if [ "$1" = list ]; then grep -qx "$3" "$INSTALLED"; fi ;;
esac
"""


@pytest.fixture
def standins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    calls.touch()
    installed = tmp_path / "installed"
    installed.write_text("libxml2-devel\nlibxml2-dev\nlibxml2\n")
    monkeypatch.setenv("CALLS", str(calls))
    monkeypatch.setenv("INSTALLED", str(installed))
    # Only the stand-ins and what they use: no apt-get or dpkg-query from the host.
    basics = tmp_path / "basics"
    basics.mkdir()
    for tool in ("sh", "grep", "basename"):
        found = shutil.which(tool)
        assert found is not None, tool
        (basics / tool).symlink_to(found)
    monkeypatch.setenv("PATH", f"{bin_dir}:{basics}")
    return bin_dir


def _add(bin_dir: Path, *names: str) -> None:
    for name in names:
        path = bin_dir / name
        path.write_text(_STANDIN)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _calls() -> list[str]:
    return Path(os.environ["CALLS"]).read_text().splitlines()


def _log(tmp_path: Path) -> StepLog:
    return StepLog(tmp_path / "build.log", "pkg", lambda _line: None)


@pytest.mark.parametrize(
    ("tools", "manager"),
    [(("dnf", "rpm"), "dnf"), (("yum", "rpm"), "dnf"), (("apk",), "apk"), (("brew",), "brew")],
)
def test_the_machines_package_manager_is_found(
    standins: Path, tools: tuple[str, ...], manager: str
) -> None:
    _add(standins, *tools)
    assert sysdeps.package_manager() == manager


def test_no_package_manager(standins: Path) -> None:
    assert sysdeps.package_manager() is None


@pytest.mark.parametrize(
    ("tools", "manager", "wanted", "command"),
    [
        (("dnf", "rpm"), "dnf", ["libxml2-devel", "libxslt-devel"], "dnf install -y libxslt-devel"),
        (("apk",), "apk", ["libxml2-dev", "libxslt-dev"], "apk add --no-cache libxslt-dev"),
        (("brew",), "brew", ["libxml2", "libxslt"], "brew install libxslt"),
    ],
)
def test_only_missing_packages_are_installed(
    standins: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tools: tuple[str, ...],
    manager: str,
    wanted: list[str],
    command: str,
) -> None:
    _add(standins, *tools)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert sysdeps.missing_packages(manager, wanted) == wanted[1:]
    sysdeps.install_system_packages(
        manager, wanted, log=_log(tmp_path), env=dict(os.environ), cwd=tmp_path
    )
    installs = [c for c in _calls() if " install " in f" {c} " or c.startswith("apk add")]
    assert installs == [command]


def test_nothing_runs_when_everything_is_installed(
    standins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(standins, "dnf", "rpm")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    sysdeps.install_system_packages(
        "dnf", ["libxml2-devel"], log=_log(tmp_path), env=dict(os.environ), cwd=tmp_path
    )
    assert [c for c in _calls() if c.startswith("dnf")] == []


def test_without_root_dnf_is_refused_with_the_command_to_run(
    standins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(standins, "dnf", "rpm")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(StepFailed, match=r"needs root: run `\S*dnf install -y libpq-devel`"):
        sysdeps.install_system_packages(
            "dnf", ["libpq-devel"], log=_log(tmp_path), env=dict(os.environ), cwd=tmp_path
        )
    assert [c for c in _calls() if c.startswith("dnf")] == []


def test_homebrew_installs_without_root(
    standins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(standins, "brew")
    monkeypatch.setattr(os, "geteuid", lambda: 501)
    sysdeps.install_system_packages(
        "brew", ["libpq"], log=_log(tmp_path), env=dict(os.environ), cwd=tmp_path
    )
    assert "brew install libpq" in _calls()
