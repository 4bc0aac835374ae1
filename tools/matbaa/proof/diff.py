"""`matbaa diff` (`make diff`): what changed between two builds of the PDF, page by page.

    matbaa diff OLD.pdf NEW.pdf [--out DIR]

For each page: whether it changed, before and after images with the changed
area boxed, and the changed text; written to DIR/index.html.  A second proof
round then reads only what moved.
"""
from __future__ import annotations

import difflib
import html
import io
from pathlib import Path

from matbaa.files import write_bytes, write_text

SCALE = 0.8


def _render(pdf_path: Path):
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf_path))
    return [doc[i].render(scale=SCALE).to_pil().convert("RGB") for i in range(len(doc))]


def _texts(pdf_path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


def diff(old: Path, new: Path, out: Path) -> dict:
    from PIL import ImageChops, ImageDraw

    out.mkdir(parents=True, exist_ok=True)
    a_img, b_img = _render(old), _render(new)
    a_txt, b_txt = _texts(old), _texts(new)
    pages = []
    for i in range(max(len(a_img), len(b_img))):
        a = a_img[i] if i < len(a_img) else None
        b = b_img[i] if i < len(b_img) else None
        box = None
        if a is not None and b is not None and a.size == b.size:
            box = ImageChops.difference(a, b).getbbox()
            changed = box is not None
        else:
            changed = True
        text_a = a_txt[i] if i < len(a_txt) else ""
        text_b = b_txt[i] if i < len(b_txt) else ""
        if not changed:
            continue
        entry = {"page": i + 1, "text": list(difflib.unified_diff(text_a.splitlines(), text_b.splitlines(),
                                                                   "before", "after", lineterm="", n=1))[2:]}
        for side, img in (("before", a), ("after", b)):
            if img is None:
                continue
            img = img.copy()
            if box:
                ImageDraw.Draw(img).rectangle([box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3], outline="red", width=3)
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            name = f"page-{i + 1:03d}-{side}.png"
            write_bytes(out / name, buf.getvalue())
            entry[side] = name
        pages.append(entry)
    rows = []
    for p in pages:
        text = "\n".join(p["text"]) or "(no text change: layout only)"
        rows.append(f'<section><h2>Page {p["page"]}</h2><div class="pair">'
                    + "".join(f'<figure><img src="{p[s]}" alt="{s}"/><figcaption>{s}</figcaption></figure>'
                              for s in ("before", "after") if s in p)
                    + f'</div><pre>{html.escape(text)}</pre></section>')
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/><title>PDF diff</title><style>'
            f'body{{font-family:sans-serif;margin:2em}} .pair{{display:flex;gap:1em}} img{{border:1px solid #ccc}}'
            f' pre{{background:#f6f6f6;padding:.5em}}</style></head><body><h1>{html.escape(str(old))} → '
            f'{html.escape(str(new))}</h1><p>{len(pages)} page(s) changed of {max(len(a_img), len(b_img))}'
            f' ({len(a_img)} → {len(b_img)} pages).</p>{"".join(rows)}</body></html>')
    write_text(out / "index.html", page)
    return {"changed": [p["page"] for p in pages], "old_pages": len(a_img), "new_pages": len(b_img),
            "text": {p["page"]: p["text"] for p in pages}}
