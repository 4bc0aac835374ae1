"""PDF: WeasyPrint lays out the print document (writers.html) and writes the PDF.

WeasyPrint's default URL fetcher reads any local file (attachments included)
and fetches http URLs; `BookFetcher` only serves file: URLs inside the
folders it is given (the build's assets and the manuscript) and refuses
everything else, so a build never reads outside the book nor touches the network.
"""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from ..diagnostics import MatbaaError
from ..files import atomic_path, write_text
from ..model import Book
from .html import copy_assets, render_print_html

log = logging.getLogger("matbaa")


class BookFetcher(URLFetcher):
    def __init__(self, allowed: list[Path]):
        super().__init__()
        self.allowed = [Path(p).resolve() for p in allowed]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file":
            self.refused.append(url)
            raise MatbaaError(f"refused to fetch {url}: the build reads no network resource")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(a) for a in self.allowed):
            self.refused.append(url)
            raise MatbaaError(f"refused to read {path}: outside the manuscript and the styles")
        return super().fetch(url, headers)


def write_pdf(book: Book, styles: Path, build: Path, press: bool = False) -> Path:
    """The reading PDF (tagged, with PDF/UA-1 markers), or with press=True the
    press PDF: the same layout with bleed and crop marks (styles/css/press.css)."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    assets = copy_assets(styles, build)
    html = render_print_html(book, styles)
    # The same document that `make html` writes, so the two never diverge.
    write_text(build / f"{book.id}.html", html)
    fetcher = BookFetcher([assets, book.root])
    extra = [CSS(filename=str(assets / "css" / "press.css"), url_fetcher=fetcher)] if press else []
    variant = None if press else "pdf/ua-1"
    document = HTML(string=html, base_url=str(build.resolve()) + "/", url_fetcher=fetcher).render(
        stylesheets=extra, pdf_variant=variant)
    target = build / (f"{book.id}-press.pdf" if press else f"{book.id}.pdf")
    with atomic_path(target) as tmp:
        document.write_pdf(str(tmp), pdf_variant=variant)
    return target
