"""Repository-wide rules: comments and docs describe the code and the product, not who wrote it or when."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP = {".venv", ".git", "pantau-data", "node_modules", "pantau.egg-info"}
SUFFIXES = {".py", ".sql", ".md", ".yaml", ".yml", ".toml", ".html"}

#: phrases that tell the history of the code (who built it, in which issue) instead of what it does
HISTORY = re.compile(r"\bthe lead\b|\blead's\b|\bhelper's\b|\bCONTRACTS\.md\b|\(issue \d+|\bissue \d+\)", re.I)


def _sources() -> list[Path]:
    return [
        p
        for p in REPO.rglob("*")
        if p.suffix in SUFFIXES and p.is_file() and not SKIP.intersection(p.relative_to(REPO).parts)
    ]


@pytest.mark.parametrize("pattern", [HISTORY])
def test_comments_describe_the_code_not_its_history(pattern: re.Pattern[str]) -> None:
    this = Path(__file__).resolve()
    found = [
        f"{p.relative_to(REPO)}:{n}: {line.strip()}"
        for p in _sources()
        if p.resolve() != this
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
