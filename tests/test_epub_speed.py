"""The EPUB build's caches (epub/writer.py, build/.cache/epub-<id>/): a cached
build writes the same bytes as an uncached one, and a change to a chapter, the
page map or the styles makes the build render again what it changes.

No WeasyPrint layout here: the page map is written by the test for the text
as it is (its key the layout key, its fingerprint that of the print document
with the map's corrections, as the PDF build saves it), with page breaks, a
forced page end and an unhyphenated word; build.page_map accepts it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest
from conftest import MANUSCRIPT, STYLES
from lxml import etree
from matbaa_dev.bench import make_synthetic

from matbaa import build as build_module
from matbaa.build import build_epub, load, page_map, pages_path
from matbaa.epub import writer as epub_writer
from matbaa.model import Corrections, PageMap
from matbaa.model.words import word_count
from matbaa.render.html import render_print_html
from matbaa.transforms.corrections import apply
from matbaa.typeset.cover import render_cover
from matbaa.typeset.engine import layout_key

CACHE = Path(".cache") / "epub-bench-x2"


def write_page_map(ms: Path, build: Path, styles: Path = STYLES, every: int = 700,
                   forced: tuple[int, ...] = (350,), unhyphenated: tuple[int, ...] = (703,)) -> PageMap:
    """A page map for the manuscript as it is now, as the PDF build saves it:
    a page every `every` words, each part opening a page, one forced page end
    and one word kept whole (both replayed by the EPUB build); keyed by the
    layout key and the print document with those corrections."""
    book, _ = load(ms, styles)
    pages, anchors, page = {}, {}, 1
    for part in book.parts:
        page += 1
        anchors[f"part-{part.index}"] = page
    for k in range(0, word_count(book), every):
        page += 1
        pages[page] = k
    corrections = Corrections(tuple(forced), tuple(unhyphenated))
    html = render_print_html(apply(book, corrections), styles)
    pmap = PageMap(pages=pages, anchors=anchors, count=page, forced=list(forced), unhyphenated=list(unhyphenated),
                   html=hashlib.sha256(html.encode("utf-8")).hexdigest(), key=layout_key(book.meta, styles))
    pmap.save(pages_path(book, build))
    return pmap


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
    shutil.rmtree(build / CACHE)        # keep the cover's and the print fingerprint's own caches only
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
    pages = page_map(book, styles, other)
    book.source_digests = {}                # nothing to key a cache by: everything made
    out = epub_writer.write_epub(book, styles, other, pages, cover=lambda: render_cover(book, styles, other))
    assert not any((other / ".cache").glob("epub-*"))
    return out.read_bytes()


class Calls:
    """Counts what the EPUB build makes rather than takes from its caches: the
    parts' and the other documents' renderings, the archive, the print
    document's renderings (build.page_map's check of the saved map's
    fingerprint) and the layouts (build.page_map laying the book out again)."""

    def __init__(self, monkeypatch):
        self.reset()
        make, render = epub_writer.Parts.make, epub_writer.Documents.render
        archive = epub_writer.archive
        print_html, lay_out = build_module.render_print_html, build_module.lay_out

        def counted_make(parts, part, *a, **k):
            self.parts.append(part.index)
            return make(parts, part, *a, **k)

        def counted_render(docs, template, *a, **k):
            self.docs.append(template)
            return render(docs, template, *a, **k)

        def counted_archive(*a, **k):
            self.archives += 1
            return archive(*a, **k)

        def counted_print(*a, **k):
            self.prints += 1
            return print_html(*a, **k)

        def counted_lay_out(*a, **k):
            self.layouts += 1
            return lay_out(*a, **k)
        monkeypatch.setattr(epub_writer.Parts, "make", counted_make)
        monkeypatch.setattr(epub_writer.Documents, "render", counted_render)
        monkeypatch.setattr(epub_writer, "archive", counted_archive)
        monkeypatch.setattr(build_module, "render_print_html", counted_print)
        monkeypatch.setattr(build_module, "lay_out", counted_lay_out)

    def reset(self):
        self.parts, self.docs, self.archives, self.prints, self.layouts = [], [], 0, 0, 0


def test_cached_build_is_byte_identical(book_dirs, monkeypatch):
    ms, build = book_dirs
    calls = Calls(monkeypatch)
    cold = build_epub(ms, build, STYLES)[0].read_bytes()
    # the book's folder is new (a copy of the seed's): build.page_map checks the
    # saved map's fingerprint once (render_print_html), then keeps it
    assert calls.parts == [1, 2, 3, 4] and calls.archives == 1 and calls.prints == 1 and calls.layouts == 0
    calls.reset()
    warm = build_epub(ms, build, STYLES)[0].read_bytes()
    assert calls.parts == [] and calls.docs == [] and calls.archives == 0    # all from the cache
    assert calls.prints == 0 and calls.layouts == 0
    assert cold == warm == uncached(ms, build)
    # the page map's share of the parts made it in: markers, the kept-whole word
    with zipfile.ZipFile(io.BytesIO(warm)) as z:
        parts = "".join(z.read(f"EPUB/part-{i}.xhtml").decode() for i in range(1, 5))
        nav = z.read("EPUB/nav.xhtml").decode()
    assert parts.count('epub:type="pagebreak"') == nav.count("<li><a href=\"part-") > 10
    assert parts.count('<span class="nohyph">') == 1
    assert "\u00ad" in parts                                    # soft hyphens


def test_archive_comes_from_its_entries(book_dirs, monkeypatch):
    """Without the archive in the cache, the documents from it are zipped again: the same bytes."""
    ms, build = book_dirs
    first = build_epub(ms, build, STYLES)[0].read_bytes()
    kept = list((build / CACHE).glob("epub-*"))
    assert len(kept) == 1 and kept[0].stat().st_size > len(first)    # the archive and its CRC-32
    kept[0].unlink()
    calls = Calls(monkeypatch)
    assert build_epub(ms, build, STYLES)[0].read_bytes() == first
    assert calls.parts == [] and calls.docs == [] and calls.archives == 1


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
    assert calls.parts == [3] and calls.prints == 1 and calls.layouts == 0
    part3 = zipfile.ZipFile(io.BytesIO(again)).read("EPUB/part-3.xhtml").decode()
    assert "mühacirət" in part3.replace("\u00ad", "")
    assert again == uncached(ms, build)


def test_word_count_change_moves_the_markers_of_later_parts(book_dirs, monkeypatch):
    ms, build = book_dirs
    build_epub(ms, build, STYLES)
    calls = Calls(monkeypatch)
    part_2 = sorted(ms.glob("chapters/*--c1.md"))[1]
    again = rebuild_after_edit(ms, build, calls, part_2, " diaspor ", " böyük diaspor ")  # a page every 700 words
    assert calls.parts[0] == 2 and set(calls.parts) <= {2, 3, 4} and calls.layouts == 0
    assert again == uncached(ms, build)


def test_page_map_change(book_dirs, monkeypatch):
    ms, build = book_dirs
    first = build_epub(ms, build, STYLES)[0].read_bytes()
    calls = Calls(monkeypatch)
    write_page_map(ms, build, every=500)
    calls.reset()
    again = build_epub(ms, build, STYLES)[0].read_bytes()
    assert again != first and sorted(calls.parts) == [1, 2, 3, 4]
    assert calls.prints == 0 and calls.layouts == 0   # the same text and corrections: the fingerprint is known
    assert again == uncached(ms, build)


def test_corrections_change(book_dirs, monkeypatch):
    """The PDF kept another word whole (same pages): the parts of both words change."""
    ms, build = book_dirs
    first = build_epub(ms, build, STYLES)[0].read_bytes()
    calls = Calls(monkeypatch)
    write_page_map(ms, build, unhyphenated=(3003,))
    calls.reset()
    again = build_epub(ms, build, STYLES)[0].read_bytes()
    assert again != first and calls.prints == 1 and calls.layouts == 0
    assert 1 in calls.parts and len(calls.parts) == 2
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


def _page_list(epub: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(epub)) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"), etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    return nav.xpath('//x:nav[@epub:type="page-list"]//x:a/text()', namespaces=ns)


@pytest.mark.parametrize("stale", ["html", "key"])
def test_page_map_of_another_layout_is_laid_out_again(book_dirs, monkeypatch, stale):
    """A saved map of another print document (an edit since) or of another
    layout key (a new stylesheet, a new engine): build.page_map lays the book
    as it was read out again (none of the old map's corrections in it), saves
    that map and the EPUB's page-list is its."""
    ms, build = book_dirs
    path = build / "bench-x2.pages.json"
    saved = PageMap.load(path)
    assert saved is not None and saved.pages
    setattr(saved, stale, "0" * 64)
    saved.save(path)
    seen = []

    def lay_out(book, styles, build, jobs=None):
        # the tokens as read: no correction, no marker
        seen.append({c.type for ch in book.chapters for t in ch.tokens for c in t.children or []})
        return types.SimpleNamespace(pages=PageMap(pages={}, anchors={}, html="1" * 64, key="2" * 64))
    monkeypatch.setattr(build_module, "lay_out", lay_out)
    epub = build_epub(ms, build, STYLES)[0].read_bytes()
    assert len(seen) == 1 and seen[0] and not seen[0] & {"forced_break", "nohyph_open", "pagebreak"}
    assert PageMap.load(path).html == "1" * 64                  # the new layout's map, saved
    assert _page_list(epub) == []                               # and the EPUB's
    assert _page_list(uncached(ms, build)) == []


def test_styles_change(book_dirs, tmp_path, monkeypatch):
    """A new EPUB stylesheet (css/: a new layout key too, the PDF built again
    and its map saved): every part rendered again, for every key holds the styles."""
    ms, build = book_dirs
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    build_epub(ms, build, styles)
    calls = Calls(monkeypatch)
    css = styles / "css" / "epub.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    write_page_map(ms, build, styles)
    calls.reset()
    again = build_epub(ms, build, styles)[0].read_bytes()
    assert b"/* changed */" in zipfile.ZipFile(io.BytesIO(again)).read("EPUB/css/epub.css")
    assert sorted(calls.parts) == [1, 2, 3, 4] and calls.layouts == 0
    assert again == uncached(ms, build, styles)


def test_damaged_cache_is_a_miss(book_dirs):
    ms, build = book_dirs
    first = build_epub(ms, build, STYLES)[0].read_bytes()
    cache = build / CACHE
    for f in sorted(cache.iterdir()):
        if f.is_file():
            data = bytearray(f.read_bytes())
            data[len(data) // 2] ^= 0xFF
            f.write_bytes(bytes(data))
    assert build_epub(ms, build, STYLES)[0].read_bytes() == first


def test_cache_holds_one_build(book_dirs):
    ms, build = book_dirs
    build_epub(ms, build, STYLES)
    cache = build / CACHE
    before = {f.name for f in cache.iterdir()}
    write_page_map(ms, build, every=500)
    build_epub(ms, build, STYLES)
    after = {f.name for f in cache.iterdir()}
    assert len(after) <= len(before) + 1
    assert not any(n.startswith(("part-", "epub-")) for n in before & after)  # the old parts and archive are gone


def test_reproducible_across_processes(book_dirs):
    """Same bytes whatever the hash seed and the time zone, cached or not."""
    ms, build = book_dirs
    outs = []
    for seed, tz, fresh in (("0", "UTC", True), ("1", "Asia/Baku", False), ("4242", "America/Los_Angeles", False),
                            ("7", "Pacific/Kiritimati", True)):
        if fresh:
            shutil.rmtree(build / CACHE, ignore_errors=True)
        env = dict(os.environ, PYTHONHASHSEED=seed, TZ=tz)
        subprocess.run([sys.executable, "-m", "matbaa", "build", "epub", "-m", str(ms), "-o", str(build),
                        "--styles", str(STYLES)], check=True, env=env, capture_output=True)
        outs.append((build / "bench-x2.epub").read_bytes())
    assert len(set(outs)) == 1


def test_archive_layout():
    """The OCF container as EPUB readers want it: mimetype first, stored, with no
    extra field (its text at byte 38); then META-INF/container.xml and the rest
    by name, deflated; every entry with the one date; the same bytes each time."""
    rng = random.Random(7)
    members = {"META-INF/container.xml": b"<container/>", "EPUB/a.xhtml": b"<p>a</p>" * 300,
               "EPUB/fonts/x.ttf": bytes(rng.randrange(256) for _ in range(70000)),
               "EPUB/empty.css": b"", "EPUB/\u0259.xhtml": "ə".encode() * 5000}
    when = dt.datetime(2026, 11, 28, 13, 45, 59)
    data = epub_writer.archive(members, when)
    assert data == epub_writer.archive(dict(reversed(members.items())), when)
    assert data[30:38] == b"mimetype" and data[38:58] == b"application/epub+zip"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        assert [i.filename for i in infos] == ["mimetype", "META-INF/container.xml", "EPUB/a.xhtml",
                                               "EPUB/empty.css", "EPUB/fonts/x.ttf", "EPUB/\u0259.xhtml"]
        assert infos[0].compress_type == zipfile.ZIP_STORED and infos[0].extra == b""
        assert {i.compress_type for i in infos[1:]} == {zipfile.ZIP_DEFLATED}
        assert {i.external_attr for i in infos[1:]} == {0o644 << 16}
        assert {i.date_time for i in infos} == {(2026, 11, 28, 13, 45, 58)}    # two seconds' steps
        assert {n: z.read(n) for n in members} == members
    # ZIP dates begin in 1980: an older book's date is dated then, the month and day its own
    with zipfile.ZipFile(io.BytesIO(epub_writer.archive(members, dt.datetime(1975, 5, 6)))) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 5, 6, 0, 0, 0)}
