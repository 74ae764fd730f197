"""An environment for running real pip, uv and Poetry without this machine's own settings."""

from __future__ import annotations

import os

__all__ = ["clean_env"]

_DROP_PREFIXES = ("PIP_", "UV_", "POETRY_", "WHEELMIRROR_", "VIRTUAL_ENV", "PYTHONPATH")


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without pip/uv/Poetry/wheelmirror settings (this machine sets
    PIP_FIND_LINKS, for one), plus *extra*. The CA bundle setting is kept."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES)}
    if "PIP_CERT" in os.environ:
        env["SSL_CERT_FILE"] = os.environ["PIP_CERT"]
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env.update(extra)
    return env
