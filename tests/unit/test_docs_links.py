"""The user docs point only at what a user has: no source-tree-only modules to run, no
design notes outside the repository, and every plugin command listed."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
USER_DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_no_source_tree_modules_or_outside_notes() -> None:
    bad = re.compile(r"python3? -m (tests|devtools)\b|from (tests|devtools)\b|DESIGN\.md|STYLE\.md")
    found = [
        f"{doc.name}:{n}: {line.strip()}"
        for doc in USER_DOCS
        for n, line in enumerate(doc.read_text().splitlines(), 1)
        if bad.search(line)
    ]
    assert found == []


def test_poetry_md_lists_every_plugin_command() -> None:
    source = (REPO / "poetry_wheelmirror" / "plugin" / "plugin.py").read_text()
    names = re.findall(r'"(wheelmirror [a-z]+)"', source)
    assert len(names) >= 4
    doc = (REPO / "docs" / "poetry.md").read_text()
    for name in names:
        assert f"`poetry {name}" in doc, name
