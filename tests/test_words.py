"""The one word count (tools/matbaa/words.py) against what WeasyPrint lays out.

Hypothesis writes paragraphs of every inline kind (text, emphasis, strong, a code
span, a link and a cross-reference, an image, a glossary mark, a note call, a
citation, line breaks, soft breaks, no-break spaces); the book is built as the
PDF build lays it out, read back from WeasyPrint's boxes (pagemap.read_pages),
and its words must be the tokens' words, one for one, in order.  The EPUB's
XHTML, read back by the proof's rule (words.element_text), must give them too.
"""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from matbaa.build import load
from matbaa.pagemap import read_pages
from matbaa.sample import HERE as SAMPLE
from matbaa.words import count, element_text, inline_text, words
from matbaa.writers.html import render_print_html
from matbaa.writers.pdf import layout
from matbaa.writers.render import BookRenderer

from conftest import write_manuscript

ROOT = Path(__file__).resolve().parent.parent
STYLES = ROOT / "styles"

LETTERS = "abcçdeəfgğhxıijkqlmnoöprsştuüvyzAƏİ"
word = st.text(alphabet=LETTERS, min_size=1, max_size=9)
compound = st.one_of(word, st.builds(lambda a, b: f"{a}-{b}", word, word),
                     st.builds(lambda n, s: f"{n}-{s}", st.integers(1, 2024), st.sampled_from(["ci", "cü", "da"])),
                     st.builds(lambda a, b: f"{a}’{b}", word, word))
phrase = st.lists(compound, min_size=1, max_size=3).map(" ".join)

piece = st.one_of(
    compound,
    phrase.map(lambda p: f"*{p}*"),
    phrase.map(lambda p: f"**{p}**"),
    st.builds(lambda a, b: f"`{a}.{b}`", word, word),
    phrase.map(lambda p: f"[{p}](#title)"),                 # a cross-reference: "(p. 5)" generated in print
    phrase.map(lambda p: f"[{p}](02-other.md)"),
    phrase.map(lambda p: f"![{p}](pic.png)"),               # an image: its alt text is not running text
    word.map(lambda w: f"[{w}]{{term=entry}}"),
    phrase.map(lambda p: f"[{p}]{{.citation}}"),            # a citation: not the author's words
    st.just("[^call]"),
)
separator = st.sampled_from([" ", " ", " ", "\n", "\u00a0", "\\\n", " – "])


@st.composite
def paragraph(draw) -> str:
    pieces = draw(st.lists(piece, min_size=1, max_size=14))
    seen_call = False
    out = []
    for i, p in enumerate(pieces):
        if p == "[^call]":
            if seen_call or not out:
                continue
            seen_call = True
            out[-1] = out[-1].rstrip() + p     # a call follows its word
            continue
        if out:
            out.append(draw(separator))
        out.append(p)
    text = "".join(out).strip()
    if "[^call]" not in text:
        text += " end[^call]"
    return text


def _manuscript(root: Path, text: str) -> Path:
    """The sample's book.yaml with two parts of one chapter each: `text` and another."""
    book = (SAMPLE / "book.yaml").read_text(encoding="utf-8")
    book = book[:book.index("contents:")] + ("contents:\n  - part: One\n    chapters: [chapters/01-first.md]\n"
                                             "  - part: Two\n    chapters: [chapters/02-other.md]\n")
    chapters = {"01-first.md": f"# Title\n\n{text}\n\n[^call]: The note's own words are not running text.\n",
                "02-other.md": "# Other\n\nThe other chapter.\n"}
    glossary = "- id: entry\n  term: {en: entry, az: giriş}\n  definition: {en: An entry., az: Giriş.}\n"
    return write_manuscript(root, book, chapters, glossary=glossary, images={"pic.png": ((8, 8), (0x80, 0x80, 0x80))})


def _token_words(book) -> list[str]:
    return [w for ch in book.chapters for t in ch.tokens if t.type == "inline"
            for w in words(inline_text(t.children)[0])]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=paragraph())
def test_laid_out_words_are_the_tokens_words(tmp_path, text):
    root = _manuscript(tmp_path / "ms", text)
    book, _report = load(root, STYLES)
    expected = _token_words(book)
    assert sum(count(t.children) for ch in book.chapters for t in ch.tokens if t.type == "inline") == len(expected)
    document = layout(book, STYLES, tmp_path / "build", render_print_html(book, STYLES))
    assert read_pages(document)["words"] == expected, text

    # the EPUB's XHTML of the same tokens, read back by the proof's rule
    renderer = BookRenderer(book, "epub", glossary_href="glossary.xhtml")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    got = []
    for ch in book.chapters:
        html = renderer.body(ch.tokens)
        root_el = etree.fromstring(f'<div xmlns="http://www.w3.org/1999/xhtml" '
                                   f'xmlns:epub="http://www.idpf.org/2007/ops">{html}</div>'.encode(), parser)
        got += words(element_text(root_el))
    assert got == expected, text


def test_every_inline_kind_is_counted_as_laid_out(tmp_path):
    """One paragraph holding each kind once (the case hypothesis starts from)."""
    text = ("Plain *emphasis* **strong** `code.span` [a link](#title) [a chapter](02-other.md)\n"
            "![an image](pic.png) [entry]{term=entry} [Author 2001]{.citation} broken\\\n"
            "line 1993-cü\u00a0il son’da.[^call]")
    root = _manuscript(tmp_path / "ms", text)
    book, _ = load(root, STYLES)
    expected = _token_words(book)
    assert expected[:8] == ["Plain", "emphasis", "strong", "code.span", "a", "link", "a", "chapter"]
    assert "image" not in expected and "Author" not in expected and "2001" not in expected
    first = [w for t in book.chapters[0].tokens if t.type == "inline" for w in words(inline_text(t.children)[0])]
    assert first[-6:] == ["entry", "broken", "line", "1993-cü", "il", "son’da"]
    document = layout(book, STYLES, tmp_path / "build", render_print_html(book, STYLES))
    assert read_pages(document)["words"] == expected
