"""The EPUB's cover image, made from a template (styles/templates/cover.html.j2).

WeasyPrint lays the cover out as a one-page PDF, pypdfium2 rasterises it to a
PNG.  Capitals are made in the text with the book language's casing rules
(language.upper), not with CSS text-transform.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

from ..language import upper
from ..model import Book
from .common import common_context, jinja_env

WIDTH_PX = 1200


def render_cover(book: Book, styles: Path, build: Path) -> bytes:
    """The cover PNG; cached in build/.cache by the content of its HTML and fonts."""
    from ..files import write_bytes
    from .html import copy_assets

    assets = copy_assets(styles, build)
    ctx = common_context(book)
    meta = book.meta
    ctx.update(series=upper(meta.get("series", ""), book.lang), publisher=upper(meta.get("publisher", ""), book.lang))
    html = jinja_env(styles).get_template("cover.html.j2").render(**ctx)
    digest = hashlib.sha256(html.encode("utf-8"))
    for font in sorted((assets / "fonts").rglob("*.ttf")):
        digest.update(font.read_bytes())
    cached = build / ".cache" / f"cover-{digest.hexdigest()[:24]}.png"
    if cached.is_file():
        return cached.read_bytes()
    png = _rasterise(html, assets)
    write_bytes(cached, png)
    return png


def _rasterise(html: str, assets: Path) -> bytes:
    import pypdfium2
    from weasyprint import HTML

    from .pdf import BookFetcher

    pdf = HTML(string=html, base_url=str(assets.resolve()) + "/", url_fetcher=BookFetcher([assets])).write_pdf()
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[0]
    image = page.render(scale=WIDTH_PX / page.get_width()).to_pil().convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
