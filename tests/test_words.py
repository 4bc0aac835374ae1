"""The one word count (tools/matbaa/model/words.py) against what WeasyPrint lays out.

Hypothesis writes paragraphs of every inline kind (text, emphasis, strong, a code
span, a link and a cross-reference, an image, a glossary mark, a note call, a
citation, line breaks, soft breaks, no-break spaces); the book is built as the
PDF build lays it out, read back from WeasyPrint's boxes (typeset/pagemap.read_pages),
and its words must be the tokens' words, one for one, in order.  The EPUB's
XHTML, read back by the proof's rule (words.element_text), must give them too.
"""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from matbaa.build import load
from matbaa.typeset.pagemap import read_pages
from matbaa.sample import HERE as SAMPLE
from matbaa.model.words import count, element_text, inline_text, words
from matbaa.render.html import render_print_html
from matbaa.typeset.correct import layout
from matbaa.render.tokens import BookRenderer

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


# derandomize: the same examples on every run (each is a WeasyPrint layout, and
# CI must not turn red on the day a seed finds the known case below).
# The example marked xfail is a known bug of the total-fit breaker, found by this
# test: WeasyPrint draws the hyphen of "A-AAx‐acçfö" in the middle of a line
# (the breaker's hyphenation point is kept although the line does not end there),
# so the page map reads two words.  It fails on the code before the package's
# redesign too (8c17768); see the closing note of issue 19.
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=paragraph())
@example(text="qqm l-AAxacçfö [qxş 100-ci](#title) [100-ci 100-ci](#title) A-AAxacçfö end[^call]").xfail(
    raises=AssertionError, reason="a hyphen drawn mid-line by the total-fit breaker (known bug)")
def test_laid_out_words_are_the_tokens_words(tmp_path, text):
    root = _manuscript(tmp_path / "ms", text)
    book, _report = load(root, STYLES)
    expected = _token_words(book)
    assert sum(count(t.children) for ch in book.chapters for t in ch.tokens if t.type == "inline") == len(expected)
    document = layout(book, STYLES, tmp_path / "build", render_print_html(book, STYLES))
    assert read_pages(document).words == expected, text

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
    assert read_pages(document).words == expected


# ------------------------------------------------------------------ one rule for every consumer

any_text = st.text(alphabet=st.sampled_from(list("ab əİı19-–.'’, \u00a0\u2060xX0")), max_size=60)


@settings(max_examples=300, deadline=None)
@given(text=any_text)
def test_every_consumer_counts_the_same_words(text):
    """model/words.WORD is the one tokenizer: the page map (lines joined as
    typeset/pagemap.join_lines joins them), the tokens (count), the EPUB's
    XHTML read back (element_text), collation and the proof (collate.words,
    through comparable) find the same words, one for one."""
    from markupsafe import escape

    from matbaa.model.words import comparable
    from matbaa.proof.collate import words as collation_words
    from matbaa.typeset.pagemap import Line, join_lines
    from markdown_it.token import Token

    text = text.replace("\u2060", "")       # the print's word joiner is dropped before counting
    expected = words(text)
    laid_out, _starts = join_lines([Line(1, text)])
    assert words(laid_out) == words(text.strip())
    tok = Token("text", "", 0)
    tok.content = text
    assert count([tok]) == len(expected)
    el = etree.fromstring(f'<p xmlns="http://www.w3.org/1999/xhtml">{escape(text)}</p>'.encode())
    assert words(element_text(el)) == expected
    assert collation_words(text) == [comparable(w) for w in expected]


def test_a_range_is_two_numbers_however_it_is_typed():
    from matbaa.proof.collate import words as collation_words

    text = "1996–2021 illər, l'idée 1996-2021 1991-ci ictimai-siyasi DTK-nin 2.6.32"
    assert words(text) == ["1996", "2021", "illər", "l'idée", "1996", "2021", "1991-ci", "ictimai-siyasi",
                           "DTK-nin", "2.6.32"]
    assert count_of(text) == len(collation_words(text)) == 10


def count_of(text: str) -> int:
    from markdown_it.token import Token

    tok = Token("text", "", 0)
    tok.content = text
    return count([tok])
