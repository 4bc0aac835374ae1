"""The print layout in parallel: the book laid out piece by piece, then joined.

WeasyPrint lays out one document on one core.  A part opens on a recto page,
so it lays out the same alone as inside the whole book; the page it starts on
changes only its folios.  So the book is cut into pieces, each laid out as a
document of its own in a worker process, and joined (typeset/pdfjoin.py):

    1. the parts, each with its own correction loop (typeset/correct.py), and
       the front matter once with provisional page numbers (for its length);
    2. the first page of every piece: a part starts on the next recto, a blank
       verso is put in before it when needed (as WeasyPrint does);
    3. the front matter with the contents' page numbers, the back matter (the
       bibliography, then the glossary with its page references) in one piece,
       again when its sections' pages change the contents, and the parts' folios: a document of margin boxes only,
       drawn over the parts when they are joined;
    4. the page map of the whole book, from the pieces' page maps.

A piece's result (its PDF and page map) is cached by content in
build/.cache/layout/, so that a rebuild lays out again only what changed.

The pieces must lay out exactly as the whole document does (`matbaa build pdf
--whole`, typeset/correct.layout_book): tests/test_segments.py compares the two.
"""
from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import multiprocessing
import os
import sys
from pathlib import Path

from matbaa.files import atomic_path, write_bytes
from matbaa.model import Book, Corrections, PageMap
from matbaa.model.words import count, word_count
from matbaa.render.html import before_toc, copy_assets, render_folios_html, render_part, render_print_html, toc_entries
from matbaa.transforms.corrections import apply
from matbaa.typeset import engine
from matbaa.typeset.correct import correct, layout
from matbaa.typeset.pagemap import fingerprint, read_pages

CACHE = ".cache/layout"


@dataclasses.dataclass
class Piece:
    kind: str                   # "front", "part", "back" (bibliography, glossary), "folios"
    index: int                  # the part's index; 0 for the others
    pdf: str                    # the piece laid out alone (a file in the cache)
    count: int                  # its pages
    data: PageMap               # its page map (typeset/pagemap.read_pages): pages from 1, words from 0
    section: str = ""           # a part's <section> with its corrections, for the whole document
    cached: bool = False


# What the workers need: set before they fork, so it is never pickled.
_STATE: dict = {}


def _view(book: Book, part) -> Book:
    """The book reduced to one part: words, notes and corrections counted within it."""
    return dataclasses.replace(book, parts=[part],
                               notes={k: n for k, n in book.notes.items() if n.part_index == part.index})


#: the form of a cache entry; an entry of another form is laid out again (silently)
FORMAT = 2


def _record_checksum(record: dict) -> str:
    text = json.dumps({k: v for k, v in record.items() if k != "check"}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cached(key: str) -> Piece | None:
    """The piece cached under `key`, if its entry is whole: the record's own
    checksum, its key, and the SHA-256 of its PDF all as stored.  A damaged
    entry (a truncated or swapped PDF, an edited record) is removed, with a
    warning, and the piece laid out again."""
    cache = _STATE["cache"]
    meta, pdf = cache / f"{key}.json", cache / f"{key}.pdf"
    if not meta.is_file():
        return None
    try:
        record = json.loads(meta.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            _discard(meta, pdf, None)           # an entry of an earlier matbaa: not damage
            return None
        problem = (record.get("check") != _record_checksum(record) and "its record does not match its checksum"
                   or record.get("key") != key and "its record belongs to another piece"
                   or not pdf.is_file() and "its PDF is missing"
                   or hashlib.sha256(pdf.read_bytes()).hexdigest() != record.get("pdf_sha256")
                   and "its PDF is not the one laid out")
        if problem:
            _discard(meta, pdf, problem)
            return None
        fields = {f.name for f in dataclasses.fields(Piece)} - {"cached", "pdf"}
        piece = Piece(pdf=str(pdf), **{k: v for k, v in record.items() if k in fields})
        piece.data = PageMap.from_json(piece.data)
    except (OSError, ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        _discard(meta, pdf, f"it cannot be read ({type(exc).__name__})")
        return None
    piece.cached = True
    try:
        os.utime(meta)          # (kept by _prune; a read-only cache is still read)
    except OSError:
        pass
    return piece


def _discard(meta: Path, pdf: Path, problem: str | None) -> None:
    if problem:
        sys.stderr.write(f"matbaa: warning: the cached layout {meta.stem[:16]}… in {meta.parent} is damaged "
                         f"({problem}): removed, laid out again\n")
    for f in (meta, pdf):
        try:
            f.unlink(missing_ok=True)
        except OSError:
            pass


def _store(key: str, piece: Piece, document) -> Piece:
    """The piece's PDF and its record: the PDF's name relative to the cache
    folder, its SHA-256, the key, and the record's own checksum (`_cached`)."""
    cache = _STATE["cache"]
    target = cache / f"{key}.pdf"
    with atomic_path(target) as tmp:
        engine.write_pdf(document, tmp, None if piece.kind == "folios" else "pdf/ua-1")
        pdf_sha256 = hashlib.sha256(tmp.read_bytes()).hexdigest()
    piece.pdf = str(target)
    record = {f.name: getattr(piece, f.name) for f in dataclasses.fields(piece) if f.name != "cached"}
    record["data"] = piece.data.to_json()
    record.update(pdf=target.name, key=key, pdf_sha256=pdf_sha256, format=FORMAT)
    record["check"] = _record_checksum(record)
    write_bytes(cache / f"{key}.json", json.dumps(record, ensure_ascii=False, sort_keys=True).encode())
    return piece


def _key(html: str) -> str:
    return hashlib.sha256((_STATE["engine"] + "\n" + html).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- the workers' tasks

def _lay_part(index: int, pages: dict | None = None) -> Piece:
    book, styles, build = _STATE["book"], _STATE["styles"], _STATE["build"]
    part = next(p for p in book.parts if p.index == index)
    view = _view(book, part)
    segment = {"kind": "part", "index": index, "start": 1}    # folios are drawn later

    def render(b: Book) -> str:        # `pages`: the page of each cross-reference's target (data-page)
        return render_print_html(b, styles, segment=segment, pages=pages)

    key = _key(render(view))        # the part as written: its corrections are part of the result
    piece = _cached(key)
    if piece is not None:
        return piece
    # the part's words as its tokens count them, where its corrections apply:
    # the page map's word k must be this word k (merge() adds the parts up)
    counted = word_count(view)
    laid = correct(view, render, lambda b, h: layout(b, styles, build, h),
                   label=f"{book.id}: {part.title}", collect=False)
    section = str(render_part(laid.book, styles, laid.book.parts[0]))
    data = laid.pages
    data.html = data.key = ""           # a piece's map: the whole book's is keyed when merged
    if counted != len(data.words):
        raise AssertionError(f"part {index}: {counted} words in the text, {len(data.words)} laid out")
    piece = Piece("part", index, "", engine.page_count(laid.document), data, section)
    document = laid.document
    return _store(key, piece, document)


def _lay_document(kind: str, html: str) -> Piece:
    """A piece laid out once, as it is (no corrections: no running text)."""
    key = _key(html)
    piece = _cached(key)
    if piece is not None:
        return piece
    document = layout(_STATE["book"], _STATE["styles"], _STATE["build"], html)
    data = read_pages(document) if kind != "folios" else PageMap()
    return _store(key, Piece(kind, 0, "", engine.page_count(document), data), document)


def _lay_whole(kind: str, start: int, pages: dict | None) -> Piece:
    """The front matter or the back matter (bibliography, glossary), with the page numbers they print."""
    segment = {"kind": kind, "index": 0, "start": start}
    return _lay_document(kind, render_print_html(_STATE["book"], _STATE["styles"], segment=segment, pages=pages))


def _lay_folios(folios: list[bool]) -> Piece:
    piece = _lay_document("folios", render_folios_html(_STATE["book"], _STATE["styles"], folios))
    if piece.count != len(folios):
        raise AssertionError(f"folios: {piece.count} pages laid out for {len(folios)}")
    return piece


def _task(task: tuple) -> Piece:
    kind = task[0]
    if kind == "part":
        return _lay_part(task[1], task[2] if len(task) > 2 else None)
    if kind == "folios":
        return _lay_folios(task[1])
    return _lay_whole(kind, task[1], task[2])


class _Runner:
    """Tasks run in `jobs` forked worker processes (or here, with jobs=1)."""

    def __init__(self, jobs: int):
        self.pool = (multiprocessing.get_context("fork").Pool(jobs, initializer=_init_worker)
                     if jobs > 1 else None)

    def run(self, tasks: list[tuple], on_done=None) -> list[Piece]:
        results: dict[int, Piece] = {}
        if self.pool is None:
            stream = ((i, _task(t)) for i, t in enumerate(tasks))
        else:
            stream = self.pool.imap_unordered(_indexed, list(enumerate(tasks)))
        for i, piece in stream:
            results[i] = piece
            if on_done:
                on_done(piece)
        return [results[i] for i in range(len(tasks))]

    def close(self):
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def _init_worker():
    """A worker leaves the status line to the parent (one line, not two
    fighting), and freezes the heap it inherits (the book, the modules): the
    garbage collector then no longer walks it at every collection."""
    engine.on_page(None)
    gc.freeze()


def _indexed(item):
    i, task = item
    return i, _task(task)


# ---------------------------------------------------------------- the plan of the book

def _provisional_pages(book: Book) -> dict[str, int]:
    """Page numbers for the first layout of the contents, which only gives its
    length: as many digits as the book will need."""
    words = sum(count(t.children) for c in book.chapters for t in c.tokens if t.type == "inline")
    guess = 10 ** len(str(max(1, words // 150))) - 1       # 9, 99, 999…
    return {a: guess for a in _toc_anchors(book)}


def _toc_anchors(book: Book) -> list[str]:
    return [e["anchor"] for e in toc_entries(book)]


def _xref_targets(book: Book) -> dict[int, list[str]]:
    """For each part: the ids its cross-references print the page of (sorted)."""
    out: dict[int, set] = {}
    for part in book.parts:
        toks = [t for c in part.chapters for t in c.tokens]
        toks += [t for n in book.notes.values() if n.part_index == part.index for t in n.tokens]
        for tok in toks:
            for child in tok.children or []:
                if child.type == "link_open" and child.meta.get("target"):
                    out.setdefault(part.index, set()).add(child.meta["target"])
    return {i: sorted(ids) for i, ids in out.items()}


def _back_anchors(book: Book) -> list[str]:
    """The sections of the back matter, in their order: one piece laid out together."""
    return (["bibliography"] if book.bibliography else []) + (["glossary"] if book.glossary else [])


def _sequence(front: int, toc: int, parts: list[Piece], before: set[int]) -> tuple[list, dict[int, int], int]:
    """The order of pages: [("front", 0), ("part", i) for a dedication, ("toc", 0),
    None (a blank verso), ("part", i), …]; the first page of every part; the first
    page after the last part.  `before`: the parts set before the contents."""
    order: list = [("front", 0)]
    starts: dict[int, int] = {}
    page = front + 1

    def add(piece):
        nonlocal page
        if page % 2 == 0:           # parts open on a recto (print.css: .part { break-before: right })
            order.append(None)
            page += 1
        starts[piece.index] = page
        order.append(("part", piece.index))
        page += piece.count

    for piece in parts:
        if piece.index in before:
            add(piece)
    starts[0] = page                # the contents follow on the next page
    order.append(("toc", 0))
    page += toc
    for piece in parts:
        if piece.index not in before:
            add(piece)
    return order, starts, page


@dataclasses.dataclass
class Layout:
    """The book laid out in pieces."""
    html: str                   # the whole print document, as WeasyPrint alone would lay it out
    pages: PageMap              # the whole book's page map, keyed
    pieces: list                # the pieces in page order, None for a blank page
    folios: Piece               # the folio overlay
    book: Book                  # the book with the layout's corrections (transforms/corrections.py)


def lay_out(book: Book, styles: Path, build: Path, jobs: int | None = None) -> Layout:
    """Lay the book out in pieces."""
    build, styles = Path(build), Path(styles)
    jobs = jobs or os.cpu_count() or 1
    copy_assets(styles, build)
    cache = build / CACHE
    cache.mkdir(parents=True, exist_ok=True)
    _STATE.update(book=book, styles=styles, build=build, cache=cache, engine=engine.layout_key(book.meta, styles))
    tty = sys.stderr.isatty()
    done = {"parts": 0, "pages": 0}

    def report(piece: Piece):
        if piece.kind == "part":
            done["parts"] += 1
            done["pages"] += piece.count
        if tty:
            what = {"part": "part", "front": "front matter", "toc": "contents", "back": "back matter",
                    "folios": "folios"}[piece.kind]
            sys.stderr.write(f"\r\033[Kmatbaa: {book.id}: laid out {what}"
                             f"{' ' + str(piece.index) if piece.kind == 'part' else ''}"
                             f"{' (cached)' if piece.cached else ''}; parts {done['parts']}/{len(book.parts)},"
                             f" {done['pages']} pages")
            sys.stderr.flush()

    runner = _Runner(min(jobs, max(1, len(book.parts))))
    before = {p.index for p in book.parts if before_toc(p)}
    targets = _xref_targets(book)
    provisional = _provisional_pages(book)
    guess = next(iter(provisional.values()), 9)
    xpages = {i: {t: guess for t in ids} for i, ids in targets.items()}
    try:
        # 1. the parts (their cross-references with provisional page numbers), the
        #    front matter, and the contents' length
        tasks = [("front", 1, None), ("toc", 1, provisional)]
        tasks += [("part", p.index, xpages.get(p.index)) for p in book.parts]
        first = runner.run(tasks, report)
        front, toc, parts = first[0], first[1], sorted(first[2:], key=lambda p: p.index)
        back = None                 # the back matter: the bibliography, then the glossary
        back_sections = _back_anchors(book)
        # 2.-3. page numbers, then the pieces that print them; again if a length changed
        for _attempt in range(6):
            order, starts, after = _sequence(front.count, toc.count, parts, before)
            back_start = after + (1 if after % 2 == 0 else 0)
            anchors = _anchors(parts, starts)
            if back is None:
                anchors.update({a: back_start for a in back_sections})
            else:
                for a, page in back.data.anchors.items():
                    anchors.setdefault(a, page + back_start - 1)
            used = {a: anchors[a] for a in back_sections}
            # cross-references print their targets' pages: a part whose numbers changed is laid out again
            wanted = {i: {t: anchors.get(t, back_start) for t in ids} for i, ids in targets.items()}
            again = [i for i in sorted(wanted) if wanted[i] != xpages.get(i)]
            if again:
                xpages.update({i: wanted[i] for i in again})
                redone = {p.index: p for p in runner.run([("part", i, wanted[i]) for i in again], report)}
                parts = [redone.get(p.index, p) for p in parts]
                continue
            toc_numbers = {a: anchors[a] for a in _toc_anchors(book)}
            marks = {m.anchor: anchors[m.anchor] for e in book.glossary for m in e.marks}
            folios = _folios(order, front.count, toc.count, parts, before)
            tasks = [("toc", starts[0], toc_numbers), ("folios", folios)]
            if back_sections:
                tasks.append(("back", back_start, marks))
            third = runner.run(tasks, report)
            settled = third[0].count == toc.count
            toc = third[0]
            if back_sections:
                moved = back is None or back.data.anchors != third[2].data.anchors
                back = third[2]
                # the contents print where each back section begins, known once the back piece is laid out
                found = {a: back.data.anchors[a] + back_start - 1 for a in back_sections}
                settled = settled and found == used
                if moved and any(t in back.data.anchors and t not in back_sections
                                 for ids in targets.values() for t in ids):
                    continue            # a cross-reference into the back matter: its page is now known
            if settled:
                break
        else:
            raise AssertionError("the contents' length does not settle")
    finally:
        runner.close()
        if tty:
            sys.stderr.write("\r\033[K")
    folio_piece = third[1]
    if back is not None:
        if after % 2 == 0:
            order.append(None)
        order.append(("back", 0))
    by_part = {p.index: p for p in parts}
    kinds = {"front": front, "toc": toc, "back": back}
    pieces = [None if o is None else kinds[o[0]] if o[0] in kinds else by_part[o[1]] for o in order]
    data = merge(pieces)
    # the whole print document: the parts' corrected sections, and the book with
    # the corrections in its tokens (the EPUB and the proof render the same text)
    corrected = apply(book, data.corrections)
    html = render_print_html(corrected, styles, sections={p.index: p.section for p in parts})
    data.html, data.key = fingerprint(html), _STATE["engine"]
    _prune(cache, pieces + [folio_piece])
    return Layout(html, data, pieces, folio_piece, corrected)


def _anchors(parts: list[Piece], starts: dict[int, int]) -> dict[str, int]:
    out = {}
    for p in parts:
        for a, page in p.data.anchors.items():
            out[a] = page + starts[p.index] - 1
    return out


def _folios(order: list, front_count: int, toc_count: int, parts: list[Piece], before: set[int]) -> list[bool]:
    """For each page up to the last part's: is a folio printed there?  The
    front matter, the contents, a dedication and blank pages have none; every
    page of a part has one."""
    by_part = {p.index: p for p in parts}
    out: list[bool] = []
    for o in order:
        if o is None:
            out.append(False)
        elif o[0] == "front":
            out += [False] * front_count
        elif o[0] == "toc":
            out += [False] * toc_count
        else:
            out += [o[1] not in before] * by_part[o[1]].count
    return out


def merge(pieces: list) -> PageMap:
    """The page map of the whole book from the pieces' own (typeset/pagemap.read_pages)."""
    data = PageMap()
    stats = data.hyphenation
    page = words = 0
    for piece in pieces:
        if piece is None:
            page += 1
            continue
        d = piece.data
        for a, p in d.anchors.items():
            data.anchors.setdefault(a, p + page)
        if piece.kind == "part":
            # (the worker checked that the part's tokens count as many words)
            data.words += d.words
            data.pages.update({p + page: k + words for p, k in d.pages.items()})
            data.line_words += [k + words for k in d.line_words]
            data.line_ids += d.line_ids
            data.line_pages += [p + page for p in d.line_pages]
            data.hyphen_fix += [k + words for k in d.hyphen_fix]
            data.forced += [k + words for k in d.forced]
            data.unhyphenated += [k + words for k in d.unhyphenated]
            data.misplaced += [[n, c + page if c else c, p + page if p else p] for n, c, p in d.misplaced]
            data.rounds = max(data.rounds, d.rounds)
            h = d.hyphenation
            stats.lines += h.lines
            stats.hyphenated += h.hyphenated
            stats.page_end += h.page_end
            stats.longest_run = max(stats.longest_run, h.longest_run)
            words += len(d.words)
        page += piece.count
    stats.share = round(stats.hyphenated / stats.lines, 4) if stats.lines else 0.0
    data.count = page
    return data


def _prune(cache: Path, used: list) -> None:
    """Keep the pieces of this build and of the few before it (an edit undone
    finds its layout again); drop the rest."""
    keep = {Path(p.pdf).stem for p in used if p is not None}
    entries = sorted(cache.glob("*.json"), key=lambda f: f.stat().st_mtime, reverse=True)
    limit = 3 * len(keep)
    for n, meta in enumerate(entries):
        if meta.stem not in keep and n >= limit:
            meta.unlink(missing_ok=True)
            (cache / f"{meta.stem}.pdf").unlink(missing_ok=True)
