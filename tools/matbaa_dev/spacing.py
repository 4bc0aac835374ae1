"""Word spacing of a PDF's justified lines, read back with pdfplumber.

    python -m matbaa_dev spacing BOOK.pdf [--size 10.5] [--notes 8] [--pages 5-22] [--loosest N]

What a book designer looks at on every page: how wide the spaces between the
words of a justified line are.  For every line of running text set at the body
size (`size`, in pt) that is justified (it reaches the right edge of the text
block: the last line of a paragraph does not and is left out, as are lines of
one word), the mean word space of the line is measured: from the end of a
word's last glyph to the start of the next word's first glyph, the space's own
advance and the justification's stretch included, in em of the body size.
Reported: the number of lines, the median, the 90th percentile, the share and
number of lines over 0.5 em, the largest, and the lines ending in a hyphen.

Headings, running heads and folios are set at other sizes, so they are not
read; note lines (set at `notes` pt) are reported apart.  Words are found from
the glyphs' positions (a gap wider than 0.12 em is a space), not from the
space characters of the text layer, so a space missing from the text layer
(WeasyPrint does not draw a box holding only a space) is still measured.  Note
calls (smaller glyphs raised on a body line) belong to the line and the word
they follow.  A line whose words are mostly not words (the dot leaders of a
table of contents) is not running text and is left out.
"""
from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from pathlib import Path

HYPHENS = ("\u2010", "\u00ad", "-")
GAP_EM = 0.12          # a gap between glyphs wider than this is a space
EDGE_PT = 1.5          # a line ending this near the text block's right edge (or beyond) is justified
LOOSE_EM = 0.5


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile, linearly interpolated (numpy's default)."""
    s = sorted(values)
    if not s:
        return 0.0
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _lines(chars: list[dict], size: float, calls: bool = True) -> list[list[dict]]:
    """The page's lines set at `size`: each a list of glyphs, left to right,
    with the smaller glyphs raised on it (note calls)."""
    main = [c for c in chars if abs(c["size"] - size) < 0.05]
    main.sort(key=lambda c: (round(c["bottom"], 1), c["x0"]))
    lines: list[list[dict]] = []
    for c in main:
        if lines and abs(lines[-1][0]["bottom"] - c["bottom"]) < 0.5:
            lines[-1].append(c)
        else:
            lines.append([c])
    small = [c for c in chars if c["size"] < size - 0.05] if calls else []
    for c in small:
        for line in lines:
            top, bottom = line[0]["top"], line[0]["bottom"]
            if top - 1 <= (c["top"] + c["bottom"]) / 2 <= bottom and line[0]["x0"] - 1 <= c["x0"]:
                line.append(c)
                break
    for line in lines:
        line.sort(key=lambda c: c["x0"])
    return lines


def _words(line: list[dict], size: float) -> list[tuple[float, float, str]]:
    """(x0, x1, text) of each word of a line."""
    words: list[list] = []
    prev = None
    for c in line:
        if c["text"].isspace():
            prev = None
            continue
        if words and prev is not None and c["x0"] - prev["x1"] <= GAP_EM * size:
            words[-1][1] = max(words[-1][1], c["x1"])
            words[-1][2] += c["text"]
        else:
            words.append([c["x0"], c["x1"], c["text"]])
        prev = c
    return [tuple(w) for w in words]


def line_spaces(pdf_path: Path, size: float = 10.5, pages: range | None = None,
                calls: bool = True) -> list[dict]:
    """Every line of running text set at `size`: page, text, whether it is
    justified, its mean word space in em (None for a line of one word).

    calls=False leaves the note calls out of the lines, so that the gap a call
    fills counts as a space: how the figures of issue 12 were measured (with
    pdfplumber's extract_words on the glyphs of the body size), which makes a
    line with a call look looser than it is."""
    import pdfplumber

    out = []
    with pdfplumber.open(str(pdf_path)) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            if pages is not None and number not in pages:
                continue
            lines = _lines(page.chars, size, calls)
            found = []
            for line in lines:
                words = _words(line, size)
                if not words:
                    continue
                wordy = sum(1 for w in words if any(ch.isalnum() for ch in w[2]))
                if wordy * 2 < len(words):
                    continue                    # dot leaders, not running text
                gaps = [b[0] - a[1] for a, b in zip(words, words[1:])]
                found.append({"page": number, "x0": words[0][0], "x1": words[-1][1],
                              "text": " ".join(w[2] for w in words),
                              "space": (sum(gaps) / len(gaps) / size) if gaps else None,
                              "hyphen": words[-1][2].endswith(HYPHENS),
                              "letter": words[-1][2][-1:].isalnum()})
            if not found:
                continue
            # the right edge of the text block: where most lines end in a letter
            # (to the half point; a last glyph's advance ends a little before or
            # after it; Typst hangs a line-end hyphen or stop into the margin)
            ends = [f["x1"] for f in found if f.pop("letter")] or [f["x1"] for f in found]
            right = Counter(round(x * 2) / 2 for x in ends).most_common(1)[0][0]
            for f in found:
                f["justified"] = f["space"] is not None and f["x1"] >= right - EDGE_PT
            out += found
    return out


def figures(lines: list[dict]) -> dict:
    """The spacing figures of some lines (line_spaces)."""
    spaces = [line["space"] for line in lines if line["justified"]]
    loose = sum(1 for s in spaces if s > LOOSE_EM)
    return {"lines": len(lines), "justified": len(spaces),
            "median_em": round(statistics.median(spaces), 3) if spaces else 0.0,
            "p90_em": round(_percentile(spaces, 0.9), 3),
            "over_half_em": loose, "over_half_share": round(loose / len(spaces), 4) if spaces else 0.0,
            "max_em": round(max(spaces), 3) if spaces else 0.0,
            "hyphenated": sum(1 for line in lines if line["hyphen"])}


def measure(pdf_path: Path, size: float = 10.5, notes: float | None = 8.0,
            pages: range | None = None, calls: bool = True) -> dict:
    """{'body': figures of the lines at `size`, 'notes': of the lines at `notes`}."""
    out = {"body": figures(line_spaces(pdf_path, size, pages, calls))}
    if notes:
        out["notes"] = figures(line_spaces(pdf_path, notes, pages, calls))
    return out


def loosest(pdf_path: Path, size: float = 10.5, pages: range | None = None, n: int = 10) -> list[dict]:
    """The n loosest justified lines (for a report)."""
    lines = [line for line in line_spaces(pdf_path, size, pages) if line["justified"]]
    return sorted(lines, key=lambda line: -line["space"])[:n]


def body_pages(pages_json: Path) -> range | None:
    """The pages holding running text of chapters, from a build's page map
    (build/<id>.pages.json: the page of every line of running text)."""
    try:
        pages = json.loads(Path(pages_json).read_text(encoding="utf-8"))["line_pages"]
    except (OSError, ValueError, KeyError):
        return None
    return range(min(pages), max(pages) + 1) if pages else None


# ------------------------------------------------------------------ the Typst anchor
#
# The same paragraphs set by Typst (PyPI `typst`), whose paragraphs are broken
# by Knuth and Plass's total-fit algorithm, in the same face, size and measure.
# Typst has no Azerbaijani hyphenation patterns: it is given hyphenate: false
# and the book's own break points as soft hyphens (U+00AD, at which Typst
# breaks with a visible hyphen), the points WeasyPrint uses for matbaa
# (hyphenation.hyphenate with hyphenate-limit-chars 6 3 3 of print.css).

HYPH_MIN, HYPH_LEFT, HYPH_RIGHT = 6, 3, 3


def chapter_paragraphs(html: str) -> list[str]:
    """The text of every paragraph of running text of a print document (the
    chapters' <p>, notes and calls left out; a paragraph split by the layout
    loop joined again), as the reader reads it."""
    import lxml.html

    root = lxml.html.fromstring(html)
    for el in root.xpath('//span[contains(concat(" ", @class, " "), " footnote ")]'
                         ' | //a[contains(concat(" ", @class, " "), " noteref ")]'):
        tail = el.tail or ""
        parent = el.getparent()
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
        parent.remove(el)
    out: list[str] = []
    for p in root.xpath('//section[contains(concat(" ", @class, " "), " chapter ")]//p'):
        text = " ".join(p.text_content().replace("\u00ad", "").split())
        if "continued" in (p.get("class") or "").split() and out:
            out[-1] += " " + text
        elif text:
            out.append(text)
    return out


def _soft_hyphens(text: str) -> str:
    from matbaa.typeset.hyphenation import hyphenate

    def word(m):
        w = m.group(0)
        if len(w) < HYPH_MIN:
            return w
        cuts = hyphenate(w, "az", HYPH_LEFT, HYPH_RIGHT)
        return "".join("\u00ad" + ch if i in cuts else ch for i, ch in enumerate(w))
    return re.sub(r"[^\W\d_]+", word, text)


def _typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typst_source(paragraphs: list[str], page: dict, hyphenate: bool = True) -> str:
    """A Typst document of the paragraphs, on the book's page (book.yaml print)."""
    size = page["page-size"]
    dims = {"A5": ("148mm", "210mm"), "A4": ("210mm", "297mm"), "B5": ("176mm", "250mm"),
            "letter": ("8.5in", "11in")}.get(size) or tuple(size.split())
    head = [f"#set page(width: {dims[0]}, height: {dims[1]}, margin: (inside: {page['margin-inner']}, "
            f"outside: {page['margin-outer']}, top: {page['margin-top']}, bottom: {page['margin-bottom']}))",
            f'#set text(font: "Vollkorn", size: {page["font-size"]}, hyphenate: false, lang: "az")',
            "#set par(justify: true, first-line-indent: 1.2em, leading: 0.55em, spacing: 0.55em)", ""]
    body = [f"#{_typst_string(_soft_hyphens(p) if hyphenate else p)}" for p in paragraphs]
    return "\n".join(head) + "\n\n".join(body) + "\n"


def typst_anchor(html_path: Path, fonts: Path, out_pdf: Path, page: dict | None = None) -> Path:
    """Set the paragraphs of a print document (build/<id>.html) with Typst."""
    import typst

    from matbaa.read.config import PRINT_DEFAULTS
    from matbaa.files import write_bytes

    paragraphs = chapter_paragraphs(Path(html_path).read_text(encoding="utf-8"))
    source = typst_source(paragraphs, dict(PRINT_DEFAULTS, **(page or {})))
    write_bytes(Path(out_pdf), typst.compile(source.encode("utf-8"), font_paths=[str(fonts)],
                                             ignore_system_fonts=True))
    return Path(out_pdf)


def pages_range(spec: str | None) -> range | None:
    """'5-22' -> pages 5 to 22 (1-based, both included); '7' -> page 7; None -> None."""
    if not spec:
        return None
    a, _, b = spec.partition("-")
    return range(int(a), int(b or a) + 1)


def report(pdf_path: Path, size: float = 10.5, notes: float | None = 8.0, pages: range | None = None,
           calls: bool = True, n_loosest: int = 0) -> dict:
    """`python -m matbaa_dev spacing`: the figures of `measure`, and with
    `n_loosest` the loosest body lines (page, space, text)."""
    result = measure(pdf_path, size, notes, pages, calls)
    if n_loosest:
        result["loosest"] = [{k: line[k] for k in ("page", "space", "text")}
                             for line in loosest(pdf_path, size, pages, n_loosest)]
    return result
