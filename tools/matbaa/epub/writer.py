"""EPUB 3: one XHTML document per part, plus title page, glossary and licence.

ebooklib makes the package documents (OPF, nav, NCX), through its public API
(`epub.write_epub` into memory, read back with zipfile: `_package`); the
content documents are our own complete XHTML (Jinja templates).  ebooklib 0.20
writes wall-clock zip timestamps and no package language, so the archive is
ours, written by zipfile (`archive`): mimetype first and stored, the book's
fixed date, sorted entries; and the package gets xml:lang on <package> and our
page-list in the nav (`_complete_package`).

Speed.  An EPUB build after the PDF reads the manuscript and runs the
transforms, and build.py checks the saved page map (build.page_map); then the
writer takes what it can from build/.cache/epub-<id>/ (`_Store`), where each
piece is kept under a key of everything it is made of: the code and the
installed distributions, every file of the styles, the manuscript's files as
the reader read them (their SHA-256), the book's folder, SOURCE_DATE_EPOCH,
and for a part its share of the page map (its pages, forced page ends and
unhyphenated words), its notes' numbers and its glossary marks' anchors.
Kept: each document as rendered (`Documents`, `Parts`), the package
documents, the cover, the words of each paragraph (which part a page of the
map falls in), and the archive itself, under the SHA-256 of every entry: a
build whose entries are all as before copies it instead of compressing them
all again (zipfile deflating the 2.5 MB of the first book, fonts mostly, at
level 9 takes about 0.14 s; the rest of a warm write about 0.02 s).
What is not kept is made as before, the page map's corrections and markers
put in the paragraphs they concern only.  A cached build writes the same bytes
as an uncached one (tests/test_epub_speed.py); the files a build did not use
are removed.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import Callable

from matbaa.files import atomic_path
from matbaa.keys import code_digest, digest, tree_digests
from matbaa.model import Book, PageMap
from matbaa.model.words import count
from matbaa.read.mdext.blocks import book_images
from matbaa.render.common import build_date, common_context, jinja_env
from matbaa.render.tokens import BookRenderer, ref_id
from matbaa.transforms.corrections import forced_break, insert_at_words, mark_pages, own_tokens, wrap_words

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
CACHE_FORMAT = "matbaa-epub-cache-2"    # 2: documents kept as rendered, the archive kept whole
ZLIB_LEVEL = 9
MIMETYPE = b"application/epub+zip"
CONTAINER = "META-INF/container.xml"


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

class _Store:
    """build/.cache/epub-<id>/: content-keyed pieces of the EPUB build.

    Every file is written atomically and carries the CRC-32 of its payload
    (checked when read: a damaged file is a miss).  The files this build did not
    use are removed at its end (`prune`), so the folder holds one build's worth."""

    def __init__(self, folder: Path, inputs: str, styles: dict[str, bytes], sources: dict[str, str]):
        self.folder = folder
        self.inputs = inputs            # the key of everything the whole book depends on
        self.styles = styles            # styles file -> its bytes, as hashed into `inputs`
        self.sources = sources          # manuscript file -> SHA-256 (the reader's)
        self.used: set[str] = set()

    @classmethod
    def open(cls, book: Book, styles: Path, build: Path) -> _Store | None:
        sources = book.source_digests
        if not sources:
            return None         # a book not read by reader.read_book: nothing to key by
        chapters = {str(book.root / c.path) for c in book.chapters}
        contents: dict[str, bytes] = {}
        style_digests = tree_digests(styles, contents=contents)
        inputs = digest(CACHE_FORMAT, code_digest(), style_digests, str(Path(book.root).resolve()),
                         {k: v for k, v in sorted(sources.items()) if k not in chapters},
                         os.environ.get("SOURCE_DATE_EPOCH", ""))
        return cls(Path(build) / ".cache" / f"epub-{book.id}", inputs, contents, sources)

    def style(self, styles: Path, rel: str) -> bytes:
        """A styles file: the bytes the key was made of."""
        data = self.styles.get(rel)
        return data if data is not None else (styles / rel).read_bytes()

    def key(self, *parts) -> str:
        return digest(self.inputs, *parts)

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


# ------------------------------------------------------------------ the page map's words

class _Paragraph:
    """One paragraph as a chapter, for the word-indexed functions of
    transforms/corrections.py (which
    count the words from the first paragraph of the chapters they are given)."""

    def __init__(self, tok):
        self.tokens = [tok]


class _Words:
    """The book's paragraphs of running text with the index of their first word,
    as the page map numbers the words (model/words.py)."""

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
        """insert_at_words, in the paragraphs concerned only."""
        toks, _ = self.paragraphs()
        for i, ks in self.by_paragraph(wanted).items():
            insert_at_words(_View([_Paragraph(toks[i])]), {rel: wanted[k] for rel, k in ks},
                                    top_level=top_level)

    def wrap(self, indexes) -> None:
        """wrap_words for the unhyphenated words, in their paragraphs only."""
        toks, _ = self.paragraphs()
        for i, ks in self.by_paragraph(indexes).items():
            wrap_words(_View([_Paragraph(toks[i])]), {rel for rel, _ in ks}, "nohyph_open", "nohyph_close")

    def mark(self, pages: dict[int, int]) -> None:
        """mark_pages (page -> word index), in the paragraphs concerned only."""
        toks, starts = self.paragraphs()
        local: dict[int, dict[int, int]] = {}
        for page, k in pages.items():
            i = bisect.bisect_right(starts, k) - 1
            if i >= 0:
                local.setdefault(i, {})[page] = k - starts[i]
        for i, share in local.items():
            mark_pages(_View([_Paragraph(toks[i])]), share)

    def correct(self, forced, unhyphenated) -> list:
        """Put the page map's corrections in the paragraphs they concern, as
        transforms/corrections.apply does; returns what undoes it: [(token, its children before)]."""
        toks, _ = self.paragraphs()
        undo = [(toks[i], toks[i].children) for i in self.by_paragraph(list(forced) + list(unhyphenated))]
        if forced:
            self.insert({k: forced_break for k in forced}, top_level=True)
        if unhyphenated:
            self.wrap(unhyphenated)
        return undo


class _View:
    """Some chapters of the book, for the word-indexed functions."""

    def __init__(self, chapters):
        self.chapters = chapters


def _paragraph_words(chapter) -> list[int]:
    """How many words the page map counts in each paragraph of the chapter (model/words.count)."""
    return [count(tok.children) for tok in chapter.tokens if tok.type == "inline" and tok.children]


# ------------------------------------------------------------------ records

def _record(head: dict, body: bytes) -> bytes:
    """A document as the store keeps it: a JSON line (`head`), then its bytes."""
    return json.dumps(head, sort_keys=True).encode("ascii") + b"\n" + body


def _from_record(record: bytes | None) -> tuple[bytes | None, dict]:
    if record is None:
        return None, {}
    line, _, body = record.partition(b"\n")
    return body, json.loads(line)


# ------------------------------------------------------------------ the documents

class Documents:
    """The XHTML documents, rendered (jinja2 imported, the templates compiled)
    only for those the store does not hold (tests/test_epub_speed.py counts
    the calls of `render`)."""

    def __init__(self, book: Book, styles: Path, store: _Store | None):
        self.book, self.styles, self.store = book, styles, store
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

    def get(self, name: str, key_parts: tuple, make: Callable[[], bytes]) -> bytes:
        """The document `name` (rendered by `make`), from the store under a key of `key_parts`."""
        if self.store is None:
            return make()
        key = f"doc-{name}-" + self.store.key("doc", name, *key_parts)
        html = self.store.get(key)
        if html is None:
            html = make()
            self.store.put(key, html)
        return html


class Parts:
    """Each part's document: the page-break markers of its pages, soft hyphens,
    the renderer and the template, for the parts the store does not hold
    (tests/test_epub_speed.py counts the calls of `make`)."""

    def __init__(self, book: Book, styles: Path, docs: Documents, words: _Words):
        self.book, self.styles, self.docs, self.words = book, styles, docs, words
        self._renderer = None
        self._hyphenate = None

    def _soft_hyphens(self, tokens_lists) -> None:
        book = self.book
        if book.lang.split("-")[0].lower() != "az":
            return
        if self._hyphenate is None:
            # reading systems have no Azerbaijani patterns: soft hyphens from ours
            from matbaa.typeset.hyphenation import register, soft_hyphenate  # Azerbaijani books only

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
        self.words.correct(forced, unhyphenated)    # as transforms/corrections.apply does for the whole book
        self.words.mark(pages)
        self._soft_hyphens([c.tokens for c in part.chapters] + [n.tokens for n in notes])
        if self._renderer is None:
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

def write_epub(book: Book, styles: Path, build: Path, pages: PageMap, cover: Callable[[], bytes]) -> Path:
    """The EPUB of `book`, with the page-list of the print edition whose page
    map is `pages` (build.py checks that it is this book's layout, and lays the
    book out when it is not); `cover()` gives the cover image (typeset/cover.py),
    asked for only when the cache does not hold it.  The book is not changed:
    the page-break markers, the layout's corrections and the soft hyphens go
    into a copy of its paragraphs."""
    styles, build = Path(styles), Path(build)
    book = own_tokens(book, notes=True)
    store = _Store.open(book, styles, build)
    target = _write(book, styles, build, store, pages, cover)
    if store is not None:
        store.prune()
    return target


def _write(book: Book, styles: Path, build: Path, store: _Store | None, pmap: PageMap,
           cover: Callable[[], bytes]) -> Path:
    # Page-list: where each page of our own PDF begins (model/pagemap.py).
    words = _Words(book, store)
    anchors = pmap.anchors
    body_pages = dict(pmap.pages)
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
        bib_pages[anchors["bibliography"]] = "bibliography"
        for key, _html in book.bibliography:
            page = anchors.get(ref_id(key))
            if page is not None:
                bib_pages.setdefault(page, ref_id(key))
    placed: list[tuple[int, str]] = []    # (page, file) in reading order, for the nav's page-list
    has_page_list = bool(pmap.pages)

    labels = book.labels
    meta = book.meta
    docs = Documents(book, styles, store)
    items: list[dict] = []                # in ebooklib's order: the manifest's

    def item(uid: str, file_name: str, media_type: str, data: bytes, **extra) -> dict:
        items.append(dict(uid=uid, file_name=file_name, media_type=media_type, data=data, **extra))
        return items[-1]

    # -- resources
    def resource(rel: str) -> bytes:
        return (styles / rel).read_bytes() if store is None else store.style(styles, rel)
    item("css", "css/epub.css", "text/css", resource("css/epub.css"))
    # Pandoc's list numbering, the print edition's file too (print.css imports it);
    # keyed, like every styles file, by its content (_Store.open)
    item("css-lists", "css/lists.css", "text/css", resource("css/lists.css"))
    for i, name in enumerate(FONTS):
        item(f"font{i}", f"fonts/{name}", "font/ttf", resource(f"{FONT_DIR}/{name}"))
    for i, name in enumerate(MONO_FONTS):
        item(f"font-mono{i}", f"fonts/{name}", "font/ttf", resource(f"{MONO_DIR}/{name}"))
    # the book's images, named by their content (reader._check_image, render.py)
    for media, (path, media_type) in book_images(book).items():
        item(f"img-{media.split('.')[0]}", f"media/{media}", media_type, Path(path).read_bytes())
    item("cover-image", "images/cover.png", "image/png", _cover_png(store, cover),
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
    for indexes, share in ((pmap.forced, share_forced), (pmap.unhyphenated, share_unhyphenated)):
        for k in sorted(indexes):
            if owner(k) is not None:
                share[owner(k)].append(k)
    parts = Parts(book, styles, docs, words)
    part_docs = []
    for i, part in enumerate(book.parts):
        file_name = f"part-{part.index}.xhtml"
        notes = sorted(notes_of.get(part.index, []), key=lambda n: n.number)
        opening = part_pages.get(part.index)
        for mark in marks_of.get(part.index, []):
            mark_href[mark.anchor] = file_name
        parts_by_index[part.index] = part
        key, html, head = None, None, {}
        if store is not None:
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
            html, head = _from_record(store.get(key))
        if html is None:
            html, here = parts.make(part, share_pages[i], share_forced[i], share_unhyphenated[i], notes, opening)
            head = {"here": here}
            if store is not None:
                store.put(key, _record(head, html))
        part_docs.append((part, item(f"part{part.index}", file_name, "application/xhtml+xml", html)))
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
        # what ebooklib is given: the items' names and types (not their content), the nav's
        # outline, the divisions' kinds (the landmarks); the rest (metadata) is in store.inputs
        key = "package-" + store.key(
            "package", has_page_list, _nav_outline(book), [p.kind for p in book.parts],
            [[it["uid"], it["file_name"], it["media_type"], it.get("properties")] for it in items])
        package = store.get_json(key)
    if package is None:
        package = _package(book, items, part_docs, gloss_doc, has_page_list, when, bib_doc)
        if store is not None:
            store.put_json(key, package)
    package = _complete_package(package, book.lang, _page_list_nav(placed, labels))

    members = {f"{FOLDER}/{it['file_name']}": it["data"] for it in items}
    members.update(package)
    data = key = None
    if store is not None:
        # the archive is a function of its entries, the date and zlib: kept whole
        key = "epub-" + store.key("archive", when.isoformat(), zlib.ZLIB_RUNTIME_VERSION,
                                  sorted([n, hashlib.sha256(d).hexdigest()] for n, d in members.items()))
        data = store.get(key)
    if data is None:
        data = archive(members, when)
        if store is not None:
            store.put(key, data)
    target = build / f"{book.id}.epub"
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def _text(data: bytes) -> str:
    """bytes as Path.read_text(encoding="utf-8") gives them (universal newlines)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _cover_png(store: _Store | None, make: Callable[[], bytes]) -> bytes:
    """The cover image (typeset/cover.py, which imports WeasyPrint when it has
    to rasterise); under the book's inputs key it is not even looked for there."""
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
    # too): off; ours is added to the nav by _complete_package.  ebooklib writes
    # its archive (our items in it empty) into memory, through its public
    # write_epub; what we take from it is read back with zipfile.
    out = io.BytesIO()
    epub.write_epub(out, e, {"epub3_pages": False, "mtime": when, "landmark_title": labels["landmarks"],
                             "raise_exceptions": True, "compresslevel": 1})
    ours = {f"{FOLDER}/{it['file_name']}" for it in items} | {"mimetype"}
    with zipfile.ZipFile(out) as z:
        return {name: z.read(name).decode("utf-8") for name in z.namelist() if name not in ours}


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
    """ebooklib's package documents with the package language and our page-list
    in the nav.

    Both are put into ebooklib's text, for ebooklib 0.20 has no way to say them:
    its <package> element gets fixed attributes (`dir` at most, never xml:lang),
    and its own page-list (option epub3_pages) is made from the documents'
    epub:type elements (noterefs too), without the role and label the EPUB
    Accessibility checks ask for.  Parsing its output and serialising it again
    would change its bytes (the EPUB's, build after build), so the two are
    inserted as text, each at a point ebooklib writes once: the start of the
    <package> tag, the end of the nav's body."""
    out = {name: text.encode("utf-8") for name, text in package.items()}
    opf_name = next(n for n in out if n.endswith(".opf"))
    opf = re.sub(r"<package ", f'<package xml:lang="{lang}" ', package[opf_name], count=1)
    out[opf_name] = opf.encode("utf-8")
    nav_name = next(n for n in out if n.endswith("nav.xhtml"))
    if page_list:
        out[nav_name] = package[nav_name].replace("</body>", page_list + "</body>", 1).encode("utf-8")
    return out


def archive(members: dict[str, bytes], when: dt.datetime) -> bytes:
    """The OCF container: `members` (archive name -> bytes; the mimetype entry is
    added) as zipfile writes them, in a fixed order with a fixed date, so that
    the same book gives the same bytes: mimetype first and stored (EPUB's rule:
    readers find it at byte 38), then META-INF/container.xml and the other
    entries by name, deflated at ZLIB_LEVEL, each dated `when` (from 1980 on,
    ZIP's first year) and readable by all (0o644; the mimetype with zipfile's
    default).  No zip64: an EPUB that would need it is refused."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    names = [CONTAINER] + sorted(n for n in members if n not in ("mimetype", CONTAINER))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", allowZip64=False) as z:
        z.writestr(zipfile.ZipInfo("mimetype", stamp), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for name in names:
            info = zipfile.ZipInfo(name, stamp)
            info.external_attr = 0o644 << 16
            z.writestr(info, members[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=ZLIB_LEVEL)
    return out.getvalue()
