"""`matbaa new DIR`: a small, complete manuscript to start from (two parts, notes, a glossary,
and every block and inline construct of docs/manuscript.md)."""
from __future__ import annotations

import shutil
from pathlib import Path

from matbaa.diagnostics import MatbaaError

HERE = Path(__file__).parent
FILES = ["book.yaml", "glossary.yaml", "chapters/01-first.md", "chapters/02-second.md",
         "chapters/images/harbour.png", "chapters/images/mark.png"]


def create(target: Path) -> None:
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise MatbaaError(f"{target} exists and is not empty; choose a new folder")
    for name in FILES:
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / name, dest)
