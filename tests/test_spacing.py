"""Word spacing of the print edition (spacing.py), measured on the built PDF
with pdfplumber, and the Typst anchor's document."""
from __future__ import annotations

import re

import pytest

from matbaa_dev import spacing


@pytest.fixture(scope="session")
def body_lines(built):
    pages = spacing.body_pages(built.build / f"{built.book.id}.pages.json")
    assert pages is not None and len(pages) > 5
    return spacing.line_spaces(built.pdf, 10.5, pages)


def test_justified_lines_are_measured(body_lines, built):
    justified = [line for line in body_lines if line["justified"]]
    # every paragraph ends in a line that is not justified; most lines are
    assert len(justified) > 0.8 * len(body_lines)
    for line in justified:
        assert 0.1 < line["space"] < 3, line           # a word space, in em
    # the measured lines are the running text's: every word of them is in the print document
    text = built.html.read_text(encoding="utf-8")
    assert any(line["text"].split()[1] in text for line in justified[:5])


def test_figures_are_consistent(body_lines):
    f = spacing.figures(body_lines)
    assert f["justified"] == sum(1 for line in body_lines if line["justified"])
    assert 0 < f["median_em"] <= f["p90_em"] <= f["max_em"]
    assert f["over_half_em"] == sum(1 for line in body_lines if line["justified"] and line["space"] > 0.5)
    assert f["hyphenated"] == sum(1 for line in body_lines if line["text"].endswith(spacing.HYPHENS))


def test_typst_anchor_sets_the_same_paragraphs(built, tmp_path):
    html = built.html.read_text(encoding="utf-8")
    paragraphs = spacing.chapter_paragraphs(html)
    pdf = spacing.typst_anchor(built.html, spacing.Path(__file__).resolve().parent.parent / "styles" / "fonts"
                               / "vollkorn", tmp_path / "typst.pdf", built.book.meta.get("print"))
    figs = spacing.measure(pdf, notes=None)["body"]
    assert figs["justified"] > 100 and 0 < figs["median_em"] < figs["p90_em"]
    # the paragraphs' letters, all and in order, reach Typst's pages (compared
    # letter for letter: Typst's text layer maps its one hyphen glyph, shown for
    # a hyphen and for a soft hyphen, to U+00AD, misplacing some soft hyphens)
    typeset = "".join(line["text"] for line in spacing.line_spaces(pdf, 10.5))
    assert re.sub(r"[\W_]", "", typeset) == re.sub(r"[\W_]", "", "".join(paragraphs))


def test_pages_range():
    assert spacing.pages_range("5-22") == range(5, 23)
    assert spacing.pages_range("7") == range(7, 8)
    assert spacing.pages_range(None) is None and spacing.pages_range("") is None


def test_command_reports_the_figures_as_json(built):
    """`python -m matbaa_dev spacing` prints what `report` returns: `measure`'s
    figures for the pages asked for, and the loosest lines."""
    import json
    import subprocess
    import sys

    pages = spacing.body_pages(built.build / f"{built.book.id}.pages.json")
    few = f"{pages.start}-{pages.start + 2}"
    proc = subprocess.run([sys.executable, "-m", "matbaa_dev", "spacing", str(built.pdf), "--pages", few,
                           "--loosest", "3"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    expected = spacing.measure(built.pdf, pages=spacing.pages_range(few))
    assert printed["body"] == pytest.approx(expected["body"])
    assert len(printed["loosest"]) == 3
    assert all(set(line) == {"page", "space", "text"} for line in printed["loosest"])
    assert [line["space"] for line in printed["loosest"]] == sorted((line["space"] for line in printed["loosest"]),
                                                                    reverse=True)
