"""The book's structure: the ids of its divisions, chapters and headings, and its links.

- every part, chapter and sub-heading gets its id: a part `part-N`, a chapter's
  section `ch-N-K`; a title or heading the id written after it in Pandoc's
  syntax (`## Text {#id}`), else one made from its text by Pandoc's rule
  (auto_identifiers: `## Mündəricat və İlkin` -> `mündəricat-və-ilkin`), unique
  in the book (`-1`, `-2` …);
- a sub-heading moves one level down inside a part (`##` is an h3 under the
  part's h1 and the chapter's h2), so that the levels of the document, its
  outline and its contents follow the book's;
- every link (`[text](#id)`, `[text](other.md)`, `[text](other.md#id)`) is
  resolved to the id it names, for both editions: the print edition links
  within its one document, the EPUB to the file that holds the id (the
  renderer, render/tokens.py).  A link to nothing is an error (D005).
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import unquote

from matbaa.diagnostics import Location
from matbaa.read.mdext.blocks import html_id
from matbaa.model.book import Heading
from matbaa.read.reader import heading_attrs, plain_text

# ids the build writes itself (templates, notes, glossary marks, page markers)
RESERVED = re.compile(r"^(?:half-title|title-page|titlepage|imprint|toc|cover|landmarks|page-list|glossary"
                      r"(?:-title|-reverse(?:-title)?)?|part-\d+(?:-title)?|ch-\d+-\d+(?:-title)?|fn-.*|fnref-.*"
                      r"|t-.+-\d+|gl-.*|page-\d+)$")
ID_OK = re.compile(r"^[^\s#\"'<>&]+$")


def pandoc_id(text: str) -> str:
    """Pandoc's auto_identifiers: no formatting (the caller gives plain text), only
    letters, digits, _ - and . kept, spaces to hyphens, lower case, nothing before
    the first letter; `section` if nothing is left."""
    text = unicodedata.normalize("NFC", text.lower())
    kept = "".join(c if (c.isalnum() or c in "_-.") else ("-" if c.isspace() else "") for c in text)
    m = re.search(r"[^\W\d_]", kept)
    return kept[m.start():] if m else "section"


class _Ids:
    def __init__(self, book, report):
        self.book, self.report = book, report
        self.where: dict[str, Location] = {}

    def explicit(self, id_: str, part_index: int, where: Location) -> str | None:
        if not ID_OK.match(id_) or RESERVED.match(id_):
            self.report.add("D006", where.file, where.line,
                            f"id '{id_}' is one the build gives (part-N, ch-N-K, glossary, fn-…, gl-…) "
                            "or holds a space or quote; choose another.")
            return None
        if id_ in self.where:
            self.report.add("D006", where.file, where.line,
                            f"id '{id_}' is already given at {self.where[id_]}; ids are unique in a book.")
            return None
        self.where[id_] = where
        self.book.ids[id_] = part_index
        return id_

    def auto(self, text: str, part_index: int, where: Location) -> str:
        base = pandoc_id(text)
        id_, n = base, 0
        while id_ in self.where or id_ in self.book.ids or RESERVED.match(id_):
            n += 1
            id_ = f"{base}-{n}"
        self.where[id_] = where
        self.book.ids[id_] = part_index
        return id_


def assign_ids(book, report) -> None:
    book.ids.clear()
    ids = _Ids(book, report)
    for part in book.parts:
        part.anchor = f"part-{part.index}"
        book.ids[part.anchor] = part.index
        for k, ch in enumerate(part.chapters, 1):
            ch.anchor = f"ch-{part.index}-{k}"
            book.ids[ch.anchor] = part.index
    if book.glossary:
        book.ids["glossary"] = 0
        for e in book.glossary:
            book.ids[f"gl-{e.id}"] = 0
    # ids written by the author first (they are kept as written), then the ones made
    later: list = []
    for part in book.parts:
        shift = 1 if part.kind == "part" else 0
        for k, ch in enumerate(part.chapters, 1):
            file = book.root / ch.path
            title_where = Location(file, 1)
            given = ch.title_attrs.get("id")
            if part.kind != "part" and k == 1:
                if given:
                    part.title_id = ids.explicit(given, part.index, title_where) or ""
                else:
                    later.append((part, "title_id", part.title, part.index, title_where))
            elif ch.title:
                if given:
                    ch.title_id = ids.explicit(given, part.index, title_where) or ""
                else:
                    later.append((ch, "title_id", ch.title, part.index, title_where))
            toks = ch.tokens
            for i, tok in enumerate(toks):
                where = Location(file, (tok.map[0] + 1) if tok.map else None)
                if tok.type == "heading_open" and i + 1 < len(toks) and toks[i + 1].type == "inline":
                    attrs = heading_attrs(toks[i + 1])
                    level = int(tok.tag[1])
                    tag = f"h{min(6, level + shift)}"
                    tok.tag = tag
                    close = next((t for t in toks[i + 2:] if t.type == "heading_close"), None)
                    if close is not None:
                        close.tag = tag
                    if attrs.get("class"):
                        tok.attrs["class"] = attrs["class"]
                    heading = Heading(level=level, id="", text=plain_text(toks[i + 1].children), location=where)
                    ch.headings.append(heading)
                    if attrs.get("id"):
                        heading.id = ids.explicit(attrs["id"], part.index, where) or ""
                        if heading.id:
                            tok.attrs["id"] = heading.id
                    else:
                        later.append((heading, "id", heading.text, part.index, where, tok))
                    continue
                for t in [tok] + list(tok.children or []):
                    if t.type != "heading_open" and t.attrs.get("id"):
                        line = where.line
                        if ids.explicit(str(t.attrs["id"]), part.index, Location(file, line)) is None:
                            del t.attrs["id"]
    for note in book.notes.values():
        for tok in note.tokens:
            for t in list(tok.children or []):
                if t.attrs.get("id"):
                    if ids.explicit(str(t.attrs["id"]), note.part_index, note.location) is None:
                        del t.attrs["id"]
    for obj, attr, text, part_index, where, *tok in later:
        setattr(obj, attr, ids.auto(text, part_index, where))
        if tok:
            tok[0].attrs["id"] = obj.id


def _inlines(book):
    for part in book.parts:
        for ch in part.chapters:
            for tok in ch.tokens:
                if tok.type == "inline":
                    yield ch, tok
    chapters = {c.path: c for c in book.chapters}
    for note in book.notes.values():
        rel = note.location.file.relative_to(book.root) if note.location.file.is_relative_to(book.root) else None
        ch = chapters.get(rel) if rel is not None else None
        for tok in note.tokens:
            if tok.type == "inline" and ch is not None:
                yield ch, tok


def resolve_links(book, report) -> None:
    """Every link to the id it names (tok.meta["target"]), or an error D005."""
    by_path = {PurePosixPath(c.path.as_posix()): c for c in book.chapters}
    for ch, inline in _inlines(book):
        for child in inline.children or []:
            if child.type != "link_open" or "target" in child.meta:
                continue
            href = str(child.attrs.get("href") or "")
            where = child.meta.get("location") or Location(book.root / ch.path, None)
            path, _, fragment = href.partition("#")
            fragment = unquote(fragment)
            if fragment not in book.ids and html_id(fragment) in book.ids:
                fragment = html_id(fragment)    # `#fig:x` names the figure written `fig-x` (mdext/blocks.py)
            target = None
            if not href.strip("#"):
                report.add("D005", where.file, where.line, "a link with no target: write the #id or the "
                                                           "chapter's file it goes to, or drop the brackets.")
                continue
            if not path:
                if fragment in book.ids:
                    target = fragment
                else:
                    report.add("D005", where.file, where.line,
                               f"link to '#{fragment}': no heading, chapter or {{#id}} of the book has that id; "
                               "write the id after the heading ('## Title {#" + (fragment or "id") + "}') or "
                               "correct the link.")
                    continue
            else:
                rel = _normal(PurePosixPath(ch.path.as_posix()).parent / unquote(path))
                other = by_path.get(rel)
                if other is None:
                    report.add("D005", where.file, where.line,
                               f"link to '{href}': {rel} is not a chapter of the book (book.yaml 'contents:'); "
                               "a link goes to a chapter's .md file or to an #id.")
                    continue
                if fragment:
                    if fragment not in book.ids:
                        report.add("D005", where.file, where.line,
                                   f"link to '{href}': no heading or {{#id}} of the book has the id '{fragment}'.")
                        continue
                    target = fragment
                else:
                    part = next(p for p in book.parts if other in p.chapters)
                    target = (part.anchor if part.kind != "part" else other.anchor)
            child.meta["target"] = target
            child.attrs["href"] = "#" + target


def _normal(path: PurePosixPath) -> PurePosixPath:
    out: list[str] = []
    for piece in path.parts:
        if piece == "..":
            if out:
                out.pop()
        elif piece not in (".", ""):
            out.append(piece)
    return PurePosixPath(*out)
