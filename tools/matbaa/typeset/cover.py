"""The EPUB's cover image, made from a template (styles/templates/cover.html.j2).

WeasyPrint lays the cover out as a one-page PDF, pypdfium2 rasterises it to a
PNG.  Capitals are made in the text with the book language's casing rules
(language.upper), not with CSS text-transform.
"""
from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

from matbaa.files import write_bytes
from matbaa.keys import digest
from matbaa.language import upper
from matbaa.model import Book
from matbaa.render.common import common_context, jinja_env
from matbaa.render.html import copy_assets
from matbaa.typeset import engine

WIDTH_PX = 1200


def render_cover(book: Book, styles: Path, build: Path) -> bytes:
    """The cover PNG; cached in build/.cache by its HTML and the layout key
    (fonts, engine versions: typeset/engine.layout_key)."""
    assets = copy_assets(styles, build)
    ctx = common_context(book)
    meta = book.meta
    ctx.update(series=upper(meta.get("series", ""), book.lang), publisher=upper(meta.get("publisher", ""), book.lang))
    html = jinja_env(styles).get_template("cover.html.j2").render(**ctx)
    cached = build / ".cache" / f"cover-{digest(html, engine.layout_key({}, styles))[:24]}.png"
    check = cached.with_suffix(".sha256")      # the PNG's SHA-256, written after it
    try:
        png = cached.read_bytes()
        if hashlib.sha256(png).hexdigest() == check.read_text(encoding="ascii").strip():
            return png
        sys.stderr.write(f"matbaa: warning: the cached cover {cached} is damaged: made again\n")
    except (OSError, ValueError):
        pass                                    # not cached yet (or only half)
    png = _rasterise(html, assets)
    write_bytes(cached, png)
    write_bytes(check, hashlib.sha256(png).hexdigest().encode("ascii"))
    return png


def _rasterise(html: str, assets: Path) -> bytes:
    import pypdfium2

    engine.quiet()
    pdf = engine.pdf_bytes(html, str(assets.resolve()) + "/", engine.BookFetcher([assets]))
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[0]
    image = page.render(scale=WIDTH_PX / page.get_width()).to_pil().convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
