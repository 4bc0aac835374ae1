"""The typesetting engine's adapter: the one module that knows WeasyPrint's insides.

matbaa lays its print document out with WeasyPrint and reads the result back
(where pages begin, which note is on which page, the width of a word in a
style).  Much of that is not WeasyPrint's public API.  Every internal used is
named here once, in `INTERNALS`, and tests/test_engine_contract.py fails by
name when an upgrade moves one; the rest of matbaa asks this module:

- `BookFetcher`: the URL fetcher that reads only inside the book and its styles;
- `render(html, ...)`: a document laid out (pages not yet written);
- `write_pdf(document, path, variant)`: the PDF, with /Lang on each structure
  element whose language differs from the document's (`install_lang`);
- the boxes of a laid-out page (`pages`, `roots`, `kind`, `children`, `element`,
  `tag`, `classes`, `text`, `style`, `geometry`): the one walker the page map,
  the proof and the line breaker's specimen read;
- text measurement for the line breaker (`TextMeasure`, `break_opportunities`);
- hyphenation with the book's patterns (`register_hyphenation`, `hyphenator`);
- a font program subset as WeasyPrint subsets one (`subset_font`: pdfjoin);
- the page being laid out (`on_page`: the terminal's status line);
- `layout_key`: what a layout depends on besides its HTML (the CSS, fonts and
  patterns, the versions of WeasyPrint and the libraries under it).

WeasyPrint is imported when a layout is needed, not with this module: a build
whose pieces all come from the cache never loads it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sys
import sysconfig
from pathlib import Path
from urllib.parse import unquote, urlsplit

from matbaa.diagnostics import MatbaaError
from matbaa.keys import distributions, tree_digests
from matbaa.render.tokens import MEDIA_SCHEME

#: Every name of WeasyPrint, pydyf and pyphen that matbaa uses and that is not
#: their documented API: (module, attribute path, what in matbaa depends on it).
#: tests/test_engine_contract.py imports each module and resolves each path (an
#: attribute an instance is given, such as a box's `style`, on an instance of a
#: tiny laid-out document) and fails naming the entry; its behavioural tests
#: check what a name alone cannot (the log's wording, the computed values' shapes).
INTERNALS = (
    # the boxes of a laid-out page: the page map, the proof, the line breaker's specimen
    ("weasyprint.document", "Page._page_box", "pages(), roots(): a page's root box"),
    ("weasyprint.formatting_structure.boxes", "LineBox", "kind() LINE: the page map's and the proof's lines"),
    ("weasyprint.formatting_structure.boxes", "TextBox", "kind() TEXT: the words of a page, the specimen's samples"),
    ("weasyprint.formatting_structure.boxes", "InlineBox", "kind() INLINE: the specimen's generated content"),
    ("weasyprint.formatting_structure.boxes", "BlockBox", "kind() BLOCK: the specimen's measure, the proof's blocks"),
    ("weasyprint.formatting_structure.boxes", "TableCellBox", "kind() TABLE_CELL: the proof"),
    ("weasyprint.formatting_structure.boxes", "FootnoteAreaBox", "kind() FOOTNOTES: the notes in the page map and the proof"),
    ("weasyprint.formatting_structure.boxes", "MarginBox", "kind() MARGIN: running heads and folios, left out of the page map"),
    ("weasyprint.formatting_structure.boxes", "ParentBox.children", "children(): every walk of the boxes"),
    ("weasyprint.formatting_structure.boxes", "Box.element", "element(), classes(): the HTML element of a box"),
    ("weasyprint.formatting_structure.boxes", "Box.element_tag", "tag(): the element's tag (install_lang too)"),
    ("weasyprint.formatting_structure.boxes", "Box.style", "style(): the computed styles the line breaker measures in"),
    ("weasyprint.formatting_structure.boxes", "Box.position_x", "geometry(), right_edge(): the proof's overlays"),
    ("weasyprint.formatting_structure.boxes", "Box.position_y", "geometry(): the proof's overlays"),
    ("weasyprint.formatting_structure.boxes", "Box.width", "geometry(): the line breaker's measure, the proof"),
    ("weasyprint.formatting_structure.boxes", "Box.height", "geometry(): the proof's overlays"),
    ("weasyprint.formatting_structure.boxes", "Box.descendants", "descendants(): the proof"),
    ("weasyprint.formatting_structure.boxes", "Box.margin_width", "margin_width(), right_edge(): generated content"),
    ("weasyprint.formatting_structure.boxes", "TextBox.text", "text(): the words of a page"),
    # measuring text (the line breaker)
    ("weasyprint.text.line_break", "Layout", "TextMeasure: Pango layouts in a computed style"),
    ("weasyprint.text.line_break", "Layout.set_text", "TextMeasure.width"),
    ("weasyprint.text.line_break", "Layout.get_first_line", "TextMeasure.width"),
    ("weasyprint.text.line_break", "line_size", "TextMeasure.width"),
    ("weasyprint.text.line_break", "get_log_attrs", "break_opportunities(): Pango's break opportunities"),
    # hyphenation: WeasyPrint asks pyphen (language_fallback, Pyphen(lang=...)), which
    # reads LANGUAGES and takes a parsed dictionary from hdcache
    ("weasyprint.text.line_break", "pyphen", "register_hyphenation(): WeasyPrint hyphenates through pyphen"),
    ("pyphen", "LANGUAGES", "register_hyphenation(): the book's patterns for its language"),
    ("pyphen", "LANGUAGES_LOWERCASE", "register_hyphenation(): the same, for pyphen's fallback"),
    ("pyphen", "hdcache", "register_hyphenation(): the dictionary WeasyPrint gets"),
    ("pyphen", "HyphDict", "register_hyphenation(): the book's dictionary is one (its casing, its exceptions)"),
    ("pyphen", "HyphDict.positions", "register_hyphenation(): the patterns' points, which the book's rules filter"),
    ("pyphen", "HyphDict.cache", "register_hyphenation(): emptied when the exceptions change"),
    ("pyphen", "DataInt", "register_hyphenation(): the points as pyphen returns them"),
    # the tagged PDF
    ("weasyprint.pdf.tags", "_build_box_tree", "install_lang(): /Lang on structure elements"),
    ("pydyf", "String", "install_lang(): the /Lang value"),
    # one font program for a whole book (typeset/pdfjoin.py)
    ("weasyprint.pdf.fonts", "Font", "subset_font(): a font read from a file, subset as WeasyPrint subsets"),
    ("weasyprint.pdf.fonts", "Font.subset", "subset_font()"),
    ("weasyprint.text.ffi", "ffi", "subset_font(): WeasyPrint's cffi declarations (hb_face_t, hb_blob_t)"),
    ("weasyprint.text.ffi", "harfbuzz", "subset_font(): the HarfBuzz library WeasyPrint loaded"),
    ("weasyprint.text.ffi", "harfbuzz.hb_blob_destroy", "subset_font()"),
    ("weasyprint.text.ffi", "harfbuzz.hb_face_destroy", "subset_font()"),
    # progress
    ("weasyprint.logger", "PROGRESS_LOGGER", "on_page(): the page being laid out, for the status line"),
    # fetching
    ("weasyprint.urls", "URLFetcher", "BookFetcher: the fetcher that reads only inside the book"),
)

#: The computed style properties matbaa reads, by WeasyPrint's names (`style()`):
#: the line breaker's measure, indent, alignment, spaces and hyphenation.
STYLE_KEYS = ("display", "text_indent", "text_align_all", "white_space", "lang", "hyphens",
              "hyphenate_limit_chars")

#: The box classes' names, as `kind` gives them.
LINE, TEXT, INLINE, BLOCK, TABLE_CELL, FOOTNOTES, MARGIN = (
    "LineBox", "TextBox", "InlineBox", "BlockBox", "TableCellBox", "FootnoteAreaBox", "MarginBox")



# ---------------------------------------------------------------- fetching

@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class BookFetcher(URLFetcher):
        """WeasyPrint's default URL fetcher reads any local file (attachments
        included) and fetches http URLs; this one only serves file: URLs inside
        the folders it is given (the build's assets and the manuscript) and
        refuses everything else, so a build never reads outside the book nor
        touches the network."""

        def __init__(self, allowed: list[Path]):
            super().__init__()
            self.allowed = [Path(p).resolve() for p in allowed]
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == MEDIA_SCHEME and self.allowed:
                # a book's image (render/tokens.py): build/assets/media/<its digest>
                url = (self.allowed[0] / "media" / Path(unquote(parts.path)).name).as_uri()
                parts = urlsplit(url)
            if parts.scheme != "file":
                self.refused.append(url)
                raise MatbaaError(f"refused to fetch {url}: the build reads no network resource")
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(a) for a in self.allowed):
                self.refused.append(url)
                raise MatbaaError(f"refused to read {path}: outside the manuscript and the styles")
            return super().fetch(url, headers)

    return BookFetcher


def BookFetcher(allowed: list[Path]):   # noqa: N802 (it stands for the class)
    return _fetcher_class()(allowed)


# ---------------------------------------------------------------- laying out, writing

def quiet() -> None:
    """WeasyPrint's and fontTools' warnings off (matbaa reports what matters itself)."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger(PROGRESS_LOG).propagate = False
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def render(html: str, base_url: str, fetcher, stylesheets: list[Path] = (), variant: str | None = "pdf/ua-1"):
    """The HTML laid out: WeasyPrint's Document (pages laid out, not written)."""
    from weasyprint import CSS, HTML

    extra = [CSS(filename=str(s), url_fetcher=fetcher) for s in stylesheets]
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(stylesheets=extra, pdf_variant=variant)


def write_pdf(document, target: Path, variant: str | None = "pdf/ua-1") -> None:
    """Write a laid-out document's PDF to `target` (the caller makes it atomic)."""
    install_lang()
    document.write_pdf(str(target), pdf_variant=variant)


def pdf_bytes(html: str, base_url: str, fetcher) -> bytes:
    """A small document (the cover) laid out and written at once, untagged."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()


def page_sizes(document) -> list[tuple[float, float]]:
    """(width, height) of each page, in CSS px."""
    return [(page.width, page.height) for page in document.pages]


def page_count(document) -> int:
    return len(document.pages)


_LANG_INSTALLED = False


def install_lang() -> None:
    """/Lang on the structure elements of the PDF.

    WeasyPrint 70 writes the document's language (the catalog's /Lang, from
    <html lang>) but no /Lang on structure elements, so a screen reader reads
    the glossary's French or German equivalents, or an English paragraph, with
    the book language's voice.  Its tagger (weasyprint.pdf.tags) builds one
    structure element per box in `_build_box_tree`, a generator it calls
    recursively through the module's global name; wrapping that name lets each
    element take the `lang` of its box's HTML element when it differs from the
    document's.  In PDF, /Lang on a structure element holds for everything
    below it, as lang does in HTML.  Checked by tests/test_second_book.py and
    tests/test_pdf.py."""
    global _LANG_INSTALLED
    if _LANG_INSTALLED:
        return
    import pydyf
    from weasyprint.pdf import tags

    build = tags._build_box_tree

    # the language in force, innermost last: the tagger walks the boxes depth first,
    # and each generator is drained by its parent before the next sibling starts
    stack: list[str | None] = []

    def build_with_lang(box, parent, *args, **kwargs):
        el = getattr(box, "element", None)
        name = getattr(box, "element_tag", None)
        lang = el.get("lang") if el is not None else None
        if name == "html":
            stack[:] = [lang]
        inherited = stack[-1] if stack else None
        stack.append(lang or inherited)
        try:
            for struct in build(box, parent, *args, **kwargs):
                if lang and lang != inherited and name not in ("html", "body") and "Lang" not in struct:
                    struct["Lang"] = pydyf.String(lang)
                yield struct
        finally:
            stack.pop()

    tags._build_box_tree = build_with_lang
    _LANG_INSTALLED = True


# ---------------------------------------------------------------- the boxes of the pages

def pages(document):
    """(page number from 1, [the page's top boxes]) for every page: the main
    flow's boxes, the footnote area (kind FOOTNOTES) and the margin boxes (MARGIN)."""
    for number, page in enumerate(document.pages, 1):
        yield number, page._page_box.children


def root(page):
    """A page's root box."""
    return page._page_box


def roots(document):
    """The root box of every page (the line breaker's specimen walks from there)."""
    return [page._page_box for page in document.pages]


def kind(box) -> str:
    return type(box).__name__


def children(box) -> list:
    return getattr(box, "children", None) or []


def element(box):
    return getattr(box, "element", None)


def tag(box) -> str:
    """The element's tag, or 'tag::before' for generated content; '' for none."""
    return getattr(box, "element_tag", "") or ""


def classes(box) -> set[str]:
    el = getattr(box, "element", None)
    return set((el.get("class") or "").split()) if el is not None else set()


def text(box) -> str:
    return box.text


def style(box):
    """A box's computed style: WeasyPrint's values by its names (`STYLE_KEYS`:
    `display` a tuple such as ("block", "flow"), `text_indent` a dimension with
    `value` and `unit`, `hyphenate_limit_chars` a tuple of three, the others
    strings); `TextMeasure` measures in it."""
    return box.style


def descendants(box):
    return box.descendants()


def geometry(box) -> tuple[float, float, float, float]:
    """x, y, width, height of a box (CSS px from the page's top left)."""
    return box.position_x, box.position_y, box.width, box.height


def right_edge(box) -> float:
    return box.position_x + box.margin_width()


def margin_width(box) -> float:
    return box.margin_width()


# ---------------------------------------------------------------- measuring text

class TextMeasure:
    """Widths of text in a computed style of a laid-out document (`style`), from
    WeasyPrint's own Pango layouts (as its text boxes are measured when it lays
    out a line).  The document must be kept: its styles hold the fonts."""

    def __init__(self, style):
        from weasyprint.text.line_break import Layout, line_size

        self.style = style
        self.layout = Layout(style)
        self._line_size = line_size

    def width(self, text: str) -> float:
        """The width of `text` set on one line, in CSS px."""
        self.layout.set_text(text)
        line, _ = self.layout.get_first_line()
        return self._line_size(line, self.style)[0]


def break_opportunities(text: str, lang: str) -> tuple[bool, ...]:
    """Pango's line-break opportunities of a text (before each character)."""
    from weasyprint.text.line_break import get_log_attrs

    la = get_log_attrs(text, lang)
    return tuple(bool(la[i].is_line_break) for i in range(len(text) + 1))


# ---------------------------------------------------------------- hyphenation

@functools.cache
def _hyph_dict_class():
    import pyphen

    class BookHyphDict(pyphen.HyphDict):
        """pyphen's pattern dictionary whose points are the book's: `points(word,
        patterns)` gives them, `patterns(run)` being the patterns' own points
        of a run of the word (pyphen's, cached by run)."""

        def __init__(self, path: Path, points):
            self.path = Path(path)
            super().__init__(self.path)
            self.points = points

        def positions(self, word):
            return [pyphen.DataInt(p) for p in self.points(word, super().positions)]

    return BookHyphDict


def register_hyphenation(lang_keys, path: Path, points, previous=None):
    """Make pyphen, hence WeasyPrint, hyphenate the languages `lang_keys` with
    the patterns of `path` (a libhyphen .dic), their points filtered by
    `points(word, patterns) -> [positions]` (the book's rules and exceptions:
    `patterns(run)` gives the patterns' points of a part of the word).

    WeasyPrint (text/line_break.py) asks `pyphen.language_fallback(lang)` and
    builds `pyphen.Pyphen(lang=...)`, which reads `pyphen.LANGUAGES` and takes
    the parsed dictionary from `pyphen.hdcache` when it is there: the .dic goes
    into LANGUAGES and a dictionary of ours into hdcache under its path, and
    WeasyPrint is not patched.  `previous` (what an earlier call returned) is
    kept if it reads the same file, with the new `points` (the patterns are not
    parsed again).  Returns the dictionary (for `hyphenation_registered`)."""
    import pyphen

    path = Path(path)
    if previous is not None and previous.path == path:
        dictionary = previous
        dictionary.points = points
        dictionary.cache.clear()
    else:
        dictionary = _hyph_dict_class()(path, points)
    for key in lang_keys:
        pyphen.LANGUAGES[key] = path
        pyphen.LANGUAGES_LOWERCASE[key.lower()] = key
    pyphen.hdcache[path] = dictionary
    return dictionary


def hyphenation_registered(lang_keys, path: Path, dictionary) -> bool:
    """Whether WeasyPrint still gets `dictionary` (from `register_hyphenation`)
    for `lang_keys`: nothing has replaced it since."""
    import pyphen

    path = Path(path)
    return pyphen.hdcache.get(path) is dictionary and all(pyphen.LANGUAGES.get(k) == path for k in lang_keys)


def hyphenator(lang: str, left: int = 2, right: int = 2):
    """The hyphenation points WeasyPrint finds in a word of `lang`, with at
    least `left` and `right` letters either side (its hyphenate-limit-chars):
    a function word -> [positions], or None if pyphen has no dictionary for
    `lang`.  The same lookup as WeasyPrint's (pyphen.language_fallback, then
    pyphen.Pyphen), so the dictionary of `register_hyphenation` for its
    languages; make one again after a registration."""
    import pyphen

    name = pyphen.language_fallback(lang)
    return None if name is None else pyphen.Pyphen(lang=name, left=left, right=right).positions


def pattern_positions(path: Path):
    """The points of the patterns of `path` alone, as plain pyphen reads them
    (no registration, no rules, no exceptions, no left and right limits): a
    function word -> [positions] (tests/test_hyphenation.py checks the patterns
    against the rules with it)."""
    import pyphen

    return pyphen.HyphDict(Path(path)).positions


# ---------------------------------------------------------------- fonts

def subset_font(original: bytes, glyphs, hinting: bool, missing: bool) -> bytes:
    """The font program `original` (a .ttf/.otf file's bytes) subset to the
    glyph ids `glyphs` (a collection of ints, or a dict keyed by them), as
    WeasyPrint subsets the fonts it embeds (Font.subset: HarfBuzz in two steps,
    keeping the glyph ids; fontTools where HarfBuzz-subset is missing), with
    its hinting if `hinting`, and .notdef's outline if `missing` (WeasyPrint's
    flag when characters were missing from the font).  pdfjoin merges the
    pieces' subsets of one face with it."""
    from weasyprint.pdf.fonts import Font

    class FontFile(Font):
        """A font read from a file rather than from Pango: what Font.subset reads
        (WeasyPrint 70: hb_face, file_content, index, family, missing)."""

        def __init__(self):
            self.file_content = original
            self.index = 0
            self.family = "matbaa-join"
            self.missing = {0: 0} if missing else {}   # only whether it is empty counts
            self.hb_face = _hb_face(original)

    font = FontFile()
    font.subset(glyphs, hinting)
    return font.file_content


def _hb_face(data: bytes):
    """A HarfBuzz face of `data`, for WeasyPrint's bindings."""
    from weasyprint.text.ffi import ffi, harfbuzz

    hb, hb_ffi = _harfbuzz_files()
    blob = hb.hb_blob_create(
        data, len(data), hb.HB_MEMORY_MODE_DUPLICATE, hb_ffi.NULL, hb_ffi.NULL)
    face = hb.hb_face_create(blob, 0)
    harfbuzz.hb_blob_destroy(blob)   # the face holds its own reference
    return ffi.gc(face, harfbuzz.hb_face_destroy)


@functools.cache
def _harfbuzz_files():
    """HarfBuzz's functions that make a face from a font file, and their cffi instance.

    WeasyPrint's bindings get faces from Pango and do not declare hb_blob_create and
    hb_face_create: a second cffi instance declares them. It includes WeasyPrint's, so
    that the face it returns is of WeasyPrint's hb_face_t type, for its subsetting.
    """
    import cffi
    from weasyprint.text.ffi import ffi

    hb_ffi = cffi.FFI()
    hb_ffi.include(ffi)
    hb_ffi.cdef("""
        typedef enum {
            HB_MEMORY_MODE_DUPLICATE, HB_MEMORY_MODE_READONLY,
            HB_MEMORY_MODE_WRITABLE, HB_MEMORY_MODE_READONLY_MAY_MAKE_WRITABLE
        } hb_memory_mode_t;
        typedef void (*hb_destroy_func_t) (void *user_data);
        hb_blob_t * hb_blob_create (
            const char *data, unsigned int length, hb_memory_mode_t mode,
            void *user_data, hb_destroy_func_t destroy);
        hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
    """)
    # The names WeasyPrint tries (weasyprint.text.ffi): this finds the library it loaded.
    names = ("libharfbuzz-0", "harfbuzz", "harfbuzz-0.0", "libharfbuzz.so.0",
             "libharfbuzz.0.dylib", "libharfbuzz-0.dll")
    for name in names:
        try:
            return hb_ffi.dlopen(name), hb_ffi
        except OSError:
            continue
    raise OSError("HarfBuzz cannot be loaded")


# ---------------------------------------------------------------- progress

#: WeasyPrint's progress log (weasyprint.logger.PROGRESS_LOGGER) and the line
#: it writes for each page it lays out (layout/page.py: "Step 5 - Creating
#: layout - Page 12", "... - Page 12 (up-to-date)" when a page is kept as it was)
PROGRESS_LOG = "weasyprint.progress"
_PAGE_LINE = re.compile(r"Step 5 - Creating layout - Page (\d+)")


class _PageEvents(logging.Handler):
    def __init__(self, callback):
        super().__init__()
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        m = _PAGE_LINE.match(record.getMessage())
        if m:
            self.callback(int(m.group(1)))


def on_page(callback) -> None:
    """Call `callback(page)` with the number (from 1) of each page WeasyPrint
    lays out in this process, from its progress log; the callback replaces the
    one before, and None stops it (a worker of the parallel layout leaves the
    status line to its parent)."""
    logger = logging.getLogger(PROGRESS_LOG)
    for handler in [h for h in logger.handlers if isinstance(h, _PageEvents)]:
        logger.removeHandler(handler)
    if callback is not None:
        logger.addHandler(_PageEvents(callback))
        logger.setLevel(logging.INFO)


# ---------------------------------------------------------------- the layout key

#: styles/ folders that change a layout (templates are in the HTML itself)
STYLE_PARTS = ("css", "fonts", "hyphenation")
#: matbaa's code that turns a document's HTML into its layout and page map
#: (the code that writes the HTML needs no place here: the HTML itself is hashed)
LAYOUT_CODE = ("typeset", "model/words.py", "model/pagemap.py", "transforms/corrections.py")
#: the libraries WeasyPrint lays out and writes with
DISTRIBUTIONS = ("weasyprint", "pydyf", "pyphen", "fonttools", "tinycss2", "cssselect2", "tinyhtml5", "cffi")
_LIBRARY_FOLDERS = [f"/usr/lib/{sysconfig.get_config_var('MULTIARCH') or ''}", "/usr/lib", "/lib", "/usr/local/lib"]
LIBRARIES = ("pango-1.0", "pangoft2-1.0", "harfbuzz", "harfbuzz-subset", "freetype", "fontconfig")


@functools.cache
def engine_versions() -> tuple:
    """The versions of Python, of WeasyPrint and the distributions it uses, and
    the files of the shared libraries under it (Pango, HarfBuzz, FreeType,
    fontconfig: their sonames' targets carry their versions), without loading
    WeasyPrint."""
    def normal(name: str) -> str:
        return name.lower().replace("-", "_")

    dists = [[name, [d for d in distributions() if normal(d.split("-")[0]) == normal(name)]]
             for name in DISTRIBUTIONS]
    # the libraries' files in the library folders, each folder listed once (no
    # `ldconfig` to run: a subprocess per library cost more than the rest of the key)
    files = []
    for folder in _LIBRARY_FOLDERS:
        try:
            files += [os.path.join(folder, n) for n in os.listdir(folder) if n.startswith("lib") and ".so." in n]
        except OSError:
            continue
    libs = [[name, sorted({os.path.basename(os.path.realpath(f)) for f in files
                           if os.path.basename(f).startswith(f"lib{name}.so.")})] for name in LIBRARIES]
    return (sys.version, dists, libs)


def _style_digest(styles: Path) -> str:
    return hashlib.sha256(json.dumps([[part, tree_digests(styles / part)] for part in STYLE_PARTS],
                                     sort_keys=True).encode()).hexdigest()


def _code_digest() -> str:
    code = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for rel in LAYOUT_CODE:
        path = code / rel
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(str(f.relative_to(code)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def layout_key(meta: dict, styles: Path) -> str:
    """What changes a layout besides its HTML: every CSS, font and pattern byte,
    the book's hyphenation exceptions and line-breaking settings, matbaa's layout
    code, and the engine's versions.  Part of every layout cache key and of the
    page map's (model/pagemap.py)."""
    h = hashlib.sha256()
    h.update(json.dumps(engine_versions()).encode())
    h.update(json.dumps(meta.get("hyphenation") or {}, sort_keys=True, ensure_ascii=False).encode())
    # the line breaking (book.yaml print: linebreak, ...) is applied in the layout, not in the HTML
    h.update(json.dumps(meta.get("print") or {}, sort_keys=True, ensure_ascii=False).encode())
    h.update(_style_digest(Path(styles)).encode())
    h.update(_code_digest().encode())
    return h.hexdigest()

