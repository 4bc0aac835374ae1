"""The parallel layout (typeset/parallel.py + typeset/pdfjoin.py) against the
whole document laid out in one process (`--whole`): the same pages, the same
text at the same places, the same outline, links and page map.

The book: the first book with a short part put between its two parts (two
titled chapters, a note and a glossary mark), so that a part ends on a recto
and the join must put in a blank verso, and the contents list chapters.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pdfplumber
import pytest
import yaml
from pypdf import PdfReader

from conftest import MANUSCRIPT, STYLES

SHORT_1 = """# Qısa fəsil

Bu qısa fəsil yalnız sınaq üçündür: onda bir [diaspor]{.term} sözü və bir qeyd var.[^qisa]

[^qisa]: Sınaq qeydi.
"""
SHORT_2 = """# İkinci qısa fəsil

Burada da bir cümlə var, səhifənin yarısını belə doldurmayan.
"""


def _three_parts(target: Path) -> Path:
    shutil.copytree(MANUSCRIPT, target)
    (target / "chapters" / "00-qisa-1.md").write_text(SHORT_1, encoding="utf-8")
    (target / "chapters" / "00-qisa-2.md").write_text(SHORT_2, encoding="utf-8")
    meta = yaml.safe_load((target / "book.yaml").read_text(encoding="utf-8"))
    meta["id"] = "three-parts"
    meta["contents"].insert(1, {"part": "Ara söz", "chapters": ["chapters/00-qisa-1.md", "chapters/00-qisa-2.md"]})
    (target / "book.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    from matbaa.build import build_pdf

    root = tmp_path_factory.mktemp("segments")
    manuscript = _three_parts(root / "manuscript")
    whole, _ = build_pdf(manuscript, root / "whole", STYLES, whole=True)
    pieces, _ = build_pdf(manuscript, root / "pieces", STYLES, jobs=2)
    return whole, pieces, manuscript, root


def _lines(pdf: Path) -> list[list[tuple]]:
    with pdfplumber.open(pdf) as doc:
        return [[(round(l["top"], 2), round(l["x0"], 2), round(l["x1"], 2), l["text"])
                 for l in page.extract_text_lines(return_chars=False)] for page in doc.pages]


def _outline(pdf: Path) -> list[tuple]:
    reader = PdfReader(pdf)
    out = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, item.title, reader.get_destination_page_number(item)))
    walk(reader.outline, 1)
    return out


def _links(pdf: Path) -> list[tuple]:
    """(page, rectangle, target page) of every internal link; a URI left over fails."""
    reader = PdfReader(pdf)
    named = {name: reader.get_destination_page_number(d) for name, d in reader.named_destinations.items()}
    out = []
    for n, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            assert "/A" not in a or a["/A"].get("/S") != "/URI", f"page {n + 1}: a link left as URI: {a['/A']}"
            dest = a.get("/Dest")
            out.append((n, tuple(round(float(x), 2) for x in a["/Rect"]), named[str(dest)]))
    return out


def test_the_book_has_a_blank_verso_before_a_part(both):
    whole, _pieces, _m, _r = both
    texts = [p for p in _lines(whole)]
    blank = [n + 1 for n, lines in enumerate(texts) if not lines]
    assert blank, "the test book should need a blank page before a part"


def test_same_pages_text_and_line_positions(both):
    whole, pieces, _m, _r = both
    a, b = _lines(whole), _lines(pieces)
    assert len(a) == len(b)
    for n, (x, y) in enumerate(zip(a, b), 1):
        assert x == y, f"page {n} differs"


def test_same_outline(both):
    whole, pieces, _m, _r = both
    a, b = _outline(whole), _outline(pieces)
    assert len(a) > 40 and a == b


def test_same_links(both):
    whole, pieces, _m, _r = both
    a, b = _links(whole), _links(pieces)
    assert len(a) > 100 and a == b


def test_same_page_map(both):
    whole, pieces, _m, _r = both
    keys = ("count", "pages", "anchors", "words", "forced", "unhyphenated", "line_pages", "line_words", "hyphenation")
    a = json.loads(whole.with_suffix(".pages.json").read_text())
    b = json.loads(pieces.with_suffix(".pages.json").read_text())
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    # and the document `make html` writes is the one laid out as a whole
    assert whole.with_suffix(".html").read_bytes() == pieces.with_suffix(".html").read_bytes()


def test_fonts_embedded_once(both):
    import pikepdf

    _whole, pieces, _m, _r = both
    with pikepdf.open(pieces) as pdf:
        names = sorted(str(o.FontName).split("+")[-1] for o in pdf.objects
                       if isinstance(o, pikepdf.Dictionary) and "/FontFile2" in o)
    assert names and len(names) == len(set(names)), names


def test_metadata_and_tags(both):
    import pikepdf

    whole, pieces, _m, _r = both
    with pikepdf.open(whole) as a, pikepdf.open(pieces) as b:
        assert str(b.Root.Lang) == str(a.Root.Lang)
        assert b.Root.MarkInfo.Marked
        assert "/StructTreeRoot" in b.Root
        assert b.open_metadata().get("pdfuaid:part") == "1"
        assert dict(b.docinfo) .keys() == dict(a.docinfo).keys()
        # every page has its marked content in the structure tree; a blank page put
        # in by the join has none (WeasyPrint gives its own blank pages an empty entry)
        texts = [bool(lines) for lines in _lines(pieces)]
        tagged = ["/StructParents" in p for p in b.pages]
        assert all(tagged[i] for i, has_text in enumerate(texts) if has_text)
        # the untagged pages are blank (the join's versos before a recto opening)
        assert all(not texts[i] for i, t in enumerate(tagged) if not t)
        assert sum(tagged) >= len(tagged) - 2


def test_an_edit_lays_out_only_its_part(both, tmp_path):
    """A one-sentence edit: only the edited part is laid out again (the front
    matter and the glossary too if page numbers moved); the rest comes from the
    cache, and the result is the same as a build from nothing."""
    from matbaa.build import build_pdf, load
    from matbaa.typeset import parallel as segments

    _whole, pieces, manuscript, root = both
    edited = tmp_path / "manuscript"
    shutil.copytree(manuscript, edited)
    chapter = edited / "chapters" / "00-qisa-2.md"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("bir cümlə var", "bir cümlə də var"),
                       encoding="utf-8")
    build = tmp_path / "build"
    shutil.copytree(pieces.parent, build)
    book, _ = load(edited, STYLES)
    laid = segments.lay_out(book, STYLES, build, jobs=2).pieces
    fresh = {p.index for p in laid if p is not None and p.kind == "part" and not p.cached}
    assert fresh == {2}
    again, _ = build_pdf(edited, tmp_path / "clean", STYLES, jobs=1)
    warm, _ = build_pdf(edited, build, STYLES, jobs=2)
    assert warm.read_bytes() == again.read_bytes()


def test_pages_pixel_identical(both):
    """What a reader sees: every page rendered, the two builds alike to the pixel."""
    import pypdfium2 as pdfium
    from PIL import ImageChops

    whole, pieces, _m, _r = both
    a, b = pdfium.PdfDocument(str(whole)), pdfium.PdfDocument(str(pieces))
    differ = []
    for i in range(len(a)):
        x = a[i].render(scale=1.5).to_pil().convert("RGB")
        y = b[i].render(scale=1.5).to_pil().convert("RGB")
        if ImageChops.difference(x, y).getbbox():
            differ.append(i + 1)
    assert len(a) == len(b) and not differ, f"pages that differ: {differ}"


def test_one_process_and_two_give_the_same_bytes(both, tmp_path):
    from matbaa.build import build_pdf

    _whole, pieces, manuscript, _root = both
    one, _ = build_pdf(manuscript, tmp_path / "one", STYLES, jobs=1)
    assert one.read_bytes() == pieces.read_bytes()
