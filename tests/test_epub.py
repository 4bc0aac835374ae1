"""The EPUB edition, tested through its OPF, nav and XHTML, and by EPUBCheck."""
import posixpath
import re
import zipfile

import pytest
from lxml import etree

NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def parse(data: bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(data, parser)


@pytest.fixture(scope="session")
def opf(epub_zip):
    container = parse(epub_zip.read("META-INF/container.xml"))
    path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
    return path, parse(epub_zip.read(path))


@pytest.fixture(scope="session")
def docs(epub_zip, opf):
    path, root = opf
    base = posixpath.dirname(path)
    out = {}
    for item in root.xpath("//opf:manifest/opf:item[@media-type='application/xhtml+xml']", namespaces=NS):
        name = posixpath.join(base, item.get("href"))
        out[name] = parse(epub_zip.read(name))
    return out


def test_epubcheck_clean(epubcheck_report):
    msgs = [m for m in epubcheck_report["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert msgs == []
    assert epubcheck_report["checker"]["nFatal"] == 0
    assert epubcheck_report["checker"]["nError"] == 0
    assert epubcheck_report["checker"]["nWarning"] == 0


def test_zip_layout(epub_zip, book):
    """mimetype first and stored, container.xml next, the rest by name and
    deflated, every entry dated with the book's date (never the clock)."""
    from matbaa.render.common import build_date

    infos = epub_zip.infolist()
    assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
    assert infos[0].extra == b"" and infos[0].header_offset == 0         # its text at byte 38
    assert epub_zip.read("mimetype") == b"application/epub+zip"
    names = [i.filename for i in infos[1:]]
    assert names[0] == "META-INF/container.xml" and names[1:] == sorted(names[1:])
    assert {i.compress_type for i in infos[1:]} == {zipfile.ZIP_DEFLATED}
    when = build_date(book)
    assert {i.date_time for i in infos} == {(max(when.year, 1980), when.month, when.day, when.hour, when.minute,
                                             when.second // 2 * 2)}


def test_metadata(opf, book):
    _, root = opf
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "az"
    md = root.find("opf:metadata", NS)
    assert md.findtext("dc:language", namespaces=NS) == "az"
    titles = [t.text for t in md.findall("dc:title", NS)]
    assert titles == [book.meta["title"], book.meta["subtitle"]]
    assert md.findtext("dc:identifier", namespaces=NS) == book.meta["identifier"]
    assert md.findtext("dc:creator", namespaces=NS) == "Zəminə Əsgərova"
    assert md.findtext("dc:source", namespaces=NS)
    props = {m.get("property"): m.text for m in md.findall("opf:meta", NS) if m.get("property")}
    assert props["dcterms:modified"] == f"{book.meta['date']}T00:00:00Z"
    assert props["belongs-to-collection"] == "Azərbaycan diasporu"
    assert "schema:accessibilitySummary" in props


def test_nav_lists_parts_and_glossary(docs):
    nav = next(d for n, d in docs.items() if n.endswith("nav.xhtml"))
    toc = nav.xpath("//x:nav[@epub:type='toc']//x:a/text()", namespaces=NS)
    assert toc[1:] == ["Birinci hissə", "İkinci hissə", "Ədəbiyyat", "Lüğət"]
    landmarks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert {"titlepage", "toc", "bodymatter", "glossary"} <= set(landmarks)


def _ids(docs):
    return {name: set(d.xpath("//@id")) for name, d in docs.items()}


def test_every_link_resolves(docs):
    ids = _ids(docs)
    for name, d in docs.items():
        for href in d.xpath("//x:a/@href", namespaces=NS):
            if re.match(r"^[a-z]+:", href):
                continue
            target, _, frag = href.partition("#")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) if target else name
            assert target in docs, f"{name}: {href}"
            if frag:
                assert frag in ids[target], f"{name}: {href}"


def test_notes_are_epub3_footnotes_linked_both_ways(docs, book):
    refs = {}
    asides = {}
    for name, d in docs.items():
        for a in d.xpath("//x:a[@epub:type='noteref']", namespaces=NS):
            assert a.get("role") == "doc-noteref"
            refs[a.get("id")] = (name, a.get("href"))
        for aside in d.xpath("//x:aside[@epub:type='footnote']", namespaces=NS):
            assert aside.get("role") == "doc-footnote"
            back = aside.xpath(".//x:a[@role='doc-backlink']/@href", namespaces=NS)
            asides[aside.get("id")] = (name, back[0])
    assert len(refs) == len(book.notes) == len(asides)
    for call_id, (name, href) in refs.items():
        note_id = href.split("#")[1]
        assert asides[note_id][1].split("#")[1] == call_id


def test_glossary_marks_and_backlinks(docs, book):
    gloss = next(d for n, d in docs.items() if n.endswith("glossary.xhtml"))
    section = gloss.xpath("//x:section[@epub:type='glossary']", namespaces=NS)[0]
    assert section.get("role") == "doc-glossary"
    entries = section.xpath(".//x:dt/@id", namespaces=NS)
    assert len(entries) == len(book.glossary)
    marks = [a for d in docs.values() for a in d.xpath("//x:a[@class='term']", namespaces=NS)]
    assert len(marks) == sum(len(e.marks) for e in book.glossary)
    mark_ids = {a.get("id") for a in marks}
    backs = section.xpath(".//x:a[@role='doc-backlink']/@href", namespaces=NS)
    assert {b.split("#")[1] for b in backs} == mark_ids


def test_epub_type_has_role(docs):
    roles = {"footnote": "doc-footnote", "noteref": "doc-noteref", "chapter": "doc-chapter",
             "part": "doc-part", "glossary": "doc-glossary", "imprint": "doc-colophon"}
    for name, d in docs.items():
        # landmarks name their targets' types; they are links, not the structures
        for el in d.xpath("//*[@epub:type][not(ancestor::x:nav)]", namespaces=NS):
            t = el.get(EPUB_TYPE)
            if t in roles and el.tag.split("}")[1] not in ("body", "nav"):
                assert el.get("role") == roles[t], f"{name}: <{el.tag}> {t}"


def test_font_embedded_with_licence(epub_zip):
    names = epub_zip.namelist()
    assert any(n.endswith("Vollkorn-Regular.ttf") for n in names)
    assert any(n.endswith("licence.xhtml") for n in names)


def test_reproducible(built, tmp_path):
    from conftest import MANUSCRIPT, STYLES

    from matbaa.build import build_epub

    import shutil

    # the page map saved by the session's PDF build, as `make pdf epub` leaves it
    shutil.copy(built.pdf.with_suffix(".pages.json"), tmp_path)
    again, _ = build_epub(MANUSCRIPT, tmp_path, STYLES)
    assert again.read_bytes() == built.epub.read_bytes()


def test_page_list_follows_the_pdf(docs, built):
    """Each page-break marker stands where that page of our PDF begins."""
    import pdfplumber

    from matbaa.proof.collate import WORD

    nav = next(d for n, d in docs.items() if n.endswith("nav.xhtml"))
    page_list = nav.xpath("//x:nav[@epub:type='page-list']", namespaces=NS)[0]
    assert page_list.get("role") == "doc-pagelist"
    links = page_list.xpath(".//x:a", namespaces=NS)
    numbers = [int(a.text) for a in links]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))
    # every target exists, and the targets come in reading order
    spine_order = {name: i for i, name in enumerate(docs)}
    order = []
    for a in links:
        target, frag = a.get("href").split("#")
        name = "EPUB/" + target
        el = docs[name].xpath(f"//*[@id='{frag}']")[0]
        assert el.get(EPUB_TYPE) == "pagebreak" and el.get("role") == "doc-pagebreak"
        assert el.get("aria-label") == a.text
        order.append((spine_order[name], list(docs[name].iter()).index(el)))
    assert order == sorted(order)
    # the word after each marker in the running text is the first word of that PDF page
    with pdfplumber.open(built.pdf) as pdf:
        checked = 0
        for a in links:
            target, frag = a.get("href").split("#")
            if not target.startswith("part-"):
                continue
            el = docs["EPUB/" + target].xpath(f"//*[@id='{frag}']")[0]
            page = pdf.pages[int(a.text) - 1]
            nxt = el.getnext()
            if nxt is not None and nxt.tag.endswith("h1"):   # a part opens the page
                assert page.extract_text().lstrip().startswith(nxt.text)
                continue
            following = " ".join(el.xpath("following::text()")[:5]).replace("\u00ad", "")
            epub_word = WORD.search(following).group(0)
            body = [ln for ln in page.extract_text_lines() if 10 < ln["chars"][0]["size"] < 11]
            first_line = body[0]["text"]
            prev = pdf.pages[int(a.text) - 2].extract_text_lines()
            prev_body = [ln for ln in prev if 10 < ln["chars"][0]["size"] < 11]
            words = WORD.findall(first_line)
            if prev_body and prev_body[-1]["text"].rstrip().endswith(("\u2010", "-")):
                words = words[1:]  # the page starts with the end of a word
            assert words[0] == epub_word, f"page {a.text}: PDF {words[:3]} EPUB {epub_word}"
            checked += 1
    assert checked >= 10


def test_soft_hyphens_for_reading_systems(docs):
    from matbaa.typeset.hyphenation import legal_breaks

    part = next(d for n, d in docs.items() if n.endswith("part-1.xhtml"))
    text = " ".join(part.xpath("//x:section[@epub:type='chapter']//text()[not(ancestor::x:a[@epub:type='noteref'])]",
                               namespaces=NS))
    words = re.findall(r"[\w\u00ad]+", text)
    soft = [w for w in words if "\u00ad" in w]
    assert len(soft) > 100
    for w in soft:
        assert not re.search(r"\d", w) and not w.replace("\u00ad", "").isupper(), w
        plain = w.replace("\u00ad", "")
        positions = {i - n for n, i in enumerate(m.start() for m in re.finditer("\u00ad", w))}
        assert positions <= legal_breaks(plain), w
