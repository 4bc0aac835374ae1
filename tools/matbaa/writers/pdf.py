"""PDF: WeasyPrint lays out the print document (writers.html) and writes the PDF.

WeasyPrint's default URL fetcher reads any local file (attachments included)
and fetches http URLs; `BookFetcher` only serves file: URLs inside the
folders it is given (the build's assets and the manuscript) and refuses
everything else, so a build never reads outside the book nor touches the network.
"""
from __future__ import annotations

import copy
import functools
import gc
import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .. import linebreak, progress
from ..diagnostics import MatbaaError
from ..files import atomic_path, write_text
from ..model import Book
from .html import copy_assets, render_print_html

log = logging.getLogger("matbaa")


# The print document names a book's image `matbaa-media:<digest>.png`, not by a path
# in the build folder: WeasyPrint names an image in the PDF after its URL, and the
# PDF must not change with the folder it is built in (tests/test_safety.py).
MEDIA_SCHEME = "matbaa-media"


def for_browser(html: str) -> str:
    """The print document as `make html` writes it: images from build/assets/media/."""
    return html.replace(f'src="{MEDIA_SCHEME}:', 'src="assets/media/')


# WeasyPrint is imported when a layout is needed, not with this module: a build
# whose pieces all come from the cache (writers/segments.py) never loads it.
@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class BookFetcher(URLFetcher):
        def __init__(self, allowed: list[Path]):
            super().__init__()
            self.allowed = [Path(p).resolve() for p in allowed]
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == MEDIA_SCHEME and self.allowed:
                # a book's image (render.py): build/assets/media/<its digest>
                url = (self.allowed[0] / "media" / Path(unquote(parts.path)).name).as_uri()
                parts = urlsplit(url)
            if parts.scheme != "file":
                self.refused.append(url)
                raise MatbaaError(f"refused to fetch {url}: the build reads no network resource")
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(a) for a in self.allowed):
                self.refused.append(url)
                raise MatbaaError(f"refused to read {path}: outside the manuscript and the styles")
            return super().fetch(url, headers)

    return BookFetcher


def BookFetcher(allowed: list[Path]):   # noqa: N802 (it stands for the class)
    return _fetcher_class()(allowed)


def layout(book: Book, styles: Path, build: Path, html: str, press: bool = False):
    """Lay out the print document (WeasyPrint's Document, pages not yet written)."""
    from weasyprint import CSS, HTML

    from ..hyphenation import register

    # WeasyPrint hyphenates lang="az" through pyphen: our patterns, the book's exceptions
    register((book.meta.get("hyphenation") or {}).get("exceptions") or (), styles=styles)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("weasyprint.progress").propagate = False
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    assets = copy_assets(styles, build, book)
    fetcher = BookFetcher([assets, book.root])
    extra = [CSS(filename=str(assets / "css" / "press.css"), url_fetcher=fetcher)] if press else []

    def render(text: str):
        return HTML(string=text, base_url=str(build.resolve()) + "/", url_fetcher=fetcher).render(
            stylesheets=extra, pdf_variant=None if press else "pdf/ua-1")

    if linebreak.optimal(book.meta):
        # total-fit line breaking, written into the document laid out here (the
        # HTML kept, written and fingerprinted is the document before it)
        from .segments import engine_key

        html = linebreak.impose(html, render, book.meta, fonts=styles / "fonts", engine=engine_key(book, styles))
    return render(html)


MAX_ROUNDS = 12


def misplaced_notes(book: Book, data: dict) -> list:
    """Notes whose body is not on the page of their call (or is nowhere)."""
    anchors = data["anchors"]
    bad = []
    for note in sorted(book.notes.values(), key=lambda n: n.number):
        call = anchors.get(note.call_id)
        if call is not None and anchors.get(f"fn-{note.id}") != call:
            bad.append((note, call, anchors.get(f"fn-{note.id}")))
    return bad


def layout_book(book: Book, styles: Path, build: Path, press: bool = False):
    """The whole book as one WeasyPrint document, corrected by `correct`.
    Returns (html, document, page map)."""
    return correct(book, lambda: render_print_html(book, styles),
                   lambda html: layout(book, styles, build, html, press))


def correct(book: Book, render, lay, label: str = "", collect: bool = True):
    """Lay the book out, then correct what WeasyPrint cannot be told, as a
    typesetter would, and lay it out again (at most MAX_ROUNDS times):

    - notes: WeasyPrint sometimes leaves a call on one page and its note on the
      next, or drops a note when several compete for one page foot
      (Kozea/WeasyPrint#2502).  The line holding the first misplaced call is
      moved to the next page: the paragraph is split before that line's first
      word (the first half keeps its justified last line).
    - hyphens: WeasyPrint has no hyphenate-limit-lines and no rule against a
      hyphen at a page end.  The word hyphenated at the third line of a run, or
      at a page's last line, is kept whole (hyphens: manual on that word).
    `book` may be a view of one part (writers/segments.py): word indexes are
    then counted from the part's start.  `render()` gives the HTML of the book
    as corrected so far, `lay(html)` its WeasyPrint document.
    Returns (html, document, page map)."""
    from ..pagemap import _forced_break, insert_at_words, read_pages, word_count, wrap_words

    # The words the text holds: a layout that reads back more (a word split where
    # no hyphen or dash is) has lines the total-fit breaker did not choose, where
    # WeasyPrint found a break it did not foresee.  The book (or part) is then
    # laid out again with WeasyPrint's own breaking, and a warning says so: a
    # page map that counts the words wrong would misplace every correction.
    counted = word_count(book)
    meta = book.meta
    forced: list[int] = []
    unhyphenated: set[int] = set()
    attempts: dict[str, int] = {}
    last_try: dict[str, int] = {}
    pristine = copy.deepcopy([c.tokens for c in book.chapters])
    for rounds in range(1, MAX_ROUNDS + 1):
        # the book's tokens, with the corrections decided so far
        for chapter, tokens in zip(book.chapters, copy.deepcopy(pristine)):
            chapter.tokens = tokens
        if forced:
            insert_at_words(book, {k: _forced_break for k in forced}, top_level=True)
        if unhyphenated:
            wrap_words(book, unhyphenated, "nohyph_open", "nohyph_close")
        applied = (sorted(forced), sorted(unhyphenated))
        progress.set_round(label or book.id, rounds)
        html = render()
        document = data = None          # free the previous round's layout first: one book in memory
        if collect:                     # (a part's layout is small: a full collection would cost more
            gc.collect()                #  than it frees, 50 ms a round in a worker holding the book)
        document = lay(html)
        data = read_pages(document)
        if len(data["words"]) != counted and linebreak.optimal(book.meta):
            log.warning("%s: total-fit line breaking left %d word(s) split; this %s is set first-fit "
                        "(print: linebreak: greedy) instead", label or book.id,
                        len(data["words"]) - counted, "part" if label else "book")
            book.meta = dict(meta, print=dict(meta.get("print") or {}, linebreak="greedy"))
            document = lay(html)
            data = read_pages(document)
        bad = misplaced_notes(book, data)
        fixed = False
        # Parts open on a new page, so the first misplaced note of each part can
        # be corrected in the same round: the corrections cannot disturb each other.
        firsts = {}
        for note, _call, _page in bad:
            firsts.setdefault(note.part_index, note)
        for note in firsts.values():
            # First try ending the page after the call's line (the note then has
            # the room below it); if the note still does not follow, move the
            # call's line itself to the next page.
            tries = attempts.setdefault(note.id, 0)
            line = next((i for i, ids in enumerate(data["line_ids"]) if note.call_id in ids), None)
            if line is not None and tries < 2:
                target = line + 1 if tries == 0 else line
                k = data["line_words"][target] if target < len(data["line_words"]) else None
                if tries == 1 and last_try.get(note.id) in forced:
                    forced.remove(last_try[note.id])   # undo the first try before the second
                if k is not None and k not in forced:
                    forced.append(k)
                    last_try[note.id] = k
                    fixed = True
                attempts[note.id] = tries + 1
        new = set(data["hyphen_fix"]) - unhyphenated
        if new:
            unhyphenated |= new
            fixed = True
        if not fixed:
            break
    data["forced"], data["unhyphenated"] = applied   # as in this very layout
    data["rounds"] = rounds
    data["linebreak"] = "optimal" if linebreak.optimal(book.meta) else "greedy"
    book.meta = meta
    if not label:
        progress.done()
    data["misplaced"] = [[n.id, call, page] for n, call, page in misplaced_notes(book, data)]
    for note_id, call, page in data["misplaced"]:
        log.warning("note %s: its call is on page %s but the note is on page %s", note_id, call, page)
    return html, document, data


def write_pdf(book: Book, styles: Path, build: Path, press: bool = False,
              jobs: int | None = None, whole: bool = False) -> Path:
    """The reading PDF (tagged, with PDF/UA-1 markers), or with press=True the
    press PDF: the same layout with bleed and crop marks (styles/css/press.css).

    The reading PDF is laid out in pieces by `jobs` processes and joined
    (writers/segments.py); whole=True lays it out as one document in this
    process (as the press PDF and the proof are), the reference the pieces are
    tested against.  The reading build also saves the page map (pagemap.py)
    for the EPUB's page-list."""
    from .. import pagemap

    target = build / (f"{book.id}-press.pdf" if press else f"{book.id}.pdf")
    if not (press or whole):
        from .pdfjoin import join
        from .segments import lay_out

        html, data, pieces, folios = lay_out(book, styles, build, jobs)
        write_text(build / f"{book.id}.html", for_browser(html))
        pagemap.save(build / f"{book.id}.pages.json", html, data)
        join([None if p is None else Path(p.pdf) for p in pieces], target,
             folios=Path(folios.pdf), fonts_dir=styles / "fonts")
        return target
    html, document, data = layout_book(book, styles, build, press)
    # The same document that `make html` writes, so the two never diverge.
    write_text(build / f"{book.id}.html", for_browser(html))
    variant = None if press else "pdf/ua-1"
    if not press:
        pagemap.save(build / f"{book.id}.pages.json", html, data)
    from .pdflang import install

    install()                                   # /Lang on the structure elements (writers/pdflang.py)
    with atomic_path(target) as tmp:
        document.write_pdf(str(tmp), pdf_variant=variant)
    return target
