"""Where each printed page begins in the text: read from WeasyPrint's layout.

The print layout is walked line by line (only the running text of chapters:
no running heads, folios, note calls or notes); the lines are joined back into
one text (a line ending in WeasyPrint's hyphenation character is joined to the
next without it; one ending in a real hyphen keeps it), and each page is given
the index of the first word that starts on it.  Words are counted with the same
rule as collation (collate.words) over the same running text, so word k of the
print edition is word k of the EPUB: the EPUB writer puts page-break markers
there, the PDF writer moves a line to the next page there (notes), and the
proof collates the typeset text word by word.
"""
from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from markdown_it.token import Token

from .words import WORD, Owners, inline_text, skipped

HYPHEN_CHARS = ("\u2010", "\u00ad")  # WeasyPrint's default hyphenate-character, soft hyphen
WORD_JOINER = "\u2060"               # keeps a numeral and its suffix together in print (render.py)


@dataclass
class Line:
    page: int                                   # 1-based
    text: str
    ids: set[str] = field(default_factory=set)  # ids of elements on the line (note calls, marks)


def _classes(box) -> set[str]:
    el = getattr(box, "element", None)
    return set((el.get("class") or "").split()) if el is not None else set()


def body_lines(document, anchors: dict[str, int] | None = None) -> list[Line]:
    """The lines of running text of every chapter, in order, with their pages.

    `anchors`, if given, receives the page of every element with an id (the
    first page it is on), notes in the footnote area included."""
    out: list[Line] = []
    for number, page in enumerate(document.pages, 1):
        def walk(box, in_chapter: bool):
            cls = _classes(box)
            if "footnote" in cls:
                return  # a note's page is where its body is drawn: the footnote area
            el = getattr(box, "element", None)
            if anchors is not None and el is not None and el.get("id"):
                anchors.setdefault(el.get("id"), number)
            if skipped(getattr(box, "element_tag", None), cls):     # not running text (words.py)
                if anchors is not None:
                    _collect_ids(box, anchors, number)
                return
            in_chapter = in_chapter or "chapter" in cls
            if type(box).__name__ == "LineBox":
                ids: set[str] = set()
                text = "".join(_line_text(box, ids))
                if anchors is not None:
                    for i in ids:
                        anchors.setdefault(i, number)
                if in_chapter and text.strip():
                    out.append(Line(number, text, ids))
                return
            for child in getattr(box, "children", None) or []:
                walk(child, in_chapter)

        for box in page._page_box.children:
            kind = type(box).__name__
            if kind == "FootnoteAreaBox" and anchors is not None:
                _collect_ids(box, anchors, number)
            elif kind != "MarginBox":
                walk(box, False)
    return out


def _collect_ids(box, anchors: dict[str, int], number: int) -> None:
    el = getattr(box, "element", None)
    if el is not None and el.get("id"):
        anchors.setdefault(el.get("id"), number)
    for child in getattr(box, "children", None) or []:
        _collect_ids(child, anchors, number)


def _line_text(box, ids: set[str]):
    for child in getattr(box, "children", None) or []:
        cls = _classes(child)
        if "footnote" in cls:
            continue
        el = getattr(child, "element", None)
        if el is not None and el.get("id"):
            ids.add(el.get("id"))
        tag = getattr(child, "element_tag", "") or ""
        if "::" in tag or skipped(tag, cls):     # generated content, or not running text (words.py)
            continue
        if type(child).__name__ == "TextBox":
            yield child.text.replace(WORD_JOINER, "")
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


def hyphen_stats(lines: list[Line]) -> dict:
    flags = [line.text.rstrip().endswith(HYPHEN_CHARS) for line in lines]
    longest = run = 0
    for f in flags:
        run = run + 1 if f else 0
        longest = max(longest, run)
    page_end = sum(1 for i in range(len(lines) - 1) if flags[i] and lines[i + 1].page != lines[i].page)
    return {"lines": len(lines), "hyphenated": sum(flags),
            "share": round(sum(flags) / len(lines), 4) if lines else 0.0,
            "longest_run": longest, "page_end": page_end}


def read_pages(document) -> dict:
    """{'words': [...], 'pages': {page: index of the first word starting on it},
    'anchors': {element id: first page}, 'count': pages,
    'line_words': [index of the word holding each line's first letter],
    'line_ids': [ids on each line], 'line_pages': [page of each line]}."""
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
    return {"words": [w for _, _, w in spans], "pages": pages, "anchors": anchors,
            "count": len(document.pages), "line_words": line_words,
            "line_ids": [sorted(l.ids) for l in lines], "line_pages": [l.page for l in lines],
            "hyphenation": hyphen_stats(lines),
            "hyphen_fix": [line_words[i + 1] for i in hyphen_problems(lines) if i + 1 < len(lines)]}


def fingerprint(print_html: str) -> str:
    return hashlib.sha256(print_html.encode("utf-8")).hexdigest()


def save(path: Path, print_html: str, data: dict) -> None:
    from .files import write_text

    payload = dict(data, html=fingerprint(print_html), pages={str(k): v for k, v in sorted(data["pages"].items())})
    write_text(path, json.dumps(payload, ensure_ascii=False, sort_keys=True))


def load(path: Path, print_html: str) -> dict | None:
    """The saved page map, if it belongs to this very print document."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("html") != fingerprint(print_html):
        return None
    payload["pages"] = {int(k): v for k, v in payload["pages"].items()}
    return payload


def compute(book, styles: Path, build: Path) -> dict:
    """The page map of the book's print layout: saved by the PDF build, else laid out now."""
    from .writers.html import render_print_html

    path = Path(build) / f"{book.id}.pages.json"
    # the PDF build may have moved lines to keep notes with their calls: replay that
    forced, unhyphenated = _load_forced(path)
    if forced:
        insert_at_words(book, {k: _forced_break for k in forced}, top_level=True)
    if unhyphenated:
        wrap_words(book, set(unhyphenated), "nohyph_open", "nohyph_close")
    data = load(path, render_print_html(book, styles))
    if data is None:
        # The PDF was not built (or is out of date): lay the book out now, in
        # pieces (writers/segments.py; WeasyPrint is imported only when needed),
        # from the book as written (the corrections replayed above were for
        # another text), and take its tokens as the layout corrected them.
        from .build import load as load_book
        from .writers.segments import lay_out

        fresh, _report = load_book(book.root, styles)
        _html, data, _pieces, _folios = lay_out(fresh, styles, build)
        for chapter, corrected in zip(book.chapters, fresh.chapters):
            chapter.tokens = corrected.tokens
        save(path, _html, data)
    return data


def _load_forced(path: Path) -> tuple[list[int], list[int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [], []
    return data.get("forced", []), data.get("unhyphenated", [])


def _forced_break() -> Token:
    return Token("forced_break", "", 0)


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


_Owners = Owners


def _paragraph_text(tok: Token) -> tuple[str, Owners]:
    """A paragraph's text as read_pages counts it, and the owner of each character (words.py)."""
    return inline_text(tok.children)


def word_count(book) -> int:
    """The words of the book's running text, as the page map counts them."""
    return sum(len(found) for _t, _o, found in _numbered_words(book))


def _numbered_words(book):
    """For each paragraph of running text: (its inline token, the owners of its
    characters, [(k, match)] for its words), k counted over the whole book."""
    k = 0
    for chapter in book.chapters:
        for tok in chapter.tokens:
            if tok.type != "inline" or not tok.children:
                continue
            text, owners = _paragraph_text(tok)
            found = []
            for m in WORD.finditer(text):
                found.append((k, m))
                k += 1
            yield tok, owners, found


def _splice(tok: Token, cuts: dict[int, list[tuple[int, Callable[[], Token]]]]) -> int:
    """Insert tokens into a paragraph: cuts[i] lists (offset in child i, maker);
    offset -1 means before child i itself.  Returns how many were inserted."""
    children: list[Token] = []
    placed = 0
    for i, child in enumerate(tok.children):
        if i not in cuts:
            children.append(child)
            continue
        if child.type != "text":        # a word inside a code span: the token goes before the span
            for _j, make in cuts[i]:
                children.append(make())
                placed += 1
            children.append(child)
            continue
        pos = 0
        for j, make in sorted(cuts[i], key=lambda c: c[0]):
            if j > pos:
                children.append(_text(child.content[pos:j]))
            children.append(make())
            placed += 1
            pos = max(pos, j)
        if child.type == "text":
            if pos < len(child.content):
                children.append(_text(child.content[pos:]))
        else:
            children.append(child)
    tok.children = children
    return placed


def wrap_words(book, indexes: set[int], open_type: str, close_type: str) -> int:
    """Wrap word k (for k in indexes) in an open/close token pair, when the
    word lies inside one text token (it nearly always does).  Returns the count."""
    opener = lambda: Token(open_type, "span", 1)    # noqa: E731
    closer = lambda: Token(close_type, "span", -1)  # noqa: E731
    done = 0
    for tok, owners, found in _numbered_words(book):
        cuts: dict[int, list] = {}
        for k, m in found:
            if k in indexes:
                (i, a), (i2, b) = owners[m.start()], owners[m.end() - 1]
                if i == i2 and tok.children[i].type == "text":
                    cuts.setdefault(i, []).extend([(a, opener), (b + 1, closer)])
        if cuts:
            done += _splice(tok, cuts) // 2
    return done


def insert_at_words(book, wanted: dict[int, Callable[[], Token]], top_level: bool = False) -> int:
    """Insert a token before word k of the running text, for each k in `wanted`.

    Words are counted over each paragraph's text as read_pages counts them.  With
    top_level, a word inside a span (a glossary mark, a kept-together numeral)
    gets the token before the span instead, so that it can close the paragraph.
    Returns how many tokens were inserted."""
    placed = 0
    for tok, owners, found in _numbered_words(book):
        cuts: dict[int, list] = {}
        for k, m in found:
            if k in wanted:
                i, j = owners[m.start()]
                if top_level:
                    depth, opened = 0, None
                    for n, c in enumerate(tok.children[:i]):
                        if c.nesting == 1:
                            depth, opened = depth + 1, (n if depth == 0 else opened)
                        elif c.nesting == -1:
                            depth -= 1
                    if depth > 0:
                        i, j = opened, -1       # before the opening of the span
                cuts.setdefault(i, []).append((j, wanted[k]))
        if cuts:
            placed += _splice(tok, cuts)
    return placed


def mark_pages(book, pages: dict[int, int]) -> int:
    """Insert a `pagebreak` token (EPUB page-list target) where each printed page begins."""
    def maker(page):
        def make():
            t = Token("pagebreak", "span", 0)
            t.meta["page"] = page
            return t
        return make

    return insert_at_words(book, {index: maker(page) for page, index in pages.items()})
