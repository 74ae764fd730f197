"""devtools/mutations.py stays in step with the source: each mutation's text occurs
exactly once in its file and each named test file exists (``python -m devtools.mutate``
reports ERROR otherwise; this says so at test time, before anyone runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.mutations import MUTATIONS
from devtools.mutations import Mutation

REPO = Path(__file__).resolve().parents[2]


def test_at_least_twenty_distinct_mutations() -> None:
    ids = [m.id for m in MUTATIONS]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 20


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_mutation_applies_once(mutation: Mutation) -> None:
    text = (REPO / mutation.path).read_text()
    assert text.count(mutation.old) == 1, mutation.id
    assert mutation.old != mutation.new
    for test in mutation.tests:
        assert (REPO / test.split("::")[0]).is_file(), test
