"""The proof: faults put in on purpose are each found, with code, page and file:line."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matbaa.sample import HERE as SAMPLE

from conftest import STYLES, write_manuscript

CLEAN_EXTRA = "\n".join([
    "",
    "The communities kept their newspapers, their schools and their songs for many decades after they left.",
    "Letters went home every month, and the families answered with news of weddings, harvests and funerals.",
    "Visitors brought books, and the books were read aloud in the evenings to those who could not read.",
    "",
])


def _sample(root: Path, long_note: bool = False) -> Path:
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    first = root / "chapters" / "01-first.md"
    text = first.read_text()
    text = text.replace("A second paragraph", CLEAN_EXTRA * 6 + "\nA second paragraph")
    first.write_text(text)
    # the source as received: the sample's own words (so the clean book collates clean)
    from matbaa.build import load
    from matbaa.proof.collate import edition_words

    book, _ = load(root, STYLES)
    words = [w for w, _ in edition_words(book)]
    (root / "original").mkdir()
    (root / "original" / "source.txt").write_text(" ".join(words) + "\n")
    meta = (root / "book.yaml").read_text()
    meta = meta.replace("rights: CC BY 4.0", "rights: CC BY 4.0\nsource:\n  title: The sample\n  file: original/source.txt")
    (root / "book.yaml").write_text(meta)
    return root


def run_proof(root: Path, out: Path) -> tuple[int, list[dict]]:
    proc = subprocess.run([sys.executable, "-m", "matbaa", "proof", "-m", str(root), "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr
    findings = json.loads((out / "proof" / "findings.json").read_text())
    return proc.returncode, findings


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = _sample(tmp_path_factory.mktemp("clean") / "ms")
    out = tmp_path_factory.mktemp("clean-out")
    return root, out, run_proof(root, out)


def test_clean_book_reports_nothing(clean):
    root, out, (code, findings) = clean
    assert code == 0
    assert [f for f in findings if f["severity"] in ("error", "warning")] == []
    assert [f["code"] for f in findings] == ["S001"]   # says plainly that spelling was not checked
    proof = out / "proof"
    assert (proof / "sample-book-proof.pdf").is_file() and (proof / "report.html").is_file()
    assert len(list((proof / "pages").glob("*.png"))) >= 4


def test_proof_pdf_has_marks_over_the_same_layout(clean):
    import pdfplumber

    root, out, _ = clean
    proof = out / "proof"
    with pdfplumber.open(proof / "sample-book-proof.pdf") as p, pdfplumber.open(proof / "sample-book.pdf") as r:
        assert len(p.pages) == len(r.pages)
        page = p.pages[4]
        text = page.extract_text()
        assert "PROOF" in text and "sample-book" in text
        # line numbers in the margin, source references f1:N
        assert re.search(r"\bf1:\d+", text)
        # the edition's own characters are where they were
        body = lambda pg: [(c["text"], round(c["x0"], 1), round(c["top"], 1)) for c in pg.chars if c["size"] > 9]
        assert body(p.pages[4]) == body(r.pages[4])


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    root = _sample(tmp_path_factory.mktemp("faulty") / "ms")
    first = root / "chapters" / "01-first.md"
    text = first.read_text()
    text = text.replace("keeps its ties", "keeps ties", 1)                     # a word dropped
    text = text.replace("Letters went home every month", "Letters went home each month", 1)   # a word changed
    text = text.replace("Visitors brought books", "Visitors brought “books", 1)             # unbalanced quote
    text = text.replace("the families answered", "the families - answered", 1)             # spaced hyphen
    first.write_text(text)
    second = root / "chapters" / "02-second.md"
    long_note = " ".join(["This very long note cannot share a page with its call."] * 90)
    second.write_text(second.read_text() + "\nA last paragraph with a long note.[^long]\n\n[^long]: " + long_note + "\n")
    out = tmp_path_factory.mktemp("faulty-out")
    return root, run_proof(root, out)


def _find(findings, code):
    return [f for f in findings if f["code"] == code]


def test_dropped_word_in_pdf_and_epub(faulty):
    _, (code, findings) = faulty
    assert code == 1
    for c in ("P001", "P002"):
        hits = [f for f in _find(findings, c) if "its" in f["message"]]
        assert hits, c
    pdf = [f for f in _find(findings, "P001") if "its" in f["message"]][0]
    text = (SAMPLE / "chapters" / "01-first.md").read_text()
    line = text[:text.index("keeps its ties")].count("\n") + 1
    assert pdf["file"] == "chapters/01-first.md" and pdf["line"] == line and pdf["page"] == 5 and pdf["page_line"]


def test_changed_word(faulty):
    _, (_, findings) = faulty
    hit = [f for f in _find(findings, "P001") if "every" in f["message"] and "each" in f["message"]]
    assert hit and hit[0]["file"] == "chapters/01-first.md" and hit[0]["page"]


def test_unbalanced_quote_and_spaced_hyphen(faulty):
    _, (_, findings) = faulty
    quote = _find(findings, "T001")
    hyphen = _find(findings, "T003")
    assert quote and quote[0]["file"] == "chapters/01-first.md" and quote[0]["page"]
    assert hyphen and hyphen[0]["file"] == "chapters/01-first.md" and hyphen[0]["page"]


def test_note_off_its_page(faulty):
    _, (_, findings) = faulty
    off = _find(findings, "L005")
    assert off and off[0]["file"] == "chapters/02-second.md" and off[0]["page"]


def test_manuscript_errors_reported_by_the_proof(tmp_path):
    root = _sample(tmp_path / "ms")
    second = root / "chapters" / "02-second.md"
    uncalled = second.read_text().count("\n") + 2
    second.write_text(second.read_text().replace("{term=solidarity}", "{term=solidarty}") + "\n[^never]: uncalled\n")
    code, findings = run_proof(root, tmp_path / "out")
    assert code == 1
    got = {(f["code"], f["file"], f["line"]) for f in findings}
    assert ("G004", "chapters/02-second.md", 3) in got
    assert ("N003", "chapters/02-second.md", uncalled) in got


def test_make_diff_shows_only_what_moved(clean, tmp_path):
    from matbaa.build import build_pdf
    from matbaa.proof.diff import diff

    root, out, _ = clean
    before = out / "proof" / "sample-book.pdf"
    second = root / "chapters" / "02-second.md"
    second.write_text(second.read_text().replace("grew among", "grew slowly among"))
    after, _ = build_pdf(root, tmp_path, STYLES)
    result = diff(before, after, tmp_path / "diff")
    assert len(result["changed"]) == 1 and result["old_pages"] == result["new_pages"]   # the one page that moved
    assert any("slowly" in line for lines in result["text"].values() for line in lines)
    assert (tmp_path / "diff" / "index.html").is_file()


LIST_BOOK = """\
id: roman-lists
identifier: urn:uuid:00000000-0000-4000-8000-000000000510
title: Siyahılar
author: [Ada Author]
lang: az
date: "2026-01-01"
contents:
  - part: Birinci hissə
    chapters: [chapters/01-lists.md]
"""

# Pandoc's fancy lists numbered in roman (i, ii, iii … x, in both delimiters) and
# letters, nested too: their markers fall together as "one word spelled two ways"
# (ii / iii / i by the doubled letter, vi / vii / viii) if they are counted as words
LISTS = """\
# Siyahılar

Məqsədlər bunlardır:

(i) birinci məqsəd
(ii) ikinci məqsəd
(iii) üçüncü məqsəd
(iv) dördüncü məqsəd
(v) beşinci məqsəd
(vi) altıncı məqsəd
(vii) yeddinci məqsəd
(viii) səkkizinci məqsəd
(ix) doqquzuncu məqsəd
(x) onuncu məqsəd

Və yenə:

i. bir
ii. iki
iii. üç

a) birinci
b) ikinci
   (i) içəridə
   (ii) yenə içəridə
"""


def _list_book(root: Path, extra: str = "") -> Path:
    return write_manuscript(root, LIST_BOOK, {"01-lists.md": LISTS + extra})


def test_roman_list_markers_are_not_variant_spellings(tmp_path):
    from matbaa.build import load
    from matbaa.proof.checks import typography

    book, _ = load(_list_book(tmp_path / "ms"), STYLES)
    styles = {t.meta.get("style") for ch in book.chapters for t in ch.tokens if t.type == "ordered_list_open"}
    assert {"lower-roman", "lower-alpha"} <= styles           # the markers were read as lists
    assert [f.message for f in typography(book) if f.code == "T010"] == []


def test_a_real_variant_beside_roman_lists_is_still_t010(tmp_path):
    from matbaa.build import load
    from matbaa.proof.checks import typography

    extra = "\nÜmummilli lider ümummilli bayram günü danışdı; ümumilli sözü bir dəfə yazılıb.\n"
    book, _ = load(_list_book(tmp_path / "ms", extra), STYLES)
    found = [f for f in typography(book) if f.code == "T010"]
    assert [(f.message, f.file, f.line) for f in found] == \
        [("'ümumilli' (1×) beside 'ümummilli' (1×)", "chapters/01-lists.md", LISTS.count("\n") + 2)]
