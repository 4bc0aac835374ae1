"""Collation: the edition's words against the source text as received.

Every word of the source must reach the edition, in order.  Each difference
is either explained by an entry of the book's corrections file (kind
`removed`: page furniture and serial notices; kind `word`: an editorial change)
or it is an error.  Punctuation is not compared (corrections of kind
`punctuation` are documentation only).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .diagnostics import Location
from .model import Book
from .words import WORD, inline_text, words  # noqa: F401 (WORD: the one rule, words.py)


def source_words(text: str) -> list[str]:
    """Words of the source as received.  A PDF extraction breaks lines inside
    words at hyphens; every such hyphen in our sources is a real one (1969-|cu,
    ictimai-|siyasi), so the two halves are joined with the hyphen kept."""
    return words(re.sub(r"-[ \t]*\n\s*", "-", text))


def _inline_text(tok) -> str:
    return inline_text(tok.children)[0]


def head_words(book: Book) -> list[str]:
    """The words of the title block (title, subtitle, authors and affiliations)."""
    meta = book.meta
    head = [meta["title"], meta.get("subtitle") or ""]
    for person in meta.get("author") or []:
        head += [person["name"], person.get("affiliation") or ""]
    return [w for text in head for w in words(text)]


def edition_words(book: Book) -> list[tuple[str, Location]]:
    """The edition's running text in reading order: title block, then every chapter (no notes)."""
    loc = Location(book.root / "book.yaml", None)
    out: list[tuple[str, Location]] = [(w, loc) for w in head_words(book)]
    for chapter in book.chapters:
        for tok in chapter.tokens:
            if tok.type == "inline":
                line = (tok.map[0] + 1) if tok.map else None
                here = Location(book.root / chapter.path, line)
                out += [(w, here) for w in words(_inline_text(tok))]
    return out


@dataclass
class Difference:
    op: str                     # delete | insert | replace
    source: list[str]
    edition: list[str]
    location: object | None     # where: a manuscript Location, or a proof line
    explained_by: dict | None   # the correction that documents it

    @property
    def where(self):
        return self.location

    def __str__(self) -> str:
        what = {"delete": "missing from the edition", "insert": "added by the edition",
                "replace": "changed"}[self.op]
        return f"{self.location}: {what}: source «{' '.join(self.source)}» edition «{' '.join(self.edition)}»"


def _explains(corr: dict, source: list[str], edition: list[str]) -> bool:
    before, after = " ".join(words(str(corr.get("before", "")))), " ".join(words(str(corr.get("after", ""))))
    s, e = " ".join(source), " ".join(edition)
    return (s in before if s else True) and (e in after if e else True) and (s or e) != ""


def collate(book: Book, source_text: str) -> list[Difference]:
    return collate_words(book, source_text, edition_words(book))


def collate_words(book: Book, source_text: str, ed: list[tuple[str, object]]) -> list[Difference]:
    """Compare the source's words with an edition's (word, where) sequence."""
    src = source_words(source_text)
    matcher = difflib.SequenceMatcher(a=src, b=[w for w, _ in ed], autojunk=False)
    diffs = []
    word_corrections = [c for c in book.corrections if c.get("kind") in ("removed", "word")]
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        where = ed[min(j1, len(ed) - 1)][1] if ed else None
        s, e = src[i1:i2], [w for w, _ in ed[j1:j2]]
        expl = next((c for c in word_corrections if _explains(c, s, e)), None)
        diffs.append(Difference(tag, s, e, where, expl))
    return diffs
