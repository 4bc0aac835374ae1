"""Glossary marks: `[form]{term=id}` or `[headword]{.term}` -> links to entries.

Each mark gets an anchor (t-<id>-<n>) so that the entry can point back to every
place it is marked (page numbers in print, links in the EPUB).
"""
from __future__ import annotations

from matbaa.diagnostics import Location
from matbaa.language import lower
from matbaa.model.book import TermMark


def _inline_tokens(tokens):
    for tok in tokens:
        if tok.type == "inline" and tok.children:
            yield tok


def link_marks(book, report) -> None:
    lang = book.lang
    by_id = {e.id: e for e in book.glossary}
    glossary_lang = (book.meta.get("glossary") or {}).get("languages", [lang])[0]
    by_term = {lower(e.term[glossary_lang], lang): e for e in book.glossary}
    for part in book.parts:
        for chapter in part.chapters:
            for inline in _inline_tokens(chapter.tokens):
                children = inline.children
                line = inline.map[0] if inline.map else 0
                for i, tok in enumerate(children):
                    if tok.type in ("softbreak", "hardbreak"):
                        line += 1
                    if tok.type != "span_open":
                        continue
                    classes = (tok.attrs.get("class") or "").split()
                    target = tok.attrs.get("term")
                    if target is None and "term" not in classes:
                        continue
                    # the text of the mark, up to the matching span_close
                    depth, j, text = 0, i, ""
                    while j < len(children):
                        if children[j].type == "span_open":
                            depth += 1
                        elif children[j].type == "span_close":
                            depth -= 1
                            if depth == 0:
                                break
                        elif children[j].type == "text":
                            text += children[j].content
                        j += 1
                    where = Location(book.root / chapter.path, line + 1)
                    entry = by_id.get(str(target)) if target is not None else by_term.get(lower(text, lang))
                    if entry is None:
                        wanted = f"term={target}" if target is not None else f"headword '{text}'"
                        report.add("G004", where.file, where.line,
                                   f"glossary mark [{text}] names no entry ({wanted}); "
                                   f"add the entry to the glossary or correct the id.")
                        continue
                    anchor = f"t-{entry.id}-{len(entry.marks) + 1}"
                    mark = TermMark(entry_id=entry.id, anchor=anchor, text=text, location=where,
                                    part_index=part.index)
                    entry.marks.append(mark)
                    tok.type = "term_open"
                    tok.meta["mark"] = mark
                    tok.attrs = {}
                    if j < len(children):
                        children[j].type = "term_close"
    for entry in book.glossary:
        if not entry.marks:
            report.add("G005", entry.location.file, entry.location.line,
                       f"entry '{entry.id}' is never marked in the text; mark it [form]{{term={entry.id}}} "
                       "where it first appears.")
