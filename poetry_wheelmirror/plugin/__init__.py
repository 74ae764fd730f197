"""The Poetry plugin: Poetry glue only. Poetry's private internals are reached in
poetry_internals.py only; the policy it applies lives below (settings, redirect)."""

from __future__ import annotations
