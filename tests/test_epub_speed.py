"""The EPUB build's caches (writers/epub.py, build/.cache/epub-<id>/): a cached
build writes the same bytes as an uncached one, and a change to a chapter, the
page map or the styles makes the build render again what it changes.

No WeasyPrint layout here: the page map is written by the test for the text
as it is (its fingerprint is that of the print document, as the PDF build
saves it), with page breaks, a forced page end and an unhyphenated word."""
from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import MANUSCRIPT, STYLES
from matbaa import pagemap
from matbaa.bench import make_synthetic
from matbaa.build import build_epub, load
from matbaa.writers import epub as epub_writer


def write_page_map(ms: Path, build: Path, styles: Path = STYLES, every: int = 700,
                   forced: tuple[int, ...] = (350,), unhyphenated: tuple[int, ...] = (703,)) -> dict:
    """A page map for the manuscript as it is now, as the PDF build saves it:
    a page every `every` words, each part opening a page, one forced page end
    and one word kept whole (both replayed by the EPUB build)."""
    from matbaa.writers.html import render_print_html

    book, _ = load(ms, styles)
    words = sum(len(found) for _tok, _owners, found in pagemap._numbered_words(book))
    pages, anchors, page = {}, {}, 1
    for part in book.parts:
        page += 1
        anchors[f"part-{part.index}"] = page
    for k in range(0, words, every):
        page += 1
        pages[page] = k
    forced, unhyphenated = list(forced), list(unhyphenated)
    pagemap.insert_at_words(book, {k: pagemap._forced_break for k in forced}, top_level=True)
    pagemap.wrap_words(book, set(unhyphenated), "nohyph_open", "nohyph_close")
    data = {"pages": pages, "anchors": anchors, "count": page, "forced": forced, "unhyphenated": unhyphenated,
            "words": []}
    build.mkdir(parents=True, exist_ok=True)
    pagemap.save(build / f"{book.id}.pages.json", render_print_html(book, styles), data)
    return data


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """A book of 4 parts (the first book twice), its page map and its cover
    (rasterised once: WeasyPrint is not what is tested here)."""
    root = tmp_path_factory.mktemp("speed")
    ms = root / "ms"
    make_synthetic(MANUSCRIPT, ms, 2)
    build = root / "build"
    write_page_map(ms, build)
    build_epub(ms, build, STYLES)
    shutil.rmtree(build / ".cache" / "epub-bench-x2")      # keep the cover's own cache only
    (build / "bench-x2.epub").unlink()
    return ms, build


@pytest.fixture
def book_dirs(seed, tmp_path):
    ms, build = seed
    shutil.copytree(ms, tmp_path / "ms")
    shutil.copytree(build, tmp_path / "build")
    return tmp_path / "ms", tmp_path / "build"


def uncached(ms: Path, build: Path, styles: Path = STYLES) -> bytes:
    """The EPUB as the writer makes it with no cache at all (into a copy of `build`)."""
    other = build.parent / (build.name + "-uncached")
    if other.exists():
        shutil.rmtree(other)
    shutil.copytree(build, other, ignore=shutil.ignore_patterns("epub-*"))
    book, _ = load(ms, styles)
    del book.source_digests                 # nothing to key a cache by: everything made
    out = epub_writer.write_epub(book, styles, other)
    assert not any((other / ".cache").glob("epub-*"))
    return out.read_bytes()


class Calls:
    """Counts what the EPUB build makes rather than takes from its cache: the
    parts' and the other documents' renderings, the print document's renderings
    (to check the page map's fingerprint), pagemap.compute (the layout)."""

    def __init__(self, monkeypatch):
        from matbaa.writers import html

        self.parts, self.docs, self.prints, self.compute = [], [], 0, 0
        make, render = epub_writer._Parts.make, epub_writer._Docs.render
        compute, print_html = pagemap.compute, html.render_print_html

        def counted_make(parts, part, *a, **k):
            self.parts.append(part.index)
            return make(parts, part, *a, **k)

        def counted_render(docs, template, *a, **k):
            self.docs.append(template)
            return render(docs, template, *a, **k)

        def counted_print(*a, **k):
            self.prints += 1
            return print_html(*a, **k)

        def counted_compute(*a, **k):
            self.compute += 1
            return compute(*a, **k)
        monkeypatch.setattr(epub_writer._Parts, "make", counted_make)
        monkeypatch.setattr(epub_writer._Docs, "render", counted_render)
        monkeypatch.setattr(html, "render_print_html", counted_print)
        monkeypatch.setattr(pagemap, "compute", counted_compute)

    def reset(self):
        self.parts, self.docs, self.prints, self.compute = [], [], 0, 0


def test_cached_build_is_byte_identical(book_dirs, monkeypatch):
    ms, build = book_dirs
    calls = Calls(monkeypatch)
    cold = build_epub(ms, build, STYLES)[0].read_bytes()
    assert calls.parts == [1, 2, 3, 4] and calls.prints == 1 and calls.compute == 0
    calls.reset()
    warm = build_epub(ms, build, STYLES)[0].read_bytes()
    assert calls.parts == [] and calls.docs == [] and calls.prints == 0    # all from the cache
    assert cold == warm == uncached(ms, build)
    # the page map's share of the parts made it in: markers, the kept-whole word
    with zipfile.ZipFile(io.BytesIO(warm)) as z:
        parts = "".join(z.read(f"EPUB/part-{i}.xhtml").decode() for i in range(1, 5))
        nav = z.read("EPUB/nav.xhtml").decode()
    assert parts.count('epub:type="pagebreak"') == nav.count("<li><a href=\"part-") > 10
    assert parts.count('<span class="nohyph">') == 1
    assert "\u00ad" in parts                                    # soft hyphens


def rebuild_after_edit(ms, build, calls, chapter, old: str, new: str, tail: str = "") -> bytes:
    """Change the first `old` of `chapter` into `new` (and append `tail`), make
    the PDF's page map for the new text, and build the EPUB again."""
    text = chapter.read_text(encoding="utf-8")
    assert old in text
    chapter.write_text(text.replace(old, new, 1) + tail, encoding="utf-8")
    write_page_map(ms, build)
    calls.reset()
    return build_epub(ms, build, STYLES)[0].read_bytes()


def test_chapter_change_renders_its_part_again(book_dirs, monkeypatch):
    ms, build = book_dirs
    build_epub(ms, build, STYLES)
    calls = Calls(monkeypatch)
    # a word of part 3 changed for another (the word count, hence the pages of
    # the other parts, unchanged), and the PDF's page map made for the new text
    again = rebuild_after_edit(ms, build, calls, min(ms.glob("chapters/*--c2.md")), " diaspor ", " mühacirət ")
    assert calls.parts == [3] and calls.prints == 1 and calls.compute == 0
    part3 = zipfile.ZipFile(io.BytesIO(again)).read("EPUB/part-3.xhtml").decode()
    assert "mühacirət" in part3.replace("\u00ad", "")
    assert again == uncached(ms, build)


def test_word_count_change_moves_the_markers_of_later_parts(book_dirs, monkeypatch):
    ms, build = book_dirs
    build_epub(ms, build, STYLES)
    calls = Calls(monkeypatch)
    part_2 = sorted(ms.glob("chapters/*--c1.md"))[1]
    again = rebuild_after_edit(ms, build, calls, part_2, " diaspor ", " böyük diaspor ")  # a page every 700 words
    assert calls.parts[0] == 2 and set(calls.parts) <= {2, 3, 4}
    assert again == uncached(ms, build)


def test_page_map_change(book_dirs, monkeypatch):
    ms, build = book_dirs
    first = build_epub(ms, build, STYLES)[0].read_bytes()
    calls = Calls(monkeypatch)
    write_page_map(ms, build, every=500)
    calls.reset()
    again = build_epub(ms, build, STYLES)[0].read_bytes()
    assert again != first and sorted(calls.parts) == [1, 2, 3, 4]
    assert calls.prints == 0                   # the same text: its print fingerprint is known
    assert again == uncached(ms, build)


def test_corrections_change(book_dirs, monkeypatch):
    """The PDF kept another word whole (same pages): the parts of both words change."""
    ms, build = book_dirs
    first = build_epub(ms, build, STYLES)[0].read_bytes()
    calls = Calls(monkeypatch)
    write_page_map(ms, build, unhyphenated=(3003,))
    calls.reset()
    again = build_epub(ms, build, STYLES)[0].read_bytes()
    assert again != first and calls.prints == 1 and 1 in calls.parts and len(calls.parts) == 2
    assert again == uncached(ms, build)


def test_new_glossary_mark_renumbers_the_marks_after_it(book_dirs, monkeypatch):
    """A mark added in part 1 moves the anchors (t-<entry>-<n>) of that entry's
    marks in the later parts: their documents and the glossary are made again."""
    ms, build = book_dirs
    build_epub(ms, build, STYLES)
    calls = Calls(monkeypatch)
    again = rebuild_after_edit(ms, build, calls, min(ms.glob("chapters/*--c1.md")),
                               " diaspor ", " [diaspor]{term=diaspor} ")
    assert calls.parts == [1, 2, 3, 4] and "epub/glossary.xhtml.j2" in calls.docs
    assert again == uncached(ms, build)


def test_new_note_renumbers_the_notes_after_it(book_dirs, monkeypatch):
    ms, build = book_dirs
    build_epub(ms, build, STYLES)
    calls = Calls(monkeypatch)
    again = rebuild_after_edit(ms, build, calls, min(ms.glob("chapters/*--c1.md")),
                               " diaspor ", " diaspor[^added] ", tail="\n[^added]: Əlavə qeyd.\n")
    assert calls.parts == [1, 2, 3, 4]
    assert again == uncached(ms, build)


def test_page_map_of_another_text_goes_to_compute(book_dirs, monkeypatch):
    """A saved map that is not this text's: the paragraphs its corrections were
    put in are restored, and pagemap.compute (which lays the book out) is left
    to decide, as before."""
    ms, build = book_dirs
    path = build / "bench-x2.pages.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["html"] = "0" * 64
    path.write_text(json.dumps(data), encoding="utf-8")
    seen = []

    def compute(book, styles, build):
        # the tokens as read: no correction left behind
        kinds = {c.type for ch in book.chapters for t in ch.tokens for c in t.children or []}
        seen.append(kinds)
        return {"pages": {}, "anchors": {}}
    monkeypatch.setattr(pagemap, "compute", compute)
    build_epub(ms, build, STYLES)
    assert len(seen) == 1 and not seen[0] & {"forced_break", "nohyph_open", "pagebreak"}
    assert not any((build / ".cache" / "epub-bench-x2").glob("part-*"))   # not cached: not the map's text


def test_styles_change(book_dirs, tmp_path, monkeypatch):
    ms, build = book_dirs
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    build_epub(ms, build, styles)
    calls = Calls(monkeypatch)
    css = styles / "css" / "epub.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    again = build_epub(ms, build, styles)[0].read_bytes()
    assert b"/* changed */" in zipfile.ZipFile(io.BytesIO(again)).read("EPUB/css/epub.css")
    assert sorted(calls.parts) == [1, 2, 3, 4]       # every key holds the styles
    assert again == uncached(ms, build, styles)


def test_damaged_cache_is_a_miss(book_dirs):
    ms, build = book_dirs
    first = build_epub(ms, build, STYLES)[0].read_bytes()
    cache = build / ".cache" / "epub-bench-x2"
    for f in sorted(cache.iterdir()):
        if f.is_file():
            data = bytearray(f.read_bytes())
            data[len(data) // 2] ^= 0xFF
            f.write_bytes(bytes(data))
    assert build_epub(ms, build, STYLES)[0].read_bytes() == first


def test_cache_holds_one_build(book_dirs):
    ms, build = book_dirs
    build_epub(ms, build, STYLES)
    cache = build / ".cache" / "epub-bench-x2"
    before = {f.name for f in cache.iterdir()}
    write_page_map(ms, build, every=500)
    build_epub(ms, build, STYLES)
    after = {f.name for f in cache.iterdir()}
    assert len(after) <= len(before) + 1
    assert not any(n.startswith("part-") for n in before & after)  # the old parts are gone


def test_reproducible_across_processes(book_dirs):
    """Same bytes whatever the hash seed and the time zone, cached or not."""
    ms, build = book_dirs
    outs = []
    for seed, tz, fresh in (("0", "UTC", True), ("1", "Asia/Baku", False), ("4242", "America/Los_Angeles", False),
                            ("7", "Pacific/Kiritimati", True)):
        if fresh:
            shutil.rmtree(build / ".cache" / "epub-bench-x2", ignore_errors=True)
        env = dict(os.environ, PYTHONHASHSEED=seed, TZ=tz)
        subprocess.run([sys.executable, "-m", "matbaa", "build", "epub", "-m", str(ms), "-o", str(build),
                        "--styles", str(STYLES)], check=True, env=env, capture_output=True)
        outs.append((build / "bench-x2.epub").read_bytes())
    assert len(set(outs)) == 1


def test_zip_is_what_zipfile_writes():
    """_zip writes byte for byte what zipfile.ZipFile wrote for the same entries."""
    import datetime as dt

    rng = random.Random(7)
    members = {"META-INF/container.xml": b"<container/>", "EPUB/a.xhtml": b"<p>a</p>" * 300,
               "EPUB/fonts/x.ttf": bytes(rng.randrange(256) for _ in range(70000)),
               "EPUB/empty.css": b"", "EPUB/\u0259.xhtml": "ə".encode() * 5000}
    when = dt.datetime(2026, 11, 28, 13, 45, 59)
    packer = epub_writer._Packer(None)
    ours = epub_writer._zip({n: packer.content(d) for n, d in members.items()}, when)
    packer.close()

    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        info = zipfile.ZipInfo("mimetype", stamp)
        info.compress_type = zipfile.ZIP_STORED
        z.writestr(info, b"application/epub+zip")
        for name in ["META-INF/container.xml"] + sorted(n for n in members if n != "META-INF/container.xml"):
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, members[name], compresslevel=9)
    assert ours == out.getvalue()


def test_saved_map_is_read_as_pagemap_reads_it(book_dirs):
    ms, build = book_dirs
    book, _ = load(ms, STYLES)
    store = epub_writer._Store.open(book, STYLES, build)
    path = build / f"{book.id}.pages.json"
    saved = epub_writer._saved_map(path, store)
    full = json.loads(path.read_text(encoding="utf-8"))
    assert list(saved["pages"].items()) == list(full["pages"].items())
    assert {k: full[k] for k in ("anchors", "forced", "html", "unhyphenated")} == {
        k: saved[k] for k in ("anchors", "forced", "html", "unhyphenated")}
    assert epub_writer._saved_map(path, store) == saved          # from the cache, the same
