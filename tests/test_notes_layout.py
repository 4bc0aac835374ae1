"""Notes in print: a book made to stress WeasyPrint's footnotes (many long notes,
several per page, calls near page ends, multi-paragraph notes)."""
import random
import re
import shutil
from collections import defaultdict

import pdfplumber
import pytest

from matbaa.build import build_pdf
from matbaa.sample import HERE as SAMPLE

WORDS = ("the diaspora kept its ties with the homeland through letters newspapers and visits "
         "over many decades while communities grew").split()


def _sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


@pytest.fixture(scope="module", params=["optimal", "greedy"])
def stress_pdf(request, tmp_path_factory):
    """The stress book, broken by total fit (the default) and first-fit by
    WeasyPrint (linebreak: greedy), which leaves calls behind more often: the
    layout loop's corrections are exercised there."""
    root = tmp_path_factory.mktemp("stress")
    shutil.copy(SAMPLE / "book.yaml", root)
    with open(root / "book.yaml", "a", encoding="utf-8") as f:
        f.write(f"\nprint:\n  linebreak: {request.param}\n")
    shutil.copy(SAMPLE / "glossary.yaml", root)
    (root / "chapters").mkdir()
    for name, title, seed in (("01-first.md", "Beginnings", 1), ("02-second.md", "Later", 2)):
        rng = random.Random(seed)
        out = [f"# {title}\n", "A [diaspora]{.term} and a [congress]{term=congress}.\n" if seed == 1
               else "[Solidarity]{term=solidarity} grew.\n"]
        for p in range(14):
            para, notes = [], []
            for s in range(rng.randint(3, 7)):
                t = _sentence(rng, rng.randint(8, 20))
                if rng.random() < 0.45:
                    nid = f"n{seed}-{p}-{s}"
                    t = t[:-1] + f"[^{nid}]."
                    body = " ".join(_sentence(rng, rng.randint(10, 25)) for _ in range(rng.randint(1, 4)))
                    if s == 2:  # a multi-paragraph note
                        body += "\n\n    " + _sentence(rng, 20)
                    notes.append(f"[^{nid}]: {body}")
                para.append(t)
            out.append("\n".join(para) + "\n")
            out += [n + "\n" for n in notes]
        (root / "chapters" / name).write_text("\n".join(out))
    out = tmp_path_factory.mktemp("stress-out")
    pdf, _ = build_pdf(root, out)
    return pdf, request.param


def notes_and_calls(pdf_path):
    calls, notes = defaultdict(list), {}
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            for line in page.extract_text_lines():
                m = re.match(r"^(\d+)\. ", line["text"])
                if m and line["chars"][0]["size"] < 9:
                    notes.setdefault(int(m.group(1)), page.page_number)
            run, last = "", None
            for c in [c for c in page.chars if c["size"] < 7.5]:
                if last and abs(c["x0"] - last["x1"]) < 1 and abs(c["top"] - last["top"]) < 1:
                    run += c["text"]
                else:
                    if run:
                        calls[int(run)].append(page.page_number)
                    run = c["text"]
                last = c
            if run:
                calls[int(run)].append(page.page_number)
    return calls, notes


def test_every_note_printed_once_on_the_page_of_its_call(stress_pdf):
    import json

    stress_pdf, linebreak = stress_pdf
    calls, notes = notes_and_calls(stress_pdf)
    assert len(notes) == len(calls) > 50
    misplaced = [(n, calls[n], notes.get(n)) for n in calls if calls[n] != [notes.get(n)]]
    assert misplaced == []
    pagemap = json.loads(stress_pdf.with_suffix(".pages.json").read_text())
    assert pagemap["misplaced"] == []
    if linebreak == "greedy":
        # WeasyPrint left at least one call behind, and the build moved its line
        assert pagemap["forced"]
