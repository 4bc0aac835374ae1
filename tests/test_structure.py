"""The structures real books use (issue 11): a manuscript with every construct.

Front matter (dedication, foreword, preface), a chapter outside any part, parts,
back matter (afterword, about the author); sub-headings with Pandoc's {#id} and
made ids; links to another chapter's .md, to #id in another chapter, to
#glossary; cross-references that print their page; a tight list, a code block,
code spans, an image, a glossary mark in a sub-heading.  Built as the PDF build
does (parts in parallel) and as one document (--whole), and as an EPUB; checked
through their structure.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree

from matbaa.build import build_epub, build_pdf, load
from matbaa.diagnostics import ManuscriptError
from matbaa.sample import HERE as SAMPLE

from conftest import run_epubcheck, write_manuscript

ROOT = Path(__file__).resolve().parent.parent
STYLES = ROOT / "styles"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "ncx": "http://www.daisy.org/z3986/2005/ncx/"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

BOOK_YAML = """\
id: every-construct
identifier: urn:uuid:00000000-0000-4000-8000-000000000011
title: Every Construct
author: [Ada Author]
lang: en
date: "2026-01-01"
toc-depth: 2
glossary: {file: glossary.yaml, languages: [en, az]}
contents:
  - {dedication: chapters/00-dedication.md}
  - {foreword: chapters/00-foreword.md}
  - {preface: chapters/00-preface.md}
  - {chapter: chapters/01-alone.md}
  - part: The First Part
    chapters: [chapters/02-first.md, chapters/03-second.md]
  - part: The Second Part
    chapters: [chapters/04-third.md]
  - {afterword: chapters/98-afterword.md}
  - {about-author: chapters/99-about.md, title: About the Author}
"""

CHAPTERS = {
    "00-dedication.md": "For those who keep books.\n",
    "00-foreword.md": "# Foreword\n\nA foreword by a friend, who read [the preface](00-preface.md).\n",
    "00-preface.md": "# Preface\n\nWhy this book: see [the method](#method) and [the glossary](#glossary).\n",
    "01-alone.md": "# A Chapter Alone {#alone}\n\nIt stands outside any part.[^alone]\n\n"
                   "## Its Own Section\n\nText of the section.\n\n"
                   "[^alone]: A note in a chapter outside the parts.\n",
    "02-first.md": "# Beginnings\n\nThe first chapter, with a [diaspora]{.term} and `a code span`.\n\n"
                   "## The Method {#method}\n\nSteps, tight:\n\n- one step\n- two steps\n\n"
                   "```\ncode(block) - 1\n```\n\n"
                   "### A Detail\n\nSee [the results](03-second.md#results) and [later](04-third.md).\n\n"
                   "## A [diaspora]{.term} in a heading\n\nThe mark in the heading links to the glossary.\n",
    "03-second.md": "# Second Chapter\n\n## Results\n\nBack to [the beginnings](#beginnings); "
                    "an image ![a grey square](square.png) too.\n\n## Results\n\nA second heading of that name.\n",
    "04-third.md": "# Third Chapter\n\n" + "A long paragraph that fills the page. " * 60 + "\n\n"
                   "## Far Away {#far}\n\nFound from the afterword.\n",
    "98-afterword.md": "# Afterword\n\nLooking back at [the far section](#far) and [the first](02-first.md).\n",
    "99-about.md": "Ada Author writes sample books.\n",
}


def make_manuscript(root: Path, image: bool = True) -> Path:
    chapters = {name: text if image else text.replace(" an image ![a grey square](square.png) too", "")
                for name, text in CHAPTERS.items()}
    return write_manuscript(root, BOOK_YAML, chapters, glossary=(SAMPLE / "glossary.yaml").read_text(encoding="utf-8"),
                            images={"square.png": ((16, 16), (0x60, 0x60, 0x60))})


@pytest.fixture(scope="module")
def every(tmp_path_factory):
    base = tmp_path_factory.mktemp("every")
    ms = make_manuscript(base / "ms")
    pdf, _ = build_pdf(ms, base / "build", STYLES, jobs=2)
    whole, _ = build_pdf(ms, base / "whole", STYLES, whole=True)
    # the EPUB of the book without its image (images in the EPUB are the figures' work)
    ms2 = make_manuscript(base / "ms2", image=False)
    build_pdf(ms2, base / "build2", STYLES, jobs=2)
    epub, _ = build_epub(ms2, base / "build2", STYLES)
    book, _ = load(ms, STYLES)
    return {"pdf": pdf, "whole": whole, "epub": epub, "book": book, "base": base}


def _pages_text(pdf: Path) -> list[str]:
    with pdfplumber.open(pdf) as p:
        return [(page.extract_text() or "") for page in p.pages]


def _page_of(texts: list[str], needle: str, after: int = 0) -> int:
    return next(i + 1 for i, t in enumerate(texts) if i + 1 > after and needle in t)


# -------------------------------------------------------------------- ids and links

def test_ids_follow_pandoc(every):
    book = every["book"]
    ids = {h.text: h.id for ch in book.chapters for h in ch.headings}
    assert ids["The Method"] == "method"                # written {#method}
    assert ids["A Detail"] == "a-detail"                # made from the text
    assert ids["A diaspora in a heading"] == "a-diaspora-in-a-heading"
    results = [h.id for ch in book.chapters for h in ch.headings if h.text == "Results"]
    assert results == ["results", "results-1"]          # unique, as Pandoc makes them
    alone = next(p for p in book.parts if p.kind == "chapter")
    assert alone.title == "A Chapter Alone" and alone.title_id == "alone"


def test_every_construct_builds_without_a_traceback(every):
    assert every["pdf"].stat().st_size > 0 and every["epub"].stat().st_size > 0


def test_a_heading_with_a_mark_links_to_the_glossary(every):
    html = (every["base"] / "build" / "every-construct.html").read_text(encoding="utf-8")
    m = re.search(r'<h3 id="a-diaspora-in-a-heading">(.*?)</h3>', html)
    assert m and 'class="term"' in m.group(1) and "{.term}" not in m.group(1)


# -------------------------------------------------------------------- print

def test_pieces_and_whole_document_print_the_same_pages(every):
    """The parallel layout gives the page numbers (contents, cross-references) that
    target-counter() gives the whole document."""
    a, b = _pages_text(every["whole"]), _pages_text(every["pdf"])
    assert a == b


def test_cross_references_print_their_targets_page(every):
    texts = _pages_text(every["pdf"])
    results = _page_of(texts, "Results", after=_page_of(texts, "Contents"))
    m = re.search(r"See the results \(p\.\s(\d+)\)", "\n".join(texts).replace("\u00a0", " "))
    assert m and int(m.group(1)) == results
    m = re.search(r"the far section \(p\.\s(\d+)\)", "\n".join(texts).replace("\u00a0", " "))
    far = _page_of(texts, "Far Away", after=_page_of(texts, "Contents"))
    assert m and int(m.group(1)) == far
    # the folio printed on that page is that number
    assert texts[far - 1].split()[-1] == str(far) or texts[far - 1].split()[0] == str(far)


def test_internal_links_are_links_within_the_pdf(every):
    with pikepdf.open(every["pdf"]) as pdf:
        names = {str(k) for k, _v in _name_tree(pdf.Root.Names.Dests)}
        dests = [str(a.Dest) for page in pdf.pages for a in page.obj.get("/Annots", ())
                 if a.get("/Subtype") == "/Link" and "/Dest" in a]
        uris = [str(a.A.URI) for page in pdf.pages for a in page.obj.get("/Annots", ()) if "/A" in a]
    assert {"method", "results", "far", "glossary", "beginnings", "ch-5-1"} <= set(dests) <= names
    assert not uris, uris


def _name_tree(node):
    if "/Names" in node:
        items = list(node.Names)
        yield from zip(items[::2], items[1::2])
    for kid in node.get("/Kids", ()):
        yield from _name_tree(kid)


def test_outline_nests_parts_chapters_and_sections(every):
    with pikepdf.open(every["pdf"]) as pdf:
        with pdf.open_outline() as outline:
            def tree(items):
                return [(i.title, tree(i.children)) for i in items if not i.title.startswith("Note")]
            top = tree(outline.root)
    titles = [t for t, _ in top]
    assert titles[:5] == ["Every Construct", "Dedication", "Foreword", "Preface", "A Chapter Alone"]
    assert titles[-3:] == ["Afterword", "About the Author", "Glossary"]
    first = dict(top)["The First Part"]
    beginnings = dict(first)["Beginnings"]
    assert [t for t, _ in beginnings] == ["The Method", "A diaspora in a heading"]
    assert [t for t, _ in dict(beginnings)["The Method"]] == ["A Detail"]
    assert [t for t, _ in dict(top)["A Chapter Alone"]] == ["Its Own Section"]


def test_contents_list_sections_to_toc_depth(every):
    texts = _pages_text(every["pdf"])
    toc = _page_of(texts, "Contents")
    contents = texts[toc - 1] + texts[toc]
    assert "The Method" in contents and "Its Own Section" in contents
    assert "A Detail" not in contents                   # ### is below toc-depth 2
    assert "Dedication" not in contents                 # a dedication is not listed
    lines = {re.sub(r"[ .]+\d+$", "", l).strip(): int(l.split()[-1]) for l in contents.splitlines()
             if re.search(r"\d+$", l)}
    assert lines["The Method"] == _page_of(texts, "The Method", after=toc + 1)


def test_front_matter_stands_as_a_typesetter_sets_it(every):
    texts = _pages_text(every["pdf"])
    dedication = _page_of(texts, "For those who keep books")
    toc = _page_of(texts, "Contents")
    foreword = _page_of(texts, "A foreword by a friend")
    assert dedication % 2 == 1 and dedication < toc < foreword       # its own recto, before the contents
    assert texts[dedication - 1].strip() == "For those who keep books."   # no folio, no running head
    assert foreword % 2 == 1 and _page_of(texts, "Why this book") % 2 == 1
    assert _page_of(texts, "Looking back") > _page_of(texts, "Found from the afterword")
    assert _page_of(texts, "Ada Author writes") < _page_of(texts, "Glossary", after=toc)


# -------------------------------------------------------------------- EPUB

@pytest.fixture(scope="module")
def epub_docs(every):
    with zipfile.ZipFile(every["epub"]) as z:
        return {n.split("/")[-1]: etree.fromstring(z.read(n), PARSER) for n in z.namelist()
                if n.endswith((".xhtml", ".opf", ".ncx"))}


def test_epub_passes_epubcheck(every):
    report = run_epubcheck(every["epub"], every["base"] / "epubcheck.json")
    problems = [m for m in report["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert not problems, problems


def test_epub_links_go_to_the_file_that_holds_the_id(epub_docs):
    checked = 0
    for name, doc in epub_docs.items():
        for a in doc.xpath("//x:a[@href]", namespaces=NS):
            href = a.get("href")
            if "#" not in href or href.startswith(("http", "#")):
                continue
            file, frag = href.split("#", 1)
            target = epub_docs[file or name]
            assert target.xpath("//*[@id=$i]", i=frag), href
            checked += 1
    assert checked > 10
    preface = epub_docs["part-3.xhtml"]
    hrefs = [a.get("href") for a in preface.xpath("//x:section//x:p//x:a", namespaces=NS)]
    assert hrefs == ["part-5.xhtml#method", "glossary.xhtml#glossary"]


def test_epub_divisions_have_their_semantics(epub_docs):
    want = {"part-1.xhtml": ("dedication", "doc-dedication", "frontmatter"),
            "part-2.xhtml": ("foreword", "doc-foreword", "frontmatter"),
            "part-3.xhtml": ("preface", "doc-preface", "frontmatter"),
            "part-4.xhtml": ("chapter", "doc-chapter", "bodymatter"),
            "part-5.xhtml": ("part", "doc-part", "bodymatter"),
            "part-7.xhtml": ("afterword", "doc-afterword", "backmatter")}
    for name, (kind, role, matter) in want.items():
        doc = epub_docs[name]
        section = doc.xpath("//x:body/x:section", namespaces=NS)[0]
        assert section.get("{http://www.idpf.org/2007/ops}type") == kind, name
        assert section.get("role") == role, name
        assert doc.xpath("//x:body", namespaces=NS)[0].get("{http://www.idpf.org/2007/ops}type") == matter
    about = epub_docs["part-8.xhtml"]
    assert about.xpath("//x:body", namespaces=NS)[0].get("{http://www.idpf.org/2007/ops}type") == "backmatter"
    assert about.xpath("//x:h1/text()", namespaces=NS) == ["About the Author"]
    # a tight list has no paragraphs in its items
    assert epub_docs["part-5.xhtml"].xpath("//x:li/x:p", namespaces=NS) == []
    assert len(epub_docs["part-5.xhtml"].xpath("//x:li", namespaces=NS)) == 2


def test_epub_nav_and_ncx_nest_the_headings(epub_docs):
    nav = epub_docs["nav.xhtml"]
    toc = nav.xpath("//x:nav[@epub:type='toc']/x:ol", namespaces=NS)[0]

    def tree(ol):
        return [(li.xpath("string(x:a)", namespaces=NS), tree(li.xpath("x:ol", namespaces=NS)[0])
                 if li.xpath("x:ol", namespaces=NS) else []) for li in ol.xpath("x:li", namespaces=NS)]
    top = tree(toc)
    first = dict(top)["The First Part"]
    assert [t for t, _ in dict(first)["Beginnings"]] == ["The Method", "A diaspora in a heading"]
    assert [t for t, _ in dict(top)["A Chapter Alone"]] == ["Its Own Section"]
    landmarks = {a.get("{http://www.idpf.org/2007/ops}type"): a.get("href")
                 for a in nav.xpath("//x:nav[@epub:type='landmarks']//x:a", namespaces=NS)}
    assert landmarks["dedication"] == "part-1.xhtml" and landmarks["preface"] == "part-3.xhtml"
    assert landmarks["bodymatter"] == "part-4.xhtml" and landmarks["afterword"] == "part-7.xhtml"
    ncx = epub_docs["toc.ncx"]
    part = ncx.xpath("//ncx:navPoint[ncx:navLabel/ncx:text='The First Part']", namespaces=NS)[0]
    chapter = part.xpath("ncx:navPoint[ncx:navLabel/ncx:text='Beginnings']", namespaces=NS)[0]
    assert chapter.xpath("ncx:navPoint/ncx:navLabel/ncx:text/text()", namespaces=NS) == [
        "The Method", "A diaspora in a heading"]


# -------------------------------------------------------------------- errors

def _codes(root: Path) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ManuscriptError) as exc:
        load(root, STYLES)
    return [(d.code, d.location.file.name, d.location.line) for d in exc.value.report.errors]


def test_unknown_link_targets_are_located_errors(tmp_path):
    ms = make_manuscript(tmp_path / "ms")
    p = ms / "chapters" / "03-second.md"
    p.write_text(p.read_text() + "\nTo [nowhere](#nowhere), [a file](missing.md), [an id](04-third.md#nope), [empty]().\n")
    got = _codes(ms)
    assert [c for c in got if c[0] == "D005"] == [("D005", "03-second.md", 11)] * 4


def test_duplicate_and_reserved_ids_are_located_errors(tmp_path):
    ms = make_manuscript(tmp_path / "ms")
    p = ms / "chapters" / "04-third.md"
    p.write_text(p.read_text() + "\n## Again {#method}\n\n## Reserved {#glossary}\n")
    got = _codes(ms)
    assert ("D006", "04-third.md", 9) in got and ("D006", "04-third.md", 11) in got


def test_a_mark_or_call_in_a_chapter_title_is_a_located_error(tmp_path):
    ms = make_manuscript(tmp_path / "ms")
    p = ms / "chapters" / "03-second.md"
    p.write_text(p.read_text().replace("# Second Chapter", "# Second [diaspora]{.term} Chapter"))
    assert ("D007", "03-second.md", 1) in _codes(ms)


def test_a_missing_image_is_a_located_error(tmp_path):
    ms = make_manuscript(tmp_path / "ms")
    (ms / "chapters" / "square.png").unlink()
    assert ("D004", "03-second.md", 5) in _codes(ms)


@pytest.mark.parametrize("contents, line, code", [
    ("  - {preface: chapters/00-preface.md}\n  - {chapter: chapters/01-alone.md}\n"
     "  - {foreword: chapters/00-foreword.md}\n", 12, "M004"),           # front matter after the body
    ("  - {chapter: chapters/01-alone.md, part: X}\n", 10, "M004"),      # two kinds
    ("  - {chapter: chapters/01-alone.md, titel: X}\n", 10, "M005"),     # a typo
    ("  - {afterword: chapters/98-afterword.md}\n", 10, "M004"),         # no body
    ("  - {chapter: [chapters/01-alone.md]}\n", 10, "M004"),             # not one file
])
def test_contents_schema_errors_are_located(tmp_path, contents, line, code):
    ms = make_manuscript(tmp_path / "ms")
    text = (ms / "book.yaml").read_text()
    (ms / "book.yaml").write_text(text[:text.index("contents:")] + "contents:\n" + contents)
    assert (code, "book.yaml", line) in _codes(ms)


# -------------------------------------------------------------------- every CommonMark construct

COMMONMARK = """\
Setext Title
============

A paragraph with *emphasis*, **strong**, ***both***, `code`, an entity &amp; &copy;, a backslash \\*escape\\*,
a hard break with spaces  
and with a backslash\\
and a [reference link][ref], a [link with a title](#method "The method").

[ref]: #far

---

    an indented code block - with a hyphen

```python
fenced(code) - 1
```

> A block quote with a list:
>
> 1. first
> 2. second
>
> ## A heading in a quote

3. an ordered list that starts at three
4. with a nested list:
   - nested *item*
   - another, with `code`

- a loose list

- of two items

Setext Sub-heading
------------------

##

## `code` only

Raw <b>inline</b> HTML prints as text.

<div>An HTML block prints as text.</div>

# A Second Level-One Heading
"""


def test_every_commonmark_construct_builds(tmp_path):
    """Valid Markdown never ends in a traceback: every CommonMark construct in one
    chapter builds in print (parts in parallel) and in an EPUB that EPUBCheck passes."""
    ms = make_manuscript(tmp_path / "ms", image=False)
    (ms / "chapters" / "04-third.md").write_text(
        (ms / "chapters" / "04-third.md").read_text() + "\n" + COMMONMARK.replace("Setext Title\n============\n", ""))
    pdf, report = build_pdf(ms, tmp_path / "build", STYLES, jobs=2)
    assert {d.code for d in report.items} <= {"D001", "G005"}
    epub, _ = build_epub(ms, tmp_path / "build", STYLES)
    messages = run_epubcheck(epub, tmp_path / "epubcheck.json")["messages"]
    assert not [m for m in messages if m["severity"] in ("FATAL", "ERROR", "WARNING")], messages
    texts = "\n".join(_pages_text(pdf))
    assert "reference link (p." in texts and "fenced(code) - 1" in texts
    with zipfile.ZipFile(epub) as z:
        doc = etree.fromstring(z.read("EPUB/part-6.xhtml"), PARSER)
    assert doc.xpath("//x:a[.='reference link']/@href", namespaces=NS) == ["part-6.xhtml#far"]
    ids = doc.xpath("//x:h3/@id | //x:h4/@id | //x:h2/@id", namespaces=NS)
    assert len(ids) == len(set(ids)) and {"section", "code-only", "setext-sub-heading"} <= set(ids)
    # a title setext-underlined is the chapter's title
    (ms / "chapters" / "03-second.md").write_text("Setext Title\n============\n\n## Results\n\nText.\n")
    book, _ = load(ms, STYLES)
    assert book.parts[4].chapters[1].title == "Setext Title"


def test_rebuilds_are_byte_identical(every, tmp_path):
    pdf, _ = build_pdf(make_manuscript(tmp_path / "ms"), tmp_path / "one", STYLES, jobs=1)
    assert pdf.read_bytes() == every["pdf"].read_bytes()


def test_a_moved_heading_moves_the_links_to_it_in_a_cached_epub(every, tmp_path):
    """The preface's document is cached by its own text; a link in it follows the
    heading it names to another chapter (the cache key holds the links' files)."""
    base = every["base"]
    ms, build = tmp_path / "ms", tmp_path / "build"
    shutil.copytree(base / "ms2", ms)
    shutil.copytree(base / "build2", build)
    build_epub(ms, build, STYLES)                 # the EPUB's cache, for this folder
    first = ms / "chapters" / "02-first.md"
    first.write_text(first.read_text().replace("## The Method {#method}", "## The Approach"))
    third = ms / "chapters" / "04-third.md"
    third.write_text(third.read_text() + "\n## The Method {#method}\n\nMoved here.\n")
    build_pdf(ms, build, STYLES, jobs=2)          # the page map fits: the EPUB takes from its cache
    epub, _ = build_epub(ms, build, STYLES)
    with zipfile.ZipFile(epub) as z:
        preface = etree.fromstring(z.read("EPUB/part-3.xhtml"), PARSER)
        third_doc = etree.fromstring(z.read("EPUB/part-6.xhtml"), PARSER)
    hrefs = [a.get("href") for a in preface.xpath("//x:section//x:p//x:a", namespaces=NS)]
    assert hrefs == ["part-6.xhtml#method", "glossary.xhtml#glossary"]
    assert third_doc.xpath("//*[@id='method']", namespaces=NS)
