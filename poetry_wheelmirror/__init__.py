"""poetry-wheelmirror: prebuilt wheels where PyPI has only an sdist for your platform."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
