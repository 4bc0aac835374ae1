"""The layout loop: lay the book out, correct what WeasyPrint cannot be told, lay out again.

WeasyPrint cannot be told to keep a note on the page of its call, nor to limit
consecutive hyphenated lines or forbid a hyphen at a page's end.  `correct`
lays the book (or one part: typeset/parallel.py) out, reads the result back
(typeset/pagemap.py), decides what a typesetter would change, as data
(model.Corrections), and lays out again the Book those corrections make
(transforms/corrections.apply): the Book it is given is never changed.
"""
from __future__ import annotations

import dataclasses
import gc
import logging
from pathlib import Path
from typing import Callable

from matbaa.files import atomic_path
from matbaa.model import Book, Corrections, PageMap
from matbaa.model.words import word_count
from matbaa.render.html import copy_assets, render_print_html
from matbaa.transforms.corrections import apply
from matbaa.typeset import engine, progress
from matbaa.typeset.hyphenation import register
from matbaa.typeset.pagemap import fingerprint, read_pages

log = logging.getLogger("matbaa")

MAX_ROUNDS = 12


def _breaker():
    from matbaa.typeset import knuth_plass     # its tables: loaded by a layout, not by an EPUB build's start-up

    return knuth_plass


def layout(book: Book, styles: Path, build: Path, html: str, press: bool = False):
    """Lay out the print document (WeasyPrint's Document, pages not yet written)."""
    # WeasyPrint hyphenates lang="az" through pyphen: our patterns, the book's exceptions
    register((book.meta.get("hyphenation") or {}).get("exceptions") or (), styles=styles)
    engine.quiet()
    assets = copy_assets(styles, build, book)
    fetcher = engine.BookFetcher([assets, book.root])
    extra = [assets / "css" / "press.css"] if press else []

    def render(text: str):
        return engine.render(text, str(build.resolve()) + "/", fetcher, extra, None if press else "pdf/ua-1")

    if _breaker().optimal(book.meta):
        # total-fit line breaking, written into the document laid out here (the
        # HTML kept, written and fingerprinted is the document before it)
        html = _breaker().impose(html, render, book.meta, fonts=styles / "fonts",
                                  engine=engine.layout_key(book.meta, styles))
    return render(html)


def misplaced_notes(book: Book, data: PageMap) -> list:
    """Notes whose body is not on the page of their call (or is nowhere)."""
    anchors = data.anchors
    bad = []
    for note in sorted(book.notes.values(), key=lambda n: n.number):
        call = anchors.get(note.call_id)
        if call is not None and anchors.get(f"fn-{note.id}") != call:
            bad.append((note, call, anchors.get(f"fn-{note.id}")))
    return bad


@dataclasses.dataclass
class Laid:
    """A layout loop's result: the print document as written (the HTML the
    page map's fingerprint is of), WeasyPrint's document, the page map with
    the corrections, and the Book with the corrections in its paragraphs."""
    html: str
    document: object
    pages: PageMap
    book: Book


def layout_book(book: Book, styles: Path, build: Path, press: bool = False) -> Laid:
    """The whole book as one WeasyPrint document, corrected by `correct`."""
    return correct(book, lambda b: render_print_html(b, styles),
                   lambda b, html: layout(b, styles, build, html, press),
                   key=engine.layout_key(book.meta, styles))


def correct(book: Book, render: Callable[[Book], str], lay: Callable[[Book, str], object], label: str = "",
            collect: bool = True, key: str = "") -> Laid:
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
    `book` may be a view of one part (typeset/parallel.py): word indexes are
    then counted from the part's start.  `render(book)` gives the HTML of a
    book, `lay(book, html)` its WeasyPrint document; `key` is the layout key
    recorded in the page map."""
    # The words the text holds: a layout that reads back more (a word split where
    # no hyphen or dash is) has lines the total-fit breaker did not choose, where
    # WeasyPrint found a break it did not foresee.  The book (or part) is then
    # laid out again with WeasyPrint's own breaking, and a warning says so: a
    # page map that counts the words wrong would misplace every correction.
    counted = word_count(book)
    setting = book
    forced: list[int] = []
    unhyphenated: set[int] = set()
    attempts: dict[str, int] = {}
    last_try: dict[str, int] = {}
    for rounds in range(1, MAX_ROUNDS + 1):
        # the book with the corrections decided so far
        corrections = Corrections(tuple(forced), tuple(sorted(unhyphenated)))
        current = apply(setting, corrections)
        progress.set_round(label or book.id, rounds)
        html = render(current)
        document = data = None          # free the previous round's layout first: one book in memory
        if collect:                     # (a part's layout is small: a full collection would cost more
            gc.collect()                #  than it frees, 50 ms a round in a worker holding the book)
        document = lay(current, html)
        data = read_pages(document)
        if len(data.words) != counted and _breaker().optimal(setting.meta):
            log.warning("%s: total-fit line breaking left %d word(s) split; this %s is set first-fit "
                        "(print: linebreak: greedy) instead", label or book.id,
                        len(data.words) - counted, "part" if label else "book")
            greedy = dict(setting.meta, print=dict(setting.meta.get("print") or {}, linebreak="greedy"))
            setting = dataclasses.replace(setting, meta=greedy)
            current = dataclasses.replace(current, meta=greedy)
            document = lay(current, html)
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
            line = next((i for i, ids in enumerate(data.line_ids) if note.call_id in ids), None)
            if line is not None and tries < 2:
                target = line + 1 if tries == 0 else line
                k = data.line_words[target] if target < len(data.line_words) else None
                if tries == 1 and last_try.get(note.id) in forced:
                    forced.remove(last_try[note.id])   # undo the first try before the second
                if k is not None and k not in forced:
                    forced.append(k)
                    last_try[note.id] = k
                    fixed = True
                attempts[note.id] = tries + 1
        new = set(data.hyphen_fix) - unhyphenated
        if new:
            unhyphenated |= new
            fixed = True
        if not fixed:
            break
    data.forced, data.unhyphenated = sorted(corrections.forced), sorted(corrections.unhyphenated)
    data.rounds = rounds
    data.linebreak = "optimal" if _breaker().optimal(setting.meta) else "greedy"
    data.html, data.key = fingerprint(html), key
    if not label:
        progress.done()
    data.misplaced = [[n.id, call, page] for n, call, page in misplaced_notes(book, data)]
    for note_id, call, page in data.misplaced:
        log.warning("note %s: its call is on page %s but the note is on page %s", note_id, call, page)
    # the Book as corrected, with the book's own settings (a first-fit fallback is the layout's)
    return Laid(html, document, data, dataclasses.replace(current, meta=book.meta))


def write_document(document, target: Path, press: bool = False) -> None:
    """A laid-out document's PDF, written atomically."""
    with atomic_path(target) as tmp:
        engine.write_pdf(document, tmp, None if press else "pdf/ua-1")
