"""The engine's contract: every WeasyPrint, pydyf and pyphen internal matbaa
uses (typeset/engine.py's INTERNALS) is still there, and the adapter's
functions still work, on tiny documents.

An upgrade of WeasyPrint (or pydyf, pyphen) that moves an internal fails here,
by the internal's name and what in matbaa depends on it, rather than deep in a
build.  Fast (a few small layouts): run it first after an upgrade.
"""
from __future__ import annotations

import importlib
import io
import shutil
from pathlib import Path

import pikepdf
import pytest

from matbaa.typeset import engine

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "styles" / "fonts" / "vollkorn" / "Vollkorn-Regular.ttf"
DIC = ROOT / "styles" / "hyphenation" / "hyph_az.dic"

# two pages, a running head (a margin box), a footnote, a span in another language
TWO_PAGES = f"""<!DOCTYPE html><html lang="az"><head><style>
@font-face {{ font-family: Vollkorn; src: url({FONT.as_uri()}); }}
@page {{ size: 100mm 60mm; margin: 12mm; @top-center {{ content: "Baş"; }} }}
body {{ font: 10pt/1.3 Vollkorn; }}
p {{ text-align: justify; text-indent: 1em; hyphens: auto; margin: 0; }}
.second {{ break-before: page; }}
.fn {{ float: footnote; }}
</style></head><body>
<p class="first">Birinci səhifə</p>
<p class="second">İkinci <span lang="fr">page</span> səhifə<span class="fn">Qeyd</span></p>
</body></html>"""


def lay(html: str = TWO_PAGES, variant: str | None = None):
    return engine.render(html, str(ROOT) + "/", None, (), variant)


def walk(box):
    yield box
    for child in engine.children(box):
        yield from walk(child)


@pytest.fixture(scope="module")
def document():
    return lay()


@pytest.fixture(scope="module")
def samples(document):
    """Instances to look an instance's attribute up on (a page, its boxes, a
    registered hyphenation dictionary)."""
    from matbaa.typeset.hyphenation import register

    found = list(document.pages)
    for root in engine.roots(document):
        found += list(walk(root))
    return found + [register()]


def resolve(module: str, path: str, samples: list):
    """`module`'s `path` (dotted); a name a class's instances are given is
    looked up on an instance of that class among `samples`."""
    obj = importlib.import_module(module)
    for name in path.split("."):
        try:
            obj = getattr(obj, name)
        except AttributeError:
            if not isinstance(obj, type):
                raise
            instance = next((s for s in samples if isinstance(s, obj)), None)
            if instance is None:
                raise AttributeError(f"no {obj.__name__} laid out to look {name!r} up on") from None
            obj = getattr(instance, name)
    return obj


@pytest.mark.parametrize("module, path, used", engine.INTERNALS,
                         ids=[f"{m}:{p}" for m, p, _u in engine.INTERNALS])
def test_every_internal_is_there(module, path, used, samples):
    try:
        resolve(module, path, samples)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"engine internal {module}.{path} is gone ({type(exc).__name__}: {exc}); "
                    f"matbaa uses it for {used} (tools/matbaa/typeset/engine.py)", pytrace=False)


def test_internals_are_listed_once():
    keys = [(m, p) for m, p, _u in engine.INTERNALS]
    assert len(keys) == len(set(keys))
    assert all(used for _m, _p, used in engine.INTERNALS)


# ------------------------------------------------------------------ the boxes

def test_the_pages_hold_their_lines(document):
    """Two pages: each page's lines and their text, the running head in a
    margin box, the note in the footnote area; elements, tags and classes."""
    assert engine.page_count(document) == 2
    assert [n for n, _boxes in engine.pages(document)] == [1, 2]
    lines, margins, notes = {}, [], []
    for number, boxes in engine.pages(document):
        for top in boxes:
            sink = {engine.MARGIN: margins, engine.FOOTNOTES: notes}.get(engine.kind(top))
            for box in walk(top):
                if engine.kind(box) == engine.LINE:
                    texts = [engine.text(t) for t in engine.descendants(box) if engine.kind(t) == engine.TEXT]
                    (lines.setdefault(number, []) if sink is None else sink).append("".join(texts).strip())
    assert sorted(lines) == [1, 2] and lines[1] == ["Birinci səhifə"]
    assert lines[2][0].startswith("İkinci page səhifə")     # and the note's call
    assert "Qeyd" in "".join(notes)
    assert margins == ["Baş", "Baş"]
    paragraphs = [b for root in engine.roots(document) for b in walk(root)
                  if engine.tag(b) == "p" and engine.kind(b) == engine.BLOCK]
    assert [sorted(engine.classes(p)) for p in paragraphs] == [["first"], ["second"]]
    assert engine.element(paragraphs[0]).get("class") == "first"
    x, y, width, height = engine.geometry(paragraphs[0])
    assert width > 0 and height > 0 and x >= 0 and y >= 0
    line = engine.children(paragraphs[0])[0]
    assert engine.kind(line) == engine.LINE
    assert engine.right_edge(line) > x and engine.margin_width(engine.children(line)[0]) > 0
    assert [engine.page_sizes(document)[0][0], engine.page_sizes(document)[0][1]] == pytest.approx(
        [100 / 25.4 * 96, 60 / 25.4 * 96])


def test_the_computed_styles_read(document):
    """The computed properties the line breaker reads (STYLE_KEYS), in the
    shapes it expects."""
    text = next(b for root in engine.roots(document) for b in walk(root)
                if engine.kind(b) == engine.TEXT and "Birinci" in engine.text(b))
    style = engine.style(text)
    for key in engine.STYLE_KEYS:
        style[key]      # noqa: B018 - a KeyError names the property WeasyPrint no longer computes
    block = next(b for root in engine.roots(document) for b in walk(root) if engine.tag(b) == "p")
    assert engine.style(block)["display"] == ("block", "flow")
    assert style["text_align_all"] == "justify" and style["hyphens"] == "auto"
    assert style["white_space"] == "normal" and style["lang"] == "az"
    indent = engine.style(block)["text_indent"]
    assert indent.unit == "px" and indent.value == pytest.approx(10 * 4 / 3)
    assert len(style["hyphenate_limit_chars"]) == 3


# ------------------------------------------------------------------ measuring text

def test_text_is_measured(document):
    text = next(b for root in engine.roots(document) for b in walk(root) if engine.kind(b) == engine.TEXT
                and "Birinci" in engine.text(b))
    measure = engine.TextMeasure(engine.style(text))
    one, two = measure.width("Birinci"), measure.width("Birinci səhifə")
    assert 0 < one < two
    # as WeasyPrint measured the text box itself
    assert two == pytest.approx(engine.geometry(text)[2], abs=0.5)


def test_break_opportunities():
    found = engine.break_opportunities("bir iki", "az")
    assert len(found) == len("bir iki") + 1
    assert found[4] and not found[1] and not found[5]
    assert not any(engine.break_opportunities("bir\u00a0iki", "az")[1:7])


# ------------------------------------------------------------------ hyphenation

def test_hyphenation_is_registered_for_weasyprint(tmp_path):
    """A dictionary registered for a language is the one WeasyPrint asks (its
    points function sees the words it hyphenates), and `hyphenator` looks it
    up as WeasyPrint does."""
    dic = shutil.copy(DIC, tmp_path / "hyph_qaa.dic")
    asked = []

    def points(word, patterns):
        asked.append(word)
        return patterns(word.lower())

    dictionary = engine.register_hyphenation(("qaa",), dic, points)
    assert engine.hyphenation_registered(("qaa",), dic, dictionary)
    assert engine.hyphenator("qaa-Latn")("azərbaycanlılar") == engine.pattern_positions(dic)("azərbaycanlılar")
    assert asked == ["azərbaycanlılar"]
    html = (f'<html><head><style>@font-face {{ font-family: Vollkorn; src: url({FONT.as_uri()}); }}'
            'p { font: 10pt Vollkorn; width: 12mm; hyphens: auto }</style></head>'
            '<body><p lang="qaa">azərbaycanlılar azərbaycanlılar</p></body></html>')
    document = lay(html)
    assert asked[1:], "WeasyPrint did not ask the registered dictionary"
    lines = [b for root in engine.roots(document) for b in walk(root) if engine.kind(b) == engine.LINE]
    assert len(lines) > 2
    # registered again with other points: the same dictionary, its cache emptied
    again = engine.register_hyphenation(("qaa",), dic, lambda word, patterns: [], previous=dictionary)
    assert again is dictionary and engine.hyphenator("qaa")("azərbaycanlılar") == []
    assert engine.hyphenator("x-no-such-language") is None


# ------------------------------------------------------------------ fonts

def test_a_font_is_subset():
    from fontTools.ttLib import TTFont

    original = FONT.read_bytes()
    cmap = TTFont(io.BytesIO(original), lazy=True).getBestCmap()
    glyph_ids = TTFont(io.BytesIO(original), lazy=True).getReverseGlyphMap()
    glyphs = {glyph_ids[cmap[ord(c)]]: c for c in "Bakı"}
    subset = engine.subset_font(original, glyphs, hinting=False, missing=False)
    assert 0 < len(subset) < len(original) / 2
    font = TTFont(io.BytesIO(subset))
    # the glyph ids are kept: the content streams that name them stay valid
    assert font["maxp"].numGlyphs == max(glyphs) + 1
    kept = [font.getGlyphOrder()[g] for g in glyphs]
    assert all(font["glyf"][name].numberOfContours for name in kept)


# ------------------------------------------------------------------ the tagged PDF, progress

def test_install_lang_puts_lang_on_structure_elements(tmp_path):
    target = tmp_path / "lang.pdf"
    engine.write_pdf(lay(variant="pdf/ua-1"), target, "pdf/ua-1")
    with pikepdf.open(target) as pdf:
        assert str(pdf.Root.Lang) == "az"
        langs, stack = [], [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Dictionary):
                if "/Lang" in node and "/S" in node:
                    langs.append(str(node.Lang))
                kids = node.get("/K")
                stack.extend(kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else [])
    assert langs == ["fr"]


def test_progress_reports_each_page():
    from weasyprint.logger import PROGRESS_LOGGER

    assert PROGRESS_LOGGER.name == engine.PROGRESS_LOG
    seen = []
    engine.on_page(seen.append)
    try:
        lay()
    finally:
        engine.on_page(None)
    assert seen[:2] == [1, 2]
    lay()
    assert seen[:2] == [1, 2] and set(seen) == {1, 2}
