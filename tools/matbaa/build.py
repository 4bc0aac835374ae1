"""The build, step by step: read -> transforms -> writer.

One function per output; each calls the same steps in the same order, like
Sphinx's builder.  Errors are collected by the Report; nothing is written
unless the whole manuscript is clean.
"""
from __future__ import annotations

from pathlib import Path

from . import transforms
from .diagnostics import Report
from .model import Book
from .reader import read_book

DEFAULT_STYLES = Path(__file__).resolve().parent.parent.parent / "styles"


def load(manuscript: Path, styles: Path = DEFAULT_STYLES, report: Report | None = None) -> tuple[Book, Report]:
    report = report if report is not None else Report()
    book = read_book(Path(manuscript), Path(styles), report)
    if book is None:
        report.raise_if_errors()
        raise AssertionError("reader returned no book and no error")
    # The transforms run even after reader errors, so that one run reports
    # every problem (a missing note and an unknown glossary id together).
    transforms.run(book, report)
    report.raise_if_errors()
    return book, report


def build_html(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES,
               jobs: int | None = None, whole: bool = False) -> tuple[Path, Report]:
    from .writers.html import write_html

    book, report = load(manuscript, styles)
    return write_html(book, Path(styles), Path(build), jobs=jobs, whole=whole), report


def build_pdf(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES,
              jobs: int | None = None, whole: bool = False) -> tuple[Path, Report]:
    """The reading PDF: laid out in pieces by `jobs` processes (default: one per
    core), or as one document with whole=True."""
    from .writers.pdf import write_pdf

    book, report = load(manuscript, styles)
    return write_pdf(book, Path(styles), Path(build), jobs=jobs, whole=whole), report


def build_epub(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES) -> tuple[Path, Report]:
    from .writers.epub import write_epub

    book, report = load(manuscript, styles)
    return write_epub(book, Path(styles), Path(build)), report


def build_press(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES) -> tuple[Path, Report]:
    from .writers.pdf import write_pdf

    book, report = load(manuscript, styles)
    return write_pdf(book, Path(styles), Path(build), press=True), report


BUILDERS = {"html": build_html, "pdf": build_pdf, "epub": build_epub, "press": build_press}
