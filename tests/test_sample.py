"""`matbaa new DIR` makes a complete small manuscript that builds."""
import subprocess
import sys
import zipfile

import pypdf

from conftest import run_epubcheck


def test_new_sample_builds_pdf_and_epub(tmp_path):
    ms = tmp_path / "book"
    subprocess.run([sys.executable, "-m", "matbaa", "new", str(ms)], check=True, capture_output=True)
    assert (ms / "book.yaml").is_file() and len(list((ms / "chapters").glob("*.md"))) == 2
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "matbaa", "build", "pdf", "epub", "-m", str(ms), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    reader = pypdf.PdfReader(out / "sample-book.pdf")
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "The First Part" in text and "Glossary" in text
    with zipfile.ZipFile(out / "sample-book.epub") as z:
        assert "EPUB/glossary.xhtml" in z.namelist()
    # the sample is an English book with an English–Azerbaijani glossary: nothing is hard-coded
    report = run_epubcheck(out / "sample-book.epub", tmp_path / "ec.json")
    assert report["checker"]["nError"] == 0 and report["checker"]["nWarning"] == 0


def test_new_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep me")
    proc = subprocess.run([sys.executable, "-m", "matbaa", "new", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "not empty" in proc.stderr
    assert (tmp_path / "x").read_text() == "keep me"
