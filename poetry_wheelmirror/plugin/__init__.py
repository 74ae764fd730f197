"""The Poetry plugin: Poetry internals live in poetry_internals.py only."""

from __future__ import annotations
