"""Where matbaa's own files are: the styles (templates, CSS, fonts, hyphenation
patterns, labels, CSL styles).

`styles/` stands at the repository's top level, where designers look for it;
the wheel carries it as package data (`matbaa/styles`, see pyproject.toml), found
here through importlib.resources.  A source checkout (an editable install) has
no copy inside the package and uses the repository's folder.  `--styles DIR`
(build.py's `styles` argument) overrides both.
"""
from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path


@functools.cache
def default_styles() -> Path:
    packaged = resources.files("matbaa") / "styles"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "styles"
