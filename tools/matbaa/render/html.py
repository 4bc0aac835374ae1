"""The print document: one HTML file that WeasyPrint lays out.

`make html` writes exactly this file (build/<id>.html) with its assets in
build/assets/, so the print CSS can be debugged in a browser.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from markupsafe import Markup

from matbaa.files import write_bytes, write_text
from matbaa.model.book import Book
from matbaa.render.common import common_context, jinja_env
from matbaa.read.config import PRINT_DEFAULTS
from matbaa.read.mdext.blocks import book_images
from matbaa.render.tokens import MEDIA_SCHEME, BookRenderer

ASSET_DIRS = ("css", "fonts")


def for_browser(html: str) -> str:
    """The print document as `make html` writes it: images from build/assets/media/
    (the print document names a book's image `matbaa-media:<digest>.png`, not by
    a path in the build folder: WeasyPrint names an image in the PDF after its
    URL, and the PDF must not change with the folder it is built in)."""
    return html.replace(f'src="{MEDIA_SCHEME}:', 'src="assets/media/')


@functools.lru_cache(maxsize=8)
def templates(styles: Path):
    """One Jinja environment per styles folder, so that each template is compiled
    once per build, not once per piece (Jinja still reloads a template whose
    file changed, for `make watch`)."""
    return jinja_env(styles)


def _print_context(book: Book) -> dict:
    """What every print template gets: the book's data, the stylesheet, the page settings."""
    ctx = common_context(book)
    ctx.update(css="assets/css/print.css", page=dict(PRINT_DEFAULTS, **(book.meta.get("print") or {})))
    return ctx


def before_toc(part) -> bool:
    """Does the division stand before the contents in print (a dedication does, as
    a typesetter sets it: half-title, title, imprint, dedication, contents)?"""
    return part.kind == "dedication"


def toc_entries(book: Book) -> list[dict]:
    """The lines of the printed contents, in order: {anchor, title, cls}.  Parts,
    the divisions of one file (not a dedication), the chapters' titles, their
    headings down to book.yaml `toc-depth` (Pandoc's: 1 the chapters, 2 also ##…),
    the bibliography, the glossary."""
    depth = book.meta.get("toc-depth") or 1
    out = []
    for part in book.parts:
        if part.kind == "dedication":
            continue
        out.append({"anchor": part.anchor, "title": part.title, "cls": "toc-part"})
        for ch in part.chapters:
            if ch.title and part.kind == "part":
                out.append({"anchor": ch.anchor, "title": ch.title, "cls": "toc-chapter"})
            for h in ch.headings:
                if h.level <= depth and h.id and h.text:     # an empty heading is not listed
                    out.append({"anchor": h.id, "title": h.text,
                                "cls": f"toc-section toc-level-{h.level + (1 if part.kind == 'part' else 0)}"})
    if book.bibliography:
        out.append({"anchor": "bibliography", "title": book.labels["bibliography"], "cls": "toc-part"})
    if book.glossary:
        out.append({"anchor": "glossary", "title": book.labels["glossary"], "cls": "toc-part"})
    return out


def render_part(book: Book, styles: Path, part, renderer: BookRenderer | None = None,
                pages: dict[str, int] | None = None) -> Markup:
    """One part's <section>, exactly as it stands in the whole print document."""
    renderer = renderer or BookRenderer(book, "print", pages=pages)
    chapters = [{"title": c.title, "anchor": c.anchor, "title_id": c.title_id,
                 "html": renderer.body(c.tokens, str(c.path))} for c in part.chapters]
    return Markup(templates(Path(styles)).get_template("print-part.html.j2").render(
        part={"title": part.title, "anchor": part.anchor, "index": part.index, "chapters": chapters,
              "kind": part.kind, "title_id": part.title_id}))


def render_print_html(book: Book, styles: Path, sections: dict[int, str] | None = None,
                      segment: dict | None = None, pages: dict[str, int] | None = None) -> str:
    """The print document.  By default the whole book, each part rendered here
    (or taken from `sections`, part index -> its rendered <section>).

    With `segment` ({"kind": "front"|"toc"|"part"|"back", "start": first page,
    "index": the part's index}), only that piece of the book, as a document of
    its own (typeset/parallel.py); `pages` (anchor -> page) then gives the
    contents, the glossary and the cross-references their page numbers, which
    the whole document gets from target-counter()."""
    renderer = BookRenderer(book, "print", pages=pages if segment is not None else None)
    sections = dict(sections or {})
    parts = []
    for part in book.parts:
        if segment is not None and not (segment["kind"] == "part" and segment["index"] == part.index):
            section = Markup("")
        else:
            section = Markup(sections[part.index]) if part.index in sections else render_part(
                book, styles, part, renderer)
        parts.append({"title": part.title, "anchor": part.anchor, "index": part.index,
                      "section": section, "before_toc": before_toc(part)})
    ctx = _print_context(book)
    seg = None
    if segment is not None:
        author = ", ".join(a["name"] for a in ctx["authors"])
        seg = dict(segment, author=Markup(_css_string(author)))

    def page_of(anchor: str) -> Markup:
        if pages is None or anchor not in pages:
            return Markup("")
        return Markup(' data-page="%d"') % pages[anchor]

    ctx.update(parts=parts, segment=seg, page_of=page_of, toc=toc_entries(book))
    html = templates(Path(styles)).get_template("print.html.j2").render(**ctx)
    if segment is not None:
        html = _outside_links(html)
    return html


def render_folios_html(book: Book, styles: Path, folios: list[bool]) -> str:
    """The parts' folios as a document of their own (typeset/parallel.py): one
    page per page of the book, the folio where `folios` says so."""
    ctx = _print_context(book)
    ctx.update(folios=folios)
    return templates(Path(styles)).get_template("print-folios.html.j2").render(**ctx)


def _css_string(text: str) -> str:
    """Text for a CSS string in double quotes inside <style> (no HTML escaping there)."""
    return "".join(c if c.isalnum() or c in " .,-'" else f"\\{ord(c):x} " for c in text)


_ID = re.compile(r'\sid="([^"]+)"')
_HREF = re.compile(r'\shref="#([^"]+)"')


def _outside_links(html: str) -> str:
    """A link to an element laid out in another segment is written as
    `matbaa-dest:ID`: WeasyPrint keeps it as a URI link, which the join
    (typeset/pdfjoin.py) turns into a link to the named destination ID."""
    ids = set(_ID.findall(html))
    return _HREF.sub(lambda m: m.group(0) if m.group(1) in ids else f' href="matbaa-dest:{m.group(1)}"', html)


def copy_assets(styles: Path, build: Path, book: Book | None = None) -> Path:
    """Copy the CSS and fonts the document links to into build/assets/, and the
    book's images into build/assets/media/ (named by their content: render/tokens.py)."""
    assets = build / "assets"
    for name in ASSET_DIRS:
        src = styles / name
        for f in sorted(src.rglob("*")):
            if f.is_file():
                write_bytes(assets / name / f.relative_to(src), f.read_bytes())
    for media, (path, _type) in (book_images(book) if book is not None else {}).items():
        target = assets / "media" / media
        if not target.is_file():        # the name is the content's digest
            write_bytes(target, Path(path).read_bytes())
    return assets
