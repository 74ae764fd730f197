"""Hypothesis profiles for the fuzz tests (tests/property/test_fuzz_*.py).

The profiles are applied per test with the :data:`FUZZ` decorator instead of being
loaded globally, so other test modules keep hypothesis' own defaults.

* ``wm-default`` (the default run): 300 examples per property, no deadline (the
  machine is shared, so per-example timing is noise);
* ``ci-long``: 5,000 examples per property;
* ``fuzz``: 50,000 examples per property, for a separate long run.

Pick one with ``WHEELMIRROR_FUZZ_PROFILE=ci-long``; ``bench/fuzz_counts.py`` runs the
fuzz modules with ``--hypothesis-show-statistics`` and prints the examples tried per
property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck
from hypothesis import settings

__all__ = ["FUZZ", "PROFILE"]

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("wm-default", max_examples=300, **_COMMON)
settings.register_profile("ci-long", max_examples=5_000, **_COMMON)
settings.register_profile("fuzz", max_examples=50_000, **_COMMON)

PROFILE = os.environ.get("WHEELMIRROR_FUZZ_PROFILE", "wm-default")
FUZZ = settings(settings.get_profile(PROFILE))
