"""Mirror side: recipes, planning, building, publishing and the static index."""

from __future__ import annotations
