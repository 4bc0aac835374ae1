"""The print document: one HTML file that WeasyPrint lays out.

`make html` writes exactly this file (build/<id>.html) with its assets in
build/assets/, so the print CSS can be debugged in a browser.
"""
from __future__ import annotations


from pathlib import Path

from ..files import write_bytes, write_text
from ..model import Book
from .common import common_context, jinja_env
from .render import BookRenderer

ASSET_DIRS = ("css", "fonts")


def render_print_html(book: Book, styles: Path) -> str:
    renderer = BookRenderer(book, "print")
    parts = []
    for part in book.parts:
        part.anchor = f"part-{part.index}"
        chapters = []
        for k, chapter in enumerate(part.chapters, 1):
            chapter.anchor = f"ch-{part.index}-{k}"
            chapters.append({"title": chapter.title, "anchor": chapter.anchor,
                             "html": renderer.body(chapter.tokens, str(chapter.path))})
        parts.append({"title": part.title, "anchor": part.anchor, "index": part.index, "chapters": chapters})
    env = jinja_env(styles)
    ctx = common_context(book)
    from ..config import PRINT_DEFAULTS

    page = dict(PRINT_DEFAULTS, **(book.meta.get("print") or {}))
    ctx.update(parts=parts, css="assets/css/print.css", page=page)
    return env.get_template("print.html.j2").render(**ctx)


def copy_assets(styles: Path, build: Path) -> Path:
    """Copy the CSS and fonts the document links to into build/assets/."""
    assets = build / "assets"
    for name in ASSET_DIRS:
        src = styles / name
        for f in sorted(src.rglob("*")):
            if f.is_file():
                write_bytes(assets / name / f.relative_to(src), f.read_bytes())
    return assets


def write_html(book: Book, styles: Path, build: Path) -> Path:
    """Write the print document exactly as the PDF build lays it out: with the
    corrections that the layout loop (writers/pdf.layout_book) decides."""
    from .pdf import layout_book

    copy_assets(styles, build)
    html, _document, _data = layout_book(book, styles, build)
    target = build / f"{book.id}.html"
    write_text(target, html)
    return target



