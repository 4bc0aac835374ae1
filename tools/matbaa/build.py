"""The build, step by step: read -> transforms -> typeset / epub / proof.

One function per output; each calls the same steps in the same order, like
Sphinx's builder.  Errors are collected by the Report; nothing is written
unless the whole manuscript is clean.  The Book the transforms make is never
changed afterwards: every writer works on its own copy (the layout's
corrections make a new Book: transforms/corrections.py).

The page map links the editions: the PDF build saves it beside the PDF, the
EPUB's page-list reads it.  `page_map` is the only place that decides whether
a saved map is this book's layout; when it is not (no PDF yet, or an edit, a
new stylesheet, a new engine since), the book is laid out again here, never
inside a writer.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from matbaa import transforms
from matbaa.diagnostics import ManuscriptError, Report
from matbaa.files import write_text
from matbaa.keys import code_digest, digest, tree_digests
from matbaa.model import Book, Corrections, PageMap
from matbaa.read.reader import read_book
from matbaa.render.html import copy_assets, for_browser, render_print_html
from matbaa.resources import default_styles
from matbaa.transforms.corrections import apply
from matbaa.typeset import engine
from matbaa.typeset.correct import layout_book, write_document
from matbaa.typeset.cover import render_cover
from matbaa.typeset.pagemap import fingerprint
from matbaa.typeset.parallel import lay_out
from matbaa.typeset.pdf import lay_out_html, write_pdf

DEFAULT_STYLES = default_styles()


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


def pages_path(book: Book, build: Path) -> Path:
    return Path(build) / f"{book.id}.pages.json"


def page_map(book: Book, styles: Path, build: Path, jobs: int | None = None) -> PageMap:
    """The page map of the book's print layout: the one the PDF build saved, if
    it is this book's layout now (the same layout key: CSS, fonts, patterns,
    engine versions; and the same print document, its corrections applied),
    else laid out now (in pieces: typeset/parallel.py) and saved."""
    styles, build = Path(styles), Path(build)
    path = pages_path(book, build)
    saved = PageMap.load(path)
    if saved is not None and saved.key and saved.key == engine.layout_key(book.meta, styles):
        if saved.html == print_fingerprint(book, styles, build, saved.corrections):
            return saved
    laid = lay_out(book, styles, build, jobs)
    laid.pages.save(path)
    return laid.pages


FINGERPRINTS = ".cache/print-fingerprint"


def print_fingerprint(book: Book, styles: Path, build: Path, corrections: Corrections) -> str:
    """The fingerprint of the print document of `book` with `corrections`
    (what PageMap.html records).  Rendering the print document costs as much as
    the rest of an EPUB build that finds its pieces cached, so the fingerprint
    is kept under a key of everything the document is made of: matbaa's code
    and the installed distributions, every styles file, every manuscript file
    read, the book's folder, SOURCE_DATE_EPOCH, and the corrections."""
    if not book.source_digests:             # a book not read from files: nothing to key by
        return fingerprint(render_print_html(apply(book, corrections), styles))
    key = digest("print-fingerprint", code_digest(), tree_digests(styles), sorted(book.source_digests.items()),
                 str(Path(book.root).resolve()), os.environ.get("SOURCE_DATE_EPOCH", ""),
                 list(corrections.forced), list(corrections.unhyphenated))
    folder = Path(build) / FINGERPRINTS
    path = folder / key
    try:
        found = path.read_text(encoding="ascii")
        if re.fullmatch(r"[0-9a-f]{64}", found):
            return found
    except (OSError, ValueError):
        pass                                # not kept yet, or damaged: made again
    found = fingerprint(render_print_html(apply(book, corrections), styles))
    write_text(path, found)
    for old in sorted(folder.iterdir(), key=lambda f: f.stat().st_mtime, reverse=True)[16:]:
        old.unlink(missing_ok=True)        # a few books' worth (an edit undone finds its own again)
    return found


def build_html(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES,
               jobs: int | None = None, whole: bool = False) -> tuple[Path, Report]:
    """The print document exactly as the PDF build lays it out (with the
    corrections the layout loop decides), to debug the print CSS in a browser."""
    book, report = load(manuscript, styles)
    styles, build = Path(styles), Path(build)
    copy_assets(styles, build, book)
    html, _pages, _corrected = lay_out_html(book, styles, build, jobs=jobs, whole=whole)
    target = build / f"{book.id}.html"
    write_text(target, for_browser(html))
    return target, report


def build_pdf(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES,
              jobs: int | None = None, whole: bool = False) -> tuple[Path, Report]:
    """The reading PDF: laid out in pieces by `jobs` processes (default: one per
    core), or as one document with whole=True; the print document and the
    page map beside it."""
    book, report = load(manuscript, styles)
    build = Path(build)
    done = write_pdf(book, Path(styles), build, jobs=jobs, whole=whole)
    # The same document that `make html` writes, so the two never diverge.
    write_text(build / f"{book.id}.html", for_browser(done.html))
    done.pages.save(pages_path(book, build))
    return done.pdf, report


def build_epub(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES) -> tuple[Path, Report]:
    from matbaa.epub.writer import write_epub    # ebooklib and the EPUB code: loaded by EPUB builds only

    book, report = load(manuscript, styles)
    styles, build = Path(styles), Path(build)
    pages = page_map(book, styles, build)
    return write_epub(book, styles, build, pages, cover=lambda: render_cover(book, styles, build)), report


def build_press(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES) -> tuple[Path, Report]:
    book, report = load(manuscript, styles)
    build = Path(build)
    done = write_pdf(book, Path(styles), build, press=True)
    write_text(build / f"{book.id}.html", for_browser(done.html))
    return done.pdf, report


@dataclasses.dataclass
class Proofed:
    """The editions a proof reads (build/proof/): the reading PDF laid out as one
    document (WeasyPrint's document kept, for its lines), its page map, the EPUB."""
    pdf: Path
    document: object
    pages: PageMap
    epub: Path


def build_proof(manuscript: Path, out: Path, styles: Path = DEFAULT_STYLES) -> tuple[Book, Report, Proofed]:
    """The editions the proof reads, into `out`: the PDF (whole), its page map, the EPUB."""
    from matbaa.epub.writer import write_epub    # as in build_epub

    book, report = load(manuscript, styles)
    styles, out = Path(styles), Path(out)
    laid = layout_book(book, styles, out)
    pdf = out / f"{book.id}.pdf"
    write_document(laid.document, pdf)
    laid.pages.save(pages_path(book, out))
    epub = write_epub(book, styles, out, laid.pages, cover=lambda: render_cover(book, styles, out))
    return book, report, Proofed(pdf, laid.document, laid.pages, epub)


def proof(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES) -> int:
    """`make proof`: the editions into build/proof/ (`build_proof`), every finding
    about them (proof/), the proof PDF, the report, findings.json.  The exit
    status: 1 when a finding is an error (a manuscript that cannot be built is one)."""
    from matbaa.proof import (  # the proof's checks: loaded by a proof only, not at every build's start-up
        manuscript_findings, proofread, report_manuscript_errors, write_findings)

    manuscript, out = Path(manuscript), Path(build) / "proof"
    out.mkdir(parents=True, exist_ok=True)
    try:
        book, report, edition = build_proof(manuscript, out, styles)
    except ManuscriptError as exc:
        findings = manuscript_findings(exc.report.items, manuscript)
        report_manuscript_errors(findings, manuscript, out, styles)
        return write_findings(out, findings)
    findings = manuscript_findings(report.items, manuscript)
    findings += proofread(book, Path(styles), out, edition, manuscript)
    return write_findings(out, findings)


BUILDERS = {"html": build_html, "pdf": build_pdf, "epub": build_epub, "press": build_press}
