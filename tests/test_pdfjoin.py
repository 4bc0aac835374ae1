"""Joining segment PDFs (writers.pdfjoin): the joined PDF must be as good as one document.

The segments are real WeasyPrint outputs (pdf/ua-1, A6, Vollkorn from styles/fonts, so
their fonts are real subsets), laid out from small HTML strings.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pdfplumber
import pikepdf
import pypdf
import pypdfium2
import pytest
from fontTools.ttLib import TTFont

from matbaa.typeset.pdfjoin import read_to_unicode, join

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "styles" / "fonts"
FACES = "".join(
    f"@font-face {{ font-family: Vollkorn; font-weight: {weight}; font-style: {style};"
    f" src: url({(FONTS / 'vollkorn' / f'Vollkorn-{name}.ttf').resolve().as_uri()}) }}"
    for name, weight, style in (
        ("Regular", 400, "normal"), ("Italic", 400, "italic"),
        ("Bold", 700, "normal"), ("BoldItalic", 700, "italic")))

# Three segments of a book: links to another segment are written matbaa-dest:ID.
BODIES = {
    "one": """
        <h1 id="one">Birinci fəsil</h1>
        <p>Bu kitabın <em>ilk</em> səhifəsidir. Bax: <a href="#one-b">aşağıda</a>,
        <a href="matbaa-dest:two-b">ikinci fəslin sonu</a>.<span class="note">Qeyd
        mətni, kiçik hərflərlə.</span></p>
        <h2 id="one-b" style="break-before: page">Davamı</h2>
        <p>Yeni səhifə, <strong>qalın söz</strong> və adi söz.</p>""",
    "two": """
        <h1 id="two">İkinci fəsil</h1>
        <p>Şəki, Gəncə, Xaçmaz. <a href="matbaa-dest:one">Birinci fəslə qayıt</a>.</p>
        <h2 id="two-b">Son</h2>
        <p><b><i>Qalın və əyri</i></b> sözlər.</p>""",
    "three": """
        <h1 id="three">Üçüncü fəsil</h1>
        <p>Ağ şəhər, ÖĞÇ. <a href="matbaa-dest:one-b">Davamına bax</a>.</p>""",
}
ORDER = ("one", None, "two", "three")   # None: a blank page between one and two


def html(body: str, page: str = "", lang: str = "az") -> str:
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
        <title>Sınaq kitabı</title><style>{FACES}
        @page {{ size: A6; margin: 12mm; {page} }}
        body {{ font-family: Vollkorn; font-size: 10pt }}
        .note {{ float: footnote }}</style></head><body>{body}</body></html>"""


def write_pdf(path: Path, body: str, page: str = "", variant: str | None = "pdf/ua-1",
              lang: str = "az") -> Path:
    from weasyprint import HTML

    path.write_bytes(HTML(string=html(body, page, lang)).write_pdf(pdf_variant=variant))
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pdfjoin")


@pytest.fixture(scope="module")
def segments(work) -> dict[str, Path]:
    return {name: write_pdf(work / f"{name}.pdf", body) for name, body in BODIES.items()}


@pytest.fixture(scope="module")
def pieces(segments) -> list[Path | None]:
    return [None if name is None else segments[name] for name in ORDER]


@pytest.fixture(scope="module")
def joined(work, pieces):
    out = work / "joined.pdf"
    report = join(pieces, out, fonts_dir=FONTS)
    return out, report


@pytest.fixture(scope="module")
def folios(work, joined) -> Path:
    """Folios as the caller makes them: page numbers in margin boxes, one page per page
    of the book; the first (a chapter opening) without any content at all."""
    count = len(pypdf.PdfReader(joined[0]).pages)
    pages = "<div></div>" + "<div style='break-before: page'></div>" * (count - 1)
    path = write_pdf(
        work / "folios-made.pdf", pages,
        page="@bottom-center { content: counter(page); font-family: Vollkorn }", variant=None)
    with pikepdf.open(path) as pdf:
        pdf.pages[0].obj.Contents = pikepdf.Stream(pdf, b"")
        pdf.save(work / "folios.pdf")
    return work / "folios.pdf"


@pytest.fixture(scope="module")
def joined_with_folios(work, pieces, folios):
    out = work / "joined-folios.pdf"
    report = join(pieces, out, folios=folios, fonts_dir=FONTS)
    return out, report


def source_pages(pieces) -> list[tuple[Path, int] | None]:
    """For each joined page, its source: (segment PDF, page index), or None (blank)."""
    pages = []
    for piece in pieces:
        if piece is None:
            pages.append(None)
        else:
            pages.extend((piece, index) for index in range(len(pypdf.PdfReader(piece).pages)))
    return pages


def page_numbers(pdf: pikepdf.Pdf) -> dict:
    return {page.obj.objgen: index for index, page in enumerate(pdf.pages)}


def destinations(pdf: pikepdf.Pdf) -> dict[str, tuple[int, list]]:
    """Named destinations: name -> (page index, the rest of the destination)."""
    numbers = page_numbers(pdf)
    return {name: (numbers[dest[0].objgen], [float(x) for x in dest[2:]])
            for name, dest in pikepdf.NameTree(pdf.Root.Names.Dests).items()}


# 1. Pages


def test_pages_in_order_with_a_blank_page(joined, pieces):
    out, report = joined
    sources = source_pages(pieces)
    assert report["pages"] == len(sources) and report["blank_pages"] == 1
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == len(sources)
        for page, source in zip(pdf.pages, sources):
            if source is None:
                assert not page.chars
                continue
            with pdfplumber.open(source[0]) as segment:
                assert page.extract_text() == segment.pages[source[1]].extract_text()
    with pikepdf.open(out) as pdf:
        blank = sources.index(None)
        before, page = pdf.pages[blank - 1].obj, pdf.pages[blank].obj
        for box in ("/MediaBox", "/TrimBox", "/BleedBox"):
            assert list(page[box]) == list(before[box])
        assert "/Contents" not in page


def test_a_blank_first_page_takes_the_next_page_size(work, pieces):
    out = work / "blank-first.pdf"
    join([None, *pieces], out)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 6
        assert list(pdf.pages[0].mediabox) == list(pdf.pages[1].mediabox)


# 2. Links


def cross_links(path: Path) -> int:
    """How many link annotations of a segment lead to another segment."""
    with pikepdf.open(path) as pdf:
        return sum(1 for page in pdf.pages for annotation in page.obj.get("/Annots", ())
                   if str(annotation.get("/A", {}).get("/URI", "")).startswith("matbaa-dest:"))


def test_links_to_other_segments_become_internal_links(joined, segments, pieces):
    out, report = joined
    with pikepdf.open(segments["one"]) as one:
        # How WeasyPrint writes an internal link (tagged): the model for rewritten links.
        internal = [a for a in one.pages[0].Annots if "/Dest" in a]
        model = set(internal[0].keys())
    with pikepdf.open(out) as pdf:
        names = destinations(pdf)
        targets = []
        for page in pdf.pages:
            for annotation in page.obj.get("/Annots", ()):
                assert "/A" not in annotation   # no matbaa-dest: URI is left
                assert set(annotation.keys()) == model
                assert annotation.Contents == annotation.Dest
                targets.append(str(annotation.Dest))
    # A link broken over two lines is two annotations.
    assert set(targets) == {"one", "one-b", "two-b"}
    assert report["links"] == sum(cross_links(piece) for piece in pieces if piece) >= 3
    # ...leading to the joined pages where their elements are (a blank page at 2).
    assert {name: names[name][0] for name in targets} == {"one": 0, "one-b": 1, "two-b": 3}


def test_links_with_no_destination_are_reported(work, segments):
    lost = write_pdf(work / "lost.pdf", """<h1 id="lost">Başqa</h1>
        <p><a href="matbaa-dest:nowhere">bir</a> <a href="matbaa-dest:elsewhere">iki</a>
        <a href="matbaa-dest:one">üç</a></p>""")
    out = work / "lost-joined.pdf"
    with pytest.raises(ValueError, match="elsewhere, nowhere") as error:
        join([*segments.values(), lost], out)
    assert error.value.report["missing_targets"] == ["elsewhere", "nowhere"]
    assert not out.exists()


# 3. Named destinations


def test_one_name_tree_holds_every_segments_destinations(joined, pieces):
    out, report = joined
    offset, expected = 0, {}
    for piece in pieces:
        if piece is None:
            offset += 1
            continue
        with pikepdf.open(piece) as segment:
            for name, (page, rest) in destinations(segment).items():
                expected[name] = (page + offset, rest)
            offset += len(segment.pages)
    with pikepdf.open(out) as pdf:
        assert destinations(pdf) == expected
        keys = [bytes(key) for key in pdf.Root.Names.Dests.Names[0::2]]
        assert keys == sorted(keys)
    assert report["destinations"] == len(expected) == 5


def test_a_destination_defined_twice_is_an_error(work, segments):
    out = work / "twice.pdf"
    with pytest.raises(ValueError, match="one-b"):
        join([segments["one"], segments["one"]], out)
    assert not out.exists()


# 4. Outline


def flat_outline(path: Path) -> list[tuple]:
    """(level, title, page index, top) of every bookmark, in order."""
    reader = pypdf.PdfReader(path)

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                yield from walk(item, level + 1)
            else:
                yield (level, item.title, reader.get_destination_page_number(item),
                       round(float(item.top), 3))
    return list(walk(reader.outline, 1))


def test_outline_is_the_segments_outlines_in_order(joined, pieces):
    out, report = joined
    expected, offset = [], 0
    for piece in pieces:
        if piece is None:
            offset += 1
            continue
        expected += [(level, title, page + offset, top)
                     for level, title, page, top in flat_outline(piece)]
        offset += len(pypdf.PdfReader(piece).pages)
    assert flat_outline(out) == expected
    assert [level for level, *_ in expected] == [1, 2, 1, 2, 1]   # hierarchy kept
    with pikepdf.open(out) as pdf:
        assert pdf.Root.Outlines.Count == 5 == report["bookmarks"]


# 5. Structure tree


def struct_elements(element):
    """`element` and every structure element under it."""
    yield element
    kids = element.get("/K", pikepdf.Array())
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield from struct_elements(kid)


def parent_tree(tree) -> dict:
    nums = tree.ParentTree.Nums
    return {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}


def test_one_structure_tree(joined, pieces):
    out, _ = joined
    top_roles, entries = [], 0
    for piece in pieces:
        if piece is not None:
            with pikepdf.open(piece) as segment:
                tree = segment.Root.StructTreeRoot
                top_roles += [str(kid.S) for kid in tree.K[0].K]
                entries += len(parent_tree(tree))
    with pikepdf.open(out) as pdf:
        tree = pdf.Root.StructTreeRoot
        assert len(tree.K) == 1 and tree.K[0].S == "/Document"
        document = tree.K[0]
        assert document.P.objgen == tree.objgen
        assert [str(kid.S) for kid in document.K] == top_roles
        assert all(kid.P.objgen == document.objgen for kid in document.K)

        numbers = parent_tree(tree)
        assert len(numbers) == entries
        assert int(tree.ParentTreeNextKey) == max(numbers) + 1
        pages = set(page_numbers(pdf))
        for page in pdf.pages:
            if "/Contents" in page.obj:   # not the blank page
                # The page's marked content i belongs to the i-th element of its entry.
                marked = numbers[int(page.obj.StructParents)]
                for mcid, element in enumerate(marked):
                    assert mcid in list(element.K) and element.Pg.objgen == page.obj.objgen
            for annotation in page.obj.get("/Annots", ()):
                owner = numbers[int(annotation.StructParent)]
                assert any(isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR"
                           and kid.Obj.objgen == annotation.objgen for kid in owner.K)
        for value in numbers.values():
            for element in value if isinstance(value, pikepdf.Array) else [value]:
                for _ in range(50):   # up through /P to the root
                    if element.objgen == tree.objgen:
                        break
                    element = element.P
                assert element.objgen == tree.objgen
        for element in struct_elements(document):
            if "/Pg" in element:
                assert element.Pg.objgen in pages


def test_a_piece_in_another_language_says_so(work, segments):
    english = write_pdf(work / "en.pdf", "<h1 id='en'>Notes</h1><p>In English.</p>", lang="en")
    out = work / "languages.pdf"
    join([*segments.values(), english], out)
    with pikepdf.open(out) as pdf:
        assert str(pdf.Root.Lang) == "az"
        kids = list(pdf.Root.StructTreeRoot.K[0].K)
        assert [str(kid.get("/Lang", "")) for kid in kids[-2:]] == ["en", "en"]
        assert all("/Lang" not in kid for kid in kids[:-2])


def test_document_entries_come_from_the_first_piece(joined, segments):
    out, _ = joined
    with pikepdf.open(out) as pdf, pikepdf.open(segments["one"]) as first:
        assert str(pdf.Root.Lang) == "az"
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert pdf.Root.Metadata.read_bytes() == first.Root.Metadata.read_bytes()
        assert str(pdf.docinfo.Title) == str(first.docinfo.Title) == "Sınaq kitabı"


# 6. Folios


def chars(page) -> list[tuple]:
    return [(c["text"], round(c["x0"], 2), round(c["top"], 2), round(c["size"], 2))
            for c in page.chars]


def test_folios_are_drawn_where_they_are_on_their_page(joined, joined_with_folios, folios):
    with pdfplumber.open(folios) as folio, pdfplumber.open(joined_with_folios[0]) as both, \
            pdfplumber.open(joined[0]) as plain:
        assert not chars(folio.pages[0])   # the empty folio page
        assert chars(both.pages[0]) == chars(plain.pages[0])
        for index in range(1, len(folio.pages)):
            numbers = chars(folio.pages[index])
            assert numbers and numbers[0][0] == str(index + 1)
            assert sorted(chars(both.pages[index])) == sorted(chars(plain.pages[index]) + numbers)
    assert joined_with_folios[1]["folios"] == len(folio.pages) - 1


def test_folios_are_artifacts(joined, joined_with_folios):
    with pikepdf.open(joined_with_folios[0]) as both, pikepdf.open(joined[0]) as plain:
        assert "/Folio" not in both.pages[0].Resources.get("/XObject", {})
        for page, before in zip(both.pages[1:], plain.pages[1:]):
            assert page.obj.get("/StructParents") == before.obj.get("/StructParents")
            operators = [(str(i.operator), list(i.operands))
                         for i in pikepdf.parse_content_stream(page)]
            assert operators[0] == ("q", [])
            (q, _), (bdc, tag), (do, name), (emc, _) = operators[-4:]
            assert (q, bdc, do, emc) == ("Q", "BDC", "Do", "EMC")
            assert tag[0] == "/Artifact" and name == ["/Folio"]


def test_tagged_folios_bring_no_marked_content(work, joined, pieces):
    """A folio PDF written as tagged PDF: its marked content would belong to no
    structure element of the book; it is left out of the folio artifact."""
    count = len(pypdf.PdfReader(joined[0]).pages)
    pages = "<p>x</p>" + "<p style='break-before: page'>x</p>" * (count - 1)
    tagged = write_pdf(
        work / "folios-tagged.pdf", pages,
        page="@bottom-center { content: counter(page); font-family: Vollkorn }")
    out = work / "joined-tagged-folios.pdf"
    join(pieces, out, folios=tagged, fonts_dir=FONTS)
    with pikepdf.open(out) as pdf:
        for page in pdf.pages:
            form = page.Resources.XObject.Folio
            marked = [i.operands for i in pikepdf.parse_content_stream(form)
                      if str(i.operator) == "BDC"]
            assert not any("/MCID" in operands[1] for operands in marked
                           if isinstance(operands[1], pikepdf.Dictionary))
    with pdfplumber.open(out) as pdf:
        assert "x" in pdf.pages[0].extract_text()


def test_folios_must_not_outnumber_the_pages(work, segments, folios):
    with pytest.raises(ValueError, match="folio"):
        join([segments["one"], segments["two"]], work / "mismatch.pdf", folios=folios)


# 7. Fonts


def font_programs(path: Path) -> dict[str, list[bytes]]:
    """PostScript name -> the embedded programs of that font."""
    programs = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                data = obj.FontFile2.read_bytes()
                name = TTFont(io.BytesIO(data))["name"].getDebugName(6)
                programs.setdefault(name, []).append(data)
    return programs


def test_one_font_program_per_face(joined, joined_with_folios, pieces):
    before = {}
    for piece in pieces:
        if piece is not None:
            for name, programs in font_programs(piece).items():
                before[name] = before.get(name, 0) + len(programs)
    assert before["Vollkorn-Regular"] == 3 and before["Vollkorn-Bold"] == 3
    for out, report in (joined, joined_with_folios):
        after = font_programs(out)
        assert sorted(after) == sorted(before)
        assert all(len(programs) == 1 for programs in after.values())
        assert report["fonts"]["after"] == len(after) < report["fonts"]["before"]
        assert report["fonts"]["not_found"] == []


def test_pages_render_exactly_as_their_segments(joined, pieces):
    document = pypdfium2.PdfDocument(joined[0])
    opened = {}
    for index, source in enumerate(source_pages(pieces)):
        if source is None:
            continue
        if source[0] not in opened:
            opened[source[0]] = pypdfium2.PdfDocument(source[0])
        rendered = document[index].render(scale=2)
        expected = opened[source[0]][source[1]].render(scale=2)
        assert (rendered.width, rendered.height) == (expected.width, expected.height)
        assert bytes(rendered.buffer) == bytes(expected.buffer), f"page {index + 1}"


def font_maps(path: Path) -> dict[str, tuple]:
    """PostScript name -> (widths array, ToUnicode mappings) of each embedded font."""
    maps = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0":
                descendant = obj.DescendantFonts[0]
                data = descendant.FontDescriptor.FontFile2.read_bytes()
                name = TTFont(io.BytesIO(data))["name"].getDebugName(6)
                maps[name] = (descendant.W.unparse(),
                              read_to_unicode(obj.ToUnicode.read_bytes()))
    return maps


def test_fonts_are_those_of_one_document(work, joined):
    """WeasyPrint laying out the three segments as one document embeds the same font
    programs, widths and text."""
    whole = "".join(
        f"<section style='break-before: page'>{re.sub('matbaa-dest:', '#', body)}</section>"
        for body in BODIES.values())
    one = write_pdf(work / "one-document.pdf", whole)
    assert font_programs(joined[0]) == font_programs(one)
    assert font_maps(joined[0]) == font_maps(one)


def test_characters_missing_from_the_fonts(work):
    """WeasyPrint gives a character missing from a font the next free glyph id of its
    document: the same id may stand for two characters in two segments. Such fonts
    cannot be one; the others are still merged."""
    paths = [write_pdf(work / f"missing-{n}.pdf", f"<p>Söz {char} söz</p>")
             for n, char in enumerate(("\ue000", "\ue001", "\ue000"))]
    with pikepdf.open(paths[0]) as first:
        fonts = list(first.pages[0].Resources.Font.values())
        if not any(isinstance(font.get("/Encoding"), pikepdf.Stream) for font in fonts):
            pytest.skip("a font of this machine has U+E000")
    out = work / "missing-joined.pdf"
    report = join(paths, out, fonts_dir=FONTS)
    assert report["fonts"]["after"] == 2 and report["fonts"]["merged"] == ["Vollkorn-Regular"]
    with pikepdf.open(out) as pdf:
        used = [list(page.Resources.Font.values())[0] for page in pdf.pages]
        texts = [set(read_to_unicode(font.ToUnicode.read_bytes()).values()) for font in used]
        assert "\ue000" in texts[0] and "\ue001" in texts[1] and "\ue000" in texts[2]
        assert used[0].objgen == used[2].objgen != used[1].objgen
    document = pypdfium2.PdfDocument(out)
    for index, path in enumerate(paths):
        assert (bytes(document[index].render(scale=2).buffer)
                == bytes(pypdfium2.PdfDocument(path)[0].render(scale=2).buffer))


# 8. Reproducible


def test_joining_twice_gives_the_same_bytes(work, pieces, folios):
    first, second = work / "again-1.pdf", work / "again-2.pdf"
    join(pieces, first, folios=folios, fonts_dir=FONTS)
    join(pieces, second, folios=folios, fonts_dir=FONTS)
    assert first.read_bytes() == second.read_bytes()
    assert not list(work.glob(".*.tmp"))   # the temporary files are gone
