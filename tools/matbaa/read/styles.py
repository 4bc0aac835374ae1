"""The stylesheets a build uses, checked before anything is laid out.

A stylesheet may name fonts, images and other stylesheets by a path relative
to itself, inside the styles folder.  A `url()` or `@import` with a scheme
(`http:`, `https:`, `file:`; `data:` is inline and allowed), a
protocol-relative `//host/…` or an absolute path would make the print build
fetch from the network or from anywhere on disk (typeset/engine.BookFetcher
refuses those fetches) and would be copied into the EPUB as it is: D012 at the
stylesheet's line, in both editions' builds.
"""
from __future__ import annotations

import re
from pathlib import Path

from matbaa.diagnostics import Report

_REFERENCE = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)|@import\s+(['"])([^'"]*)\3""", re.I)
_LOCAL_OK = re.compile(r"^(?:data:|#)", re.I)
_NOT_LOCAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|/|\\\\)", re.I)


def check_stylesheets(styles: Path, report: Report) -> None:
    """D012 for every reference of a stylesheet in `styles`/css that is not local."""
    for css in sorted((Path(styles) / "css").glob("*.css")):
        try:
            text = css.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue                     # not ours to judge here: the layout reports an unreadable file
        for m in _REFERENCE.finditer(text):
            target = (m.group(2) if m.group(2) is not None else m.group(4) or "").strip()
            if target and not _LOCAL_OK.match(target) and _NOT_LOCAL.match(target):
                line = text.count("\n", 0, m.start()) + 1
                report.add("D012", css, line, f"'{target}' is not a file of the styles: a stylesheet may name "
                           "only files beside it (a relative path), never the network or another folder.")
