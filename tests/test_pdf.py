"""The print edition, tested through the PDF itself."""
import re

import pdfplumber
import pikepdf
import pypdf
import pypdfium2
import pytest

from matbaa.language import sort_key


@pytest.fixture(scope="session")
def pdf(built):
    with pdfplumber.open(built.pdf) as doc:
        yield doc


@pytest.fixture(scope="session")
def page_texts(pdf):
    return [p.extract_text() or "" for p in pdf.pages]


def test_metadata_and_language(built, book):
    reader = pypdf.PdfReader(built.pdf)
    info = reader.metadata
    assert info.title == book.meta["title"]
    assert info.author == "Zəminə Əsgərova"
    assert "diaspor" in (info.get("/Keywords") or "")
    with pikepdf.open(built.pdf) as p:
        assert str(p.Root.Lang) == "az"


def test_only_the_book_face_embedded(built):
    with pikepdf.open(built.pdf) as p:
        fonts = {}
        for page in p.pages:
            for _name, font in (page.Resources.get("/Font") or {}).items():
                fonts[str(font.BaseFont)] = font
        assert fonts
        for base, font in fonts.items():
            assert "Vollkorn" in base, f"fallback font {base}"
            assert str(font.Subtype) != "/Type3"
            desc = font.DescendantFonts[0].FontDescriptor if str(font.Subtype) == "/Type0" else font.FontDescriptor
            assert any(desc.get(k) is not None for k in ("/FontFile", "/FontFile2", "/FontFile3")), base
    styles = {re.sub(r"^/[A-Z]{6}\+", "", b) for b in fonts}
    assert {"Vollkorn", "Vollkorn-Italic", "Vollkorn-Bold"} <= styles


def test_title_page_and_contents_with_page_numbers(page_texts):
    assert "Birlik və həmrəylikdən keçən tarixi yol" in page_texts[1].replace("\n", " ")
    toc_index = next(i for i, t in enumerate(page_texts) if t.strip().startswith("Mündəricat"))
    toc = page_texts[toc_index]
    for title in ("Birinci hissə", "İkinci hissə", "Lüğət"):
        m = re.search(rf"{title}[ .]*(\d+)", toc)
        assert m, title
        page = int(m.group(1))
        assert page_texts[page - 1].lstrip().startswith(title), f"{title} is not on page {page}"


def test_outline_has_parts_and_glossary(built):
    reader = pypdf.PdfReader(built.pdf)
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert titles[-4:] == ["Birinci hissə", "İkinci hissə", "Ədəbiyyat", "Lüğət"]


def test_every_footnote_on_the_page_of_its_call(pdf, book):
    for note in sorted(book.notes.values(), key=lambda n: n.number):
        n = str(note.number)
        found = False
        for page in pdf.pages:
            lines = page.extract_text_lines()
            small = [ln for ln in lines if ln["chars"] and ln["chars"][0]["size"] < 9
                     and ln["text"].startswith(f"{n}. ")]
            if not small:
                continue
            note_top = small[0]["top"]
            # the call: superscript digits of the note's number, above the note area
            calls = [c for c in page.chars if c["size"] < 7.5 and c["top"] < note_top and c["text"] == n[0]]
            assert calls, f"note {n} is on page {page.page_number} but its call is not"
            # and the note text sits below all the body text of the page
            body = [c for c in page.chars if c["size"] > 10]
            assert max(c["bottom"] for c in body) < note_top
            found = True
            break
        assert found, f"note {n} not found in the PDF"


def test_glossary_in_azerbaijani_order_with_both_languages(pdf, book, page_texts):
    start = next(i for i, t in enumerate(page_texts) if t.lstrip().startswith("Lüğət"))
    headwords = []
    for page in pdf.pages[start:]:
        bold = [w for w in page.extract_words(extra_attrs=["fontname"], keep_blank_chars=True, x_tolerance=1.5)
                if "Bold" in w["fontname"]]
        headwords += [w["text"] for w in bold]
    want = [e.term["az"] for e in sorted(book.glossary, key=lambda e: sort_key(e.term["az"], "az"))]
    assert " ".join(headwords).split() == " ".join(want).split()
    glossary_text = " ".join(page_texts[start:])
    first = sorted(book.glossary, key=lambda e: sort_key(e.term["az"], "az"))[0]
    assert first.term["en"].split()[0] in glossary_text
    assert re.search(r"səh\. \d+", glossary_text)


def test_pages_render(built, tmp_path):
    doc = pypdfium2.PdfDocument(str(built.pdf))
    assert len(doc) >= 12
    image = doc[4].render(scale=1).to_pil().convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 2000, "a text page rendered blank"
    assert doc[0].get_size() == pytest.approx((419.53, 595.28), abs=1)  # A5


@pytest.fixture(scope="session")
def pagemap(built, book):
    import json

    return json.loads(built.pdf.with_suffix(".pages.json").read_text())


def test_glossary_page_numbers_are_the_pages_of_the_marks(pdf, book, page_texts, pagemap):
    """Each entry's 'səh. N, M' equals the pages where its marks really are."""
    from matbaa.language import sort_key

    start = next(i for i, t in enumerate(page_texts) if t.lstrip().startswith("Lüğət"))
    text = "\n".join(page_texts[start:])
    found = [list(map(int, re.findall(r"\d+", m))) for m in re.findall(r"^səh\. ([\d, ]+)$", text, flags=re.M)]
    entries = sorted(book.glossary, key=lambda e: sort_key(e.term["az"], "az"))
    want = [[pagemap["anchors"][m.anchor] for m in e.marks] for e in entries if e.marks]
    assert found == want


def test_contents_and_part_pages_agree_with_the_layout(page_texts, pagemap):
    toc = next(t for t in page_texts if t.strip().startswith("Mündəricat"))
    for i, title in enumerate(("Birinci hissə", "İkinci hissə"), 1):
        listed = int(re.search(rf"{title}[ .]*(\d+)", toc).group(1))
        assert listed == pagemap["anchors"][f"part-{i}"]


def test_no_numeral_is_split_from_its_suffix(pdf):
    ends = 0
    for page in pdf.pages:
        lines = [ln["text"] for ln in page.extract_text_lines()]
        for a, b in zip(lines, lines[1:]):
            assert not (re.search(r"\d[-\u2010]$", a) and re.match(r"^[a-zçəğıöşü]+\b", b)), (page.page_number, a, b)
            ends += 1
    assert ends > 300


def test_every_glyph_from_the_book_face(pdf):
    fonts = {c["fontname"].split("+")[-1] for page in pdf.pages for c in page.chars}
    assert fonts and all(f.startswith("Vollkorn") for f in fonts), fonts


def test_tagged_pdf_ua_markers(built):
    with pikepdf.open(built.pdf) as p:
        assert p.Root.MarkInfo.Marked
        assert "/StructTreeRoot" in p.Root
        meta = p.open_metadata()
        assert meta.get("{http://www.aiim.org/pdfua/ns/id/}part") == "1"


def test_press_pdf_has_bleed_and_trim(tmp_path):
    from conftest import STYLES

    from matbaa.build import build_press
    from matbaa.sample import HERE as SAMPLE

    press, _ = build_press(SAMPLE, tmp_path, STYLES)   # the sample: the same CSS, fewer pages
    reader = pypdf.PdfReader(press)
    page = reader.pages[0]
    bleed = float(page.trimbox.left) - float(page.mediabox.left)
    assert bleed == pytest.approx(3 / 25.4 * 72, abs=0.2)   # 3 mm
    assert float(page.trimbox.width) == pytest.approx(419.53, abs=1)


def test_outline_lists_the_notes(built, book):
    reader = pypdf.PdfReader(built.pdf)

    def walk(items):
        for x in items:
            yield from walk(x) if isinstance(x, list) else [x.title]

    notes = [t for t in walk(reader.outline) if t.startswith("Qeyd ")]
    assert notes == [f"Qeyd {n}" for n in range(1, len(book.notes) + 1)]


def test_hyphenation_of_the_book(pdf, pagemap):
    """Measured on the first book: hyphens at legal breaks only, never more than
    two hyphenated lines in a row, none at a page end."""
    from matbaa.typeset.hyphenation import legal_breaks

    stats = pagemap["hyphenation"]
    assert stats["hyphenated"] > 30                  # hyphenation is on
    assert stats["longest_run"] <= 2 and stats["page_end"] == 0
    assert stats["share"] < 0.30
    checked = 0
    for page in pdf.pages:
        lines = [ln["text"] for ln in page.extract_text_lines() if 10 < ln["chars"][0]["size"] < 11]
        for a, b in zip(lines, lines[1:]):
            if a.endswith("\u2010"):
                head = re.findall(r"\w+$", a[:-1])[0]
                tail = re.findall(r"^\w+", b)[0]
                assert len(head) in legal_breaks(head + tail), f"{head}-{tail}"
                checked += 1
    assert checked > 30


def test_no_nearly_empty_line_inside_a_paragraph(pdf):
    """WeasyPrint once set 'mər-' alone on a line (before a nowrap box): never again."""
    for page in pdf.pages:
        lines = [ln["text"] for ln in page.extract_text_lines() if 10 < ln["chars"][0]["size"] < 11]
        for a in lines:
            assert not (a.endswith(("\u2010", "-")) and len(a.split()) <= 2), (page.page_number, a)


def test_glossary_see_label_without_a_space_in_azerbaijani(built, book):
    """Azerbaijani sets no space before a colon: "bax:" in both editions (the
    label goes through the language's typography, transforms/typography.py)."""
    from conftest import glossary_see_labels

    label = book.labels["see"]
    in_epub, in_pdf = glossary_see_labels(built.pdf, built.epub, "Lüğət", label)
    with_see = sum(1 for e in book.glossary if e.see)
    assert with_see and in_epub == [f"{label}: "] * with_see
    assert len(in_pdf) >= with_see and set(in_pdf) == {f"{label}:"}


def test_imprint_and_cover_labels_without_a_space_in_azerbaijani(built, book):
    from conftest import imprint_labels

    labels = book.labels
    keys, alt, imprint = imprint_labels(built.pdf, built.epub, labels["imprint"])
    assert keys == [f"{labels['source']}:", f"{labels['text_prepared']}:"]
    assert alt.startswith(f"{labels['cover']}: ")
    assert f"{labels['source']}:" in imprint and f"{labels['text_prepared']}:" in imprint
