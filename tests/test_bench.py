"""`make bench` and `make watch`: the bench runs on a small size and writes its
report; synthetic books are valid; a watch rebuild reports errors and keeps
the previous outputs.  No timing is asserted: benchmarks are not tests."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matbaa_dev.bench import NOTE_ID, PHASES, SentenceEditor, chapter_paths, make_synthetic, paired_ratios, table
from matbaa.build import load
from matbaa.sample import HERE as SAMPLE

ROOT = Path(__file__).resolve().parent.parent
MANUSCRIPT = ROOT / "manuscript"

MEASUREMENTS = ("pdf_full", "epub_full", "epub_after_pdf", "pdf_rebuild", "epub_rebuild", "make_noop",
                "weasyprint", "pandoc")


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and x > 0


# ------------------------------------------------------------------ the bench


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "matbaa_dev", "bench", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc


@pytest.mark.slow   # about 35 s: it runs the whole bench once on the first book (make test-slow, CI)
def test_bench_quick_writes_json(quick_bench):
    out, _ = quick_bench
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["meta"]["sizes"] == [1] and results["meta"]["runs"] == 1
    size = results["sizes"]["1"]
    assert size["book"]["chapters"] == len(chapter_paths(MANUSCRIPT))
    m = size["measurements"]
    for name in MEASUREMENTS:
        row = m[name]
        if name == "pandoc" and "skipped" in row:      # pypandoc-binary not installed
            continue
        for key in ("median", "min", "max", "peak_rss_mb"):
            assert _positive(row[key]), (name, key, row)
        assert row["min"] <= row["median"] <= row["max"]
        assert len(row["times"]) == row["runs"] == 1
    for name in ("pdf_full", "weasyprint"):
        assert isinstance(m[name]["pages"], int) and m[name]["pages"] > 0
        assert _positive(m[name]["bytes"])
    for name in ("pdf_full", "pdf_rebuild", "make_noop"):
        assert m[name]["anchor"] == "weasyprint" and _positive(m[name]["ratio"])
    if "median" in m["pandoc"]:
        for name in ("epub_full", "epub_after_pdf", "epub_rebuild"):
            assert m[name]["anchor"] == "pandoc" and _positive(m[name]["ratio"])
    assert m["make_noop"]["did_work"] is False
    # total fit against first fit, run by run (side by side: the machine's speed
    # drifts); the ratio itself is checked on known timings (test_paired_ratios)
    assert len(m["pdf_greedy"]["paired"]) == m["pdf_greedy"]["runs"] == 1
    assert _positive(m["pdf_greedy"]["paired"][0])
    phases = size["phases"]
    for key in PHASES:
        assert isinstance(phases[key], float) and phases[key] >= 0, key
    for key in ("read", "layout", "pdf_write", "epub_write", "pdf_total"):
        assert _positive(phases[key]), key
    assert phases["layout_rounds"] >= 1


@pytest.mark.slow
def test_bench_quick_writes_markdown_and_prints_table(quick_bench):
    out, proc = quick_bench
    md = (out / "results.md").read_text(encoding="utf-8")
    for title in ("PDF, full build", "EPUB, full build", "make pdf epub, nothing changed",
                  "anchor: WeasyPrint alone", "anchor: pandoc", "Phases"):
        assert title in md
        assert title in proc.stdout
    assert re.search(r"\| PDF, full build \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× weasyprint", md)
    assert re.search(r"greedy .*; total fit [\d.]+× this \(median of runs side by side\)", md)


def test_paired_ratios_of_known_timings():
    """pdf_full over pdf_greedy, run by run, from timings whose ratios are known."""
    pairs = [({"seconds": 6.0}, {"seconds": 4.0}),     # 1.5
             ({"seconds": 5.0}, {"seconds": 4.0}),     # 1.25
             ({"seconds": 9.0}, {"seconds": 4.5}),     # 2.0
             ({"seconds": 1.0}, {"seconds": 3.0})]     # 0.333 (to three decimals)
    assert paired_ratios(pairs) == [1.5, 1.25, 2.0, 0.333]
    assert paired_ratios([]) == []


def test_report_gives_the_median_of_the_paired_ratios():
    """The table's figure is the median of the runs' ratios: 5/4, 9/4.5, 6/4 are
    1.25, 2.0, 1.5, their median 1.50; not the ratio of the medians, 6.0/4.5 = 1.33."""
    full = {"median": 6.0, "min": 5.0, "max": 9.0, "peak_rss_mb": 100.0, "times": [5.0, 9.0, 6.0], "runs": 3}
    greedy = {"median": 4.5, "min": 4.0, "max": 4.5, "peak_rss_mb": 90.0, "times": [4.0, 4.5, 4.0], "runs": 3,
              "paired": [1.25, 2.0, 1.5]}
    results = {"sizes": {"1": {"book": {"parts": 1, "chapters": 2, "notes": 3, "words": 400},
                               "measurements": {"pdf_full": full, "pdf_greedy": greedy}}}}
    md = table(results)
    assert "total fit 1.50× this (median of runs side by side)" in md
    assert "1.33×" not in md


def test_dev_command_has_the_four_tools():
    proc = subprocess.run([sys.executable, "-m", "matbaa_dev", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for name in ("bench", "spacing", "validate", "patterns"):
        assert name in proc.stdout
    from matbaa_dev.patterns import generate

    proc = subprocess.run([sys.executable, "-m", "matbaa_dev", "patterns"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == generate()
    proc = subprocess.run([sys.executable, "-m", "matbaa_dev", "bench", "--skip", "nothing"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown nothing" in proc.stderr


# ------------------------------------------------------------------ synthetic books


@pytest.fixture(scope="module")
def synthetic2(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("syn") / "manuscript"
    make_synthetic(MANUSCRIPT, target, 2)
    return target


def _note_ids(files: list[Path]) -> tuple[list[str], list[str]]:
    calls, defs = [], []
    for f in files:
        for line in f.read_text(encoding="utf-8").split("\n"):
            m = re.match(r"^ {0,3}\[\^([^\]\s]+)\]:", line)
            if m:
                defs.append(m.group(1))
                line = line[m.end():]
            calls += NOTE_ID.findall(line)
    return calls, defs


def test_synthetic_note_ids_are_distinct(synthetic2):
    calls, defs = _note_ids(chapter_paths(synthetic2))
    orig_calls, orig_defs = _note_ids(chapter_paths(MANUSCRIPT))
    assert len(defs) == 2 * len(orig_defs) and len(set(defs)) == len(defs)
    assert len(calls) == 2 * len(orig_calls) and len(set(calls)) == len(calls)
    assert set(calls) == set(defs)
    assert all(re.search(r"-c[12]$", i) for i in defs)


def test_synthetic_book_loads(synthetic2):
    book, report = load(synthetic2)
    original, _ = load(MANUSCRIPT)
    assert report.errors == []
    assert book.id == "bench-x2"
    assert len(book.parts) == 2 * len(original.parts)
    assert len({p.title for p in book.parts}) == len(book.parts)
    assert len(book.notes) == 2 * len(original.notes)
    # glossary entries stay; each gets the marks of both copies, with distinct anchors
    anchors = [mk.anchor for e in book.glossary for mk in e.marks]
    assert len(anchors) == len(set(anchors)) == 2 * sum(len(e.marks) for e in original.glossary)


def test_synthetic_one_is_the_book(tmp_path):
    target = tmp_path / "ms"
    make_synthetic(MANUSCRIPT, target, 1)
    for a, b in zip(chapter_paths(MANUSCRIPT), chapter_paths(target)):
        assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")


def test_sentence_editor_changes_one_line(synthetic2):
    editor = SentenceEditor(synthetic2)
    before = editor.path.read_text(encoding="utf-8").split("\n")
    try:
        editor.edit(1)
        after = editor.path.read_text(encoding="utf-8").split("\n")
        assert [i for i, (x, y) in enumerate(zip(before, after)) if x != y] == [editor.line]
        load(synthetic2)                   # still a valid manuscript
    finally:
        editor.restore()
    assert editor.path.read_text(encoding="utf-8").split("\n") == before


# ------------------------------------------------------------------ watch


@pytest.fixture
def ms(tmp_path) -> Path:
    root = tmp_path / "ms"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def test_watch_rebuild_reports_errors_and_keeps_outputs(ms, tmp_path):
    import io

    from matbaa.watch import on_changes, rebuild

    build = tmp_path / "build"
    first = rebuild(ms, build, out=io.StringIO())
    assert first.ok, first.errors
    outputs = {fmt: p for fmt, p in first.outputs.items()}
    assert set(outputs) == {"pdf", "epub"}
    good = {fmt: (p.read_bytes(), p.stat().st_mtime_ns) for fmt, p in outputs.items()}

    chapter = ms / "chapters" / "01-first.md"
    text = chapter.read_text(encoding="utf-8")
    assert "homeland.[^first]" in text
    line = text[:text.index("homeland.[^first]")].count("\n") + 1
    chapter.write_text(text.replace("homeland.[^first]", "homeland.[^first] Again[^nowhere]."), encoding="utf-8")

    out = io.StringIO()
    # a change in the build folder alone is not a reason to rebuild
    assert on_changes({(2, str(outputs["pdf"]))}, ms, build, out=out) is None
    result = on_changes({(2, str(chapter))}, ms, build, out=out)
    assert result is not None and not result.ok
    printed = out.getvalue()
    assert "changed: ms/chapters/01-first.md" in printed
    assert re.search(rf"01-first\.md:{line}: N001: error: ", printed), printed
    assert any(re.match(rf".*01-first\.md:{line}: N001: error: ", e) for e in result.errors)
    assert "previous outputs are kept" in printed
    for fmt, p in outputs.items():
        assert (p.read_bytes(), p.stat().st_mtime_ns) == good[fmt], f"{fmt} was touched by a failed build"

    # fixed again: the next change rebuilds both
    chapter.write_text(text + "\nOne more sentence.\n", encoding="utf-8")
    again = on_changes({(2, str(chapter))}, ms, build, out=io.StringIO())
    assert again.ok and set(again.times) == {"pdf", "epub"}
    assert outputs["pdf"].read_bytes() != good["pdf"][0]
