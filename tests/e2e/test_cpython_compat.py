"""wheelmirror's CPython compatibility headers, compiled with the real compiler against
the real CPython headers of 3.10, 3.11 and 3.12 (those found on PATH or in pyenv).

tests/fixtures/compat/compat_probe.c calls C API the way C written for 3.10 does; it must
fail to compile for 3.11+ without the headers, and with them build an extension module
whose calls return what they returned on 3.10.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devtools.cleanenv import clean_env
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.mirror.build.cpython_compat import compat_include_dir
from poetry_wheelmirror.mirror.build.interpreters import find_interpreter

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
]

PROBE = Path(__file__).resolve().parents[1] / "fixtures" / "compat" / "compat_probe.c"
#: What the probe returns for b"abcd" (length, a float through the packers, the UTF-8
#: and UTF-16-BE encodings, the frame's line, the bytes shrunk through Py_SIZE); the
#: traceback module's line for a Cython-style traceback entry (a code object with no
#: instructions broke it on 3.11); the signature inspect reads from a 15-argument code.
EXPECTED = [
    "(4, 1.5, b'h\\xc3\\xa9', b'\\x00h\\x00i', 42, b'abc')",
    """['File "probe.pyx", line 42, in probe_function']""",
    "(a, b, *args, c, **kw)",
]


def _python(version: str) -> Path:
    try:
        return find_interpreter(version).executable
    except ConfigError:
        pytest.skip(f"no CPython {version} here")


def _config(python: Path, expression: str) -> str:
    argv = [str(python), "-c", f"import sysconfig; print({expression})"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def _include(python: Path) -> str:
    return _config(python, "sysconfig.get_paths()['include']")


def _suffix(python: Path) -> str:
    return _config(python, "sysconfig.get_config_var('EXT_SUFFIX')")


def _compile(python: Path, out: Path, *, compat: bool) -> subprocess.CompletedProcess[str]:
    flags = [f"-I{compat_include_dir()}"] if compat else []
    argv = ["gcc", "-shared", "-fPIC", "-Werror=implicit-function-declaration", *flags]
    argv += [f"-I{_include(python)}", str(PROBE), "-o", str(out)]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


_CHECK = """
import inspect, sys, traceback, types
sys.path.insert(0, sys.argv[1])
import compat_probe
print(compat_probe.probe(b"abcd"))
try:
    compat_probe.fail()
except ValueError:
    print([line.strip() for line in traceback.format_exc().splitlines() if "probe.pyx" in line])
print(inspect.signature(types.FunctionType(compat_probe.signature_code(), {})))
"""


def _probe(python: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(python), "-I", "-c", _CHECK, str(folder)]
    return subprocess.run(argv, env=clean_env(), capture_output=True, text=True, check=False)


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_c_for_3_10_fails_without_the_headers_and_runs_with_them(
    tmp_path: Path, version: str
) -> None:
    python = _python(version)
    module = tmp_path / f"compat_probe{_suffix(python)}"
    without = _compile(python, module, compat=False)
    assert without.returncode != 0
    # The compiler quotes names in the locale's quotation marks; the messages stay.
    for error in ("too few arguments to function", "lvalue required", "incomplete typedef"):
        assert error in without.stderr
    built = _compile(python, module, compat=True)
    assert built.returncode == 0, built.stderr
    run = _probe(python, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == EXPECTED


def test_before_3_11_the_headers_change_nothing(tmp_path: Path) -> None:
    python = _python("3.10")
    source = tmp_path / "plain.c"
    source.write_text('#include "Python.h"\n#include "frameobject.h"\n')
    outputs = []
    for flags in ([], [f"-I{compat_include_dir()}"]):
        argv = ["gcc", "-E", "-P", *flags, f"-I{_include(python)}", str(source)]
        outputs.append(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    assert outputs[0] == outputs[1]
    # ... and the probe, written for 3.10, runs the same there with the headers.
    module = tmp_path / f"compat_probe{_suffix(python)}"
    assert _compile(python, module, compat=True).returncode == 0
    run = _probe(python, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == EXPECTED


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_the_headers_compile_as_cpp(version: str) -> None:
    # msgpack, editdistance and python-snappy are C++: the shims must be valid C++ too.
    python = _python(version)
    argv = ["g++", "-fsyntax-only", "-x", "c++", f"-I{compat_include_dir()}"]
    argv += [f"-I{_include(python)}", str(PROBE)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
