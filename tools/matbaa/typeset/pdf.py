"""The PDFs: the reading PDF (laid out in parallel pieces and joined, or as one
document) and the press PDF (the same layout with bleed and crop marks).

Each returns what it laid out (`Typeset`): build.py writes the print document
and the page map beside the PDF, and gives the page map to the EPUB.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from matbaa.model import Book, PageMap
from matbaa.typeset.correct import layout_book, write_document
from matbaa.typeset.parallel import lay_out


@dataclasses.dataclass
class Typeset:
    pdf: Path
    html: str                   # the print document as laid out (the HTML the page map is of)
    pages: PageMap
    book: Book                  # the book with the layout's corrections


def write_pdf(book: Book, styles: Path, build: Path, press: bool = False,
              jobs: int | None = None, whole: bool = False, target: Path | None = None) -> Typeset:
    """The reading PDF (tagged, with PDF/UA-1 markers), or with press=True the
    press PDF: the same layout with bleed and crop marks (styles/css/press.css).

    The reading PDF is laid out in pieces by `jobs` processes and joined
    (typeset/parallel.py); whole=True lays it out as one document in this
    process (as the press PDF and the proof are), the reference the pieces are
    tested against."""
    target = target or build / (f"{book.id}-press.pdf" if press else f"{book.id}.pdf")
    if not (press or whole):
        from matbaa.typeset.pdfjoin import join     # pikepdf: loaded by a PDF build only (EPUB start-up)

        laid = lay_out(book, styles, build, jobs)
        join([None if p is None else Path(p.pdf) for p in laid.pieces], target,
             folios=Path(laid.folios.pdf), fonts_dir=styles / "fonts")
        return Typeset(target, laid.html, laid.pages, laid.book)
    laid = layout_book(book, styles, build, press)
    write_document(laid.document, target, press)
    return Typeset(target, laid.html, laid.pages, laid.book)


def lay_out_html(book: Book, styles: Path, build: Path, jobs: int | None = None,
                 whole: bool = False) -> tuple[str, PageMap, Book]:
    """The print document as the PDF build lays it out (its corrections in it),
    without writing a PDF: for `make html`."""
    if whole:
        laid = layout_book(book, styles, build)
    else:
        laid = lay_out(book, styles, build, jobs)
    return laid.html, laid.pages, laid.book
