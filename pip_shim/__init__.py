"""pip and uv configuration for a wheel mirror, and a routing index server."""

from __future__ import annotations

__all__: list[str] = []
