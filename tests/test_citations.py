"""Citations (Pandoc syntax) and the bibliography, in both editions.

Parsing is tested on markdown-it's tokens; bad input for its located messages;
print through the PDF's text with positions (pdfplumber) and its outline
(pikepdf); the EPUB through its XHTML parsed with a safe XML parser."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree

from matbaa.build import build_pdf, load
from matbaa.diagnostics import ManuscriptError
from matbaa.read.markdown import make_parser
from matbaa.sample import HERE as SAMPLE

XHTML = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
SAFE = etree.XMLParser(resolve_entities=False, no_network=True)


def citations(text: str) -> list:
    tokens = make_parser().parse(text)
    return [c for t in tokens if t.type == "inline" for c in t.children if c.type == "citation"]


# ---------------------------------------------------------------- parsing

def test_bracketed_citation_with_a_locator():
    (tok,) = citations("As shown [@connor1986, p. 16].")
    assert tok.meta["mode"] == "normal"
    (c,) = tok.meta["cites"]
    assert (c["key"], c["label"], c["locator"], c["suffix"], c["suppress_author"]) == (
        "connor1986", "page", "16", "", False)


def test_several_cites_with_prefix_and_page_range():
    (tok,) = citations("Text [see @a; @b-2, pp. 3-5, and elsewhere].")
    a, b = tok.meta["cites"]
    assert (a["key"], a["prefix"], a["locator"]) == ("a", "see", None)
    assert (b["key"], b["label"], b["locator"], b["suffix"]) == ("b-2", "page", "3–5", ", and elsewhere")


def test_suppress_author_and_in_text_forms():
    (tok,) = citations("Connor says so [-@connor1986].")
    assert tok.meta["cites"][0]["suppress_author"] is True
    (tok,) = citations("As @connor1986 says.")
    assert tok.meta["mode"] == "in-text" and tok.meta["cites"][0]["key"] == "connor1986"
    (tok,) = citations("As @connor1986 [s. 16] says.")
    assert (tok.meta["cites"][0]["label"], tok.meta["cites"][0]["locator"]) == ("page", "16")


def test_a_suffix_that_is_no_locator_stays_a_suffix():
    (tok,) = citations("[@qanun2002, maddə 1]")
    c = tok.meta["cites"][0]
    assert (c["locator"], c["suffix"]) == (None, ", maddə 1")


@pytest.mark.parametrize("text", ["Write to ada@example.com today.", "A [span]{term=x} and a note[^n].\n\n[^n]: N.",
                                  "A [link](https://example.com) and [text without key]."])
def test_other_syntax_is_not_a_citation(text):
    assert citations(text) == []


# ---------------------------------------------------------------- bad input

@pytest.fixture
def ms(tmp_path) -> Path:
    root = tmp_path / "ms"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (root / "references.json").write_text(json.dumps([
        {"id": "doe2001", "type": "book", "author": [{"family": "Doe", "given": "Jane"}],
         "title": "A Book on Diasporas", "publisher": "Example Press", "publisher-place": "London",
         "issued": {"date-parts": [[2001]]}},
        {"id": "roe1999", "type": "article-journal", "author": [{"family": "Roe", "given": "Richard"}],
         "title": "Homelands", "container-title": "Journal of Examples", "volume": "3", "page": "1-20",
         "issued": {"date-parts": [[1999]]}},
    ], indent=2), encoding="utf-8")
    meta = root / "book.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("notes:\n", "bibliography: references.json\nnotes:\n", 1),
                    encoding="utf-8")
    return root


def _line_of(ms: Path, start: str) -> int:
    """The line (1-based) of the first chapter that begins with `start`."""
    lines = (ms / "chapters" / "01-first.md").read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if line.startswith(start))


SHOWS, SECOND = "This sample shows how", "A second paragraph"


def _write_line(ms: Path, start: str, text: str) -> int:
    """Replace the first chapter's line that begins with `start`; its number."""
    n = _line_of(ms, start)
    p = ms / "chapters" / "01-first.md"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines[n - 1] = text
    p.write_text("\n".join(lines), encoding="utf-8")
    return n


def _cite_both(ms: Path) -> None:
    _write_line(ms, SHOWS, "This sample shows how a chapter is written [@doe2001, p. 12; @roe1999].")


def test_unknown_key_is_a_located_error(ms):
    _cite_both(ms)
    line = _write_line(ms, SECOND, "A second paragraph, as @nobody2020 says.")
    with pytest.raises(ManuscriptError) as exc:
        load(ms)
    found = [(d.code, d.location.file.name, d.location.line) for d in exc.value.report.errors]
    assert found == [("B001", "01-first.md", line)]
    assert "@nobody2020" in exc.value.report.errors[0].message
    assert str(exc.value.report.errors[0]).startswith(f"{ms / 'chapters' / '01-first.md'}:{line}: B001: error:")


def test_unknown_key_in_a_note_is_located_on_its_line(ms):
    _cite_both(ms)
    p = ms / "chapters" / "01-first.md"
    text = p.read_text(encoding="utf-8").replace("[^first]: A note is written after its paragraph.",
                                                  "[^first]: A note is written after its paragraph [@nobody].")
    p.write_text(text, encoding="utf-8")
    line = text.split("\n").index("[^first]: A note is written after its paragraph [@nobody].") + 1
    with pytest.raises(ManuscriptError) as exc:
        load(ms)
    assert [(d.code, d.location.line) for d in exc.value.report.errors] == [("B001", line)]


def test_bad_bibliography_file_and_uncited_entry(ms):
    (ms / "references.json").write_text('[\n  {"id": "doe2001", "type": "book"},\n  {"id": "x" "type": "book"}\n]\n',
                                        encoding="utf-8")
    with pytest.raises(ManuscriptError) as exc:
        load(ms)
    assert [(d.code, d.location.file.name, d.location.line) for d in exc.value.report.errors] == [
        ("B002", "references.json", 3)]
    (ms / "references.json").write_text('[\n  {"id": "doe2001", "type": "book", "title": "T"}\n]\n', encoding="utf-8")
    _book, report = load(ms)
    assert [(d.code, d.location.line) for d in report.warnings] == [("B003", 2)]


def test_in_text_citation_in_running_text_keeps_the_word_count(ms, tmp_path):
    """A citation's rendered text is not the manuscript's: the page map's
    walker and the text-side count both leave it out (typeset/parallel.py checks that
    they agree, part by part); the whole-document build is the reference."""
    _cite_both(ms)
    _write_line(ms, SECOND, "A second paragraph, as @doe2001 [p. 3] says, with a [congress]{term=congress} of 1997–2001.")
    pdf, _ = build_pdf(ms, tmp_path / "out", jobs=1)
    with pdfplumber.open(pdf) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
    assert "Doe (2001, p. 3)" in text
    assert "(Doe, 2001, p. 12; Roe, 1999)" in text
    data = json.loads((tmp_path / "out" / "sample-book.pages.json").read_text(encoding="utf-8"))
    words = data.get("words") or []
    if words:                  # the page map keeps the running text's words: no citation word among them
        assert "Doe" not in words and "(2001," not in words


# ---------------------------------------------------------------- the first book, in print

@pytest.fixture(scope="module")
def pdf(built):
    with pdfplumber.open(built.pdf) as doc:
        yield doc


def _cited(book) -> list[str]:
    return [key for key, _html in book.bibliography]


def test_first_book_cites_and_lists_every_reference(book):
    refs = json.loads((book.root / book.meta["bibliography"]).read_text(encoding="utf-8"))
    assert sorted(_cited(book)) == sorted(r["id"] for r in refs)


def test_citation_is_in_the_note_at_the_page_foot(pdf, book):
    note = book.notes["connor"]
    found = None
    for page in pdf.pages:
        words = page.extract_words(extra_attrs=["size"])
        for i, w in enumerate(words[:-3]):
            if [x["text"] for x in words[i:i + 3]] == ["(Connor,", "1986,", "s."] and words[i + 3]["text"].startswith("16)"):
                found = (page, w)
    assert found is not None, "the rendered citation (Connor, 1986, s. 16) is not in the PDF"
    page, w = found
    body = max(c["size"] for c in page.chars)
    assert w["size"] < body - 1, "the citation is set in the notes' size"
    # in the footnote area: below the last line of running text (the largest type) on that page
    last_body_line = max(c["bottom"] for c in page.chars if c["size"] >= body - 0.1 and c["top"] < page.height * 0.9)
    assert w["top"] > last_body_line
    # and in the note whose body cites it (its first words are on the same page)
    first = note.tokens[1].children[0].content.split()[:2]
    assert " ".join(first) in (page.extract_text() or "")


def _bibliography_page(pdf, book) -> int:
    title = book.labels["bibliography"]
    for i, page in enumerate(pdf.pages):
        lines = (page.extract_text() or "").split("\n")
        if lines and lines[0].strip() == title:
            return i + 1
    raise AssertionError("no page opens with the bibliography's title")


def test_bibliography_section_lists_the_entries(pdf, book):
    start = _bibliography_page(pdf, book)
    # before the glossary, after the text
    gloss = next(i + 1 for i, p in enumerate(pdf.pages)
                 if (p.extract_text() or "").split("\n")[0].strip() == book.labels["glossary"])
    assert start < gloss
    text = " ".join((pdf.pages[i].extract_text() or "") for i in range(start - 1, gloss - 1))
    text = re.sub(r"\s+", " ", text)
    for _key, html in book.bibliography:
        plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
        head = " ".join(plain.split()[:3])
        assert head in text, head


def test_bibliography_in_outline_and_contents(built, pdf, book):
    start = _bibliography_page(pdf, book)
    title = book.labels["bibliography"]
    with pikepdf.open(built.pdf) as doc:
        with doc.open_outline() as outline:
            items = {it.title: it for it in outline.root}
            assert title in items
            pages = [p.objgen for p in doc.pages]
            target = items[title].destination
            if not isinstance(target, pikepdf.Array):
                target = _named(doc, str(target))
            assert pages.index(target[0].objgen) + 1 == start
    contents = pdf.pages[3].extract_text() or ""
    m = re.search(rf"{title}[ .]*(\d+)", contents)
    assert m and int(m.group(1)) == start


def _named(doc, name):
    def walk(node):
        if "/Names" in node:
            arr = node.Names
            for i in range(0, len(arr), 2):
                if str(arr[i]) == name:
                    v = arr[i + 1]
                    return v.D if isinstance(v, pikepdf.Dictionary) else v
        for kid in node.get("/Kids", []):
            r = walk(kid)
            if r is not None:
                return r
        return None
    return walk(doc.Root.Names.Dests)


# ---------------------------------------------------------------- the first book, in the EPUB

def _xhtml(epub_zip, name):
    return etree.fromstring(epub_zip.read(f"EPUB/{name}"), SAFE)


def test_epub_bibliography_document(epub_zip, book):
    doc = _xhtml(epub_zip, "bibliography.xhtml")
    (section,) = doc.xpath("//h:section[@id='bibliography']", namespaces=XHTML)
    assert section.get(f"{{{XHTML['epub']}}}type") == "bibliography"
    assert section.get("role") == "doc-bibliography"
    entries = section.xpath(".//h:li[@class='csl-entry']", namespaces=XHTML)
    assert [e.get("id") for e in entries] == ["ref-" + k for k in _cited(book)]
    assert doc.xpath("string(//h:h1)", namespaces=XHTML) == book.labels["bibliography"]


def test_epub_citation_links_resolve(epub_zip, book):
    ids = set(_xhtml(epub_zip, "bibliography.xhtml").xpath("//@id"))
    links = []
    for name in epub_zip.namelist():
        if re.fullmatch(r"EPUB/part-\d+\.xhtml", name):
            doc = etree.fromstring(epub_zip.read(name), SAFE)
            links += doc.xpath("//h:span[@class='citation']//h:a/@href", namespaces=XHTML)
    assert len(links) >= len(book.bibliography)
    for href in links:
        file, _, frag = href.partition("#")
        assert file == "bibliography.xhtml" and frag in ids, href


def test_epub_nav_and_landmarks_list_the_bibliography(epub_zip, book):
    nav = _xhtml(epub_zip, "nav.xhtml")
    toc = nav.xpath("//h:nav[@epub:type='toc']//h:a", namespaces=XHTML)
    assert any(a.get("href") == "bibliography.xhtml" and a.text == book.labels["bibliography"] for a in toc)
    marks = nav.xpath("//h:nav[@epub:type='landmarks']//h:a", namespaces=XHTML)
    assert any(a.get("href") == "bibliography.xhtml" and a.get(f"{{{XHTML['epub']}}}type") == "bibliography"
               for a in marks)
    opf_name = next(n for n in epub_zip.namelist() if n.endswith(".opf"))
    opf = etree.fromstring(epub_zip.read(opf_name), SAFE)
    spine = opf.xpath("//opf:itemref/@idref", namespaces={"opf": "http://www.idpf.org/2007/opf"})
    assert spine.index("bibliography") < spine.index("glossary")
