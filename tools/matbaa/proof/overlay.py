"""The proof PDF: the reading pages, unchanged, with marks drawn over them.

The marks (proof mark, build identity, line numbers, each paragraph's source)
are laid out by WeasyPrint as a separate document of the same page size and
merged onto the pages with pypdf, so the layout being proofed is exactly the
layout of the edition.
"""
from __future__ import annotations

from pathlib import Path

from matbaa.files import atomic_path
from matbaa.model import Book
from matbaa.proof.layout import PLine
from matbaa.render.common import jinja_env
from matbaa.render.html import copy_assets
from matbaa.typeset import engine


def write_proof_pdf(book: Book, styles: Path, out: Path, pdf_path: Path, document, lines: list[PLine],
                    identity: str, stamp: str) -> Path:
    import pypdf

    assets = copy_assets(styles, out)
    files = [str(c.path) for c in book.chapters]
    legend = {f: f"f{i}" for i, f in enumerate(files, 1)}
    pages = []
    for number, (width, height) in enumerate(engine.page_sizes(document), 1):
        marks = []
        seen_src = set()
        for l in (l for l in lines if l.page == number):
            src = None
            if l.src and l.src not in seen_src:
                seen_src.add(l.src)
                f, n = l.src.rsplit(":", 1)
                src = f"{legend.get(f, f)}:{n}"
            marks.append({"y": l.y, "h": l.height, "n": l.n, "src": src, "note": l.kind == "note"})
        pages.append({"number": number, "width": width, "height": height, "marks": marks})
    html = jinja_env(styles).get_template("proof/overlay.html.j2").render(
        pages=pages, identity=identity, stamp=stamp, labels=book.labels, lang=book.lang,
        legend=[(v, k) for k, v in legend.items()], book_id=book.id)
    overlay = engine.pdf_bytes(html, str(assets.resolve()) + "/", engine.BookFetcher([assets]))
    import io

    over = pypdf.PdfReader(io.BytesIO(overlay))
    writer = pypdf.PdfWriter(clone_from=pdf_path)
    for page, mark in zip(writer.pages, over.pages):
        page.merge_page(mark)
    writer.add_metadata({"/Title": f"{book.meta['title']} — {book.labels.get('proof', 'PROOF')}"})
    target = out / f"{book.id}-proof.pdf"
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        writer.write(fh)
    return target
