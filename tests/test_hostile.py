"""Hostile manuscripts (issue 22, security): nothing read from outside the
book, nothing injected into either edition.

Each test writes a small manuscript (the sample, conftest.write_manuscript)
and checks the exact code and line of the message; an audit hook
(`sys.addaudithook`, `opened`) records every file opened under a folder
beside the manuscript, which must stay unopened.  One build of a manuscript
whose every printed field holds `&`, `<`, `"`, `<script>` and `onerror=`
is parsed with lxml and checked by EPUBCheck (the file's one run)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import STYLES, run_epubcheck, write_manuscript, write_png
from matbaa.build import build_epub, load
from matbaa.diagnostics import ManuscriptError
from matbaa.render.html import render_print_html
from matbaa.sample import HERE as SAMPLE

XHTML = "{http://www.w3.org/1999/xhtml}"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
HOSTILE = 'Tom & Jerry <script>alert(1)</script> "q" <img src=x onerror=alert(1)>'

# ---------------------------------------------------------------- helpers

_WATCHED: list[Path] = []
_OPENED: list[str] = []


def _audit(event: str, args) -> None:
    if event == "open" and _WATCHED and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if any(path.startswith(str(w)) for w in _WATCHED):
            _OPENED.append(path)


sys.addaudithook(_audit)


@pytest.fixture
def opened(tmp_path):
    """The files opened under tmp_path/outside while the test runs."""
    outside = tmp_path / "outside"
    outside.mkdir()
    _WATCHED.append(outside)
    _OPENED.clear()
    yield _OPENED
    _WATCHED.remove(outside)


def sample(root: Path, extra_yaml: str = "", first_extra: str = "", yaml_edit=None) -> Path:
    """The sample manuscript at `root`, with `extra_yaml` before contents: and
    `first_extra` appended to the first chapter."""
    text = (SAMPLE / "book.yaml").read_text(encoding="utf-8")
    if yaml_edit:
        text = yaml_edit(text)
    text = text.replace("contents:", extra_yaml + "contents:")
    chapters = {p.name: p.read_text(encoding="utf-8") for p in (SAMPLE / "chapters").glob("*.md")}
    chapters["01-first.md"] += first_extra
    write_manuscript(root, text, chapters, (SAMPLE / "glossary.yaml").read_text(encoding="utf-8"))
    shutil.copytree(SAMPLE / "chapters" / "images", root / "chapters" / "images")
    return root


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if needle in line)


def problems(root: Path, code: str | None = None) -> list:
    with pytest.raises(ManuscriptError) as info:
        load(root, STYLES)
    items = info.value.report.items
    return [d for d in items if d.code == code] if code else items


# ---------------------------------------------------------------- 2: files named in book.yaml

SECRET = "SECRET-TEXT-FROM-OUTSIDE"


def _outside_files(outside: Path) -> None:
    outside.mkdir(exist_ok=True)
    (outside / "chapter.md").write_text(f"# Out\n\n{SECRET}\n", encoding="utf-8")
    (outside / "refs.json").write_text(json.dumps([{"id": "x", "type": "book", "title": SECRET}]))
    (outside / "glossary.yaml").write_text((SAMPLE / "glossary.yaml").read_text(encoding="utf-8"))
    (outside / "style.csl").write_text("<style/>")
    (outside / "corrections.yaml").write_text("[]\n")
    (outside / "source.txt").write_text(SECRET)


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink", "symlinked-folder"])
def test_a_chapter_outside_the_manuscript_is_refused(tmp_path, opened, case):
    outside = tmp_path / "outside"
    _outside_files(outside)
    root = tmp_path / "m"
    name = {"dotdot": "../outside/chapter.md", "absolute": str(outside / "chapter.md"),
            "symlink": "chapters/linked.md", "symlinked-folder": "more/chapter.md"}[case]
    sample(root, yaml_edit=lambda t: t.replace("      - chapters/02-second.md", f"      - {name}"))
    if case == "symlink":
        (root / "chapters" / "linked.md").symlink_to(outside / "chapter.md")
    if case == "symlinked-folder":
        (root / "more").symlink_to(outside, target_is_directory=True)
    opened.clear()                       # what the test wrote
    (found,) = problems(root, "M008")
    assert found.location.file == root / "book.yaml"
    assert found.location.line == line_of(root / "book.yaml", name)
    assert opened == []


@pytest.mark.parametrize("key, value", [
    ("bibliography", "../outside/refs.json"),
    ("csl", "../outside/style.csl"),
    ("corrections", "../outside/corrections.yaml"),
    ("source", {"title": "S", "file": "../outside/source.txt"}),
    ("source", {"title": "S", "files": ["chapters/01-first.md", "../outside/source.txt"]}),
    ("glossary", {"file": "../outside/glossary.yaml", "languages": ["en", "az"]}),
])
def test_every_file_book_yaml_names_goes_through_one_gate(tmp_path, opened, key, value):
    _outside_files(tmp_path / "outside")
    root = tmp_path / "m"

    def edit(text: str) -> str:
        if key == "glossary":
            text = text.replace("glossary:\n  file: glossary.yaml\n", "glossary:\n  file: ../outside/glossary.yaml\n")
        return text

    extra = "" if key == "glossary" else (
        f"{key}: {value}\n" if isinstance(value, str) else f"{key}:\n" + "".join(
            f"  {k}: {v}\n" if isinstance(v, str) else f"  {k}:\n" + "".join(f"    - {x}\n" for x in v)
            for k, v in value.items()))
    if key == "csl":
        extra = "bibliography: refs.json\n" + extra
        (tmp_path / "m").mkdir()
    sample(root, extra, yaml_edit=edit)
    if key == "csl":
        (root / "refs.json").write_text(json.dumps([{"id": "a", "type": "book", "title": "T"}]))
    opened.clear()                       # what the test wrote
    found = problems(root, "M008")
    assert [d.location.line for d in found] == [line_of(root / "book.yaml", "../outside/")]
    assert opened == []


def test_the_command_line_refuses_it_without_a_traceback(tmp_path):
    _outside_files(tmp_path / "outside")
    root = sample(tmp_path / "m", "bibliography: ../../../../../../../outside/refs.json\n")
    proc = subprocess.run([sys.executable, "-m", "matbaa", "build", "epub", "-m", str(root), "-o",
                           str(tmp_path / "b"), "--styles", str(STYLES)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1
    assert "M008" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "b" / "sample-book.epub").exists()


# ---------------------------------------------------------------- 3: images

@pytest.mark.parametrize("src", [
    "images/%2e%2e/%2e%2e/%2e%2e/outside/secret.png",
    "images%2f..%2f..%2f..%2foutside%2fsecret.png",
    "images/linked.png",
    "%2Fetc%2Fpasswd",
])
def test_an_image_outside_the_manuscript_is_refused_unopened(tmp_path, opened, src):
    write_png(tmp_path / "outside" / "secret.png")
    root = sample(tmp_path / "m", first_extra=f"\n\nText.\n\n![A secret]({src})\n")
    (root / "chapters" / "images" / "linked.png").symlink_to(tmp_path / "outside" / "secret.png")
    chapter = root / "chapters" / "01-first.md"
    opened.clear()                       # what the test wrote
    found = problems(root)
    assert [(d.code, d.location.file, d.location.line) for d in found if d.severity == "error"] == [
        ("D002", chapter, line_of(chapter, "![A secret]"))]
    assert opened == []


# ---------------------------------------------------------------- 4: attributes

def test_attributes_a_manuscript_may_not_set_are_left_out(tmp_path):
    root = sample(tmp_path / "m", first_extra=(
        '\n\nCode `x`{style="background:url(http://h/p.png)" #code-id .c data-x=1} here.\n\n'
        'A [span]{onclick="alert(1)" lang=fr style="color:red"} and [a link](#code-id){style=x onmouseover=x}.\n'
        '\n## A heading {#h-id style=color:red}\n\nText.\n'))
    chapter = root / "chapters" / "01-first.md"
    book, report = load(root, STYLES)
    d010 = [(d.location.file, d.location.line) for d in report.items if d.code == "D010"]
    span = line_of(chapter, "A [span]")
    assert d010 == [(chapter, line_of(chapter, "## A heading")), (chapter, line_of(chapter, "Code `x`"))] + [
        (chapter, span)] * 4
    assert sum("onclick" in d.message or "onmouseover" in d.message for d in report.items if d.code == "D010") == 2
    html = render_print_html(book, STYLES)
    assert '<code id="code-id">x</code>' in html
    for bad in ("style=\"background", "data-x", "onclick", "onmouseover", 'class="c"', "color:red"):
        assert bad not in html
    assert '<span lang="fr">span</span>' in html
    assert 'id="h-id">A heading</h' in html


# ---------------------------------------------------------------- 5: control characters

@pytest.mark.parametrize("char", ["\x01", "\x0c", "\x1b", "\x00"])
def test_a_control_character_in_a_chapter_is_located(tmp_path, char):
    root = sample(tmp_path / "m", first_extra=f"\n\nA line ab{char}c.\n")
    chapter = root / "chapters" / "01-first.md"
    (found,) = problems(root)               # the only message: the chapter is still read
    assert (found.code, found.location.file, found.location.line) == ("F003", chapter, line_of(chapter, "A line ab"))
    assert "column 10" in found.message


def test_control_characters_in_yaml_and_json_values_are_located(tmp_path):
    root = sample(tmp_path / "m", yaml_edit=lambda t: t.replace("title: A Sample Book", 'title: "A\\x01"'))
    (found,) = problems(root)               # the only message: no error follows from it
    assert (found.code, found.location.file, found.location.line) == (
        "F003", root / "book.yaml", line_of(root / "book.yaml", "title:"))

    root = sample(tmp_path / "m", "bibliography: refs.json\n", first_extra="\n\nSee [@a].\n")
    (root / "refs.json").write_text('[\n  {"id": "a", "type": "book",\n   "title": "T\\u0001"}\n]\n')
    (found,) = [d for d in problems(root) if d.severity == "error"]
    assert (found.code, found.location.file, found.location.line) == ("F003", root / "refs.json", 2)

    root = sample(tmp_path / "m")
    gloss = root / "glossary.yaml"
    text = gloss.read_text(encoding="utf-8")
    first = text.index("en: ", text.index("definition:"))
    gloss.write_text(text[:first] + 'en: "bad \\x1b here"' + text[text.index("\n", first):], encoding="utf-8")
    (found,) = [d for d in problems(root) if d.severity == "error"]
    assert (found.code, found.location.file, found.location.line) == ("F003", gloss, line_of(gloss, "bad \\x1b"))


# ---------------------------------------------------------------- 1: nothing injected, a valid EPUB

def _hostile_book(root: Path) -> Path:
    def edit(text: str) -> str:
        text = text.replace("title: A Sample Book", f"title: '{HOSTILE}'")
        text = text.replace("subtitle: Two parts, notes and a glossary", f"subtitle: '{HOSTILE}'")
        text = text.replace("name: Ada Author", f"name: '{HOSTILE}'")
        text = text.replace("affiliation: Example University", f"affiliation: '{HOSTILE}'")
        text = text.replace("publisher: matbaa", f"publisher: '{HOSTILE}'")
        text = text.replace("rights: CC BY 4.0", f"rights: '{HOSTILE}'\ndescription: '{HOSTILE}'\n"
                                                 f"subject: '{HOSTILE}'")
        return text.replace("  - part: The First Part", f"  - part: '{HOSTILE}'")

    root = sample(root, "bibliography: refs.json\n", yaml_edit=edit,
                  first_extra=f"\n\n{HOSTILE.replace('<', '&lt;', 1)} and <b>bold</b> cited [@a, p. 3], "
                              "and @a too.\n")
    (root / "refs.json").write_text(json.dumps([{
        "id": "a", "type": "book", "title": HOSTILE, "publisher": HOSTILE, "publisher-place": "A & B",
        "author": [{"family": "O'Brien & <b>Co</b>", "given": 'Ann "Q"'}], "issued": {"date-parts": [[2000]]},
        "URL": "https://example.org/a?b=1&c=<script>"}]), encoding="utf-8")
    gloss = root / "glossary.yaml"
    text = gloss.read_text(encoding="utf-8")
    first = text.index("en: ", text.index("definition:"))
    gloss.write_text(text[:first] + f"en: '{HOSTILE}'" + text[text.index("\n", first):], encoding="utf-8")
    return root


def shown(text: str) -> bool:
    """The hostile text printed as text (its quotes may be typographic ones)."""
    return "Tom & Jerry <script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text


def _no_injection(doc, where: str) -> None:
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = etree.QName(el).localname
        assert tag != "script", where
        assert not (tag == "img" and el.get("src") == "x"), where
        assert not (tag == "b" and (el.text or "") in ("Co", "bold")), where
        for name in el.attrib:
            assert not name.split("}")[-1].split(":")[-1].lower().startswith("on"), (where, name)


def test_hostile_text_is_printed_as_text_and_the_epub_is_valid(tmp_path):
    root = _hostile_book(tmp_path / "m")
    book, report = load(root, STYLES)
    assert [d.code for d in report.errors] == []
    # the print document: parsed as HTML, the text is there, no element was made of it
    html = render_print_html(book, STYLES)
    doc = etree.fromstring(html.encode("utf-8"), etree.HTMLParser())
    _no_injection(doc, "print")
    assert "Tom & Jerry <script>" in "".join(doc.itertext())
    bib = doc.find(".//section[@id='bibliography']")
    assert "O'Brien & <b>Co</b>" in "".join(bib.itertext())

    epub, _ = build_epub(root, tmp_path / "build", STYLES)
    with zipfile.ZipFile(epub) as z:
        names = [n for n in z.namelist() if n.endswith((".xhtml", ".opf", ".ncx"))]
        texts = {}
        for n in names:
            doc = etree.fromstring(z.read(n), SAFE)     # every document is well-formed XML
            _no_injection(doc, n)
            texts[n] = "".join(doc.itertext())
    assert shown(texts["EPUB/bibliography.xhtml"])
    assert "O'Brien & <b>Co</b>" in texts["EPUB/bibliography.xhtml"]
    assert shown(texts["EPUB/glossary.xhtml"])
    assert shown(texts["EPUB/titlepage.xhtml"])
    assert any(shown(t) for n, t in texts.items() if n.endswith(".opf"))
    assert any("Tom & Jerry <script>" in t for n, t in texts.items() if "part-" in n)

    result = run_epubcheck(epub, tmp_path / "epubcheck.json")
    bad = [m for m in result["messages"] if m["severity"] in ("FATAL", "ERROR")]
    assert bad == [], bad


def test_citeproc_output_is_rebuilt_not_pasted():
    """Only the style's formatting becomes markup (the title in italics); every
    text of the entry, and a private-use character standing for a mark, is text."""
    from matbaa.read.citations import DEFAULT_STYLE, Engine, find_locale   # this test only

    entry = {"id": "a", "type": "book", "title": "A & <i>B</i>\ue000", "author": [{"family": "<b>C</b>"}],
             "issued": {"date-parts": [[2000]]}, "_line": 1}
    engine = Engine([entry], STYLES / "csl" / DEFAULT_STYLE, find_locale(STYLES, "en"), "en")
    engine.register([{"key": "a", "locator": None, "label": None}])
    ((key, html),) = engine.bibliography("en")
    assert key == "a"
    assert html == "&lt;b&gt;C&lt;/b&gt; (2000) <i>A &amp; &lt;i&gt;B&lt;/i&gt;</i>."
    etree.fromstring(f"<p>{html}</p>")
    pieces = engine.render([{"key": "a", "prefix": "<x>", "suffix": "", "locator": None, "label": None,
                             "suppress_author": False}], "normal")
    assert "".join(h for _, h in pieces) == "(&lt;x&gt; &lt;b&gt;C&lt;/b&gt;, 2000)"


# ------------------------------------------------------------------ stylesheets (D012)

def test_stylesheet_references_outside_the_styles_are_errors(tmp_path):
    """An http url() in epub.css would be copied into the EPUB, an @import of
    another folder read by the print build: D012 at the stylesheet's line, and
    nothing written.  Relative paths, data: and fragments stay allowed."""
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    epub_css = styles / "css" / "epub.css"
    base = epub_css.read_text(encoding="utf-8")
    epub_css.write_text(base + "\nbody { background: url( 'http://h/p.png' ); }\n"
                        "h1 { background: url(data:image/png;base64,AAAA); }\n"
                        ".x { mask: url(#m); }\n", encoding="utf-8")
    print_css = styles / "css" / "print.css"
    print_css.write_text('@import "//cdn.example/x.css";\n@import url(/etc/fonts.css);\n'
                         + print_css.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ManuscriptError) as exc:
        build_epub(SAMPLE, tmp_path / "out", styles)
    got = sorted((d.code, Path(d.location.file).name, d.location.line) for d in exc.value.report.items)
    line = base.count("\n") + 2
    assert got == [("D012", "epub.css", line), ("D012", "print.css", 1), ("D012", "print.css", 2)]
    assert not (tmp_path / "out" / "sample-book.epub").exists()


def test_shipped_stylesheets_are_local():
    from matbaa.diagnostics import Report
    from matbaa.read.styles import check_stylesheets

    report = Report()
    check_stylesheets(STYLES, report)
    assert report.items == []
