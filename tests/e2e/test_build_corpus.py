"""The build corpus (bench/build_corpus.toml) with the shipped recipes and automatic fixes.

Measured (docs/benchmarks.md): 41 of 47 built and import-checked. The 6 others are not
fixable by building (their code does not compile or run on CPython 3.11), Rust
releases whose crates this machine cannot fetch, or an extension whose import needs a
package the wheel does not declare. This test holds that line: at least 85% built,
and every failure is classified, with a fix, and is one of those kinds, so a failure
the builder could have avoided turns it red. Takes 30-60 minutes on 2 shared cores and
installs -dev packages with the machine's package manager.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.build_corpus import load_corpus
from bench.build_corpus import run_wheelmirror

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


#: Failures that no build setting on this machine can avoid. import-needs-package: the
#: wheel built, but an extension imports a package the wheel does not declare
#: (ruamel.yaml.clib needs ruamel.yaml); only a recipe's import-check-requires can name it.
UNAVOIDABLE = {"rust-toolchain", "pyproject-rejected", "import-needs-package"}


@pytest.mark.timeout(4 * 3600)
def test_corpus_builds_all_that_can_be_built(tmp_path: Path) -> None:
    releases = load_corpus()
    assert len(releases) >= 40
    run_wheelmirror(releases, tmp_path)
    outcomes = json.loads((tmp_path / "wheelmirror.json").read_text())["outcomes"]
    assert {o["pin"] for o in outcomes} == {r.pin for r in releases}
    built = [o for o in outcomes if o["outcome"] == "built"]
    assert len(built) >= 0.85 * len(releases), [o["pin"] for o in outcomes if o not in built]
    for o in outcomes:
        if o["outcome"] == "failed":
            assert o["class"], o
            assert o["evidence"], o
            assert o["fix"], o
            assert o["not_fixable"] or o["class"] in UNAVOIDABLE, o
        else:
            assert o["outcome"] == "built", o
            assert "manylinux" in o["wheel_tag"], o
