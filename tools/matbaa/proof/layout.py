"""Every line of the laid-out book, with what a proofreader needs to know of it.

Walks WeasyPrint's boxes the way pagemap.body_lines does (same order, same
rules for what is running text), but keeps every line: headings, glossary,
notes, with their position, their paragraph, their source (data-src) and
whether they overflow their measure.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..pagemap import HYPHEN_CHARS, _classes
from ..words import skipped


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
    for child in getattr(box, "children", None) or []:
        if "footnote" in _classes(child) or "::" in (getattr(child, "element_tag", "") or ""):
            continue
        if type(child).__name__ == "TextBox":
            yield child.text.replace("\u2060", "")
        else:
            yield from _printed_text(child)


def all_lines(document) -> list[PLine]:
    out: list[PLine] = []
    for number, page in enumerate(document.pages, 1):
        flow: list[PLine] = []
        notes: list[PLine] = []

        def walk(box, in_chapter, kind, src, block, sink, lang=None):
            cls = _classes(box)
            if "footnote" in cls and sink is flow:
                return
            el = getattr(box, "element", None)
            tag = getattr(box, "element_tag", "") or ""
            in_chapter = in_chapter or "chapter" in cls or "division" in cls   # a division's title too
            if tag in HEADINGS or "chapter-title" in cls:
                kind = "heading"
            elif sink is flow and skipped(tag, cls) and kind == "body":
                kind = "other"          # not running text (words.py): a code block, an image
            if el is not None and el.get("data-src"):
                src = el.get("data-src")
            if el is not None and el.get("lang"):
                lang = el.get("lang")
            if type(box).__name__ in ("BlockBox", "ParagraphBox", "TableCellBox") or tag in (
                    "p", "dd", "dt", "li", "td", "th", "caption", "figcaption") or "note-p" in cls:
                block = id(el) if el is not None else block
            if type(box).__name__ == "LineBox":
                text = "".join(_printed_text(box))
                if text.strip():
                    right = max((c.position_x + c.margin_width() for c in box.children), default=box.position_x)
                    overflow = max(0.0, right - (box.position_x + box.width))
                    # the language of the line: its element's, or the one of a span it holds
                    texts = [c for c in box.descendants() if type(c).__name__ == "TextBox"]
                    last = texts[-1].element if texts and getattr(texts[-1], "element", None) is not None else None
                    inner = (last.get("lang") if last is not None else None) or next(
                        (c.element.get("lang") for c in box.descendants()
                         if getattr(c, "element", None) is not None and c.element.get("lang")), None)
                    sink.append(PLine(number, 0, box.position_y, box.height, box.position_x, text,
                                      kind, in_chapter and kind in ("body", "heading"), block, src, overflow,
                                      box.width, inner or lang))
                return
            for child in getattr(box, "children", None) or []:
                walk(child, in_chapter, kind, src, block, sink, lang)

        for box in page._page_box.children:
            kind = type(box).__name__
            if kind == "FootnoteAreaBox":
                walk(box, False, "note", None, 0, notes)
            elif kind != "MarginBox":
                walk(box, False, "body", None, 0, flow)
        for line in flow:
            if line.kind == "body" and not line.in_chapter:
                line.kind = "other"
        for i, line in enumerate(flow + notes, 1):
            line.n = i
        out += flow + notes
    return out
