"""Pure readers of lock files (poetry.lock, uv.lock, hashed requirements files) into one
model: which distributions are pinned, with which files and hashes, and under which
markers a given machine installs them."""

from __future__ import annotations
