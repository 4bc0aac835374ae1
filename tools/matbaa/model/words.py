"""The words of the running text: one rule for every reader of it.

The page map (typeset/pagemap.py) counts the words WeasyPrint lays out; the EPUB
writer, the layout loop and collation (proof/collate.py) count the words of the
tokens; the proof reads them back from the outputs.  Word k must be the same
word for all of them, so all of them ask this module:

- `WORD`, `words(text)`: what a word is;
- `inline_text(children)`: the text of a paragraph's inline tokens as it is
  laid out, and the token each character comes from;
- `skipped(tag, classes)`: which elements of an output are not running text.

What is running text: text, emphasis, strong, code spans, the text of links
and glossary marks, line breaks (a space), no-break spaces (they separate
words, as any space does).  What is not: a note call and the note (the note's
own words are counted apart), a citation (`<span class="citation">`, made by
the build like a note call, not written word for word by the author), an image
(its alternative text is not printed on the page; a figure's caption is
running text: mdext/blocks.py makes it an inline token of its own), a code block, the generated
text of a cross-reference's page number (CSS generated content).
tests/test_words.py checks this against WeasyPrint's own layout.
"""
from __future__ import annotations

import bisect
import re
import unicodedata

#: A word: letters and digits, joined by an apostrophe, a dot (2.6.32, e.ə) or a
#: hyphen (ictimai-siyasi, 1991-ci, DTK-nin), but not by a hyphen between two
#: digits: a range is two numbers however it is typed (1996-2021, typeset
#: 1996–2021 by transforms/typography.py), so that the source as received and
#: the edition count the same words (collation) as the layout does (page map).
WORD = re.compile(r"\w+(?:(?:[.’']|-(?!\d)|(?<!\d)-)\w+)*")

#: inline token types whose `content` is laid out as text
TEXT_TYPES = frozenset({"text", "code_inline"})
#: inline token types laid out as a space (a line break joins two words apart)
SPACE_TYPES = frozenset({"softbreak", "hardbreak"})
#: classes of the output elements that are not running text (see the module's text)
SKIPPED_CLASSES = frozenset({"footnote", "noteref", "citation", "chapter-title", "no-words"})
#: output elements that are not running text: images (their alt text) and code blocks
SKIPPED_TAGS = frozenset({"img", "pre", "svg"})
#: output elements that end a line of text (a word never runs on from one to the next)
BLOCK_TAGS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "blockquote", "td",
                        "th", "dt", "dd", "figcaption", "tr", "ol", "ul", "dl", "table", "figure", "aside"})


def words(text: str) -> list[str]:
    """The words of a text, by the one rule (WORD)."""
    return WORD.findall(unicodedata.normalize("NFC", text))


def comparable(text: str) -> str:
    """A text as collation compares it: NFC, and a typed apostrophe the same as
    a typeset one (l'idée, l’idée).  Words are not added or removed: the words
    of comparable(t) are the words of t, one for one."""
    return unicodedata.normalize("NFC", text).replace("'", "’")


def skipped(tag: str | None, classes) -> bool:
    """Is an output element (its tag and set of classes) left out of the running text?"""
    return (tag or "").split("}")[-1].lower() in SKIPPED_TAGS or not SKIPPED_CLASSES.isdisjoint(classes)


def _is_citation(tok) -> bool:
    return tok.type in ("span_open", "citation_open") and (
        tok.type == "citation_open" or "citation" in (tok.attrs.get("class") or "").split())


def inline_pieces(children) -> list[tuple[int, str]]:
    """(index of the child, the text it lays out) for every child that lays out text."""
    out: list[tuple[int, str]] = []
    skip = 0                      # depth inside a citation span
    for i, child in enumerate(children or ()):
        if skip:
            if child.nesting == 1:
                skip += 1
            elif child.nesting == -1:
                skip -= 1
            continue
        if _is_citation(child):
            skip = 1
            continue
        if child.type in TEXT_TYPES:
            if child.content:
                out.append((i, child.content))
        elif child.type in SPACE_TYPES:
            out.append((i, " "))
    return out


class Owners:
    """For each character of a paragraph's text, (index of the child token it
    comes from, offset in that child): looked up from where each child starts,
    not stored per character (most paragraphs are never asked)."""

    def __init__(self, starts: list[int], children: list[int]):
        self.starts, self.children = starts, children

    def __getitem__(self, pos: int) -> tuple[int, int]:
        n = bisect.bisect_right(self.starts, pos) - 1
        return self.children[n], pos - self.starts[n]


def inline_text(children) -> tuple[str, Owners]:
    """A paragraph's text as it is laid out, and the owner of each character."""
    pieces, starts, owners, at = [], [], [], 0
    for i, piece in inline_pieces(children):
        pieces.append(piece)
        starts.append(at)
        owners.append(i)
        at += len(piece)
    return "".join(pieces), Owners(starts, owners)


def count(children) -> int:
    """How many words a paragraph's inline tokens lay out."""
    return sum(1 for _ in WORD.finditer("".join(p for _, p in inline_pieces(children))))


def element_text(element) -> str:
    """The running text of an output (X)HTML element (lxml), by the same rule:
    skipped elements left out, a <br> a space."""
    out: list[str] = []

    def walk(el):
        tag = (el.tag if isinstance(el.tag, str) else "").split("}")[-1]
        if not (skipped(tag, (el.get("class") or "").split()) or "noteref" in (el.get(
                "{http://www.idpf.org/2007/ops}type") or "").split()) and isinstance(el.tag, str):
            if tag == "br":
                out.append(" ")
            if el.text:
                out.append(el.text)
            for child in el:
                walk(child)
            if tag in BLOCK_TAGS:
                out.append(" ")
        if el.tail and el is not element:
            out.append(el.tail)

    walk(element)
    return "".join(out).replace("\u00ad", "")


def numbered_words(book):
    """For each paragraph of the book's running text: (its inline token, the
    owners of its characters, [(k, match)] for its words), k counted over the
    whole book (or the part a view of the book holds): the page map's word k."""
    k = 0
    for chapter in book.chapters:
        for tok in chapter.tokens:
            if tok.type != "inline" or not tok.children:
                continue
            text, owners = inline_text(tok.children)
            found = []
            for m in WORD.finditer(text):
                found.append((k, m))
                k += 1
            yield tok, owners, found


def word_count(book) -> int:
    """The words of the book's running text, as the page map counts them."""
    return sum(len(found) for _t, _o, found in numbered_words(book))
