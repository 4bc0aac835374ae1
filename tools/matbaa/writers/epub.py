"""EPUB 3: one XHTML document per part, plus title page, glossary and licence.

ebooklib makes the package documents (OPF, nav, NCX); the content documents are
our own complete XHTML (Jinja templates).  ebooklib 0.20 writes wall-clock zip
timestamps and no package language, so the archive is ours (`_zip`, byte for
byte what zipfile writes): mimetype first and stored, fixed timestamps, sorted
entries, xml:lang on <package>, our page-list in the nav.

Speed.  An EPUB build after the PDF reads the manuscript and runs the
transforms (build.py), then takes what it can from build/.cache/epub-<id>/
(`_Store`), where each piece is kept under a key of everything it is made of:
the code and the installed distributions, every file of the styles, the
manuscript's files as the reader read them (their SHA-256), the book's folder,
SOURCE_DATE_EPOCH, and for a part its share of the page map (its pages, forced
page ends and unhyphenated words), its notes' numbers and its glossary marks'
anchors.  Kept: each document (deflated, as it goes in the archive), the
package documents, the cover, the words of each paragraph (which part a page
of the map falls in), the fingerprint of the print document (whether the saved
page map is this text's, without rendering the print document again), the
EPUB's share of the saved map, and the other entries deflated, by content.
What is not kept is made as before, the page map's corrections and markers put
in the paragraphs they concern only, and deflated in threads while the next
part is rendered.  A cached build writes the same bytes as an uncached one
(tests/test_epub_speed.py); the files a build did not use are removed.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import os
import re
import struct
import sys
import zlib
from pathlib import Path

from ..files import atomic_path
from ..model import Book
from .common import build_date, common_context, jinja_env

#: a division of one file in the EPUB: (epub:type, ARIA role, landmark); about the
#: author has no term in EPUB's structural semantics nor in DPUB-ARIA
DIVISIONS = {
    "chapter": ("chapter", "doc-chapter", None),
    "dedication": ("dedication", "doc-dedication", "dedication"),
    "foreword": ("foreword", "doc-foreword", "foreword"),
    "preface": ("preface", "doc-preface", "preface"),
    "afterword": ("afterword", "doc-afterword", "afterword"),
    "about-author": (None, None, None),
}
FONT_DIR = "fonts/vollkorn"
FONTS = ["Vollkorn-Regular.ttf", "Vollkorn-Italic.ttf", "Vollkorn-Bold.ttf", "Vollkorn-BoldItalic.ttf"]
MONO_DIR = "fonts/dejavu-sans-mono"   # code (styles/fonts/dejavu-sans-mono/LICENSE.txt)
MONO_FONTS = ["DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"]
FOLDER = "EPUB"
CACHE_FORMAT = "matbaa-epub-cache-1"
ZLIB_LEVEL = 9


def _accessibility(book: Book, has_page_list: bool) -> list[tuple[str, str]]:
    """schema.org accessibility metadata, derived from what the book contains."""
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if has_page_list:
        features += ["pageBreakMarkers", "pageNavigation", "printPageNumbers"]
    summary = ("All content is text, in reading order, with a heading for every part, a navigation "
               "document, footnotes linked to and from their calls, the cover described in its alternative text"
               + (", a glossary linked from the marked terms" if book.glossary else "")
               + (", and the page numbers of the print edition" if has_page_list else "") + ".")
    # the cover is the only image; its text is in the alt text and the title page
    out = [("schema:accessMode", "textual"), ("schema:accessMode", "visual"),
           ("schema:accessModeSufficient", "textual")]
    features.append("alternativeText")
    out += [("schema:accessibilityFeature", f) for f in features]
    out += [("schema:accessibilityHazard", "none"), ("schema:accessibilitySummary", summary)]
    # Claimed because every build is checked by EPUBCheck and Ace (make check, CI)
    # with nothing to report; what no machine can check is stated in the summary.
    out += [("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"),
            ("a11y:certifiedBy", "matbaa build checks (EPUBCheck 5, Ace by DAISY)")]
    return out


# ------------------------------------------------------------------ the cache

def _digest(*parts) -> str:
    """A key from JSON-able parts (lists and dicts in a fixed order: never a set)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _tree_digests(folder: Path, suffixes: tuple[str, ...] | None = None,
                  contents: dict[str, bytes] | None = None) -> dict[str, str]:
    """relative path -> SHA-256 of every file under `folder` (of the given suffixes);
    `contents`, if given, receives the bytes read (relative path -> bytes)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel = os.path.relpath(dirpath, folder).replace(os.sep, "/")
        for name in sorted(filenames):
            if suffixes is None or name.endswith(suffixes):
                data = Path(dirpath, name).read_bytes()
                key = name if rel == "." else f"{rel}/{name}"
                out[key] = hashlib.sha256(data).hexdigest()
                if contents is not None:
                    contents[key] = data
    return out


_CODE: list[str] = []


def _code_digest() -> str:
    """The code that makes the EPUB: matbaa's own sources, the Python, and the
    installed distributions (name and version of each: their code is theirs)."""
    if not _CODE:
        package = Path(__file__).resolve().parent.parent
        dists = set()
        for entry in sys.path:
            try:
                names = os.listdir(entry or ".")
            except OSError:
                continue
            dists.update(n for n in names if n.endswith((".dist-info", ".egg-info")))
        _CODE.append(_digest(CACHE_FORMAT, sys.version, sys.platform, sorted(dists),
                             _tree_digests(package, (".py",))))
    return _CODE[0]


class _Store:
    """build/.cache/epub-<id>/: content-keyed pieces of the EPUB build.

    Every file is written atomically and carries the CRC-32 of its payload
    (checked when read: a damaged file is a miss).  The files this build did not
    use are removed at its end (`prune`), so the folder holds one build's worth."""

    def __init__(self, folder: Path, inputs: str, styles: dict[str, bytes], style_digests: dict[str, str],
                 sources: dict[str, str]):
        self.folder = folder
        self.inputs = inputs            # the key of everything the whole book depends on
        self.styles = styles            # styles file -> its bytes, as hashed into `inputs`
        self.style_digests = style_digests
        self.sources = sources          # manuscript file -> SHA-256 (the reader's)
        self.used: set[str] = set()

    @classmethod
    def open(cls, book: Book, styles: Path, build: Path) -> _Store | None:
        sources = getattr(book, "source_digests", None)
        if not sources:
            return None         # a book not read by reader.read_book: nothing to key by
        chapters = {str(book.root / c.path) for c in book.chapters}
        contents: dict[str, bytes] = {}
        style_digests = _tree_digests(styles, contents=contents)
        inputs = _digest(_code_digest(), style_digests, str(Path(book.root).resolve()),
                         {k: v for k, v in sorted(sources.items()) if k not in chapters},
                         os.environ.get("SOURCE_DATE_EPOCH", ""))
        return cls(Path(build) / ".cache" / f"epub-{book.id}", inputs, contents, style_digests, sources)

    def style(self, styles: Path, rel: str) -> bytes:
        """A styles file: the bytes the key was made of."""
        data = self.styles.get(rel)
        return data if data is not None else (styles / rel).read_bytes()

    def key(self, *parts) -> str:
        return _digest(self.inputs, *parts)

    def get(self, name: str) -> bytes | None:
        self.used.add(name)
        try:
            data = (self.folder / name).read_bytes()
        except OSError:
            return None
        if len(data) < 4 or zlib.crc32(data[4:]).to_bytes(4, "little") != data[:4]:
            return None
        return data[4:]

    def put(self, name: str, payload: bytes) -> None:
        self.used.add(name)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.folder / name) as tmp:
                tmp.write_bytes(zlib.crc32(payload).to_bytes(4, "little") + payload)
        except OSError:
            pass                # a cache that cannot be written is only slower

    def get_json(self, name: str):
        data = self.get(name)
        return None if data is None else json.loads(data)

    def put_json(self, name: str, value, sort_keys: bool = True) -> None:
        self.put(name, json.dumps(value, ensure_ascii=False, sort_keys=sort_keys).encode("utf-8"))

    def prune(self) -> None:
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        for name in names:
            if name not in self.used and not name.startswith("."):
                try:
                    (self.folder / name).unlink()
                except OSError:
                    pass


# ------------------------------------------------------------------ the page map

def _page_map(book: Book, styles: Path, build: Path, store: _Store | None, words: _Words):
    """The page map; whether the corrections it records (forced page ends,
    unhyphenated words) are already in the book's tokens; and whether the tokens
    are those the saved map describes (not so when pagemap.compute had to lay
    the book out anew: then no part's document is taken from the cache or put in it).

    What pagemap.compute does, with the same functions, but cheaper: the saved
    map is the PDF's when the fingerprint of the print document (the book with
    the map's corrections) is the map's.  That fingerprint is cached under a key
    of everything the print document depends on (the book's text, the code, the
    styles, the corrections): when it is known, the corrections are left to the
    parts that are rendered (`_Parts`).  Else the corrections are put in the
    paragraphs they concern only (compute walks every word of the book for
    each), and the print document rendered; when the map is not the book's,
    the paragraphs are put back as they were and compute lays the book out."""
    path = Path(build) / f"{book.id}.pages.json"
    payload = _saved_map(path, store) if store is not None else None
    if isinstance(payload, dict) and isinstance(payload.get("pages"), dict):
        forced, unhyphenated = payload.get("forced", []), payload.get("unhyphenated", [])
        key = "print-" + store.key("print-fingerprint", [store.sources.get(str(book.root / c.path))
                                                          for c in book.chapters], forced, unhyphenated)
        cached = store.get(key)
        fits = bool(payload.get("html")) and cached is not None and cached.decode("ascii") == payload["html"]
        corrected = False
        if not fits and payload.get("html"):
            from .. import pagemap
            from .html import render_print_html

            undo = words.correct(forced, unhyphenated)
            corrected = True
            fits = pagemap.fingerprint(render_print_html(book, styles)) == payload["html"]
            if fits:
                store.put(key, payload["html"].encode("ascii"))
            else:
                for tok, children in undo:
                    tok.children = children
        if fits:
            payload["pages"] = {int(k): v for k, v in payload["pages"].items()}     # as pagemap.load
            return payload, corrected, True
    from .. import pagemap

    data = pagemap.compute(book, styles, build)
    words.forget()
    return data, True, False


# what the EPUB reads of a saved page map (the rest, every word of the book, is the PDF's)
_MAP_KEYS = ("anchors", "forced", "html", "pages", "unhyphenated")


def _saved_map(path: Path, store: _Store) -> dict | None:
    """The saved page map's keys the EPUB uses; cached by the file's SHA-256
    (the whole map of a long book is megabytes of JSON)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    key = "map-" + hashlib.sha256(raw).hexdigest()
    data = store.get_json(key)
    if data is None:
        try:
            full = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(full, dict):
            return None
        data = {k: full[k] for k in _MAP_KEYS if k in full}
        store.put_json(key, data, sort_keys=False)       # the map's own order (of its pages)
    return data


class _Paragraph:
    """One paragraph as a chapter, for pagemap's word-indexed functions (which
    count the words from the first paragraph of the chapters they are given)."""

    def __init__(self, tok):
        self.tokens = [tok]


class _Words:
    """The book's paragraphs of running text with the index of their first word,
    as pagemap numbers the words (the page map's word indexes)."""

    def __init__(self, book: Book, store: _Store | None):
        self.book = book
        chapters = book.chapters
        keys = known = None
        counts = None
        if store is not None:
            keys = [store.key("words", store.sources.get(str(book.root / c.path))) for c in chapters]
            known = store.get_json("words.json") or {}
            counts = [known.get(k) for k in keys]
        if counts is None or None in counts:
            counts = [n if n is not None else _paragraph_words(c)
                      for n, c in zip(counts or [None] * len(chapters), chapters)]
            if store is not None:
                store.put_json("words.json", dict(zip(keys, counts)))
        self.counts = counts            # per chapter, the words of each of its paragraphs
        self.chapter_words = [sum(c) for c in counts]
        self._paragraphs = None

    def paragraphs(self) -> tuple[list, list[int]]:
        """The paragraphs' inline tokens and their first words' indexes."""
        if self._paragraphs is None:
            toks, starts, k = [], [], 0
            for chapter, counts in zip(self.book.chapters, self.counts):
                inline = [t for t in chapter.tokens if t.type == "inline" and t.children]
                if len(inline) != len(counts):          # not the text counted: count again
                    counts = _paragraph_words(chapter)
                for tok, n in zip(inline, counts):
                    toks.append(tok)
                    starts.append(k)
                    k += n
            self._paragraphs = (toks, starts)
        return self._paragraphs

    def forget(self) -> None:
        """The tokens were replaced (pagemap.compute laid the book out): find them again."""
        self._paragraphs = None

    def by_paragraph(self, indexes) -> dict[int, list[tuple[int, int]]]:
        """Word indexes -> {paragraph: [(index counted from its first word, index)]}."""
        _toks, starts = self.paragraphs()
        out: dict[int, list[tuple[int, int]]] = {}
        for k in indexes:
            i = bisect.bisect_right(starts, k) - 1
            if i >= 0:
                out.setdefault(i, []).append((k - starts[i], k))
        return out

    def insert(self, wanted: dict, top_level: bool = False) -> None:
        """pagemap.insert_at_words, in the paragraphs concerned only."""
        from .. import pagemap

        toks, _ = self.paragraphs()
        for i, ks in self.by_paragraph(wanted).items():
            pagemap.insert_at_words(_View([_Paragraph(toks[i])]), {rel: wanted[k] for rel, k in ks},
                                    top_level=top_level)

    def wrap(self, indexes) -> None:
        """pagemap.wrap_words for the unhyphenated words, in their paragraphs only."""
        from .. import pagemap

        toks, _ = self.paragraphs()
        for i, ks in self.by_paragraph(indexes).items():
            pagemap.wrap_words(_View([_Paragraph(toks[i])]), {rel for rel, _ in ks}, "nohyph_open", "nohyph_close")

    def mark(self, pages: dict[int, int]) -> None:
        """pagemap.mark_pages (page -> word index), in the paragraphs concerned only."""
        from .. import pagemap

        toks, starts = self.paragraphs()
        local: dict[int, dict[int, int]] = {}
        for page, k in pages.items():
            i = bisect.bisect_right(starts, k) - 1
            if i >= 0:
                local.setdefault(i, {})[page] = k - starts[i]
        for i, share in local.items():
            pagemap.mark_pages(_View([_Paragraph(toks[i])]), share)

    def correct(self, forced, unhyphenated) -> list:
        """Put the page map's corrections in the paragraphs they concern, as
        pagemap.compute does; returns what undoes it: [(token, its children before)]."""
        from .. import pagemap

        toks, _ = self.paragraphs()
        undo = [(toks[i], toks[i].children) for i in self.by_paragraph(list(forced) + list(unhyphenated))]
        if forced:
            self.insert({k: pagemap._forced_break for k in forced}, top_level=True)
        if unhyphenated:
            self.wrap(unhyphenated)
        return undo


class _View:
    """Some chapters of the book, for pagemap's word-indexed functions."""

    def __init__(self, chapters):
        self.chapters = chapters


def _paragraph_words(chapter) -> list[int]:
    """How many words pagemap counts in each paragraph of the chapter (words.count)."""
    from ..words import count

    return [count(tok.children) for tok in chapter.tokens if tok.type == "inline" and tok.children]


# ------------------------------------------------------------------ the entries

class _Entry:
    """A member of the archive: its size, CRC-32 and deflated bytes (a future
    while a thread deflates them)."""

    __slots__ = ("_body", "crc", "size")

    def __init__(self, size: int, crc: int, body):
        self.size, self.crc, self._body = size, crc, body

    @property
    def body(self) -> bytes:
        if not isinstance(self._body, bytes):
            self._body = self._body.result()
        return self._body

    def record(self, head: dict | None = None) -> bytes:
        """The entry as the store keeps it: a JSON line (size, CRC, `head`), the deflated bytes."""
        meta = dict(head or {}, size=self.size, crc=self.crc)
        return json.dumps(meta, sort_keys=True).encode("ascii") + b"\n" + self.body

    @classmethod
    def from_record(cls, record: bytes | None) -> tuple[_Entry | None, dict]:
        if record is None:
            return None, {}
        line, _, body = record.partition(b"\n")
        meta = json.loads(line)
        return cls(meta["size"], meta["crc"], body), meta


def _deflate(data: bytes) -> bytes:
    """What zipfile writes for ZIP_DEFLATED at ZLIB_LEVEL (a raw deflate stream)."""
    c = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


class _Packer:
    """Makes entries: from the store when it holds them, else deflated (large
    ones in threads, while the main thread renders: zlib lets go of the GIL)
    and put in the store when the build ends."""

    def __init__(self, store: _Store | None):
        self.store = store
        self._pool = None
        self._pending: list[tuple[str, _Entry, dict | None]] = []

    def deflate(self, data: bytes, key: str | None = None, head: dict | None = None) -> _Entry:
        if len(data) >= 32 * 1024 and (os.cpu_count() or 1) > 1:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(min(4, os.cpu_count() or 1))
            body = self._pool.submit(_deflate, data)
        else:
            body = _deflate(data)
        entry = _Entry(len(data), zlib.crc32(data), body)
        if key is not None and self.store is not None:
            self._pending.append((key, entry, head))
        return entry

    def content(self, data: bytes, digest: str | None = None) -> _Entry:
        """An entry keyed by its content's SHA-256 (`digest`, when it is known)."""
        if self.store is None or len(data) <= 512:
            return self.deflate(data)
        key = "z-" + (digest or hashlib.sha256(data).hexdigest())
        entry, _ = _Entry.from_record(self.store.get(key))
        return entry if entry is not None else self.deflate(data, key)

    def cached(self, key: str) -> tuple[_Entry | None, dict]:
        """The entry (and the head it was stored with) under `key`, if the store has it."""
        return _Entry.from_record(None if self.store is None else self.store.get(key))

    def store_made(self) -> None:
        """Put what was made in the store."""
        for key, entry, head in self._pending:
            self.store.put(key, entry.record(head))
        self._pending = []

    def close(self) -> None:
        """End the threads."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


# ------------------------------------------------------------------ the documents

class _Docs:
    """The XHTML documents, rendered (jinja2 imported, the templates compiled)
    only for those the store does not hold."""

    def __init__(self, book: Book, styles: Path, packer: _Packer):
        self.book, self.styles, self.packer = book, styles, packer
        self.store = packer.store
        self._env = self._ctx = None

    def render(self, template: str, title: str, **extra) -> bytes:
        if self._env is None:
            self._env = jinja_env(self.styles)
            if self.store is not None:
                import jinja2

                (self.store.folder / ".jinja").mkdir(parents=True, exist_ok=True)
                self._env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(self.store.folder / ".jinja"))
            self._ctx = common_context(self.book)
        html = self._env.get_template(template).render(doc_title=title, body_type=extra.pop("body_type", ""),
                                                       **self._ctx, **extra)
        return html.encode("utf-8")

    def get(self, name: str, key_parts: tuple, make) -> _Entry:
        key = None
        if self.store is not None:
            key = f"doc-{name}-" + self.store.key("doc", name, *key_parts)
            entry, _ = self.packer.cached(key)
            if entry is not None:
                return entry
        return self.packer.deflate(make(), key)


class _Parts:
    """Each part's document: the page-break markers of its pages, soft hyphens,
    the renderer and the template, for the parts the store does not hold."""

    def __init__(self, book: Book, styles: Path, docs: _Docs, words: _Words, corrected: bool):
        self.book, self.styles, self.docs, self.words = book, styles, docs, words
        self.corrected = corrected          # the corrections are in the tokens already
        self._renderer = None
        self._hyphenate = None

    def _soft_hyphens(self, tokens_lists) -> None:
        book = self.book
        if book.lang.split("-")[0].lower() != "az":
            return
        if self._hyphenate is None:
            # reading systems have no Azerbaijani patterns: soft hyphens from ours
            from ..hyphenation import register, soft_hyphenate

            register((book.meta.get("hyphenation") or {}).get("exceptions") or (), styles=self.styles)
            self._hyphenate = soft_hyphenate
        for tokens in tokens_lists:
            for tok in tokens:
                for child in (tok.children or []) if tok.type == "inline" else []:
                    if child.type == "text":
                        child.content = self._hyphenate(child.content)

    def make(self, part, pages: dict[int, int], forced: list[int], unhyphenated: list[int],
             notes: list, opening: int | None) -> tuple[bytes, list[int]]:
        """The part's XHTML, and the pages of its markers in reading order.
        `pages` (page -> word), `forced`, `unhyphenated`: the page map's word
        indexes that fall in the part."""
        if not self.corrected:              # as pagemap.compute does for the whole book
            self.words.correct(forced, unhyphenated)
        self.words.mark(pages)
        self._soft_hyphens([c.tokens for c in part.chapters] + [n.tokens for n in notes])
        if self._renderer is None:
            from .render import BookRenderer

            self._renderer = BookRenderer(self.book, "epub", glossary_href="glossary.xhtml",
                                          bibliography_href="bibliography.xhtml")
        renderer = self._renderer
        chapters = [{"title": c.title, "anchor": c.anchor, "title_id": c.title_id, "html": renderer.body(c.tokens)}
                    for c in part.chapters]
        notes_html = "\n".join(renderer.note_body(n) for n in notes)
        kind_type, role, _landmark = DIVISIONS.get(part.kind, (None, None, None))
        html = self.docs.render("epub/part.xhtml.j2", part.title, body_type=part.matter,
                                part={"anchor": part.anchor, "title": part.title, "page": opening,
                                      "kind": part.kind, "title_id": part.title_id, "type": kind_type, "role": role},
                                chapters=chapters, notes=notes_html)
        here = [opening] if opening else []
        here += [t.meta["page"] for c in part.chapters for tok in c.tokens if tok.type == "inline"
                 for t in tok.children or [] if t.type == "pagebreak"]
        return html, here


# ------------------------------------------------------------------ the build

def write_epub(book: Book, styles: Path, build: Path) -> Path:
    styles, build = Path(styles), Path(build)
    store = _Store.open(book, styles, build)
    packer = _Packer(store)
    try:
        target = _write(book, styles, build, store, packer)
        packer.store_made()
    finally:
        packer.close()
    if store is not None:
        store.prune()
    return target


def _write(book: Book, styles: Path, build: Path, store: _Store | None, packer: _Packer) -> Path:
    # Page-list: where each page of our own PDF begins (pagemap.py).
    words = _Words(book, store)
    pmap, corrected, as_saved = _page_map(book, styles, build, store, words)
    anchors = pmap["anchors"]
    body_pages = dict(pmap["pages"])
    part_pages = {}                       # a part's opening page: marker before its title
    for part in book.parts:
        page = anchors.get(f"part-{part.index}")
        if page is not None:
            part_pages[part.index] = page
            body_pages.pop(page, None)
    front_pages = [(anchors[a], a) for a in ("half-title", "title-page", "imprint") if a in anchors]
    gloss_pages = {}                      # first glossary entry (or the section) on each page
    if "glossary" in anchors:
        gloss_pages[anchors["glossary"]] = "glossary"
        for entry in book.glossary:
            page = anchors.get(f"gl-{entry.id}")
            if page is not None:
                gloss_pages.setdefault(page, f"gl-{entry.id}")
        if "glossary-reverse" in anchors:
            gloss_pages.setdefault(anchors["glossary-reverse"], "glossary-reverse")
    bib_pages = {}                        # first bibliography entry (or the section) on each page
    if "bibliography" in anchors:
        from .render import ref_id

        bib_pages[anchors["bibliography"]] = "bibliography"
        for key, _html in book.bibliography:
            page = anchors.get(ref_id(key))
            if page is not None:
                bib_pages.setdefault(page, ref_id(key))
    placed: list[tuple[int, str]] = []    # (page, file) in reading order, for the nav's page-list
    has_page_list = bool(pmap["pages"])

    labels = book.labels
    meta = book.meta
    docs = _Docs(book, styles, packer)
    items: list[dict] = []                # in ebooklib's order: the manifest's

    def item(uid: str, file_name: str, media_type: str, entry: _Entry, **extra) -> dict:
        items.append(dict(uid=uid, file_name=file_name, media_type=media_type, entry=entry, **extra))
        return items[-1]

    # -- resources
    def resource(rel: str) -> _Entry:
        if store is None:
            return packer.content((styles / rel).read_bytes())
        return packer.content(store.style(styles, rel), store.style_digests.get(rel))
    item("css", "css/epub.css", "text/css", resource("css/epub.css"))
    # Pandoc's list numbering, the print edition's file too (print.css imports it);
    # keyed, like every styles file, by its content (_Store.open)
    item("css-lists", "css/lists.css", "text/css", resource("css/lists.css"))
    for i, name in enumerate(FONTS):
        item(f"font{i}", f"fonts/{name}", "font/ttf", resource(f"{FONT_DIR}/{name}"))
    for i, name in enumerate(MONO_FONTS):
        item(f"font-mono{i}", f"fonts/{name}", "font/ttf", resource(f"{MONO_DIR}/{name}"))
    # the book's images, named by their content (reader._check_image, render.py)
    from ..mdext.blocks import book_images
    for media, (path, media_type) in book_images(book).items():
        item(f"img-{media.split('.')[0]}", f"media/{media}", media_type, packer.content(Path(path).read_bytes()))
    item("cover-image", "images/cover.png", "image/png", packer.content(_cover_png(book, styles, build, store)),
         properties=["cover-image"])

    # -- the documents
    item("cover", "cover.xhtml", "application/xhtml+xml", docs.get(
        "cover", (), lambda: docs.render("epub/cover.xhtml.j2", labels["cover"], body_type="cover")))
    front = {a: p for p, a in front_pages}
    item("titlepage", "titlepage.xhtml", "application/xhtml+xml", docs.get(
        "titlepage", (front,), lambda: docs.render("epub/titlepage.xhtml.j2", meta["title"],
                                                    body_type="frontmatter", front_pages=front)))
    placed += [(p, "titlepage.xhtml") for p, _ in sorted(front_pages)]

    glossary_file = "glossary.xhtml"
    parts_by_index = {}
    mark_href: dict[str, str] = {}
    marks_of: dict[int, list] = {}        # part index -> its marks, and its notes
    for entry in book.glossary:
        for mark in entry.marks:
            marks_of.setdefault(mark.part_index, []).append(mark)
    notes_of: dict[int, list] = {}
    for n in book.notes.values():
        if n.number:
            notes_of.setdefault(n.part_index, []).append(n)
    # each part's share of the page map (its words: from `starts[i]` to the next part's)
    starts, k, chapter_number = [], 0, 0
    for part in book.parts:
        starts.append(k)
        k += sum(words.chapter_words[chapter_number:chapter_number + len(part.chapters)])
        chapter_number += len(part.chapters)
    total = k

    def owner(k: int) -> int | None:
        return bisect.bisect_right(starts, k) - 1 if 0 <= k < total else None
    share_pages: list[dict[int, int]] = [{} for _ in book.parts]
    for page, k in body_pages.items():    # in the map's order, as mark_pages takes them
        if owner(k) is not None:
            share_pages[owner(k)][page] = k
    share_forced: list[list[int]] = [[] for _ in book.parts]
    share_unhyphenated: list[list[int]] = [[] for _ in book.parts]
    for indexes, share in ((pmap.get("forced", []), share_forced),
                           (pmap.get("unhyphenated", []), share_unhyphenated)):
        for k in sorted(indexes):
            if owner(k) is not None:
                share[owner(k)].append(k)
    parts = _Parts(book, styles, docs, words, corrected)
    part_docs = []
    for i, part in enumerate(book.parts):
        file_name = f"part-{part.index}.xhtml"
        part.anchor = f"part-{part.index}"
        for n, chapter in enumerate(part.chapters, 1):
            chapter.anchor = f"ch-{part.index}-{n}"
        notes = sorted(notes_of.get(part.index, []), key=lambda n: n.number)
        opening = part_pages.get(part.index)
        for mark in marks_of.get(part.index, []):
            mark_href[mark.anchor] = file_name
        parts_by_index[part.index] = part
        key, entry, head = None, None, {}
        if store is not None and as_saved:
            # everything the part's document is made of
            key = "part-" + store.key(
                "part", part.index, part.title,
                [[str(c.path), store.sources.get(str(book.root / c.path))] for c in part.chapters],
                list(book_images(book, part)),
                [[page, k - starts[i]] for page, k in share_pages[i].items()],
                [k - starts[i] for k in share_forced[i]], [k - starts[i] for k in share_unhyphenated[i]], opening,
                [[n.id, n.number, n.call_id, store.sources.get(str(n.location.file))] for n in notes],
                [[m.anchor, m.entry_id] for m in marks_of.get(part.index, [])],
                _structure_key(book, part, notes))
            entry, head = packer.cached(key)
        if entry is None:
            html, here = parts.make(part, share_pages[i], share_forced[i], share_unhyphenated[i], notes, opening)
            head = {"here": here}
            entry = packer.deflate(html, key, head)
        part_docs.append((part, item(f"part{part.index}", file_name, "application/xhtml+xml", entry)))
        placed += [(p, file_name) for p in head["here"]]

    bib_doc = None
    if book.bibliography:
        bib_at = {a: p for p, a in bib_pages.items()}
        bib_doc = item("bibliography", "bibliography.xhtml", "application/xhtml+xml", docs.get(
            "bibliography", (book.bibliography, sorted(bib_at.items())),
            lambda: docs.render("epub/bibliography.xhtml.j2", labels["bibliography"], body_type="backmatter",
                                page_at=bib_at)))
        placed += [(p, "bibliography.xhtml") for p in sorted(bib_pages)]

    gloss_doc = None
    if book.glossary:
        page_at = {a: p for p, a in gloss_pages.items()}
        marks = [[e.id, [[m.anchor, m.text, m.part_index] for m in e.marks]] for e in book.glossary]
        gloss_doc = item("glossary", glossary_file, "application/xhtml+xml", docs.get(
            "glossary", (sorted(mark_href.items()), sorted(page_at.items()), marks),
            lambda: docs.render("epub/glossary.xhtml.j2", labels["glossary"], body_type="backmatter",
                                mark_href=mark_href, parts_by_index=parts_by_index, page_at=page_at)))
        placed += [(p, glossary_file) for p in sorted(gloss_pages)]
    item("licence", "licence.xhtml", "application/xhtml+xml", docs.get(
        "licence", (), lambda: docs.render(
            "epub/licence.xhtml.j2", "SIL Open Font License 1.1", body_type="backmatter",
            licence=_text((styles / FONT_DIR / "OFL.txt").read_bytes() if store is None
                          else store.style(styles, f"{FONT_DIR}/OFL.txt")),
            mono_licence=_text((styles / MONO_DIR / "LICENSE.txt").read_bytes() if store is None
                               else store.style(styles, f"{MONO_DIR}/LICENSE.txt")))))

    # -- the package documents (OPF, nav, NCX) by ebooklib
    when = build_date(book)
    package = key = None
    if store is not None:
        key = "package-" + store.key("package", has_page_list, _nav_outline(book), bib_doc is not None)
        package = store.get_json(key)
    if package is None:
        package = _package(book, items, part_docs, gloss_doc, has_page_list, when, bib_doc)
        if store is not None:
            store.put_json(key, package)
    package = _complete_package(package, book.lang, _page_list_nav(placed, labels))

    members = {f"{FOLDER}/{it['file_name']}": it["entry"] for it in items}
    members.update({name: packer.content(data) for name, data in package.items()})
    data = _zip(members, when)
    target = build / f"{book.id}.epub"
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def _text(data: bytes) -> str:
    """bytes as Path.read_text(encoding="utf-8") gives them (universal newlines)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _cover_png(book: Book, styles: Path, build: Path, store: _Store | None) -> bytes:
    """The cover image (writers/cover.py, which imports WeasyPrint when it has
    to rasterise); under the book's inputs key it is not even looked for there."""
    def make() -> bytes:
        from .cover import render_cover

        return render_cover(book, styles, build)
    if store is None:
        return make()
    key = "cover-" + store.key("cover.png")
    png = store.get(key)
    if png is None:
        png = make()
        store.put(key, png)
    return png


def _package(book: Book, items: list[dict], part_docs, gloss_doc, has_page_list: bool,
             when: dt.datetime, bib_doc=None) -> dict[str, str]:
    """ebooklib's entries besides our items: META-INF/container.xml, the OPF, the
    nav and the NCX, as ebooklib writes them (before `_complete_package`).  They
    depend on the items' names and types, not on their content."""
    from ebooklib import epub

    labels = book.labels
    meta = book.meta
    e = epub.EpubBook()
    e.FOLDER_NAME = FOLDER

    # -- metadata
    e.set_identifier(meta["identifier"])
    e.set_title(meta["title"])
    e.set_language(book.lang)
    if meta.get("subtitle"):
        e.add_metadata("DC", "title", meta["subtitle"], {"id": "subtitle"})
        e.add_metadata(None, "meta", "subtitle", {"refines": "#subtitle", "property": "title-type"})
    for i, person in enumerate(meta.get("author") or [], 1):
        e.add_author(person["name"], role=person.get("role", "aut"), uid=f"creator{i}")
    for i, person in enumerate(meta.get("editor") or [], 1):
        e.add_metadata("DC", "contributor", person["name"], {"id": f"contributor{i}"})
        e.add_metadata(None, "meta", person.get("role", "edt"),
                       {"refines": f"#contributor{i}", "property": "role", "scheme": "marc:relators"})
    for key in ("publisher", "rights", "description", "subject"):
        if meta.get(key):
            e.add_metadata("DC", key, meta[key])
    e.add_metadata("DC", "date", meta["date"])
    if meta.get("source"):
        e.add_metadata("DC", "source", meta["source"]["title"])
    if meta.get("series"):
        e.add_metadata(None, "meta", meta["series"], {"property": "belongs-to-collection", "id": "series"})
        e.add_metadata(None, "meta", "series", {"refines": "#series", "property": "collection-type"})
    for prop, value in _accessibility(book, has_page_list=has_page_list):
        e.add_metadata(None, "meta", value, {"property": prop})
    if has_page_list:
        e.add_metadata(None, "meta", print_identifier(book), {"property": "pageBreakSource"})

    # -- the items, in our order
    made = {}
    for it in items:
        made[it["uid"]] = x = epub.EpubItem(uid=it["uid"], file_name=it["file_name"], media_type=it["media_type"],
                                            content=b"")
        e.add_item(x)
        if it.get("properties"):
            x.properties = list(it["properties"])

    # -- navigation
    nav = epub.EpubNav(uid="nav", file_name="nav.xhtml", title=labels["contents"])
    nav.add_link(href="css/epub.css", rel="stylesheet", type="text/css")
    e.add_item(nav)
    e.add_item(epub.EpubNcx())
    toc = [epub.Link("titlepage.xhtml", meta["title"], "toc-title")]

    def nested(entries):
        out = []
        for title, href, uid, children in entries:
            link = epub.Link(href, title, uid)
            out.append((link, nested(children)) if children else link)
        return out
    toc += nested(_nav_outline(book))
    if bib_doc is not None:
        toc.append(epub.Link(bib_doc["file_name"], labels["bibliography"], "toc-bibliography"))
    if gloss_doc is not None:
        toc.append(epub.Link(gloss_doc["file_name"], labels["glossary"], "toc-glossary"))
    e.toc = toc
    body = next((p, it) for p, it in part_docs if p.kind in ("part", "chapter"))
    e.guide = [
        {"href": "cover.xhtml", "title": labels["cover"], "type": "cover"},
        {"href": "titlepage.xhtml", "title": labels["title_page"], "type": "titlepage"},
        {"href": "nav.xhtml", "title": labels["contents"], "type": "toc"},
    ]
    for part, it in part_docs:
        landmark = DIVISIONS.get(part.kind, (None, None, None))[2]
        if landmark and part.kind in ("dedication", "foreword", "preface"):
            e.guide.append({"href": it["file_name"], "title": part.title, "type": landmark})
    e.guide.append({"href": body[1]["file_name"], "title": body[0].title, "type": "bodymatter"})
    for part, it in part_docs:
        landmark = DIVISIONS.get(part.kind, (None, None, None))[2]
        if landmark and part.kind == "afterword":
            e.guide.append({"href": it["file_name"], "title": part.title, "type": landmark})
    if bib_doc is not None:
        e.guide.append({"href": bib_doc["file_name"], "title": labels["bibliography"], "type": "bibliography"})
    if gloss_doc is not None:
        e.guide.append({"href": gloss_doc["file_name"], "title": labels["glossary"], "type": "glossary"})
    e.spine = ([made["cover"], made["titlepage"], nav] + [made[it["uid"]] for _, it in part_docs]
               + ([made["bibliography"]] if bib_doc is not None else [])
               + ([made["glossary"]] if gloss_doc is not None else []))
    e.spine.append((made["licence"], "no"))

    # ebooklib's own page-list lists every element with epub:type and id (noterefs
    # too): off; ours is added to the nav by _complete_package.  Its zip is not
    # made: the writer's `out` only collects what it would write.
    class Collect:
        def __init__(self):
            self.entries: dict[str, bytes] = {}

        def writestr(self, name, data, compress_type=None):
            self.entries[name] = data.encode("utf-8") if isinstance(data, str) else bytes(data)

    writer = epub.EpubWriter("", e, {"epub3_pages": False, "mtime": when, "landmark_title": labels["landmarks"],
                                     "raise_exceptions": True})
    writer.process()
    writer.out = out = Collect()
    writer.out.writestr("mimetype", "application/epub+zip")
    writer._write_container()
    writer._write_opf()
    writer._write_items()
    ours = {f"{FOLDER}/{it['file_name']}" for it in items} | {"mimetype"}
    return {name: data.decode("utf-8") for name, data in out.entries.items() if name not in ours}


def _structure_key(book: Book, part, notes) -> list:
    """What a part's document takes from the rest of the book (transforms.structure):
    its kind and ids (made ids depend on the other chapters' headings) and the
    file of every id its links go to."""
    toks = [t for c in part.chapters for t in c.tokens] + [t for n in notes for t in n.tokens]
    targets = sorted({c.meta["target"] for t in toks for c in t.children or [] if c.meta.get("target")})
    return [part.kind, part.title_id, [[c.title_id, [h.id for h in c.headings]] for c in part.chapters],
            [[t, book.ids.get(t, 0)] for t in targets]]


def _nav_outline(book: Book) -> list:
    """The nav's entries below the title page: [title, href, uid, children] for
    every division, its chapters (titled) and their headings to book.yaml
    `toc-depth` (as the printed contents, writers/html.toc_entries), nested."""
    depth = book.meta.get("toc-depth") or 1
    out = []
    for part in book.parts:
        file = f"part-{part.index}.xhtml"

        def headings(ch, file=file):
            stack: list = [[0, []]]
            for h in ch.headings:
                if h.level > depth or not h.id or not h.text:
                    continue
                while len(stack) > 1 and stack[-1][0] >= h.level:
                    stack.pop()
                entry = [h.text, f"{file}#{h.id}", f"toc-{h.id}", []]
                stack[-1][1].append(entry)
                stack.append([h.level, entry[3]])
            return stack[0][1]
        children = []
        for ch in part.chapters:
            if part.kind == "part" and ch.title:
                children.append([ch.title, f"{file}#{ch.anchor}", f"toc-{ch.anchor}", headings(ch)])
            else:
                children += headings(ch)
        out.append([part.title, file, f"toc-part{part.index}", children])
    return out


def print_identifier(book: Book) -> str:
    """What the page-list's page numbers refer to: our own print edition."""
    return (book.meta.get("print") or {}).get("identifier") or f"{book.meta['identifier']}#print-{book.meta['date']}"


def _page_list_nav(placed: list[tuple[int, str]], labels: dict) -> str:
    if not placed:
        return ""
    items = "\n".join(f'      <li><a href="{f}#page-{p}">{p}</a></li>' for p, f in placed)
    return (f'  <nav epub:type="page-list" role="doc-pagelist" id="page-list" aria-label="{labels["pages_list"]}" '
            f'hidden="hidden">\n    <h2>{labels["pages_list"]}</h2>\n    <ol>\n{items}\n    </ol>\n  </nav>\n')


# ------------------------------------------------------------------ the archive

def _complete_package(package: dict[str, str], lang: str, page_list: str) -> dict[str, bytes]:
    """ebooklib's package documents with the package language (ebooklib writes
    none) and our page-list in the nav."""
    out = {name: text.encode("utf-8") for name, text in package.items()}
    opf_name = next(n for n in out if n.endswith(".opf"))
    opf = re.sub(r"<package ", f'<package xml:lang="{lang}" ', package[opf_name], count=1)
    out[opf_name] = opf.encode("utf-8")
    nav_name = next(n for n in out if n.endswith("nav.xhtml"))
    if page_list:
        out[nav_name] = package[nav_name].replace("</body>", page_list + "</body>", 1).encode("utf-8")
    return out


_MIMETYPE = b"application/epub+zip"


def _zip(members: dict[str, _Entry], when: dt.datetime) -> bytes:
    """The archive: mimetype first and stored, then META-INF/container.xml and the
    other entries in sorted order, deflated, all with the book's fixed date.

    Byte for byte what zipfile.ZipFile writes for them into a seekable file
    (ZipInfo(name, date); ZIP_DEFLATED at ZLIB_LEVEL and external_attr 0o644
    for the entries, ZIP_STORED for the mimetype), with the deflated bytes
    made beforehand (cached, or in threads): no data descriptors, no zip64."""
    names = ["META-INF/container.xml"] + sorted(n for n in members if n not in ("mimetype", "META-INF/container.xml"))
    y, mo, d = max(when.year, 1980), when.month, when.day
    dosdate = (y - 1980) << 9 | mo << 5 | d
    dostime = when.hour << 11 | when.minute << 5 | (when.second // 2)
    system = 0 if sys.platform == "win32" else 3
    rows = [("mimetype", 0, len(_MIMETYPE), zlib.crc32(_MIMETYPE), _MIMETYPE, 0o600 << 16)]
    rows += [(n, 8, members[n].size, members[n].crc, members[n].body, 0o644 << 16) for n in names]
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, method, size, crc, body, attr in rows:
        try:
            raw, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            raw, flags = name.encode("utf-8"), 0x800
        if max(size, len(body), offset) > 0xFFFFFFFE:
            raise ValueError(f"{name}: too large for an EPUB without zip64")
        out.append(struct.pack("<4s2B4HL2L2H", b"PK\003\004", 20, 0, flags, method, dostime, dosdate,
                               crc, len(body), size, len(raw), 0) + raw)
        out.append(body)
        central.append(struct.pack("<4s4B4HL2L5H2L", b"PK\001\002", 20, system, 20, 0, flags, method,
                                   dostime, dosdate, crc, len(body), size, len(raw), 0, 0, 0, 0,
                                   attr, offset) + raw)
        offset += 30 + len(raw) + len(body)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\005\006", 0, 0, len(rows), len(rows), len(directory), offset, 0)
    return b"".join(out) + directory + end
