"""Citations: every `citation` token checked against the bibliography and
rendered by the book's CSL style (tools/matbaa/citations.py), in reading order
(the running text and each note where it is called).

A key without an entry is B001 at the citation's file:line; an entry never
cited is B003 (a warning).  The rendered pieces go into the token
(meta["pieces"]: [(entry id or '', html)]); the cited entries, rendered, into
book.bibliography."""
from __future__ import annotations

from pathlib import Path

from matbaa.read.citations import DEFAULT_STYLE, Engine, find_locale
from matbaa.read.reader import manuscript_path
from matbaa.diagnostics import Location
from matbaa.resources import default_styles


def _citations(tokens, file: Path):
    for tok in tokens:
        if tok.type != "inline" or not tok.children:
            continue
        line = tok.map[0] if tok.map else 0
        for child in tok.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "citation":
                yield child, Location(file, line + 1)
            elif child.type == "footnote_ref":
                yield child, None


def _in_order(book):
    """(citation token, location) in reading order: a note's citations where it is called."""
    done = set()

    def walk(tokens, file):
        for tok, where in _citations(tokens, file):
            if where is not None:
                yield tok, where
                continue
            note = book.notes.get(tok.meta.get("label"))
            if note is not None and note.id not in done:
                done.add(note.id)
                yield from walk(note.tokens, note.location.file)
    for chapter in book.chapters:
        yield from walk(chapter.tokens, book.root / chapter.path)


def resolve(book, report) -> None:
    found = list(_in_order(book))
    if not found and not book.references:
        return
    by_key = {e["id"].lower(): e for e in book.references}
    bib_file = book.root / book.meta["bibliography"] if book.meta.get("bibliography") else None
    good = []
    for tok, where in found:
        missing = [c["key"] for c in tok.meta["cites"] if c["key"].lower() not in by_key]
        for key in missing:
            if bib_file is None:
                hint = "name the bibliography file in book.yaml ('bibliography: references.json')"
            else:
                hint = f"add an entry with \"id\": \"{key}\" to {bib_file.name} or correct the key"
            report.add("B001", where.file, where.line, f"citation '@{key}' names no entry of the bibliography; {hint}.")
        if not missing:
            good.append(tok)
    if not book.references:
        return
    styles = Path(book.styles_dir or default_styles())
    style = styles / "csl" / DEFAULT_STYLE
    if book.meta.get("csl"):
        style = manuscript_path(book.root, book.meta["csl"])  # the reader's gate (M008 there)
        if style is None or not style.is_file():
            return                  # reported by the reader
    try:
        engine = Engine(book.references, style, find_locale(styles, book.lang), book.lang)
        for tok in good:
            engine.register(tok.meta["cites"])
        for tok in good:
            tok.meta["pieces"] = engine.render(tok.meta["cites"], tok.meta["mode"])
        book.bibliography = engine.bibliography(book.lang)
    except Exception as exc:   # lxml and citeproc-py raise many kinds on a broken style
        report.add("B002", style, None, f"the CSL style cannot be used ({type(exc).__name__}: {exc}); "
                                        "give a CSL 1.0 style ('csl:' in book.yaml).")
        return
    cited = {c["key"].lower() for tok in good for c in tok.meta["cites"]}
    for entry in book.references:
        if entry["id"].lower() not in cited:
            report.add("B003", bib_file, entry["_line"], f"entry '{entry['id']}' is never cited; cite it "
                                                          f"[@{entry['id']}] or remove it.")
