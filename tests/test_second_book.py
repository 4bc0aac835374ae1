"""The second book (manuscripts/faq-debian): French text, a French–German
glossary, built once for this module; its EPUB checked by EPUBCheck, its text
collated word for word with the HTML as received, its structure read back."""
from __future__ import annotations

import re
import zipfile

import pytest
from conftest import ROOT, STYLES, run_epubcheck

from matbaa.proof.collate import collate, edition_words, source_text, words
from matbaa.language import sort_key

SECOND = ROOT / "manuscripts" / "faq-debian"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_NS = "{http://www.idpf.org/2007/ops}"


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    from matbaa.build import build_epub, build_pdf, load

    out = tmp_path_factory.mktemp("second")
    pdf, _ = build_pdf(SECOND, out, STYLES)
    epub, _ = build_epub(SECOND, out, STYLES)
    book, _ = load(SECOND, STYLES)
    return book, pdf, epub, out


def _xhtml(epub, name):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read(name), parser)


def _chapter_docs(epub):
    with zipfile.ZipFile(epub) as z:
        return [n for n in z.namelist() if n.endswith(".xhtml")]


def test_a_real_book_of_15000_words_in_french_with_a_french_german_glossary(second):
    book, *_ = second
    assert book.lang == "fr"
    assert book.meta["glossary"]["languages"] == ["fr", "de"]
    assert len(edition_words(book)) >= 15_000
    assert len(book.glossary) >= 12
    for entry in book.glossary:
        assert entry.marks, f"{entry.id} is never marked"
        assert all(entry.term.values()) and all(entry.definition.values())
        parts = [m.part_index for m in entry.marks]
        assert len(parts) == len(set(parts)), f"{entry.id} is marked twice in one part"


def test_every_word_of_the_source_is_in_the_edition(second):
    book, *_ = second
    diffs = collate(book, source_text(book))
    unexplained = [str(d) for d in diffs if d.explained_by is None]
    assert unexplained == [], "\n".join(unexplained[:40])
    # what the corrections explain: section numbers, the source's footnotes, the edition's own texts
    removed = " ".join(w for d in diffs for w in d.source)
    assert "3.1.13" in removed and "Linux Standard Base" in removed


def test_collation_catches_a_lost_word(second):
    book, *_ = second
    source = source_text(book)
    damaged = source.replace("Debra et Ian Murdock", "Debra et Ian Murdock Lane", 1)
    diffs = [d for d in collate(book, damaged) if d.explained_by is None]
    assert [d.source for d in diffs] == [["Lane"]] and diffs[0].location.file.name == "basic-defs.md"


def test_epubcheck_clean(second):
    _book, _pdf, epub, out = second
    report = run_epubcheck(epub, out / "epubcheck.json")
    msgs = [m for m in report["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert (report["checker"]["nFatal"], report["checker"]["nError"], report["checker"]["nWarning"]) == (0, 0, 0), msgs


def test_glossary_sorted_by_french_collation_with_german_equivalents(second):
    book, _pdf, epub, _ = second
    gloss = next(n for n in _chapter_docs(epub) if "glossary" in n)
    root = _xhtml(epub, gloss)
    heads = [" ".join("".join(d.itertext()).split()) for d in root.iter(f"{XHTML}dfn")]
    want = [e.term["fr"] for e in sorted(book.glossary, key=lambda e: sort_key(e.term["fr"], "fr"))]
    assert heads == want
    # French order: accents weigh last, "dépendance" among the d's, before "distribution"
    assert heads.index("dépendance") < heads.index("distribution")
    german = [s for s in root.iter(f"{XHTML}span") if s.get("lang") == "de"]
    assert {"".join(s.itertext()) for s in german} >= {e.term["de"] for e in book.glossary}


def test_french_typography_in_the_epub(second):
    _book, _pdf, epub, _ = second
    text = ""
    for name in _chapter_docs(epub):
        if re.search(r"part-\d+\.xhtml$", name):
            text += "".join(_xhtml(epub, name).itertext())
    assert "«\u202f" in text and "\u202f»" in text                  # narrow no-break space inside « »
    assert re.search(r"\w\u202f[;!?]", text) and not re.search(r"\w [;!?](?:\s|$)", text)
    assert "l’" in text and "l'" not in text                          # apostrophes are curly
    assert "\u00a0:" in text


def test_english_paragraphs_are_tagged_in_both_editions(second):
    import pikepdf

    _book, pdf, epub, _ = second
    tagged = []
    for name in _chapter_docs(epub):
        root = _xhtml(epub, name)
        tagged += [el for el in root.iter() if el.get("lang") == "en"]
    assert any("The Debian archives" in "".join(el.itertext()) for el in tagged)
    langs = set()
    with pikepdf.open(pdf) as doc:
        stack = [doc.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Dictionary):
                if "/Lang" in node:
                    langs.add(str(node.Lang))
                kids = node.get("/K")
                if isinstance(kids, pikepdf.Array):
                    stack.extend(kids)
                elif isinstance(kids, pikepdf.Dictionary):
                    stack.append(kids)
        assert str(doc.Root.Lang) == "fr"
    assert {"en", "de"} <= langs


def test_structures_of_the_book_in_the_epub(second):
    _book, _pdf, epub, _ = second
    found = {"table": 0, "caption": 0, "figure": 0, "img-alt": 0, "blockquote": 0, "pre": 0,
             "ol-lower-alpha": 0, "epigraph": 0, "dedication": 0, "line-block": 0, "noteref": 0, "xref": 0}
    for name in _chapter_docs(epub):
        root = _xhtml(epub, name)
        for el in root.iter():
            tag = el.tag.replace(XHTML, "") if isinstance(el.tag, str) else ""
            cls = (el.get("class") or "").split()
            if tag in ("table", "caption", "figure", "blockquote", "pre"):
                found[tag] += 1
            if tag == "img" and len(el.get("alt") or "") > 20:
                found["img-alt"] += 1
            if tag == "ol" and el.get("type") == "a":
                found["ol-lower-alpha"] += 1
            for c in ("epigraph", "dedication", "line-block"):
                found[c] += c in cls
            if tag == "a" and el.get(f"{EPUB_NS}type") == "noteref":
                found["noteref"] += 1
            if tag == "a" and (el.get("href") or "").split("#")[-1] in ("pkg-basics", "arches", "feedback"):
                found["xref"] += 1
    missing = [k for k, v in found.items() if not v]
    assert missing == [], found


def test_pdf_text_and_pages(second):
    import pdfplumber

    _book, pdf, _epub, _ = second
    with pdfplumber.open(pdf) as doc:
        assert len(doc.pages) > 60
        text = " ".join(p.extract_text() or "" for p in doc.pages)
    for phrase in ("Table des matières", "Glossaire", "Architecture", "Ian Murdock", "Paketbetreuer"):
        assert phrase in text
    assert "{#" not in text and "]{" not in text and "[^" not in text    # no markup printed raw
    assert words(text)


def test_total_fit_in_the_second_book(second):
    """Total fit (the default) on a book of lists, quotations, code and cross-
    references: issue 12's spacing targets on its running text (spacing.py),
    every paragraph of a list item or a quotation set (measured in its block),
    no line ending at a slash of a path, every note on its call's page."""
    import json

    import pdfplumber

    from matbaa_dev import spacing
    from matbaa.typeset.knuth_plass import WJ

    _book, pdf, _epub, _out = second
    data = json.loads(pdf.with_suffix(".pages.json").read_text(encoding="utf-8"))
    assert data["misplaced"] == [] and data["hyphenation"]["page_end"] == 0
    body = spacing.measure(pdf, pages=spacing.body_pages(pdf.with_suffix(".pages.json")))["body"]
    assert body["p90_em"] <= 0.42 and body["over_half_share"] <= 0.04, body
    with pdfplumber.open(pdf) as doc:
        # the lines of paragraphs (body 10.5 pt, quotation 8.5, note 8): not a heading, the
        # contents or a code block (all monospaced)
        lines = [ln["text"].replace(WJ, "").strip() for page in doc.pages for ln in page.extract_text_lines()
                 if any(abs(max(c["size"] for c in ln["chars"]) - size) < 0.05 for size in (10.5, 8.5, 8.0))
                 and not all("Mono" in c["fontname"] for c in ln["chars"] if c["text"].strip())]
    assert len(lines) > 1000
    assert not [ln for ln in lines if ln.endswith("/")]


def test_headings_are_typeset_in_the_contents_outline_and_nav(second):
    """A sub-heading's text in the contents, the PDF outline and the EPUB nav is
    the typeset one (curly apostrophe, narrow space before ?), as in the text."""
    import pdfplumber
    from pypdf import PdfReader

    _book, pdf, epub, _ = second
    with pdfplumber.open(pdf) as doc:
        contents = next(p.extract_text() for p in doc.pages if "Table des matières" in (p.extract_text() or ""))
    nav = "".join(_xhtml(epub, next(n for n in _chapter_docs(epub) if n.endswith("nav.xhtml"))).itertext())

    def titles(items):
        for it in items:
            if isinstance(it, list):
                yield from titles(it)
            else:
                yield it.title
    outline = " ".join(titles(PdfReader(str(pdf)).outline))
    for where in (contents, nav, outline):
        assert "Qu’est-ce que cette FAQ" in where
        assert "Qu'est" not in where
    assert "FAQ\u202f?" in nav and "FAQ\u202f?" in outline


def test_glossary_see_label_takes_french_spacing(second):
    """"voir :" with the no-break space French sets before a colon (typography.py's
    rule, applied to the label by the templates' `typeset` filter), in both editions."""
    from conftest import glossary_see_labels

    book, pdf, epub, _ = second
    in_epub, in_pdf = glossary_see_labels(pdf, epub, "Glossaire", "voir")
    with_see = sum(1 for e in book.glossary if e.see)
    assert with_see and in_epub == ["voir\u00a0: "] * with_see
    assert len(in_pdf) >= with_see and set(in_pdf) == {"voir\u00a0:"}


def test_imprint_and_cover_labels_take_french_spacing(second):
    from conftest import imprint_labels

    book, pdf, epub, _ = second
    keys, alt, imprint = imprint_labels(pdf, epub, book.labels["imprint"])
    assert keys == ["Source\u00a0:"]
    assert alt.startswith("Couverture\u00a0: ")
    assert "Source\u00a0:" in imprint and "Source:" not in imprint
