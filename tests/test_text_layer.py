"""The PDF's text layer reads back as typed: the running text extracted with
pdfplumber, page by page, is the source's words in order (issue 12: a space
between two glossary marks was laid out but not drawn, so "Respublikası Ali"
read "RespublikasıAli")."""
from __future__ import annotations

import json

import pdfplumber
import pytest

from matbaa.proof.collate import running_text
from matbaa.model.words import words     # the page map's rule (collate.words normalises dashes for collation)
from matbaa.typeset.pagemap import HYPHEN_CHARS, WORD_JOINER

BODY_PT = 10.5


def page_words(page) -> list[str]:
    """The words of a page's running text: its glyphs at the body size (no
    running head, folio, note or note call), lines joined as a reader joins
    them (a hyphenation hyphen dropped, a real hyphen kept)."""
    body = page.filter(lambda o: o.get("object_type") != "char" or abs(o["size"] - BODY_PT) < 0.05)
    text = ""
    for line in (body.extract_text() or "").replace(WORD_JOINER, "").split("\n"):
        line = line.strip()
        if text.endswith(HYPHEN_CHARS):
            text = text[:-1] + line
        elif text.endswith("-"):
            text += line
        else:
            text += " " + line
    if text.endswith(HYPHEN_CHARS):
        text = text[:-1]
    return words(text)


@pytest.fixture(scope="module")
def layer(built):
    pagemap = json.loads(built.pdf.with_suffix(".pages.json").read_text(encoding="utf-8"))
    first, last = min(pagemap["line_pages"]), max(pagemap["line_pages"])
    with pdfplumber.open(built.pdf) as pdf:
        pages = {n: page_words(pdf.pages[n - 1]) for n in range(first, last + 1)}
    return pagemap, pages


def source_words(book) -> list[str]:
    return [w for chapter in book.chapters for tok in chapter.tokens if tok.type == "inline"
            for w in words(running_text(tok))]


def test_the_text_layer_is_the_source_words_in_order(book, layer):
    _pagemap, pages = layer
    read = [w for n in sorted(pages) for w in pages[n]]
    want = source_words(book)
    assert "RespublikasıAli" not in read
    assert read == want


def test_every_body_page_holds_its_words(book, layer):
    """Each page's words are those the page map says begin on it."""
    pagemap, pages = layer
    want = source_words(book)
    starts = {int(k): v for k, v in pagemap["pages"].items()}
    order = sorted(starts)
    for i, n in enumerate(order):
        end = starts[order[i + 1]] if i + 1 < len(order) else len(want)
        assert pages[n] == want[starts[n]:end], f"page {n}"
