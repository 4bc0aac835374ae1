"""Where each printed page begins in the text: read from WeasyPrint's layout.

The print layout is walked line by line (only the running text of chapters:
no running heads, folios, note calls or notes); the lines are joined back into
one text (a line ending in WeasyPrint's hyphenation character is joined to the
next without it; one ending in a real hyphen keeps it), and each page is given
the index of the first word that starts on it.  Words are counted with the same
rule as collation (model/words.py) over the same running text, so word k of the
print edition is word k of the EPUB: the EPUB writer puts page-break markers
there, the layout loop (typeset/correct.py) moves a line to the next page there (notes), and the
proof collates the typeset text word by word.
"""
from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field

from matbaa.model import PageMap
from matbaa.model.pagemap import HyphenStats
from matbaa.model.words import WORD, skipped
from matbaa.typeset import engine

HYPHEN_CHARS = ("\u2010", "\u00ad")  # WeasyPrint's default hyphenate-character, soft hyphen
WORD_JOINER = "\u2060"               # keeps a numeral and its suffix together in print (render/tokens.py)


@dataclass
class Line:
    page: int                                   # 1-based
    text: str
    ids: set[str] = field(default_factory=set)  # ids of elements on the line (note calls, marks)


def body_lines(document, anchors: dict[str, int] | None = None) -> list[Line]:
    """The lines of running text of every chapter, in order, with their pages.

    `anchors`, if given, receives the page of every element with an id (the
    first page it is on), notes in the footnote area included."""
    out: list[Line] = []
    for number, boxes in engine.pages(document):
        def walk(box, in_chapter: bool):
            cls = engine.classes(box)
            if "footnote" in cls:
                return  # a note's page is where its body is drawn: the footnote area
            el = engine.element(box)
            if anchors is not None and el is not None and el.get("id"):
                anchors.setdefault(el.get("id"), number)
            if skipped(engine.tag(box) or None, cls):     # not running text (model/words.py)
                if anchors is not None:
                    _collect_ids(box, anchors, number)
                return
            in_chapter = in_chapter or "chapter" in cls
            if engine.kind(box) == engine.LINE:
                ids: set[str] = set()
                text = "".join(_line_text(box, ids))
                if anchors is not None:
                    for i in ids:
                        anchors.setdefault(i, number)
                if in_chapter and text.strip():
                    out.append(Line(number, text, ids))
                return
            for child in engine.children(box):
                walk(child, in_chapter)

        for box in boxes:
            kind = engine.kind(box)
            if kind == engine.FOOTNOTES and anchors is not None:
                _collect_ids(box, anchors, number)
            elif kind != engine.MARGIN:
                walk(box, False)
    return out


def _collect_ids(box, anchors: dict[str, int], number: int) -> None:
    el = engine.element(box)
    if el is not None and el.get("id"):
        anchors.setdefault(el.get("id"), number)
    for child in engine.children(box):
        _collect_ids(child, anchors, number)


def _line_text(box, ids: set[str]):
    for child in engine.children(box):
        cls = engine.classes(child)
        if "footnote" in cls:
            continue
        el = engine.element(child)
        if el is not None and el.get("id"):
            ids.add(el.get("id"))
        tag = engine.tag(child)
        if "::" in tag or skipped(tag, cls):     # generated content, or not running text (model/words.py)
            continue
        if engine.kind(child) == engine.TEXT:
            yield engine.text(child).replace(WORD_JOINER, "")
        else:
            yield from _line_text(child, ids)


def join_lines(lines: list[Line]) -> tuple[str, list[int]]:
    """One text from the lines, and the offset where each line starts in it."""
    text = ""
    starts = []
    for line in lines:
        t = line.text.strip()
        if text.endswith(HYPHEN_CHARS):
            text = text[:-1]
        elif text and not text.endswith("-"):
            text += " "
        starts.append(len(text))
        text += t
    if text.endswith(HYPHEN_CHARS):
        text = text[:-1]
    return text, starts


def hyphen_problems(lines: list[Line], max_run: int = 2) -> list[int]:
    """Lines whose hyphenated end should not be: the one that makes a run of
    more than `max_run` hyphenated lines, the last line of a page, and a line
    that holds nothing but the hyphenated fragment."""
    bad, run = [], 0
    for i, line in enumerate(lines):
        hyphenated = line.text.rstrip().endswith(HYPHEN_CHARS)
        run = run + 1 if hyphenated else 0
        page_end = i + 1 < len(lines) and lines[i + 1].page != line.page
        # WeasyPrint can end a nearly empty line with a hyphen ("mər-", "mərkəz ətra-"):
        # keep that word whole
        alone = hyphenated and len(line.text.split()) <= 2
        if hyphenated and (run > max_run or page_end or alone):
            bad.append(i)
            run = 0
    return bad


def hyphen_stats(lines: list[Line]) -> HyphenStats:
    flags = [line.text.rstrip().endswith(HYPHEN_CHARS) for line in lines]
    longest = run = 0
    for f in flags:
        run = run + 1 if f else 0
        longest = max(longest, run)
    page_end = sum(1 for i in range(len(lines) - 1) if flags[i] and lines[i + 1].page != lines[i].page)
    return HyphenStats(lines=len(lines), hyphenated=sum(flags),
                       share=round(sum(flags) / len(lines), 4) if lines else 0.0,
                       longest_run=longest, page_end=page_end)


def read_pages(document) -> PageMap:
    """The page map of a laid-out document (model/pagemap.py): its words, the
    first word of each page, the page of each id, and its lines."""
    anchors: dict[str, int] = {}
    lines = body_lines(document, anchors)
    text, starts = join_lines(lines)
    spans = [(m.start(), m.end(), m.group(0)) for m in WORD.finditer(text)]
    word_starts = [s for s, _, _ in spans]
    pages: dict[int, int] = {}
    for (s, _, _), k in zip(spans, range(len(spans))):
        line = bisect.bisect_right(starts, s) - 1
        pages.setdefault(lines[line].page, k)
    line_words = []
    for off in starts:
        k = bisect.bisect_right(word_starts, off) - 1   # the word that holds the line's first letter
        if k < 0 or spans[k][1] <= off:
            k += 1                                       # the line starts between words
        line_words.append(k)
    return PageMap(words=[w for _, _, w in spans], pages=pages, anchors=anchors,
                   count=engine.page_count(document), line_words=line_words,
                   line_ids=[sorted(l.ids) for l in lines], line_pages=[l.page for l in lines],
                   hyphenation=hyphen_stats(lines),
                   hyphen_fix=[line_words[i + 1] for i in hyphen_problems(lines) if i + 1 < len(lines)])


def fingerprint(print_html: str) -> str:
    """What a page map records of the print document it was read from (PageMap.html)."""
    return hashlib.sha256(print_html.encode("utf-8")).hexdigest()


