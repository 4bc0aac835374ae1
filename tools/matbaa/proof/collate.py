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

from matbaa.diagnostics import Location
from matbaa.model.book import Book
from matbaa.read.reader import manuscript_path
from matbaa.model.words import WORD, comparable as normal, inline_text  # noqa: F401 (WORD: the one rule)


def words(text: str) -> list[str]:
    """The words collation compares: model/words.py's, read through normal()
    (model/words.comparable: as many words as the rule finds, a typed
    apostrophe the same as a typeset one)."""
    return WORD.findall(normal(text))


def source_words(text: str) -> list[str]:
    """Words of the source as received.  A PDF extraction breaks lines inside
    words at hyphens; every such hyphen in our sources is a real one (1969-|cu,
    ictimai-|siyasi), so the two halves are joined with the hyphen kept."""
    return words(re.sub(r"-[ \t]*\n\s*", "-", text))


# The navigation of a chunked HTML edition (DocBook's header and footer bars,
# each chapter's table of contents) is not its text; its code blocks are not
# running text either (model/words.py: no edition collates them).
HTML_FURNITURE = ("//head", "//script", "//style", "//nav", "//pre", "//*[contains(concat(' ', @class, ' '), ' navheader ')]",
                  "//*[contains(concat(' ', @class, ' '), ' navfooter ')]",
                  "//*[contains(concat(' ', @class, ' '), ' toc ')]")


def read_source(path) -> str:
    """The text of one source file as received: plain text as it is; HTML as
    its body's text, blocks kept apart, without its navigation."""
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm", ".xhtml"):
        return path.read_text(encoding="utf-8")
    from lxml import etree, html

    root = html.fromstring(path.read_bytes(), parser=html.HTMLParser(encoding="utf-8", no_network=True))
    for xpath in HTML_FURNITURE:
        for el in root.xpath(xpath):
            el.drop_tree()
    blocks = {"p", "div", "li", "dt", "dd", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "br"}
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag in blocks:
            el.tail = "\n" + (el.tail or "")
    return etree.tostring(root, method="text", encoding="unicode")


def source_text(book: Book) -> str | None:
    """The source as received (`source.file`, or `source.files` in reading order), or None."""
    src = book.meta.get("source") or {}
    files = list(src.get("files") or []) or ([src["file"]] if src.get("file") else [])
    if not files:
        return None
    # through the reader's gate (it refused anything outside the manuscript with M008 already)
    paths = [manuscript_path(book.root, f) for f in files]
    if None in paths:
        return None
    return "\n\n".join(read_source(path) for path in paths)


def running_text(tok) -> str:
    return inline_text(tok.children)[0]


def head_words(book: Book) -> list[str]:
    """The words of the title block (title, subtitle, authors and affiliations)."""
    meta = book.meta
    head = [meta["title"], meta.get("subtitle") or ""]
    for person in meta.get("author") or []:
        head += [person["name"], person.get("affiliation") or ""]
    return [w for text in head for w in words(text)]


def edition_words(book: Book) -> list[tuple[str, Location]]:
    """The edition's running text in reading order: title block, then every chapter,
    its heading included (no notes)."""
    loc = Location(book.root / "book.yaml", None)
    out: list[tuple[str, Location]] = [(w, loc) for w in head_words(book)]
    for part in book.parts:
        # a division of one file (a chapter outside any part, a preface…) prints its title as
        # its heading; a part's own title is the edition's (book.yaml), not the text's
        if getattr(part, "kind", "part") not in ("part", "dedication") and part.title:
            where = Location(book.root / part.chapters[0].path, 1) if part.chapters else loc
            out += [(w, where) for w in words(part.title)]
        for chapter in part.chapters:
            out += _chapter_words(book, chapter)
    return out


def _chapter_words(book: Book, chapter) -> list[tuple[str, Location]]:
    out: list[tuple[str, Location]] = []
    if chapter.title:                           # printed as the chapter's heading, read like its text
        out += [(w, Location(book.root / chapter.path, 1)) for w in words(chapter.title)]
    for tok in chapter.tokens:
        if tok.type == "inline":
            line = (tok.map[0] + 1) if tok.map else None
            here = Location(book.root / chapter.path, line)
            out += [(w, here) for w in words(running_text(tok))]
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


def _cover(seq: list[str], corrections: list[dict], side: str) -> list[dict] | None:
    """The entries whose `side` text holds seq stretch by stretch (longest first), or None."""
    if len(seq) > 3000:                         # (longest-first search: a whole lost chapter is no stretch)
        return None
    texts = [(c, " " + " ".join(words(str(c.get(side, "")))) + " ") for c in corrections]
    used: list[dict] = []
    i = 0
    while i < len(seq):
        for j in range(len(seq), i, -1):
            piece = " " + " ".join(seq[i:j]) + " "
            hit = next((c for c, t in texts if piece in t), None)
            if hit is not None:
                used.append(hit)
                i = j
                break
        else:
            return None
    return used


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
        if expl is None and tag != "equal":
            # a difference that runs over several documented changes (a removal beside an
            # addition, two additions in a row): each stretch explained by its own entry
            gone = _cover(s, [c for c in word_corrections], "before")
            added = _cover(e, [c for c in word_corrections], "after")
            if gone is not None and added is not None and (gone or added):
                used = gone + [c for c in added if c not in gone]
                expl = {"kind": "word", "before": " / ".join(str(c.get("before", "")) for c in gone),
                        "after": " / ".join(str(c.get("after", "")) for c in added),
                        "reason": " / ".join(str(c.get("reason", "")) for c in used)}
        diffs.append(Difference(tag, s, e, where, expl))
    return diffs
