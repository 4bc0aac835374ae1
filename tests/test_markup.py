"""Pandoc's block and inline constructs (markdown.py, mdext/, render/tokens.py),
tested through both editions of a small book that uses every one of them:
the EPUB's XHTML and OPF (lxml) and EPUBCheck, the PDF's text, fonts and
images (pdfplumber, pikepdf) and a rendered page (pypdfium2)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pikepdf
import pdfplumber
import pypdfium2
import pytest
from lxml import etree

from matbaa.build import build_epub, build_pdf, load
from matbaa.diagnostics import ManuscriptError
from matbaa.read.markdown import make_parser

from conftest import STYLES, run_epubcheck, write_manuscript

X = {"x": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
NBSP = "\u00a0"

BOOK = """\
id: markup-book
identifier: urn:uuid:00000000-0000-4000-8000-00000000abcd
title: Every Construct
author:
  - name: Ada Author
    role: aut
lang: en
publisher: matbaa
date: "2026-01-01"
rights: CC BY 4.0
contents:
  - part: Markup
    chapters:
      - chapters/01-markup.md
"""

LONG_CODE = "result = compute_the_total(" + ", ".join(f"argument_number_{n}" for n in range(1, 9)) + ")"

CHAPTER = f"""\
# Constructs

::: epigraph
Whoever fights monsters should see to it that in the process he does not become a monster.

— Friedrich Nietzsche
:::

::: dedication
For Zəminə, who read every draft.
:::

The lists come first.

a) alpha item
b) beta item
   (i) nested roman one
   (ii) nested roman two
c) gamma item

3. third numbered
4. fourth numbered

(iv) fourth roman
(v) fifth roman

A.  Upper first
B.  Upper second

B. Russell is a name, not a list.

- bullet one
  1) nested decimal
  2) nested decimal again
- bullet two

Table: Harbour dues by vessel {{#tbl:dues}}

| Vessel  | Tonnes |    Dues |
|:--------|-------:|--------:|
| Caspian |    120 |  1450.50 |
| Neftçi  |     85 |   980.00 |

![The harbour at dawn, from the old lighthouse.](images/harbour.png){{#fig:harbour}}

A small mark ![green square](images/mark.png) stands in the text (see [the harbour](#fig:harbour)
and [the dues](#tbl:dues)).

> A block quotation of a letter, with its words kept apart from the running text
> by its margins.

| The limerick packs laughs anatomical
|     Into space that is quite economical.
|
| 200 Main Street

Run the command `matbaa build pdf` before printing.

```python
def total(values):
    return sum(values)  # ümumi cəm
{LONG_CODE}
```

    indented_code_block = True

The end of the chapter.
"""


def make_manuscript(root: Path) -> Path:
    # the harbour far wider than the measure (1600 px is 423 mm at 96 dpi): it must be scaled to it
    return write_manuscript(root, BOOK, {"01-markup.md": CHAPTER},
                            images={"images/harbour.png": ((1600, 800), (200, 30, 30)),
                                    "images/mark.png": ((30, 30), (20, 160, 20))})


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = make_manuscript(tmp_path_factory.mktemp("markup") / "ms")
    out = root.parent / "build"
    pdf, _ = build_pdf(root, out, STYLES)
    epub, _ = build_epub(root, out, STYLES)
    return root, pdf, epub


def _xml(data: bytes):
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


@pytest.fixture(scope="module")
def xhtml(made):
    with zipfile.ZipFile(made[2]) as z:
        return _xml(z.read("EPUB/part-1.xhtml"))


@pytest.fixture(scope="module")
def opf(made):
    with zipfile.ZipFile(made[2]) as z:
        return _xml(z.read("EPUB/content.opf")), set(z.namelist())


@pytest.fixture(scope="module")
def pages(made):
    with pdfplumber.open(made[1]) as pdf:
        yield [(p, p.extract_text() or "") for p in pdf.pages]


def _text(el) -> str:
    return "".join(el.itertext())


# ---------------------------------------------------------------- the parser


@pytest.mark.parametrize("source, style, delim, start", [
    ("1. a\n2. b\n", "decimal", "period", None),
    ("1) a\n2) b\n", "decimal", "paren", None),
    ("(1) a\n(2) b\n", "decimal", "parens", None),
    ("a) a\nb) b\n", "lower-alpha", "paren", None),
    ("(a) a\n(b) b\n", "lower-alpha", "parens", None),
    ("A.  a\nB.  b\n", "upper-alpha", "period", None),
    ("c. a\nd. b\n", "lower-alpha", "period", 3),
    ("i. a\nii. b\n", "lower-roman", "period", None),
    ("(iv) a\n(v) b\n", "lower-roman", "parens", 4),
    ("IX) a\nX) b\n", "upper-roman", "paren", 9),
    ("7. a\n#. b\n", "decimal", "period", 7),
])
def test_fancy_list_styles_and_starts(source, style, delim, start):
    tokens = make_parser().parse(source)
    lists = [t for t in tokens if t.type == "ordered_list_open"]
    assert len(lists) == 1, [t.type for t in tokens]
    assert (lists[0].meta["style"], lists[0].meta["delim"], lists[0].attrs.get("start")) == (style, delim, start)
    assert sum(t.type == "list_item_open" for t in tokens) == 2


@pytest.mark.parametrize("source", [
    "B. Russell wrote it.\n",          # an upper-case letter and a period need two spaces
    "Text\na) not a list after a paragraph line\n",
    "e.g. an abbreviation\n",
    "(x)ray\n",
])
def test_not_lists(source):
    assert not any(t.type.endswith("list_open") for t in make_parser().parse(source))


def test_style_change_begins_a_new_list_and_alpha_continues_past_i():
    tokens = make_parser().parse("h) eight\ni) nine\n\n1. one\n")
    lists = [t for t in tokens if t.type == "ordered_list_open"]
    assert [(t.meta["style"], t.attrs.get("start")) for t in lists] == [("lower-alpha", 8), ("decimal", None)]
    assert sum(t.type == "list_item_open" for t in tokens) == 3


# ---------------------------------------------------------------- the EPUB


def test_epub_lists(xhtml):
    ols = {(ol.get("type"), ol.get("start"), ol.get("class")): ol for ol in xhtml.iterfind(".//x:ol", X)}
    assert set(ols) >= {("a", None, "lower-alpha-paren"), ("i", None, "lower-roman-parens"),
                        (None, "3", None), ("i", "4", "lower-roman-parens"), ("A", None, "upper-alpha-period"),
                        (None, None, "decimal-paren")}
    # nested: the roman list inside the alpha list's second item, the decimal one in a bullet
    nested = ols[("i", None, "lower-roman-parens")]
    assert nested.getparent().tag == f"{{{X['x']}}}li" and "beta item" in _text(nested.getparent())
    assert ols[(None, None, "decimal-paren")].getparent().getparent().tag == f"{{{X['x']}}}ul"
    # tight lists: the item's text stands in the <li>, no <p> (and never half a one)
    assert not xhtml.findall(".//x:li/x:p", X)
    assert "B. Russell is a name" in " ".join(_text(p) for p in xhtml.iterfind(".//x:p", X)).replace(NBSP, " ")


def test_epub_table_with_caption_and_alignment(xhtml):
    table = xhtml.find(".//x:table", X)
    assert table[0].tag == f"{{{X['x']}}}caption" and _text(table[0]) == "Harbour dues by vessel"
    heads = [th.get("class") for th in table.iterfind(".//x:th", X)]
    assert heads == ["align-left", "align-right", "align-right"]
    assert [_text(td) for td in table.iterfind(".//x:tbody/x:tr[1]/x:td", X)] == ["Caspian", "120", "1450.50"]
    assert "Table:" not in _text(xhtml)


def test_epub_figure_and_inline_image(xhtml, opf):
    package, names = opf
    figure = xhtml.find(".//x:figure", X)
    assert figure.get("id") == "fig-harbour"
    img, caption = figure.find("x:img", X), figure.find("x:figcaption", X)
    assert _text(caption) == "The harbour at dawn, from the old lighthouse."
    assert img.get("alt") == _text(caption)
    inline = xhtml.find(".//x:p/x:img", X)
    assert inline.get("alt") == "green square"
    items = {i.get("href"): i.get("media-type") for i in package.iterfind(".//opf:manifest/opf:item", X)}
    for src in (img.get("src"), inline.get("src")):
        assert items.get(src) == "image/png", src
        assert f"EPUB/{src}" in names


def test_cross_references_to_a_figure_and_a_table(xhtml, pages):
    """`#fig:x` (Pandoc-crossref's form) reaches the figure whose id is `fig-x`."""
    links = {_text(a): a.get("href") for a in xhtml.iterfind(".//x:a", X)}
    assert links["the harbour"] == "part-1.xhtml#fig-harbour" and links["the dues"] == "part-1.xhtml#tbl-dues"
    assert xhtml.find(".//x:table[@id='tbl-dues']", X) is not None
    figure_page = _page_with(pages, "The harbour at dawn").page_number
    table_page = _page_with(pages, "Harbour dues by vessel").page_number
    text = _page_with(pages, "see the harbour").extract_text().replace("\n", " ")
    assert f"the harbour (p.\u00a0{figure_page})" in text or f"the harbour (p. {figure_page})" in text
    assert f"(p.\u00a0{table_page})" in text or f"(p. {table_page})" in text


def test_epub_quote_divs_and_line_block(xhtml):
    assert "kept apart from the running text" in _text(xhtml.find(".//x:blockquote", X))
    epigraph = xhtml.find(".//x:div[@class='epigraph']", X)
    assert epigraph.get(EPUB_TYPE) == "epigraph" and epigraph.get("role") == "doc-epigraph"
    assert _text(epigraph.find("x:p[@class='attribution']", X)) == "— Friedrich Nietzsche"
    dedication = xhtml.find(".//x:div[@class='dedication']", X)
    assert dedication.get(EPUB_TYPE) == "dedication" and "Zəminə" in _text(dedication)
    lines = [_text(d) for d in xhtml.iterfind(".//x:div[@class='line-block']/x:div[@class='line']", X)]
    # the leading spaces as no-break spaces; inside a line, typography's own (200 Main) read as spaces
    lines = [line[:len(line) - len(line.lstrip(NBSP))] + line.lstrip(NBSP).replace(NBSP, " ") for line in lines]
    assert lines == ["The limerick packs laughs anatomical", NBSP * 4 + "Into space that is quite economical.",
                     "", "200 Main Street"]


def test_epub_code_in_the_shipped_mono_face(xhtml, opf, made):
    package, names = opf
    pres = [_text(p) for p in xhtml.iterfind(".//x:pre/x:code", X)]
    assert pres[0].startswith("def total(values):\n    return sum(values)") and LONG_CODE in pres[0]
    assert pres[1] == "indented_code_block = True\n"
    assert xhtml.find(".//x:pre/x:code", X).get("class") == "language-python"
    assert _text(xhtml.find(".//x:p/x:code", X)) == "matbaa build pdf"
    fonts = {i.get("href") for i in package.iterfind(".//opf:manifest/opf:item[@media-type='font/ttf']", X)}
    assert {"fonts/DejaVuSansMono.ttf", "fonts/DejaVuSansMono-Bold.ttf"} <= fonts
    with zipfile.ZipFile(made[2]) as z:
        css = z.read("EPUB/css/epub.css").decode()
        licence = _text(_xml(z.read("EPUB/licence.xhtml")))
    assert re.search(r"code, pre \{ font-family: \"DejaVu Sans Mono\"", css)
    assert "url(../fonts/DejaVuSansMono.ttf)" in css
    assert "Bitstream" in licence        # the mono face's licence travels with it


def test_list_numbering_written_once():
    """Pandoc's list styles are one stylesheet, lists.css: no other CSS file of
    the repository defines a counter style or numbers an <ol> class."""
    repo = STYLES.parent
    rule = re.compile(r"@counter-style\s|^\s*ol\.[\w-]+\s*\{", re.M)
    holders = sorted(str(f.relative_to(repo)) for f in repo.rglob("*.css")
                     if not {".venv", "build", "node_modules"} & set(f.relative_to(repo).parts)
                     and rule.search(f.read_text(encoding="utf-8")))
    assert holders == ["styles/css/lists.css"]
    css = (STYLES / "css" / "lists.css").read_text(encoding="utf-8")
    for name in re.findall(r"@counter-style ([\w-]+)", css):
        assert css.count(f"@counter-style {name} ") == 1 and f"list-style-type: {name};" in css
    print_css = (STYLES / "css" / "print.css").read_text(encoding="utf-8")
    assert '@import url("lists.css");' in print_css


def test_epub_packs_and_links_the_list_stylesheet(made, opf):
    package, names = opf
    items = {i.get("href"): i.get("media-type") for i in package.iterfind(".//opf:manifest/opf:item", X)}
    assert items.get("css/lists.css") == "text/css" and "EPUB/css/lists.css" in names
    with zipfile.ZipFile(made[2]) as z:
        assert z.read("EPUB/css/lists.css") == (STYLES / "css" / "lists.css").read_bytes()
        for name in sorted(n for n in names if n.endswith(".xhtml") and n != "EPUB/nav.xhtml"):
            links = [link.get("href") for link in _xml(z.read(name)).iterfind(".//x:head/x:link", X)]
            assert links == ["css/epub.css", "css/lists.css"], name


def test_epub_list_markers(made, tmp_path):
    """The EPUB's chapter, opened from the EPUB itself with only the stylesheets
    it links, in a reading engine (headless Chromium, printed to PDF), numbers its
    lists as the print edition does.  (Not WeasyPrint: it ignores <ol start>.)"""
    import shutil
    import subprocess

    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: make chromium"
    with zipfile.ZipFile(made[2]) as z:
        z.extractall(tmp_path / "epub")
    out = tmp_path / "part-1.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
                    "--no-pdf-header-footer", f"--print-to-pdf={out}",
                    (tmp_path / "epub" / "EPUB" / "part-1.xhtml").as_uri()],
                   check=True, capture_output=True, timeout=120)
    with pdfplumber.open(out) as pdf:
        _assert_markers("\n".join(p.extract_text() or "" for p in pdf.pages))


def test_list_stylesheet_keys_the_print_layout_cache(made, tmp_path):
    """typeset/parallel.py lays parts out from a cache keyed by the styles: lists.css is in the key."""
    import shutil

    from matbaa.typeset.engine import layout_key

    book = load(made[0], STYLES)[0]
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    before = layout_key(book.meta, styles)
    lists = styles / "css" / "lists.css"
    lists.write_text(lists.read_text(encoding="utf-8").replace('suffix: ") "', 'suffix: "] "'), encoding="utf-8")
    assert layout_key(book.meta, styles) != before


def test_epubcheck_clean(made, tmp_path):
    report = run_epubcheck(made[2], tmp_path / "markup-ec.json")
    bad = [m for m in report["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert bad == []


# ---------------------------------------------------------------- the PDF


def _page_with(pages, text: str):
    found = [p for p, t in pages if text in t]
    assert found, f"{text!r} is on no page"
    return found[0]


def _folio_centre(page) -> float:
    folio = max((w for w in page.extract_words() if w["text"].isdigit()), key=lambda w: w["top"])
    return (folio["x0"] + folio["x1"]) / 2


def _measure(page, pages) -> tuple[float, float]:
    """The left and right edges of the text block on `page`: centred on its folio,
    as wide as the block where the paragraph "The lists come first." begins."""
    ref = _page_with(pages, "The lists come first.")
    half = _folio_centre(ref) - next(w["x0"] for w in ref.extract_words() if w["text"] == "The")
    centre = _folio_centre(page)
    return centre - half, centre + half


def _mono(fontname: str) -> bool:
    return "DejaVuSansMono" in re.sub(r"[- ]", "", fontname)


# each list's first items as the reader sees them, numbered by the CSS (styles/css/lists.css)
LIST_MARKERS = [("a)", "alpha item"), ("c)", "gamma item"), ("(i)", "nested roman one"),
                ("(ii)", "nested roman two"), ("3.", "third numbered"), ("4.", "fourth numbered"),
                ("(iv)", "fourth roman"), ("(v)", "fifth roman"), ("A.", "Upper first"),
                ("1)", "nested decimal")]


def _assert_markers(text: str) -> None:
    for marker, item in LIST_MARKERS:
        assert re.search(rf"^{re.escape(marker)} {item}", text, re.M), marker


def test_pdf_list_markers(pages):
    _assert_markers("\n".join(t for _p, t in pages))
    # the nested list stands to the right of its parent's text
    page = _page_with(pages, "nested roman one")
    x = {w["text"]: w["x0"] for w in page.extract_words()}
    assert x["nested"] > x["beta"]


def test_pdf_table(pages):
    page = _page_with(pages, "Harbour dues by vessel")
    words = page.extract_words()
    at = {w["text"]: w for w in words}
    caption_top = at["Harbour"]["top"]
    assert caption_top < at["Vessel"]["top"] < at["Caspian"]["top"]
    # right-aligned numbers: the ends of 1450.50 and 980.00 line up
    assert abs(at["1450.50"]["x1"] - at["980.00"]["x1"]) < 0.5
    assert abs(at["Caspian"]["x0"] - at["Neftçi"]["x0"]) < 0.5
    # horizontal rules only: no vertical line in the table
    edges = [ln for ln in page.lines if ln["top"] > caption_top]
    assert len(edges) >= 3 and all(abs(ln["x1"] - ln["x0"]) > 5 for ln in edges)


def test_pdf_figure_sized_to_the_measure(made, pages):
    page = _page_with(pages, "The harbour at dawn")
    image = max(page.images, key=lambda i: i["width"])
    left, right = _measure(page, pages)
    assert image["x0"] >= left - 1 and image["x1"] <= right + 1           # within the measure
    assert image["width"] > 0.9 * (right - left)                          # and scaled to it
    caption = next(w for w in page.extract_words() if w["text"] == "harbour")
    assert caption["top"] > image["bottom"]                               # the caption below
    # the picture is drawn: its red fills the middle of its box on the rendered page
    pdf = pypdfium2.PdfDocument(made[1])
    index = next(i for i, (p, _t) in enumerate(pages) if p.page_number == page.page_number)
    bitmap = pdf[index].render(scale=2).to_pil().convert("RGB")
    cx, cy = (image["x0"] + image["x1"]), (image["top"] + image["bottom"])   # scale 2: doubled centre
    r, g, b = bitmap.getpixel((int(cx), int(cy)))
    assert r > 150 and g < 80 and b < 80, (r, g, b)
    # the inline image stays in its line, at most a little taller than the text
    mark = min(_page_with(pages, "small mark").images, key=lambda i: i["width"])
    assert mark["height"] < 14


def test_pdf_code_in_the_mono_face_unhyphenated_and_wrapped(made, pages):
    page = _page_with(pages, "def total")
    mono = [c for c in page.chars if _mono(c["fontname"])]
    mono_text = "".join(c["text"] for c in mono)
    for piece in ("deftotal(values):", "ümumicəm", "matbaabuildpdf", "indented_code_block"):
        assert piece in mono_text.replace(" ", ""), piece
    # the long line wraps inside the measure (pre-wrap), unhyphenated
    long_chars = [c for c in mono if c["text"] in "abcdefghijklmnopqrstuvwxyz_(),=0123456789"]
    left, right = _measure(page, pages)
    assert max(c["x1"] for c in long_chars) <= right + 1
    tops = {round(c["top"]) for c in mono if c["text"] == "_"}
    assert len(tops) >= 3                     # the long line took more than one line
    assert "\u2010" not in mono_text and "\u00ad" not in mono_text
    with pikepdf.open(made[1]) as pdf:
        faces = set()
        for p in pdf.pages:
            for _n, font in (p.Resources.get("/Font") or {}).items():
                desc = font.DescendantFonts[0].FontDescriptor if str(font.Subtype) == "/Type0" else font.FontDescriptor
                if _mono(str(font.BaseFont)):
                    assert desc.get("/FontFile2") is not None or desc.get("/FontFile3") is not None
                faces.add(re.sub(r"^/[A-Z]{6}\+", "", str(font.BaseFont)))
    assert any(_mono(f) for f in faces)
    assert all("Vollkorn" in f or _mono(f) for f in faces), faces


def test_pdf_epigraph_dedication_line_block(pages):
    page = _page_with(pages, "Nietzsche")
    words = page.extract_words()
    at = {w["text"]: w for w in words}
    left, right = _measure(page, pages)
    assert at["Whoever"]["x0"] > left + 0.3 * (right - left)               # narrower, to the right
    assert abs(at["Nietzsche"]["x1"] - right) < 2                          # attribution ends at the margin
    ded = [w for w in words if w["top"] == at["Zəminə,"]["top"]]
    centre = (min(w["x0"] for w in ded) + max(w["x1"] for w in ded)) / 2
    assert abs(centre - (left + right) / 2) < 3                            # centred
    # the line block: each line a line, the leading spaces kept (measured from the page's own margin,
    # as the two lines may fall on facing pages)
    first, second = _page_with(pages, "The limerick"), _page_with(pages, "Into space")
    words1 = first.extract_words()
    limerick = next(w for w in words1 if w["text"] == "limerick")
    the = next(w for w in words1 if w["text"] == "The" and abs(w["top"] - limerick["top"]) < 1)
    into = next(w for w in second.extract_words() if w["text"] == "Into")
    assert into["x0"] - _measure(second, pages)[0] > the["x0"] - _measure(first, pages)[0] + 5   # 4 spaces in
    economical = next(w for w in second.extract_words() if w["text"] == "economical.")
    assert abs(into["top"] - economical["top"]) < 1          # one line, kept whole
    street = [w for w in second.extract_words() if w["text"] == "Street"]
    if street:                                               # the empty line between, on the same page
        line = into["bottom"] - into["top"]
        assert street[0]["top"] - into["top"] > 2.5 * line


# ---------------------------------------------------------------- bad input


@pytest.fixture
def ms(tmp_path) -> Path:
    return make_manuscript(tmp_path / "ms")


def _report(root: Path):
    with pytest.raises(ManuscriptError) as exc:
        load(root, STYLES)
    return [(d.code, d.location.file.name, d.location.line) for d in exc.value.report.items]


def _edit(root: Path, old: str, new: str) -> int:
    p = root / "chapters" / "01-markup.md"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def test_image_problems_located(ms):
    fig = _edit(ms, "![The harbour at dawn, from the old lighthouse.](images/harbour.png)", "![](images/harbour.png)")
    inline = _edit(ms, "![green square](images/mark.png)", "![green square](images/nowhere.png)")
    (ms / "chapters" / "notes.txt").write_text("not an image")
    bad_type = _edit(ms, "The end of the chapter.", "![a text file](notes.txt)\n\nThe end.")
    outside = _edit(ms, "The end.", "![a secret](../../secret.png)")
    got = _report(ms)
    assert ("D008", "01-markup.md", fig) in got
    assert ("D004", "01-markup.md", inline) in got
    assert ("D004", "01-markup.md", bad_type) in got
    assert ("D002", "01-markup.md", outside) in got


def test_reserved_div_class_is_left_out_with_a_warning(ms):
    line = _edit(ms, "::: dedication", "::: {.dedication .footnote #for-her}")
    book, report = load(ms, STYLES)
    assert [(d.code, d.location.line) for d in report.items] == [("D009", line)]
    opened = next(t for t in book.chapters[0].tokens if t.type == "div_open" and "dedication" in t.attrs["class"])
    assert opened.attrs == {"class": "dedication", "id": "for-her"}


def test_raw_html_stays_off():
    html = make_parser().render("::: {.note}\n<script>alert(1)</script>\n:::\n\n| <b>x</b>\n")
    assert "<script>" not in html and "<b>" not in html


def test_sample_shows_every_construct(tmp_path):
    """`matbaa new` writes a manuscript that uses each of them (docs/manuscript.md)."""
    from matbaa.sample import create

    create(tmp_path / "new")
    book, report = load(tmp_path / "new", STYLES)
    types = {t.type for c in book.chapters for t in c.tokens}
    assert {"ordered_list_open", "bullet_list_open", "table_open", "caption_open", "figure_open",
            "blockquote_open", "div_open", "line_block_open", "fence"} <= types
    children = {k.type for c in book.chapters for t in c.tokens if t.type == "inline" for k in t.children or []}
    assert {"code_inline", "image"} <= children
    styles = {t.meta.get("style") for c in book.chapters for t in c.tokens if t.type == "ordered_list_open"}
    assert {"lower-alpha", "lower-roman"} <= styles
