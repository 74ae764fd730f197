"""Where the mirror is, and other settings shared by the CLI and the plugin."""

from __future__ import annotations

import os
from typing import Final

__all__ = ["DEFAULT_MIRROR_URL", "MIRROR_ENV", "mirror_url"]

#: The project's public mirror (GitHub Pages for documents and index, Releases for wheels).
DEFAULT_MIRROR_URL: Final = "https://poetry-wheelmirror.github.io/mirror/"
#: Environment variable naming the mirror for the client-side commands.
MIRROR_ENV: Final = "WHEELMIRROR_URL"


def mirror_url(cli_value: str | None = None) -> str:
    """The mirror base URL: ``--mirror`` first, then ``$WHEELMIRROR_URL``, then the default."""
    return cli_value or os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR_URL
