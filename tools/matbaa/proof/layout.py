"""Every line of the laid-out book, with what a proofreader needs to know of it.

Walks WeasyPrint's boxes (through typeset/engine.py) the way
typeset/pagemap.body_lines does (same order, same
rules for what is running text), but keeps every line: headings, glossary,
notes, with their position, their paragraph, their source (data-src) and
whether they overflow their measure.
"""
from __future__ import annotations

from dataclasses import dataclass

from matbaa.model.words import skipped
from matbaa.typeset import engine
from matbaa.typeset.pagemap import HYPHEN_CHARS


@dataclass
class PLine:
    page: int
    n: int                 # line number on the page (main flow first, then notes)
    y: float               # CSS px from the page top
    height: float
    x: float
    text: str
    kind: str              # body | heading | note | other
    in_chapter: bool       # running text of a chapter: its paragraphs and its headings
    block: int             # identity of the paragraph element (shared across pages)
    src: str | None        # "chapters/01.md:12", the paragraph's source
    overflow: float        # px beyond the measure (0 if none)
    width: float = 0.0     # the line box's width (a table cell's line is narrower than the measure)
    lang: str | None = None  # the language of its text, where an element says (lang="en")

    @property
    def hyphenated(self) -> bool:
        return self.text.rstrip().endswith(HYPHEN_CHARS)


HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _printed_text(box):
    """The text a line prints: every text box but notes and generated content.  (Unlike
    pagemap's count of the running text, a chapter's title is printed text too.)"""
    for child in engine.children(box):
        if "footnote" in engine.classes(child) or "::" in engine.tag(child):
            continue
        if engine.kind(child) == engine.TEXT:
            yield engine.text(child).replace("\u2060", "")
        else:
            yield from _printed_text(child)


def all_lines(document) -> list[PLine]:
    out: list[PLine] = []
    for number, boxes in engine.pages(document):
        flow: list[PLine] = []
        notes: list[PLine] = []

        def walk(box, in_chapter, kind, src, block, sink, lang=None):
            cls = engine.classes(box)
            if "footnote" in cls and sink is flow:
                return
            el = engine.element(box)
            tag = engine.tag(box)
            in_chapter = in_chapter or "chapter" in cls or "division" in cls   # a division's title too
            if tag in HEADINGS or "chapter-title" in cls:
                kind = "heading"
            elif sink is flow and skipped(tag, cls) and kind == "body":
                kind = "other"          # not running text (model/words.py): a code block, an image
            if el is not None and el.get("data-src"):
                src = el.get("data-src")
            if el is not None and el.get("lang"):
                lang = el.get("lang")
            if engine.kind(box) in (engine.BLOCK, engine.TABLE_CELL) or tag in (
                    "p", "dd", "dt", "li", "td", "th", "caption", "figcaption") or "note-p" in cls:
                block = id(el) if el is not None else block
            if engine.kind(box) == engine.LINE:
                text = "".join(_printed_text(box))
                if text.strip():
                    x, y, width, height = engine.geometry(box)
                    right = max((engine.right_edge(c) for c in engine.children(box)), default=x)
                    overflow = max(0.0, right - (x + width))
                    # the language of the line: its element's, or the one of a span it holds
                    texts = [c for c in engine.descendants(box) if engine.kind(c) == engine.TEXT]
                    last = engine.element(texts[-1]) if texts else None
                    inner = (last.get("lang") if last is not None else None) or next(
                        (engine.element(c).get("lang") for c in engine.descendants(box)
                         if engine.element(c) is not None and engine.element(c).get("lang")), None)
                    sink.append(PLine(number, 0, y, height, x, text,
                                      kind, in_chapter and kind in ("body", "heading"), block, src, overflow,
                                      width, inner or lang))
                return
            for child in engine.children(box):
                walk(child, in_chapter, kind, src, block, sink, lang)

        for box in boxes:
            kind = engine.kind(box)
            if kind == engine.FOOTNOTES:
                walk(box, False, "note", None, 0, notes)
            elif kind != engine.MARGIN:
                walk(box, False, "body", None, 0, flow)
        for line in flow:
            if line.kind == "body" and not line.in_chapter:
                line.kind = "other"
        for i, line in enumerate(flow + notes, 1):
            line.n = i
        out += flow + notes
    return out
