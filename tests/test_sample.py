"""`matbaa new DIR` makes a complete small manuscript that builds."""
import shlex
import subprocess
import sys
import zipfile

import pypdf

from conftest import run_epubcheck


def test_new_sample_builds_pdf_and_epub(tmp_path):
    ms = tmp_path / "book"
    proc = subprocess.run([sys.executable, "-m", "matbaa", "new", str(ms)], check=True, capture_output=True, text=True)
    assert (ms / "book.yaml").is_file() and len(list((ms / "chapters").glob("*.md"))) == 2
    # the command it suggests is matbaa's own (an installed matbaa has no Makefile), and it works
    suggested = shlex.split(proc.stdout.split("build it with: ", 1)[1])
    assert suggested == ["matbaa", "build", "pdf", "epub", "-m", str(ms), "-o", str(ms / "build")]
    out = ms / "build"
    proc = subprocess.run([sys.executable, "-m", *suggested], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    reader = pypdf.PdfReader(out / "sample-book.pdf")
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "The First Part" in text and "Glossary" in text
    with zipfile.ZipFile(out / "sample-book.epub") as z:
        assert "EPUB/glossary.xhtml" in z.namelist()
    # the sample is an English book with an English–Azerbaijani glossary: nothing is hard-coded
    report = run_epubcheck(out / "sample-book.epub", tmp_path / "ec.json")
    assert report["checker"]["nError"] == 0 and report["checker"]["nWarning"] == 0
    # matbaa diff: a PDF against itself changes nothing
    proc = subprocess.run([sys.executable, "-m", "matbaa", "diff", str(out / "sample-book.pdf"),
                           str(out / "sample-book.pdf"), "--out", str(tmp_path / "diff")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "0 page(s) changed" in proc.stdout and (tmp_path / "diff" / "index.html").is_file()


def test_new_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep me")
    proc = subprocess.run([sys.executable, "-m", "matbaa", "new", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "not empty" in proc.stderr
    assert (tmp_path / "x").read_text() == "keep me"


def test_diff_and_check_say_what_is_missing(tmp_path):
    for args in (["diff", str(tmp_path / "old.pdf"), str(tmp_path / "new.pdf")], ["check", str(tmp_path / "b.epub")]):
        proc = subprocess.run([sys.executable, "-m", "matbaa", *args], capture_output=True, text=True)
        assert proc.returncode == 1 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
