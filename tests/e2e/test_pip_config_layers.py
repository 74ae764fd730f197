"""`wheelmirror pip-config` and the other pip config files, checked with the real pip.

pip keeps, per option, only the last file's value (global < user < site). Writing
``extra-index-url`` into ``$VIRTUAL_ENV/pip.conf`` would drop the user's own extra
index: pip-config refuses and says where to add the mirror instead; the doctor reports
a hidden option the way ``pip config debug`` shows it.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from devtools.cli import run_wheelmirror
from devtools.poetry_standins import write_mirror

pytestmark = pytest.mark.e2e

CORP = "https://corp.example/simple/"


@pytest.fixture
def machine(tmp_path: Path) -> tuple[Path, Path, dict[str, str], Path]:
    home = tmp_path / "home"
    user_conf = home / ".config" / "pip" / "pip.conf"
    user_conf.parent.mkdir(parents=True)
    user_conf.write_text(f"[global]\nextra-index-url = {CORP}\n")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    env = clean_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CONFIG_DIRS=str(tmp_path / "no-system-config"),
        VIRTUAL_ENV=str(env_dir),
        WHEELMIRROR_CACHE_DIR=str(tmp_path / "cache"),
        WHEELMIRROR_CONFIG=str(tmp_path / "wm.toml"),
    )
    mirror = write_mirror(tmp_path / "mirror")
    return user_conf, env_dir, env, mirror


def pip_config(env_dir: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "config", "list"],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )
    return result.stdout


def test_pip_config_refuses_to_hide_the_users_extra_index(
    machine: tuple[Path, Path, dict[str, str], Path],
) -> None:
    user_conf, env_dir, env, mirror = machine
    before = user_conf.read_bytes()
    result = run_wheelmirror("pip-config", "--mirror", str(mirror), env=env)
    assert result.returncode == 2, result
    (line,) = result.stderr.splitlines()
    assert f"user {user_conf} sets extra-index-url = {CORP}" in line, line
    assert f"(--file {user_conf})" in line, line
    assert not (env_dir / "pip.conf").exists()
    assert user_conf.read_bytes() == before
    assert f"global.extra-index-url='{CORP}'" in pip_config(env_dir, env).splitlines()

    # Following the advice: pip now has both indexes.
    result = run_wheelmirror("pip-config", "--mirror", str(mirror), "--file", str(user_conf), env=env)
    assert result.returncode == 0, result
    listed = pip_config(env_dir, env)
    assert CORP in listed, listed
    assert f"{mirror.as_uri()}/simple/" in listed, listed


def test_a_higher_file_that_would_hide_the_mirror_is_named(
    machine: tuple[Path, Path, dict[str, str], Path],
) -> None:
    user_conf, env_dir, env, mirror = machine
    user_conf.unlink()
    (env_dir / "pip.conf").write_text(f"[global]\nextra-index-url = {CORP}\n")
    result = run_wheelmirror("pip-config", "--mirror", str(mirror), "--user", env=env)
    assert result.returncode == 2, result
    (line,) = result.stderr.splitlines()
    assert f"{env_dir / 'pip.conf'} sets extra-index-url = {CORP}, which wins over" in line, line
    assert not user_conf.exists()


def test_doctor_shows_what_pip_ignores(machine: tuple[Path, Path, dict[str, str], Path]) -> None:
    user_conf, env_dir, env, mirror = machine
    (env_dir / "pip.conf").write_text(f"[global]\nextra-index-url = {mirror.as_uri()}/simple/\n")
    # pip itself: only the site file's value is left.
    assert CORP not in pip_config(env_dir, env)
    result = run_wheelmirror(
        "doctor", "--mirror", str(mirror), "--offline", "--json", env=env, cwd=env_dir
    )
    import json

    checks = json.loads(result.stdout)["checks"]
    hidden = [c for c in checks if c["name"] == "pip" and c["status"] == "warn"]
    assert any(
        f"pip ignores extra-index-url = {CORP} from user {user_conf}" in c["detail"] for c in hidden
    ), checks
