from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.passthrough import PassthroughIndex
from devtools.passthrough import serve_passthrough


@pytest.fixture(scope="session")
def pypi_index() -> Iterator[PassthroughIndex]:
    """A loopback PEP 503 index passing PyPI's simple pages through (see its module)."""
    with serve_passthrough() as state:
        yield state
