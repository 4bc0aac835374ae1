"""PDF: WeasyPrint lays out the print document (writers.html) and writes the PDF.

WeasyPrint's default URL fetcher reads any local file and fetches http URLs;
ours only serves files inside the build's assets and the manuscript.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..diagnostics import MatbaaError
from ..files import atomic_path, write_text
from ..model import Book
from .html import copy_assets, render_print_html


def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class BookFetcher(URLFetcher):
        """Serve file: URLs inside the allowed folders; refuse everything else."""

        def __init__(self, allowed: list[Path]):
            super().__init__()
            self.allowed = [p.resolve() for p in allowed]

        def fetch(self, url, headers=None):
            from urllib.parse import unquote, urlsplit

            parts = urlsplit(url)
            if parts.scheme != "file":
                raise MatbaaError(f"refused to fetch {url}: the build reads no network resource")
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(a) for a in self.allowed):
                raise MatbaaError(f"refused to read {path}: outside the manuscript and the styles")
            return super().fetch(url, headers)

    return BookFetcher


def write_pdf(book: Book, styles: Path, build: Path) -> Path:
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    assets = copy_assets(styles, build)
    html = render_print_html(book, styles)
    # The same document that `make html` writes, so the two never diverge.
    write_text(build / f"{book.id}.html", html)
    fetcher = _fetcher_class()([assets, book.root])
    document = HTML(string=html, base_url=str(build.resolve()) + "/", url_fetcher=fetcher).render()
    target = build / f"{book.id}.pdf"
    with atomic_path(target) as tmp:
        document.write_pdf(str(tmp))
    return target
