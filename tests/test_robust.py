"""Hostile and huge manuscripts (issue 22, robustness): nothing silently lost,
no traceback, a located error instead; caches that check what they read.

Each test writes a small manuscript (the sample of `matbaa new`, changed).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, STYLES, write_manuscript

SAMPLE = ROOT / "tools" / "matbaa" / "sample"

BOOK_YAML = """id: robust
identifier: urn:uuid:00000000-0000-4000-8000-000000000022
title: Robust
author:
  - name: Ada Author
lang: en
date: "2026-01-01"
rights: CC BY 4.0
contents:
  - part: One
    chapters:
      - chapters/one.md
"""
CHAPTER = "# One\n\nA short text.\n"


def _sample(tmp_path: Path) -> Path:
    root = tmp_path / "manuscript"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return root


def _errors(manuscript: Path) -> list[tuple[str, str, int | None]]:
    """(code, file name, line) of every error of reading `manuscript` (or [] when it builds)."""
    from matbaa.build import load
    from matbaa.diagnostics import ManuscriptError

    try:
        load(manuscript, STYLES)
    except ManuscriptError as exc:
        return [(d.code, Path(d.location.file).name, d.location.line) for d in exc.report.errors]
    return []


def _cli(*args: str, cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tools"))
    return subprocess.run([sys.executable, "-m", "matbaa", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600, **kw)


# ---------------------------------------------------------------- nesting (D011)

def _nested_list(depth: int) -> str:
    return "\n".join("  " * i + f"- item{i}" for i in range(depth)) + "\n\nafterword closing\n"


def _nested_quote(depth: int) -> str:
    return "> " * depth + "deepest quoted\n\nafterword closing\n"


@pytest.mark.parametrize("text,line", [
    (_nested_list(30), 2 + 23 + 1),         # item23 (its text at level 48) is the first markdown-it would drop
    (_nested_quote(60), 3),
    ("> " * 5000 + "x\n", 3),               # far deeper: still an error, quickly, no RecursionError
])
def test_deep_nesting_is_a_located_error(tmp_path, text, line):
    root = write_manuscript(tmp_path / "m", BOOK_YAML, {"one.md": "# One\n\n" + text})
    assert _errors(root) == [("D011", "one.md", line)]


def test_deep_nesting_in_a_note_is_located(tmp_path):
    text = "# One\n\nText.[^n]\n\n[^n]: " + "> " * 60 + "deep\n"
    root = write_manuscript(tmp_path / "m", BOOK_YAML, {"one.md": text})
    assert _errors(root) == [("D011", "one.md", 5)]


def _epub_text(manuscript: Path, out: Path) -> str:
    """The EPUB's text (every document's), written without a print layout."""
    from lxml import etree

    from matbaa.build import load
    from matbaa.epub.writer import write_epub
    from matbaa.model import PageMap
    from PIL import Image

    book, _ = load(manuscript, STYLES)
    png = io.BytesIO()
    Image.new("RGB", (60, 90), (90, 90, 90)).save(png, format="PNG")
    epub = write_epub(book, STYLES, out, PageMap(), cover=lambda: png.getvalue())
    texts = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    with zipfile.ZipFile(epub) as z:
        for name in z.namelist():
            if name.endswith(".xhtml"):
                texts.append(" ".join(etree.fromstring(z.read(name), parser).itertext()))
    return " ".join(texts)


def _block(kinds: list[str], words: list[str]) -> str:
    """Markdown nesting `kinds` (outermost first: 'ul', 'ol', 'quote'), one word per level."""
    lines, indent = [], ""
    for kind, word in zip(kinds, words):
        if kind == "quote":
            indent += "> "
            lines.append(f"{indent}{word}")
            lines.append(indent.rstrip())
        else:
            marker = "- " if kind == "ul" else "1. "
            lines.append(f"{indent}{marker}{word}")
            indent += " " * len(marker)
    return "\n".join(lines) + "\n"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["ul", "ol", "quote"]), min_size=1, max_size=40))
def test_nesting_never_loses_text(tmp_path, kinds):
    """Generated nesting: a D011 at its line, or every word of the source in the EPUB."""
    words = [f"w{i}x{k}" for i, k in enumerate(kinds)] + ["closingword"]
    text = "# One\n\n" + _block(kinds, words[:-1]) + "\nclosingword ends.\n"
    root = write_manuscript(tmp_path / "m", BOOK_YAML, {"one.md": text})
    errors = _errors(root)
    if errors:
        assert {(c, f) for c, f, _ in errors} == {("D011", "one.md")}
        assert all(isinstance(line, int) and 3 <= line <= text.count("\n") for _, _, line in errors)
        return
    found = set(re.findall(r"\w+", _epub_text(root, tmp_path / "out")))
    assert [w for w in words if w not in found] == []


def test_lists_and_quotes_ten_deep_build(tmp_path):
    """What a book can need: lists 10 deep inside quotations 10 deep."""
    kinds = ["quote"] * 10 + ["ul", "ol"] * 5
    words = [f"lv{i}" for i in range(len(kinds))]
    root = write_manuscript(tmp_path / "m", BOOK_YAML, {"one.md": "# One\n\n" + _block(kinds, words) + "\nend.\n"})
    assert _errors(root) == []
    found = set(re.findall(r"\w+", _epub_text(root, tmp_path / "out")))
    assert set(words) <= found


# ---------------------------------------------------------------- YAML aliases (M009)

def _bomb(levels: int = 9) -> str:
    names = "abcdefghijklmnop"
    parts = [f"&a [{', '.join(['lol'] * 9)}]"]
    parts += [f"&{names[i]} [{', '.join(['*' + names[i - 1]] * 9)}]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


def test_alias_bomb_in_book_yaml(tmp_path):
    root = _sample(tmp_path)
    text = (root / "book.yaml").read_text(encoding="utf-8")
    line = text.splitlines().index("rights: CC BY 4.0") + 1
    (root / "book.yaml").write_text(text.replace("rights: CC BY 4.0", "rights: " + _bomb()), encoding="utf-8")
    t0 = time.perf_counter()
    assert _errors(root) == [("M009", "book.yaml", line)]
    assert time.perf_counter() - t0 < 1


def test_alias_bomb_in_glossary_see(tmp_path):
    root = _sample(tmp_path)
    glossary = root / "glossary.yaml"
    text = glossary.read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, l in enumerate(lines) if re.match(r"\s+see:", l))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at] = f"{indent}see: {_bomb()}"
    glossary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    assert _errors(root)[0] == ("M009", "glossary.yaml", at + 1)   # (then the marks of the entries not read)
    assert time.perf_counter() - t0 < 1


def test_aliases_a_book_uses_still_work(tmp_path):
    root = _sample(tmp_path)
    text = (root / "book.yaml").read_text(encoding="utf-8")
    text = text.replace("rights: CC BY 4.0", "rights: &r CC BY 4.0\ndescription: *r")
    (root / "book.yaml").write_text(text, encoding="utf-8")
    assert _errors(root) == []


# ---------------------------------------------------------------- book.yaml: messages, not tracebacks

def _yaml_case(tmp_path, old: str, new: str) -> tuple[Path, int]:
    root = _sample(tmp_path)
    text = (root / "book.yaml").read_text(encoding="utf-8")
    assert old in text
    (root / "book.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return root, text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize("new,code,below", [
    ('date: 2026-13-45', "M004", 0),
    ('date: "2026-02-30"', "M004", 0),
    ('date: "2026-01-01"\n? [a, b]\n: 1', "M002", 1),
    ('date: "2026-01-01"\nprint:\n  page-size: 1mm 1mm', "M004", 2),
    ('date: "2026-01-01"\nprint:\n  margin-top: 300mm', "M004", 2),
    ('date: "2026-01-01"\nprint:\n  margin-inner: 300mm', "M004", 2),
    ('date: "2026-01-01"\nprint:\n  font-size: 0pt', "M004", 2),
])
def test_book_yaml_errors_are_located(tmp_path, new, code, below):
    root, line = _yaml_case(tmp_path, 'date: "2026-01-01"', new)
    assert _errors(root) == [(code, "book.yaml", line + below)]


def test_unhashable_key_in_glossary(tmp_path):
    root = _sample(tmp_path)
    glossary = root / "glossary.yaml"
    text = glossary.read_text(encoding="utf-8")
    glossary.write_text("- ? [a, b]\n  : 1\n" + text, encoding="utf-8")
    assert _errors(root)[0] == ("G001", "glossary.yaml", 1)


def test_print_settings_a_book_uses_pass(tmp_path):
    root, _ = _yaml_case(tmp_path, 'date: "2026-01-01"', 'date: "2026-01-01"\nprint:\n  page-size: 120mm 180mm\n'
                                                          '  font-size: 9pt\n  margin-inner: 15mm')
    assert _errors(root) == []


def test_cli_bad_date_no_traceback(tmp_path):
    root, line = _yaml_case(tmp_path, 'date: "2026-01-01"', "date: 2026-13-45")
    out = tmp_path / "build"
    out.mkdir()
    (out / "keep.txt").write_text("kept")
    proc = _cli("build", "epub", "-m", str(root), "-o", str(out))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"book.yaml:{line}: M004" in proc.stderr
    assert (out / "keep.txt").read_text() == "kept"


# ---------------------------------------------------------------- the caches

@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    """The sample laid out once (-j 1): its PDF, and the cache it left."""
    base = tmp_path_factory.mktemp("robust-cache")
    root = base / "manuscript"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    out = base / "build"
    proc = _cli("build", "pdf", "epub", "-j", "1", "-m", str(root), "-o", str(out), "--styles", str(STYLES))
    assert proc.returncode == 0, proc.stderr
    return root, out


def _rebuild(sample_build, tmp_path, damage, cwd=None, formats=("pdf",)) -> tuple[subprocess.CompletedProcess, Path]:
    root, out = sample_build
    copy = tmp_path / "build"
    shutil.copytree(out, copy)
    reference = (out / "sample-book.pdf").read_bytes()
    (copy / "sample-book.pdf").unlink()
    damage(copy / ".cache" / "layout")
    if cwd is not None:                 # the build folder named relative to another working directory
        proc = _cli("build", *formats, "-j", "1", "-m", str(root), "-o", os.path.relpath(copy, cwd),
                    "--styles", str(STYLES), cwd=cwd)
    else:
        proc = _cli("build", *formats, "-j", "1", "-m", str(root), "-o", str(copy), "--styles", str(STYLES))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (copy / "sample-book.pdf").read_bytes() == reference
    return proc, copy


def _parts(cache: Path) -> list[Path]:
    return sorted(p for p in cache.glob("*.json") if json.loads(p.read_text())["kind"] == "part")


def test_cache_swapped_pdfs(sample_build, tmp_path):
    def swap(cache):
        a, b = (p.with_suffix(".pdf") for p in _parts(cache)[:2])
        da, db = a.read_bytes(), b.read_bytes()
        a.write_bytes(db)
        b.write_bytes(da)
    proc, _ = _rebuild(sample_build, tmp_path, swap)
    assert proc.stderr.count("is damaged") == 2


def test_cache_truncated_and_flipped_pdf(sample_build, tmp_path):
    def damage(cache):
        a, b = (p.with_suffix(".pdf") for p in _parts(cache)[:2])
        a.write_bytes(a.read_bytes()[:1000])
        data = bytearray(b.read_bytes())
        data[len(data) // 2] ^= 0x01
        b.write_bytes(bytes(data))
    proc, copy = _rebuild(sample_build, tmp_path, damage)
    assert proc.stderr.count("is damaged") == 2
    again = _cli("build", "pdf", "-j", "1", "-m", str(sample_build[0]), "-o", str(copy), "--styles", str(STYLES))
    assert again.returncode == 0 and "damaged" not in again.stderr      # rebuilt, then trusted


def test_cache_record_page_count_off(sample_build, tmp_path):
    def damage(cache):
        meta = _parts(cache)[0]
        record = json.loads(meta.read_text())
        record["count"] += 1
        meta.write_text(json.dumps(record))
    proc, _ = _rebuild(sample_build, tmp_path, damage)
    assert proc.stderr.count("is damaged") == 1


def test_cache_from_another_working_directory(sample_build, tmp_path):
    elsewhere = tmp_path / "a" / "b"
    elsewhere.mkdir(parents=True)
    proc, _ = _rebuild(sample_build, tmp_path, lambda cache: None, cwd=elsewhere)
    assert "damaged" not in proc.stderr


def test_cache_records_are_relative(sample_build):
    _, out = sample_build
    for meta in (out / ".cache" / "layout").glob("*.json"):
        record = json.loads(meta.read_text())
        assert record["pdf"] == meta.with_suffix(".pdf").name


def test_damaged_cover_is_made_again(sample_build, tmp_path):
    from PIL import Image

    def damage(cache):
        for png in cache.parent.glob("cover-*.png"):
            png.write_bytes(png.read_bytes()[:200])
        for folder in cache.parent.glob("epub-*"):      # the EPUB's own cache holds the cover too
            shutil.rmtree(folder)
    root, out = sample_build
    copy = tmp_path / "build"
    shutil.copytree(out, copy)
    damage(copy / ".cache" / "layout")
    proc = _cli("build", "epub", "-m", str(root), "-o", str(copy), "--styles", str(STYLES))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    with zipfile.ZipFile(copy / "sample-book.epub") as z:
        name = next(n for n in z.namelist() if n.endswith(".png") and "cover" in n)
        Image.open(io.BytesIO(z.read(name))).load()
    assert (copy / "sample-book.epub").read_bytes() == (out / "sample-book.epub").read_bytes()


@pytest.mark.parametrize("damage", [
    lambda text: text[: len(text) // 2],
    lambda text: text.replace('"pages": {', '"pages": [', 1),
    lambda text: text.replace('"count": ', '"count": 1', 1),
    lambda text: "[]",
])
def test_damaged_page_map_is_not_used(tmp_path, damage):
    from matbaa.model import PageMap

    pages = PageMap(words=["a", "b"], pages={1: 0, 2: 1}, anchors={"x": 1}, count=2, key="k", html="h")
    path = tmp_path / "p.pages.json"
    pages.save(path)
    assert PageMap.load(path) == pages
    path.write_text(damage(path.read_text()))
    assert PageMap.load(path) is None


# ---------------------------------------------------------------- writing fails

def test_os_error_is_a_message(tmp_path, monkeypatch, capsys):
    import errno

    from matbaa import cli

    def full(*args, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "build" / ".robust.pdf.x1y2.tmp"))

    monkeypatch.setattr(cli, "COMMANDS", {**cli.COMMANDS, "build": full})
    assert cli.main(["build", "pdf"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"matbaa: error: cannot write {tmp_path / 'build' / 'robust.pdf'}: No space left on device"


def test_file_too_large_no_traceback(tmp_path):
    """A disk that fills up (here: a limit on the size of a file): a message, exit 1, the old output kept."""
    import resource
    import signal

    root = _sample(tmp_path)
    out = tmp_path / "build"
    out.mkdir()
    (out / "sample-book.epub").write_bytes(b"the old edition")

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    proc = _cli("build", "epub", "-j", "1", "-m", str(root), "-o", str(out), "--styles", str(STYLES),
                preexec_fn=limit)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"matbaa: error: cannot write into {out}: File too large"
    assert (out / "sample-book.epub").read_bytes() == b"the old edition"


# (A read-only build folder gives the same message, through the same OSError
# path; as root, which CI is, permissions do not stop a write, so the two
# tests above stand for it.)


def test_build_folder_is_a_file(tmp_path):
    root = _sample(tmp_path)
    (tmp_path / "afile").write_text("not a folder")
    proc = _cli("build", "epub", "-m", str(root), "-o", str(tmp_path / "afile"), "--styles", str(STYLES))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert re.fullmatch(rf"matbaa: error: {re.escape(str(tmp_path / 'afile'))}\S*: Not a directory\n", proc.stderr)


def test_cli_deep_nesting_no_traceback(tmp_path):
    root = write_manuscript(tmp_path / "m", BOOK_YAML, {"one.md": "# One\n\n" + _nested_quote(60)})
    proc = _cli("build", "pdf", "epub", "-m", str(root), "-o", str(tmp_path / "build"), "--styles", str(STYLES))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{root / 'chapters' / 'one.md'}:3: D011" in proc.stderr


def test_damaged_print_fingerprint_is_made_again(tmp_path):
    from matbaa.build import FINGERPRINTS, load, print_fingerprint
    from matbaa.model import Corrections

    root = _sample(tmp_path)
    book, _ = load(root, STYLES)
    out = tmp_path / "build"
    first = print_fingerprint(book, STYLES, out, Corrections())
    (kept,) = (out / FINGERPRINTS).iterdir()
    kept.write_text(first[:20] + "\x00garbage")
    assert print_fingerprint(book, STYLES, out, Corrections()) == first
    assert kept.read_text() == first
