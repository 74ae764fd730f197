"""Wheel filenames of one release across platforms, Python versions and ABIs, for the
selection tests (tests/unit/test_selection.py, tests/e2e/test_select_vs_pip.py)."""

from __future__ import annotations

__all__ = ["CANDIDATES", "MS"]

MS = "MarkupSafe-2.0.1"
CANDIDATES = [
    f"{MS}-cp311-cp311-macosx_11_0_arm64.whl",
    f"{MS}-cp311-cp311-macosx_10_9_universal2.whl",
    f"{MS}-cp311-cp311-macosx_10_9_x86_64.whl",
    f"{MS}-cp311-cp311-macosx_14_0_arm64.whl",
    f"{MS}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    f"{MS}-cp311-cp311-manylinux_2_28_x86_64.whl",
    f"{MS}-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    f"{MS}-cp311-cp311-musllinux_1_1_x86_64.whl",
    f"{MS}-cp311-cp311-musllinux_1_2_aarch64.whl",
    f"{MS}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    f"{MS}-cp38-abi3-manylinux_2_17_x86_64.whl",
    f"{MS}-py3-none-any.whl",
]
