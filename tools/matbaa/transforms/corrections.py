"""The layout loop's corrections applied to a Book: a new Book, the given one unchanged.

The print layout (typeset/correct.py) decides, as a typesetter would, where a
page must end early (a note kept with its call) and which words must not be
hyphenated; it records them as data (model.Corrections: word indexes of the
running text, model/words.py).  `apply` makes the Book that carries them: a
`forced_break` token before each forced word (the renderers close the
paragraph there) and each unhyphenated word wrapped in `nohyph_open`/`nohyph_close`.
The print document, `make html`, the EPUB and the proof all render that Book,
so their texts stay the same word for word.

The token splicing below (`insert_at_words`, `wrap_words`, `mark_pages`)
changes the paragraphs of the Book it is given: it is for a writer's own
copy (`own_tokens`), never for a Book another writer reads.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from markdown_it.token import Token

from matbaa.model import Book, Corrections
from matbaa.model.words import numbered_words


def apply(book: Book, corrections: Corrections) -> Book:
    """The book with the corrections in its paragraphs (a new Book: the
    chapters' tokens copied, the given book untouched)."""
    if not corrections:
        return book
    new = own_tokens(book)
    if corrections.forced:
        insert_at_words(new, {k: forced_break for k in corrections.forced}, top_level=True)
    if corrections.unhyphenated:
        wrap_words(new, set(corrections.unhyphenated), "nohyph_open", "nohyph_close")
    return new


def own_tokens(book: Book, notes: bool = False) -> Book:
    """A Book whose chapters' tokens (and with notes=True its notes' tokens)
    are copies, the rest shared: what a step may splice into without changing
    the Book it was given."""
    parts = [dataclasses.replace(p, chapters=[dataclasses.replace(c, tokens=copy_tokens(c.tokens))
                                              for c in p.chapters]) for p in book.parts]
    if not notes:
        return dataclasses.replace(book, parts=parts)
    return dataclasses.replace(book, parts=parts, notes={k: dataclasses.replace(n, tokens=copy_tokens(n.tokens))
                                                         for k, n in book.notes.items()})


def copy_tokens(tokens: list[Token]) -> list[Token]:
    """Tokens a step may splice into: each paragraph's inline token copied with
    a list of children of its own, and its text children copied (what the
    splicing replaces and what a writer's text changes, soft hyphens, touch).
    The other tokens are shared: no step changes them (tests/test_architecture.py
    builds every edition and compares the Book)."""
    out = []
    for tok in tokens:
        if tok.children:
            tok = tok.copy(children=[c.copy() if c.type == "text" else c for c in tok.children])
        out.append(tok)
    return out


def forced_break() -> Token:
    return Token("forced_break", "", 0)


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


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
        if pos < len(child.content):
            children.append(_text(child.content[pos:]))
    tok.children = children
    return placed


def wrap_words(book, indexes: set[int], open_type: str, close_type: str) -> int:
    """Wrap word k (for k in indexes) in an open/close token pair, when the
    word lies inside one text token (it nearly always does).  Returns the count."""
    opener = lambda: Token(open_type, "span", 1)    # noqa: E731
    closer = lambda: Token(close_type, "span", -1)  # noqa: E731
    done = 0
    for tok, owners, found in numbered_words(book):
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

    Words are counted over each paragraph's text as the page map counts them.
    With top_level, a word inside a span (a glossary mark, a kept-together
    numeral) gets the token before the span instead, so that it can close the
    paragraph.  Returns how many tokens were inserted."""
    placed = 0
    for tok, owners, found in numbered_words(book):
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


__all__ = ["apply", "own_tokens", "copy_tokens", "forced_break", "insert_at_words", "wrap_words", "mark_pages"]
