"""Total-fit line breaking (Knuth and Plass) for the print edition.

WeasyPrint breaks lines first-fit: each line takes as many words as fit, and
the spaces of a justified line are stretched to fill what is left, however
much that is.  Here every paragraph of running text (chapters' <p>, and the
notes' paragraphs) is broken as a whole, as TeX breaks it:

* the paragraph is a list of boxes (words and pieces of words, their widths
  from Pango with the very computed styles WeasyPrint uses: see `Measurer`;
  the generated content of inline elements, such as a note number's "." from
  ::after, is measured there too), glue (the spaces: the face's space width,
  0.2 em in Vollkorn, stretchable by `stretch` spaces at badness 100 and
  shrinkable by `shrink` of it: WeasyPrint only ever adds to a space, so a
  tight line's spaces are given a negative word-spacing of that much, in a
  span) and penalties (the book's hyphenation points,
  with hyphenate-limit-chars of the style, at `hyphen-penalty`; a break after
  an explicit hyphen or a dash);
* pdfTeX's microtypography: a box also stretches and shrinks by `expansion`
  of its width (font expansion, done here by the letter-spacing of the line's
  letters, since WeasyPrint cannot scale glyphs; a word holding one of the
  face's ligatures is left out, because Pango, as CSS asks, undoes a ligature
  whose letters are spaced), and a line-end hyphen, stop, comma or quote hangs
  into the margin by a share of its width (protrusion, `HANG`), so that the
  line's measure is that much longer;
* `breaks` finds the breaks of least total demerits (badness from how much
  each line stretches or shrinks, fitness classes with a penalty for adjacent
  lines of very different looseness, a penalty for consecutive hyphenated
  lines and none allowed beyond two, a penalty for a hyphen on the last full
  line), in TeX's passes (tolerance, emergency tolerance, then any badness);
* a hyphen at a page's end is found after the layout, by the layout loop
  (writers/pdf.correct): the word is marked `nohyph`, which here takes its
  hyphenation points away (an infinite penalty), and the paragraph is broken
  again in the next round into as many lines as before if it can be (TeX's
  looseness, counted from the lines it had), so that the pages after it stay
  as they were, with no hyphen at the end of that line either (the page still
  ends there: another word's hyphen would cost a round more);
* `impose` writes the chosen breaks into the print HTML so that WeasyPrint
  sets exactly those lines: inside a line every space becomes a no-break space
  (U+00A0, which WeasyPrint justifies like a space), a chosen hyphenation
  point becomes a visible hyphen U+2010 (a break opportunity after it, the
  character WeasyPrint draws when it hyphenates: the page map and the text
  layer join such a line end to the next line, so the word is still read
  whole), and an explicit hyphen not chosen gets a word joiner after it; a
  line's letters go in a span of its letter-spacing (span.kx: the share of the
  line's adjustment its expansion takes, at the same ratio as its spaces',
  as pdfTeX shares it), with the shrink of its spaces if it is tight, and a
  hanging glyph ends that span with a negative right margin (or is in a
  span.kh of its own).  A line with none of these (half of them) has no span:
  each is a box more for WeasyPrint to lay out, and the cost of a set
  paragraph (most of a millisecond each in WeasyPrint 70, about what a line
  of plain text costs).  The spaces between lines stay spaces: WeasyPrint,
  breaking first-fit, can only break there, and each line fits, so it sets
  the lines chosen here; the last line stays ragged, the paragraph still one
  block (orphans, widows, notes).

book.yaml: print: {linebreak: optimal | greedy, tolerance, hyphen-penalty, ...}.

Written here rather than taken from a library: the Python implementations of
Knuth-Plass on PyPI (e.g. `texlib`, `knuth-plass`) are unmaintained and work
on plain strings with their own width function; the algorithm is short, and
what matters (widths from WeasyPrint's own Pango, imposing the breaks on
WeasyPrint) is ours anyway.
"""
from __future__ import annotations

import functools
import html as htmllib
import json
import re
from dataclasses import dataclass, field

# the engine's adapter, under another name: `impose` takes an `engine` key
from matbaa.typeset import engine as adapter
from matbaa.typeset.hyphenation import hyphenate

INF = 10000                 # a penalty of INF forbids a break, -INF forces one

DEFAULTS = {
    "linebreak": "optimal",
    "tolerance": 200,          # largest badness of a line (TeX's \tolerance)
    "emergency-tolerance": 2000,   # second pass, for a paragraph with no solution within `tolerance`
    "hyphen-penalty": 700,     # TeX's \hyphenpenalty (50 there; higher here: fewer hyphens)
    "line-penalty": 10,        # TeX's \linepenalty
    "double-hyphen-demerits": 3000,
    "final-hyphen-demerits": 5000,
    "adjacent-demerits": 3000,     # lines of non-adjacent fitness classes (TeX's \adjdemerits)
    "stretch": 0.8,            # a space may stretch by this many times its width at badness 100
    "shrink": 0.333,           # ... and shrink by this share of its width (set as a negative word-spacing;
                               # TeX's and Typst's third: a space is never under two thirds of its width)
    "expansion": 0.02,         # a line's letters may be tracked wider or narrower by this share of their
                               # width (pdfTeX's font expansion, microtype's stretch=20, shrink=20)
    "protrusion": True,        # a line-end hyphen, stop, comma ... hangs into the margin (see HANG)
}
# How much of its width a glyph at a line's end hangs into the right margin
# (margin kerning; microtype's default protrusion set, rounded): the edge of
# the text block then looks straight to the eye, though it is not to a ruler.
HANG = {".": 0.7, ",": 0.6, "-": 0.7, "\u2010": 0.7, "\u2013": 0.3, "\u2014": 0.2, ":": 0.5, ";": 0.3,
        "!": 0.2, "?": 0.2, "\u201d": 0.5, "\u2019": 0.5, "\u00bb": 0.3, "\u203a": 0.3, '"': 0.5, "'": 0.5}
NBSP, HYPHEN, WJ = "\u00a0", "\u2010", "\u2060"
# the spaces of the text: HTML's collapsible white space, and the no-break space
# (which WeasyPrint justifies too); a narrow no-break space (U+202F) is part of
# its word (WeasyPrint does not stretch it)
SPACES = " \t\n\r\f" + NBSP
TOKENS = re.compile(f"[{SPACES}]+|[^{SPACES}]+")
# a line's letters are tracked only if its spaces alone would stretch more (of their
# stretch): at 1.0, a tenth more spans and a 90th percentile of 0.383 em in the first
# book, not 0.396; at 1.6, 0.428 em (over the 0.42 of issue 12)
TRACK_FROM = 1.25
MARGIN = 1.0               # px a line is kept short of the measure (Pango's rounding, kerning across pieces)


@dataclass(slots=True)
class Item:
    kind: str              # "box", "glue", "penalty"
    width: float = 0.0
    stretch: float = 0.0
    shrink: float = 0.0
    penalty: float = 0.0
    flagged: bool = False  # a hyphen
    ref: object = None     # where the item comes from (for impose)
    text: str = ""         # a box's text (for a report)
    hang: float = 0.0      # how far the line may hang into the margin if it ends here (protrusion)


def optimal(book_meta: dict) -> bool:
    return (book_meta.get("print") or {}).get("linebreak", DEFAULTS["linebreak"]) == "optimal"


def settings(book_meta: dict) -> dict:
    return {**DEFAULTS, **{k: v for k, v in ((book_meta.get("print") or {}).items()) if k in DEFAULTS}}


# ---------------------------------------------------------------- Knuth-Plass


def breaks(items: list[Item], measure: float, opts: dict, tolerance: float | None = None,
           lines: int | None = None, unhyphenated: frozenset = frozenset()) -> list[int] | None:
    """Indexes of the items where the lines end (the last is the paragraph's
    end), of least total demerits; None if no set of breaks keeps every line
    within `tolerance` and the measure.  `items` ends with the finishing glue
    and a forced break.  With `lines`, the best solution of that many lines if
    there is one (TeX's \\looseness, counted from a known number of lines), and
    then none of the lines `unhyphenated` (their indexes, from 0) ending with a
    hyphen: the line a page ends with stays the same line."""
    tol = opts["tolerance"] if tolerance is None else tolerance
    line_pen, hyph_pen_dem = opts["line-penalty"], opts["double-hyphen-demerits"]
    final_dem, adj_dem = opts["final-hyphen-demerits"], opts["adjacent-demerits"]
    n = len(items)
    # running sums of width and stretch up to each item
    sw, ss, sk = [0.0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1)
    for i, it in enumerate(items):
        # a box stretches and shrinks too when the font may be expanded (its letter-spacing)
        sw[i + 1] = sw[i] + (it.width if it.kind != "penalty" else 0.0)
        ss[i + 1] = ss[i] + (it.stretch if it.kind != "penalty" else 0.0)
        sk[i + 1] = sk[i] + (it.shrink if it.kind != "penalty" else 0.0)
    # an active node: (position, fitness, hyphen run) -> (demerits, previous node); every line
    # has the same measure (a first-line indent is a box), so the line number is not part of it
    # position: index of the break item; the next line starts after it (discarding glue and penalties)
    count = lines is not None       # the line number is then part of a node
    max_hang = max((it.hang for it in items), default=0.0)
    start = {(-1, 1, 0, 0): (0.0, None)}
    active = dict(start)
    nodes = {}                      # every node made: key -> (demerits, previous key)
    nodes.update(start)

    def after(b: int) -> int:
        """The first item of the line that starts after a break at b."""
        j = b + 1
        while j < n and items[j].kind != "box":
            if items[j].kind == "penalty" and items[j].penalty <= -INF:
                break
            j += 1
        return j

    starts = {-1: 0}
    for b, it in enumerate(items):
        if it.kind == "penalty":
            if it.penalty >= INF:
                continue
        elif it.kind == "glue":
            if b == 0 or items[b - 1].kind != "box":
                continue
        else:
            continue
        # a line ending here may hang its last glyph (a hyphen, a stop) into the margin
        end_hang = it.hang if (it.kind == "penalty" and it.width) else (
            items[b - 1].hang if b and items[b - 1].kind == "box" else 0.0)
        new: dict = {}
        for key in list(active):
            pos, fit, run, ln = key
            s = starts.get(pos)
            if s is None:
                s = starts[pos] = after(pos)
            width = sw[b] - sw[s] + (it.width if it.kind == "penalty" else 0.0) - end_hang
            stretch = ss[b] - ss[s]
            shrink = sk[b] - sk[s]
            if width - shrink > measure - MARGIN:
                if not (it.kind == "penalty" and it.penalty <= -INF and width <= measure):
                    if width + end_hang - shrink - max_hang > measure - MARGIN:
                        # too wide, however far a later line end may hang: this node
                        # can never begin a line that ends here or later
                        del active[key]
                    continue
            forced = it.kind == "penalty" and it.penalty <= -INF and b > 0 and items[b - 1].kind == "glue"
            if forced:
                # the last line, ragged (after the finishing glue): it is set with
                # natural spaces (no span), so it must fit without shrinking
                if width > measure - MARGIN:
                    continue
                bad = 0.0
            elif width > measure - MARGIN:
                bad = 100 * ((width - measure + MARGIN) / shrink) ** 3   # tight: shrink > 0 here
            elif stretch <= 0:
                if width < measure - MARGIN - 1.0:
                    continue                                # a line that cannot be justified
                bad = 0.0
            else:
                r = (measure - MARGIN - width) / stretch
                bad = 100 * r ** 3
            if bad > tol:
                continue
            tight = width > measure - MARGIN
            fitness = 1 if forced else (0 if tight and bad > 12 else (
                3 if bad > 99 else (2 if bad > 12 else 1)))
            hyph = it.kind == "penalty" and it.flagged
            newrun = run + 1 if hyph else 0
            if newrun > 2:
                continue
            if count and ln in unhyphenated and it.kind == "penalty" and it.width:
                continue
            pen = it.penalty if it.kind == "penalty" else 0.0
            d = (line_pen + bad) ** 2
            if pen > 0:
                d += pen ** 2
            elif pen > -INF:
                d -= pen ** 2
            prev_hyph = run > 0
            if hyph and prev_hyph:
                d += hyph_pen_dem
            if forced and prev_hyph:
                d += final_dem
            if abs(fitness - fit) > 1:
                d += adj_dem
            total = active[key][0] + d
            nk = (b, fitness, newrun, ln + 1 if count else 0)
            if nk not in new or total < new[nk][0]:
                new[nk] = (total, key)
        for nk, v in new.items():
            nodes[nk] = v
            active[nk] = v
        if not active:
            return None
    ends = [(v[0], k) for k, v in nodes.items() if k[0] == n - 1]
    if count and any(k[3] == lines for _d, k in ends):
        ends = [(d, k) for d, k in ends if k[3] == lines]
    if not ends:
        return None
    key = min(ends)[1]
    out = []
    while key is not None and key[0] >= 0:
        out.append(key[0])
        key = nodes[key][1]
    return out[::-1]


# ---------------------------------------------------------------- the print HTML

TAG = re.compile(r"(<[^>]*>)")
_CHAPTER = re.compile(r'<section class="chapter"')
_P_OPEN = re.compile(r"<p(\s[^>]*)?>")
_ATTR = re.compile(r'([\w:-]+)="([^"]*)"')
_VOID = {"br", "img", "wbr", "hr"}
# where Pango (UAX #14) may break inside a run of non-spaces, besides our own marks
# (not after "/": the page map reads a line end as a word's end unless a hyphen
# or dash ends it, so "GNU/" + "Linux" would count as two words)
_BREAK_AFTER = "-‐–—"


def _tag_info(tag: str) -> tuple[str, dict, int]:
    """(name, attributes, +1 open / -1 close / 0 void) of a tag."""
    close = tag.startswith("</")
    m = re.match(r"</?\s*([\w:-]+)", tag)
    name = m.group(1).lower() if m else ""
    if close:
        return name, {}, -1
    attrs = dict(_ATTR.findall(tag))
    return name, attrs, 0 if (name in _VOID or tag.endswith("/>")) else 1


def _chain_key(stack) -> tuple:
    return tuple((name, attrs.get("class", ""), attrs.get("lang", "")) for name, attrs in stack)


def _style_key(key: tuple) -> tuple:
    """The key of a text's style: its nesting without the layout loop's
    span.nohyph (a word kept whole: `hyphens: manual`, which the breaker
    applies itself), so that the loop's next round needs no new specimen."""
    if len(key) > 1 and any(c == "nohyph" for _n, c, _l in key[1:]):
        return key[:1] + tuple(e for e in key[1:] if e[1] != "nohyph")
    return key


def _kept_whole(key: tuple) -> bool:
    """A text in a word the layout loop keeps whole (span.nohyph)."""
    return _style_key(key) != key


@dataclass
class Para:
    kind: str               # "body" or "note"
    indent: bool            # a first-line indent (p + p, .note-p + .note-p)
    pieces: list            # [index of the text segment in `segs`, chain key]
    last_justified: bool = False
    tag: int = -1           # the segment of its opening tag
    # generated content (::before, ::after) of the inline elements around a
    # text segment: {segment: [element]} (see `_generated_key`)
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)


# A link within the book (a cross-reference, a page reference) prints its
# target's page: from target-counter() in the whole document, from data-page in
# a piece of the parallel layout (the styles give every target-counter() a
# [data-page] twin: print.css).  The page is not known when the paragraph is
# broken, so its generated content is measured with the widest page number of
# PAGE_DIGITS digits, the same in both layouts (a line holding one is at most
# two digits looser): whole and parallel layouts break alike.
PAGE_DIGITS = 3
_ANY_PAGE = "\x00"


def _generated_key(kind: str, name: str, attrs: dict) -> tuple:
    """What decides an inline element's generated content: its name, class and
    data-* attributes (attr() reads them), and the paragraph's kind (its size);
    for a link within the book, any page (`PAGE_DIGITS`)."""
    data = {k: v for k, v in attrs.items() if k.startswith("data-") and k != "data-src"}
    if attrs.get("href", "").startswith("#"):
        data["data-page"] = _ANY_PAGE
    return (kind, name, attrs.get("class", ""), tuple(sorted(data.items())))


# The block elements a paragraph of running text may stand in, inside a
# chapter: the specimen (see `Measurer`) reproduces them around a sample
# paragraph, so that its measure, indent, face and alignment are theirs.  A
# table's cell or a figure takes a width from its content, which a specimen
# cannot reproduce: a paragraph there is left to WeasyPrint.
_CONTEXTS = frozenset({"section", "article", "div", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
                       "aside", "header", "footer"})
# a paragraph's classes that the breaker handles itself (not part of its kind)
_OWN_CLASSES = frozenset({"continued", "split", "kp"})


def _body_kind(outer: list, attrs: dict) -> str | None:
    """The kind of a chapter's paragraph: "body" for a plain <p> of the
    chapter, else "body" and, as JSON, the elements around it (name, class,
    lang) and its own class and lang; None where the specimen cannot stand in
    for it (an element not in `_CONTEXTS`, an inline style)."""
    chain = []
    for name, a in outer:
        if name not in _CONTEXTS or "style" in a:
            return None
        chain.append([name, a.get("class", ""), a.get("lang", "")])
    if "style" in attrs:
        return None
    cls = " ".join(c for c in attrs.get("class", "").split() if c not in _OWN_CLASSES)
    if not chain and not cls and not attrs.get("lang"):
        return "body"
    return "body" + json.dumps([chain, cls, attrs.get("lang", "")], ensure_ascii=False)


def kind_html(kind: str) -> tuple[str, str, str]:
    """(the elements to open, the <p> tag, the elements to close) of a kind."""
    if kind == "body":
        return "", "<p>", ""
    chain, cls, lang = json.loads(kind[4:])

    def tag(name, c, lg):
        return ("<" + name + (f' class="{htmllib.escape(c)}"' if c else "")
                + (f' lang="{htmllib.escape(lg)}"' if lg else "") + ">")
    return ("".join(tag(*e) for e in chain), tag("p", cls, lang),
            "".join(f"</{name}>" for name, _c, _lg in reversed(chain)))


def paragraphs(segs: list[str]) -> list[Para]:
    """The paragraphs of running text in the segments of the print HTML from
    the first chapter on (tags at odd indexes, text between): the <p> of
    chapters (also inside lists, quotations and other blocks: see
    `_CONTEXTS`) and, inside them, the notes' paragraphs (span.note-p)."""
    paras: list[Para] = []
    in_chapter = False
    outer: list[tuple[str, dict]] = []      # open elements between the chapter and its paragraphs
    prev_p = False                  # p + p: the previous element sibling is a paragraph
    body: Para | None = None
    stack: list[tuple[str, dict]] = []      # open elements inside the paragraph
    note: Para | None = None
    note_depth = 0
    prev_note = False
    # something the breaker does not measure, in the paragraph (outside its notes), in the note
    bad_body = bad_note = False
    opened: list = []               # elements opened since the last text segment (their ::before)

    def unmeasured() -> None:
        """Something the breaker cannot measure, in the note or the paragraph."""
        nonlocal bad_body, bad_note
        if note is not None:
            bad_note = True
        else:
            bad_body = True

    def owner() -> Para | None:
        """The paragraph the current position belongs to (None: in a note's frame)."""
        if note is not None:
            return note
        return None if any("footnote" in a.get("class", "").split() for _n, a in stack) else body
    for i, seg in enumerate(segs):
        if i % 2 == 1:
            name, attrs, kind = _tag_info(seg)
            cls = attrs.get("class", "").split()
            if body is None:        # between paragraphs
                if not in_chapter:
                    if kind == 1 and name == "section" and "chapter" in cls:
                        in_chapter, prev_p, outer = True, False, []
                    continue
                if kind == 1 and name == "p":
                    ctx = _body_kind(outer, attrs)
                    body = Para(ctx or "body", prev_p and "continued" not in cls, [],
                                last_justified="split" in cls, tag=i)
                    stack, bad_body, bad_note = [], ctx is None, False
                elif kind == 1:
                    outer.append((name, attrs))
                    prev_p = False
                elif kind == -1:
                    if outer:
                        # the innermost open element of that name (HTML's end tags may be left out)
                        at = max((k for k, (n_, _a) in enumerate(outer) if n_ == name), default=None)
                        if at is not None:
                            del outer[at:]
                    elif name == "section":
                        in_chapter = False
                    prev_p = False
                elif name != "br":
                    prev_p = False
                continue
            if kind == 1:
                if name == "span" and "note-p" in cls:
                    note = Para("note", prev_note, [], tag=i)
                    note_depth = len(stack)
                    bad_note = False
                elif name == "span" and "footnote" in cls:
                    prev_note = False
                elif name in ("img", "svg", "math", "sub", "sup", "object", "iframe"):
                    unmeasured()
                else:
                    target = owner()
                    if target is not None:
                        opened.append(_generated_key(target.kind, name, attrs))
                stack.append((name, attrs))
            elif kind == -1:
                if not stack:                       # </p>
                    if not bad_body:
                        paras.append(body)
                    body, prev_p = None, True
                    continue
                target = owner()
                name_, attrs_ = stack.pop()
                if target is not None and target.pieces and not (target is note and len(stack) == note_depth):
                    target.after.setdefault(target.pieces[-1][0], []).append(
                        _generated_key(target.kind, name_, attrs_))
                if note is not None and len(stack) == note_depth:
                    if not bad_note:
                        paras.append(note)
                    note, prev_note = None, True
            else:
                target = note if note is not None else body
                if name == "br":
                    target.pieces.append((i, ("<br>",)))
                else:
                    unmeasured()
        elif seg and body is not None:
            target = owner()
            if target is not None:
                chain = stack[note_depth + 1:] if target is note else stack
                target.pieces.append((i, (target.kind,) + _chain_key(chain)))
                if opened:
                    target.before[i] = opened
            opened = []
    return paras


class Measurer:
    """Widths of text in the computed styles of the print document, from
    WeasyPrint's own Pango layouts (engine.TextMeasure: the font, size,
    features and language of each style, as its text boxes are measured when
    WeasyPrint lays out a line), read from the boxes with the engine's walker.

    The styles come from a specimen: a small document with the print
    document's head (the same stylesheets) and one sample of each nesting of
    inline elements found in the paragraphs, laid out by `lay`.  A nesting
    not met before (the next part of the book, in the same worker) is laid
    out in a specimen of its own, with the others' samples left out: a
    specimen costs a WeasyPrint layout, most of it the stylesheets'."""

    def __init__(self, head: str, lay):
        self.head, self.lay = head, lay
        self.documents = []                     # kept: their styles hold the fonts
        self.styles: dict[tuple, object] = {}
        self.measure, self.indent, self.justified = {}, {}, {}
        self.generated: dict[tuple, tuple[float, float]] = {}
        self.known: set = set()                 # the keys and generated keys measured (or tried)
        self._measures: dict = {}
        self._width = functools.lru_cache(maxsize=1 << 16)(self._measure)

    def add(self, keys: set[tuple], generated: set[tuple] = frozenset()) -> None:
        """Measure the styles of `keys` and the generated content of `generated`
        not measured yet."""
        keys, generated = set(keys) - self.known, set(generated) - self.known
        if not keys and not generated:
            return
        self.known |= keys | generated
        head, lay = self.head, self.lay
        keys, gen_keys = sorted(keys), sorted(generated)       # a sample's number: its index here
        # the kinds of paragraph: "body", "note", and a body's in a list, a quotation ... (`_body_kind`)
        kinds = sorted({"body", "note"} | {k[0] for k in keys} | {g[0] for g in gen_keys})
        samples: dict[str, list[str]] = {k: [] for k in kinds}
        for n, (kind, name, cls, data) in enumerate(gen_keys):
            # a link's page: each digit PAGE_DIGITS times (the widest is taken)
            for d in "0123456789" if (("data-page", _ANY_PAGE) in data) else "_":
                attrs = (f' class="{htmllib.escape(cls)}"' if cls else "") + "".join(
                    f' {k}="{htmllib.escape(d * PAGE_DIGITS if v == _ANY_PAGE else v)}"' for k, v in data)
                # each on one line: an element's content split over two lines would be measured in part
                samples[kind].append(
                    f'<span style="white-space: nowrap"><{name}{attrs}>qzg{n}zq</{name}></span> ')
        for n, key in enumerate(keys):
            chain = key[1:]
            # a link points at the specimen's own target (its target-counter() finds a page)
            opens = "".join("<" + name + (f' class="{c}"' if c else "") + (f' lang="{lg}"' if lg else "")
                            + (' href="#qzt"' if name == "a" else "") + ">" for name, c, lg in chain)
            closes = "".join(f"</{name}>" for name, _c, _lg in reversed(chain))
            samples[key[0]].append(f"{opens}qz{n}zq{closes} ")
        # a kind's samples in a paragraph, and its measure, indent (p + p) and
        # alignment from the paragraph after it
        tags = {"body": "body", "note": "note2"}
        blocks = []
        for j, kind in enumerate(k for k in kinds if k.startswith("body") and k != "body"):
            opens, p, closes = kind_html(kind)
            tags[kind] = f"k{j}"
            blocks.append(f'{opens}{p}{"".join(samples[kind])}</p>{p}qzk{j}zq</p>{closes}')
        specimen = (head + '<body><section class="part"><section class="chapter" id="qzt">'
                    f'<p>{"".join(samples["body"])}</p><p>qzbodyzq'
                    f'<span class="footnote"><span class="note-p">qznotezq {"".join(samples["note"])}</span>'
                    '<span class="note-p">qznote2zq</span></span></p>'
                    f'{"".join(blocks)}</section></section></body></html>')
        document = lay(specimen)
        self.documents.append(document)
        found = {}

        def walk(box, block=None):
            name = adapter.kind(box)
            if name == adapter.TEXT:
                for m in re.finditer(r"qz(\w+?)zq", adapter.text(box)):
                    found[m.group(1)] = (adapter.style(box), block)
            elif name == adapter.INLINE:
                # an element's generated content: the widths of its children before
                # and after the sample's text (its ::before and ::after boxes)
                kids = adapter.children(box)
                at = [k for k, c in enumerate(kids)
                      if adapter.kind(c) == adapter.TEXT and re.match(r"qzg\d+zq", adapter.text(c))]
                if at:
                    g = gen_keys[int(re.match(r"qzg(\d+)zq", adapter.text(kids[at[0]])).group(1))]
                    was = self.generated.get(g, (0.0, 0.0))
                    self.generated[g] = (max(was[0], sum(adapter.margin_width(c) for c in kids[:at[0]])),
                                         max(was[1], sum(adapter.margin_width(c) for c in kids[at[0] + 1:])))
            if name in (adapter.BLOCK, adapter.FOOTNOTES) or (
                    adapter.tag(box) == "span" and adapter.style(box)["display"] == ("block", "flow")):
                block = box
            for child in adapter.children(box):
                walk(child, block)
        for root in adapter.roots(document):
            walk(root)
        for n, key in enumerate(keys):
            if str(n) in found:
                self.styles[key] = found[str(n)][0]
        for kind, tag in tags.items():
            if tag not in found:
                continue                        # not laid out (a kind display: none hides): left to WeasyPrint
            style, block = found[tag]
            self.measure[kind] = adapter.geometry(block)[2]
            ti = style["text_indent"]
            self.indent[kind] = ti.value if getattr(ti, "unit", "px") == "px" else 0.0
            # only justified text is set here (a ragged epigraph is left to WeasyPrint)
            self.justified[kind] = style["text_align_all"] == "justify"

    def _measure(self, key: tuple, text: str) -> float:
        measure = self._measures.get(key)
        if measure is None:
            measure = self._measures[key] = adapter.TextMeasure(self.styles[key])
        return measure.width(text)

    def width(self, key: tuple, text: str) -> float:
        return self._width(key, text)


def hyphen_points(word: str, style) -> list[int]:
    """The book's hyphenation points of a word in a computed style (its
    hyphens, hyphenate-limit-chars and language), as WeasyPrint would find them."""
    if style["hyphens"] != "auto":
        return []
    limits = style["hyphenate_limit_chars"]
    total, left, right = limits if isinstance(limits, tuple) else (5, 2, 2)
    total = 5 if total == "auto" else total
    left = 2 if left == "auto" else left
    right = 2 if right == "auto" else right
    # an acronym (WYSIWYG, UNESCO) is never hyphenated
    if len(word) < total or not word.isalpha() or word.isupper():
        return []
    lang = (style["lang"] or "az").split("-")[0]
    return [p for p in hyphenate(word, lang, left, right) if left <= p <= len(word) - right]


def _candidates(t: str, style, nowrap: bool, opts: dict) -> list[tuple[int, str]]:
    """Break points inside a run of non-spaces: (offset, "hyphen" | "after"),
    and where Pango (UAX #14) would break it and the breaker does not
    (offset, "never": after "/" in "/etc/apt", "and/or"), which `impose`
    closes with a word joiner: WeasyPrint, first-fit, would otherwise pull
    the start of a line's first word up to the end of the line before."""
    if nowrap:
        return []
    out = []
    for wm in re.finditer(r"[^\W\d_]+|.", t, re.S):
        w = wm.group()
        if w.isalpha() and len(w) > 1:
            out += [(wm.start() + p, "hyphen") for p in hyphen_points(w, style)]
        elif w in _BREAK_AFTER and 0 < wm.start() and wm.end() < len(t) and t[wm.end()] not in (WJ, ")", ",", "."):
            out.append((wm.end(), "after"))
    if len(t) > 1 and not t.isalnum():
        offered = {o for o, _k in out}
        attrs = _log_attrs(t, style["lang"] or "")
        out += [(o, "never") for o in range(1, len(t))
                if attrs[o] and o not in offered and t[o - 1] != WJ and t[o] != WJ]
        out.sort()
    return out


@functools.lru_cache(maxsize=1 << 14)
def _log_attrs(t: str, lang: str) -> tuple[bool, ...]:
    """Pango's line-break opportunities of a text (before each character)."""
    return adapter.break_opportunities(t, lang)


def _items(para: Para, segs: list[str], m: Measurer, opts: dict) -> list[Item] | None:
    """The boxes, glue and penalties of a paragraph; refs point at (kind,
    segment, offset in its unescaped text) so that `impose` can find them.
    A box stretches and shrinks by `expansion` of its width (its letters'
    tracking), unless its word holds a ligature of the face: tracking would
    undo it (Pango, as CSS asks, sets tracked letters apart), so such a word
    keeps its natural letter spacing."""
    items: list[Item] = []
    if para.indent and m.indent[para.kind]:
        items.append(Item("box", m.indent[para.kind]))
    stretch_k, expand = opts["stretch"], opts["expansion"]
    hang = HANG if opts["protrusion"] else {}
    pending = None                          # a space not yet placed: (segment, offset, key, nowrap)
    for seg_index, key in para.pieces:
        if key == ("<br>",):
            return None                     # a hard break: left to WeasyPrint
        kept_whole = _kept_whole(key)               # span.nohyph: no hyphenation point
        key = _style_key(key)
        if key not in m.styles:
            return None                     # an unknown style: left to WeasyPrint
        style = m.styles[key]
        text = htmllib.unescape(segs[seg_index])
        if style["white_space"] in ("pre-wrap", "break-spaces", "pre-line"):
            return None                     # spaces kept as they are typed: left to WeasyPrint
        nowrap = style["white_space"] in ("nowrap", "pre")
        # code is not tracked (a monospaced face's columns stay columns), nor hangs
        code = _is_code(key)
        # nor a text of three letters or fewer in an element of its own (a note's
        # number, a citation's parenthesis): its tracking would be a span more for
        # WeasyPrint to lay out, for a tenth of a pixel
        expand_here = 0.0 if code or len(text) <= 3 else expand
        hang_here = {} if code else hang
        # the ::before content of the elements opening here, ::after of those closing
        # after it: boxes of their width (not tracked: our spans are inside them)
        gen_before = sum(m.generated.get(g, (0.0, 0.0))[0] for g in para.before.get(seg_index, ()))
        gen_after = sum(m.generated.get(g, (0.0, 0.0))[1] for g in para.after.get(seg_index, ()))
        if gen_before:
            items.append(Item("box", gen_before, text="::before"))
        for tok in TOKENS.finditer(text):
            t = tok.group()
            if t[0] in SPACES:
                # a no-break space of the text (French before ":") stays one: a
                # space that stretches but never breaks
                hard = NBSP in t
                if items and pending is None:
                    pending = (seg_index, tok.start(), key, nowrap or hard)
                elif pending is not None and hard:
                    pending = pending[:3] + (True,)
                continue
            if pending is not None:
                s_seg, s_off, s_key, s_nowrap = pending
                w = m.width(s_key, " ")
                if s_nowrap:
                    items.append(Item("penalty", penalty=INF))
                items.append(Item("glue", w, w * stretch_k, w * opts["shrink"], ref=("space", s_seg, s_off)))
                pending = None
            elif (tok.start() == 0 and not code and items and items[-1].kind == "box" and items[-1].ref
                  and items[-1].ref[1] != seg_index
                  and _log_attrs(items[-1].text[-1] + t[0], style["lang"] or "")[1]):
                # two elements' texts meet without a space where Pango may break
                # ("qurultayıdır.”." and a note call "225"): closed with a word joiner
                items.append(Item("penalty", 0.0, penalty=INF, ref=("after", seg_index, 0)))
            e = 0.0 if has_ligature(t, m.ligatures) else expand_here

            def box(a: int, b: int) -> Item:
                w = m.width(key, t[a:b])
                h = m.width(key, t[b - 1]) * hang_here[t[b - 1]] if t[b - 1] in hang_here else 0.0
                return Item("box", w, w * e, w * e, ref=("box", seg_index, tok.start() + a), text=t[a:b], hang=h)
            at = 0
            for off, kind in _candidates(t, style, nowrap, opts):
                if kind == "hyphen" and kept_whole:
                    continue
                items.append(box(at, off))
                if kind == "never":
                    items.append(Item("penalty", 0.0, penalty=INF, ref=("after", seg_index, tok.start() + off)))
                elif kind == "hyphen":
                    hw = m.width(key, HYPHEN)
                    items.append(Item("penalty", hw, penalty=opts["hyphen-penalty"], flagged=True,
                                      ref=("hyphen", seg_index, tok.start() + off), hang=hw * hang.get(HYPHEN, 0.0)))
                else:
                    items.append(Item("penalty", 0.0, penalty=opts["hyphen-penalty"] if t[off - 1] in "-‐" else 50,
                                      flagged=t[off - 1] in "-‐", ref=("after", seg_index, tok.start() + off)))
                at = off
            items.append(box(at, len(t)))
        if gen_after:
            items.append(Item("box", gen_after, text="::after"))
    while items and items[-1].kind != "box":
        items.pop()
    if not any(it.kind == "glue" for it in items):
        return None
    if para.last_justified:         # a paragraph split before a page (p.split): its last line is full
        return items + [Item("penalty", penalty=-INF)]
    items += [Item("penalty", penalty=INF), Item("glue", 0.0, 1e6), Item("penalty", penalty=-INF)]
    return items


def _is_code(key: tuple) -> bool:
    return len(key) > 1 and any(name == "code" for name, _c, _l in key[1:])


@functools.lru_cache(maxsize=1 << 15)
def has_ligature(word: str, ligatures: frozenset) -> bool:
    return any(seq in word for seq in ligatures)


@functools.lru_cache(maxsize=8)
def ligature_sequences(fonts: str) -> frozenset:
    """The letter sequences the faces in `fonts` (a folder) join into one
    glyph by default (their GSUB liga and clig lookups): fi, fl, ff ... in
    Vollkorn.  Read with fontTools (WeasyPrint's own dependency)."""
    from pathlib import Path

    from fontTools.ttLib import TTFont

    seqs: set[str] = set()
    for path in sorted(Path(fonts).rglob("*")):
        if path.suffix.lower() not in (".ttf", ".otf"):
            continue
        font = TTFont(str(path), lazy=True)
        if "GSUB" not in font:
            continue
        gsub = font["GSUB"].table
        chars = {glyph: chr(code) for code, glyph in font.getBestCmap().items()}
        lookups = {i for rec in gsub.FeatureList.FeatureRecord if rec.FeatureTag in ("liga", "clig")
                   for i in rec.Feature.LookupListIndex}
        for i in sorted(lookups):
            lookup = gsub.LookupList.Lookup[i]
            for sub in lookup.SubTable:
                sub = sub.ExtSubTable if lookup.LookupType == 7 else sub
                for first, ligs in (getattr(sub, "ligatures", None) or {}).items():
                    for lig in ligs:
                        text = [chars.get(g) for g in [first, *lig.Component]]
                        if all(text):
                            seqs.add("".join(text))
    return frozenset(seqs)


def _add_class(tag: str, name: str) -> str:
    m = re.search(r'\sclass="([^"]*)"', tag)
    if m:
        return tag[:m.start(1)] + m.group(1) + " " + name + tag[m.end(1):]
    return re.sub(r"^<(\w+)", lambda t: f'<{t.group(1)} class="{name}"', tag)


def rewrite(text: str, plan: "SegmentPlan") -> str:
    """A text segment as the breaks chosen set it: a no-break space inside a
    line, a visible hyphen at a chosen hyphenation point, a word joiner after
    an explicit hyphen not chosen; each line's letters in a span of its
    tracking (span.kx), and the spaces of a tight line in it too, at their
    shrink (see `_line_plan`); a glyph hanging into the margin ends the line's
    span, given the negative right margin, or is in a span.kh of its own."""
    if plan.code:
        return _rewrite_code(text, plan)
    out: list[str] = []
    state = None                        # the line's span open: its style, or None
    state_at = -1                       # its opening tag in `out`
    hung = False                        # it ends with a hanging glyph: closed at the line's end
    kh_open = False
    lead = ""                           # a space to put at the start of the text that follows

    def close_kh():
        nonlocal kh_open
        if kh_open:
            out.append("</span>")
            kh_open = False

    def close_line():
        nonlocal state, hung
        if state is not None:
            out.append("</span>")
        state, hung = None, False

    def track(want):
        nonlocal state, state_at, lead
        close_kh()
        if hung:
            close_line()
        if want != state:
            close_line()
            if want is not None:
                state_at = len(out)
                out.append(f'<span class="kx" style="{want}">')
            state = want
        if lead:
            out.append(lead)
            lead = ""

    def glyph(ch: str, hang: float | None):
        nonlocal kh_open, hung
        close_kh()
        esc = htmllib.escape(ch, quote=False)
        if hang and state is not None and unbreakable(htmllib.unescape("".join(out[state_at + 1:])) + ch, plan.lang):
            # The line's span ends here: the margin is its own, not a span more (each
            # is a box for WeasyPrint to lay out).  Only where Pango finds no break in
            # its text: WeasyPrint counts an inline box's right margin only when its
            # text fits whole without it, and a break (after a dash before a no-break
            # space) would split it first.
            out[state_at] = out[state_at][:-2] + f'; margin-right: -{hang:.3f}px">'
            out.append(esc)
            hung = True
        elif hang:
            out.append(f'<span class="kh" style="margin-right: -{hang:.3f}px">{esc}')
            kh_open = True
        else:
            out.append(esc)

    i, n = 0, len(text)
    while i < n:
        if i in plan.hyphen:                # the hyphen ends the line before: its tracking
            glyph(HYPHEN, plan.hang.get(("hyphen", i)))
        if i in plan.wj:
            close_kh()
            out.append(WJ)
        ch = text[i]
        if ch in SPACES:
            j = i
            while j < n and text[j] in SPACES:
                j += 1
            if i in plan.nbsp or NBSP in text[i:j]:
                # a space inside a line: in the text before or after it, never a
                # text of its own between two elements (WeasyPrint would not draw it)
                want = _line_style(plan, i)
                if want is not None and (want == state or i in plan.on):
                    track(want)             # inside the line's span (a tracked space between tracked letters)
                    out.append(NBSP)
                elif state is not None or kh_open or (out and not out[-1].endswith(">")):
                    out.append(NBSP)        # ends the text before it
                else:
                    lead = NBSP             # begins the text after it
            elif out and not out[-1].endswith(">") or kh_open:
                # a break: the space ends the text before it (a hanging glyph's too),
                # so that WeasyPrint strips it at the line's end; a space alone
                # between two elements would stay there, with a share of the
                # justification (WeasyPrint, to give it word-spacing, makes it
                # " \u200b")
                out.append(" ")
                close_kh()
                if hung:
                    close_line()
            else:
                lead = " "                  # ... or begins the text after it
            i = j
            continue
        track(_line_style(plan, i))
        hang = plan.hang.get(("char", i))
        if hang:
            glyph(ch, hang)
            i += 1
            continue
        # the run of letters up to the next space, mark or change of span, at once
        here = (plan.on.get(i), plan.tight.get(i))
        j = i + 1
        while (j < n and text[j] not in SPACES and j not in plan.hyphen and j not in plan.wj
               and ("char", j) not in plan.hang and (plan.on.get(j), plan.tight.get(j)) == here):
            j += 1
        glyph(text[i:j], None)
        i = j
    if n in plan.hyphen:
        glyph(HYPHEN, plan.hang.get(("hyphen", n)))
    if lead:                            # nothing follows in this segment
        close_kh()
        out.append(lead)
        lead = ""
    track(None)
    return _SPACELESS.sub(_spaceless, "".join(out))


def unbreakable(text: str, lang: str) -> bool:
    """No line-break opportunity inside `text` (Pango's, as WeasyPrint's)."""
    attrs = _log_attrs(text + " x", lang)
    return not any(attrs[1:len(text) + 1])


# A tight line's span around text with no space in it (a note call, a word
# alone in a link, a parenthesis) needs no word-spacing: without it the span
# is its tracking alone, or no span at all.
_SPACELESS = re.compile(r'<span class="kx" style="word-spacing: -[\d.]+px(?:; (letter-spacing: [-\d.]+px))?">'
                        f'([^<{SPACES}]*)</span>')


def _spaceless(m: re.Match) -> str:
    return f'<span class="kx" style="{m.group(1)}">{m.group(2)}</span>' if m.group(1) else m.group(2)


def _line_style(plan: "SegmentPlan", i: int) -> str | None:
    """The style of the span of a line's letters and spaces at offset i: its
    tracking, its spaces' shrink (a tight line), or None (no span)."""
    ls, ws = plan.on.get(i), plan.tight.get(i)
    if ls is None and ws is None:
        return None
    return "; ".join(([f"word-spacing: -{ws:.3f}px"] if ws else []) + ([f"letter-spacing: {ls:.3f}px"] if ls else []))


def _rewrite_code(text: str, plan: "SegmentPlan") -> str:
    """A segment of code as the breaks chosen set it: each stretch of it
    within a line in a span that does not wrap (span.kn), with its spaces as
    they are typed, a break's space at the end of the stretch before it.  Not
    the no-break spaces and word joiners of prose, which a reader copying a
    command or a path from the PDF would paste with it."""
    out: list[str] = []
    run: list[str] = []
    run_at = 0

    def flush():
        if run:
            ws = plan.tight.get(run_at)       # a tight line's code shrinks its spaces as the prose does
            style = f' style="word-spacing: -{ws:.3f}px"' if ws else ""
            out.append(f'<span class="kn"{style}>' + htmllib.escape("".join(run), quote=False) + "</span>")
            run.clear()
    i, n = 0, len(text)
    while i < n:
        if not run:
            run_at = i
        if i in plan.breaks:
            flush()
        if text[i] in SPACES:
            j = i
            while j < n and text[j] in SPACES:
                j += 1
            run.append(NBSP if NBSP in text[i:j] else " ")
            if not (i in plan.nbsp or NBSP in text[i:j]) and j < n:
                flush()                     # a break: the space ends the stretch before it
            i = j
            continue
        run.append(text[i])
        i += 1
    flush()
    return "".join(out)


@dataclass
class SegmentPlan:
    """What `rewrite` does to one text segment."""
    nbsp: set                       # offsets of spaces inside a line
    hyphen: set                     # offsets where a chosen hyphen goes (before the character)
    wj: set                         # offsets where a word joiner goes
    hang: dict                      # ("char" | "hyphen", offset) -> px it hangs
    on: dict                        # offset of a letter or inner space -> its line's tracking (px), if tracked
    tight: dict = field(default_factory=dict)   # offset in a line that must shrink -> its spaces' shrink (px)
    code: bool = False              # a segment of code (see `_rewrite_code`)
    breaks: set = field(default_factory=set)    # offsets of chosen breaks after a hyphen or dash
    lang: str = ""                  # the segment's language (Pango's break opportunities)


def _line_plan(para: Para, segs: list[str], items: list[Item], chosen: list[int], measure: float,
               opts: dict, m: Measurer) -> tuple[dict[int, SegmentPlan], float]:
    """The rewriting of every segment of the paragraph for the chosen breaks,
    and the largest share of a line's letters' width its tracking takes.  Each justified line's letters are tracked
    by the share of the line's adjustment that pdfTeX would give its font
    expansion: the same ratio r as the spaces' (capped at the expansion's
    limit), r * expansion * the width of its tracked boxes, spread over its
    tracked letters and inner spaces; WeasyPrint's justification gives the
    rest to the spaces."""
    texts = {i: htmllib.unescape(segs[i]) for i, _k in para.pieces}
    # (every piece's style is measured: `_items` returns None otherwise)
    plans = {i: SegmentPlan(set(), set(), set(), {}, {}, code=_is_code(k), lang=m.styles[_style_key(k)]["lang"] or "")
             for i, k in para.pieces}
    chosen_set = set(chosen)
    # the line of every box, and each line's adjustment
    line_of: dict[int, int] = {}
    start, targets, shares, tight = 0, [], [], []
    for k, b in enumerate(chosen):
        w = stretch = shrink = tracked = glue_stretch = glue_shrink = 0.0
        for j in range(start, b):
            it = items[j]
            if it.kind == "box":
                line_of[j] = k
                tracked += it.width if it.stretch else 0.0
            elif it.kind == "glue":
                glue_stretch, glue_shrink = glue_stretch + it.stretch, glue_shrink + it.shrink
            if it.kind != "penalty":
                w, stretch, shrink = w + it.width, stretch + it.stretch, shrink + it.shrink
        end = items[b]
        w += end.width if end.kind == "penalty" else 0.0
        hang = end.hang if (end.kind == "penalty" and end.width) else (
            items[b - 1].hang if b and items[b - 1].kind == "box" else 0.0)
        last = k == len(chosen) - 1 and not para.last_justified
        gap = measure - MARGIN + hang - w
        r = 0.0 if last else (gap / stretch if gap > 0 and stretch else (gap / shrink if gap < 0 and shrink else 0.0))
        # A line is tracked only where its spaces alone would be out of bounds: wider
        # than TRACK_FROM of their stretch, or narrower than they may shrink.  Each
        # tracked line is a span more for WeasyPrint to lay out (its cost, not the
        # spacing's: the other lines' spaces take the little the letters would have).
        # (Not every tight line, though its spaces' shrink is a span already: a word
        # with a ligature, never tracked, would cut that span in three.)
        alone = gap / glue_stretch if gap > 0 and glue_stretch else (
            gap / glue_shrink if gap < 0 and glue_shrink else (0.0 if -1.0 < gap < 1.0 else -INF))
        if not (alone > TRACK_FROM or alone < -1.0 + 1e-6):
            r = 0.0
        if gap < 0 and not last:
            tight.append((start, b))        # its natural width is over the measure
        targets.append(max(-1.0, min(1.0, r)) * opts["expansion"] * tracked)
        shares.append(abs(targets[-1]) / tracked if tracked else 0.0)
        # the glyph that hangs
        if hang and not last:
            if end.kind == "penalty" and end.width:
                _kind, seg, off = end.ref
                plans[seg].hang[("hyphen", off)] = hang
            else:
                _kind, seg, off = items[b - 1].ref
                plans[seg].hang[("char", off + len(items[b - 1].text) - 1)] = hang
        start = b + 1
        while start < len(items) and items[start].kind != "box":
            start += 1
    # spaces, hyphens, joiners
    for k, it in enumerate(items):
        if it.ref is None or it.ref[0] == "box":
            continue
        kind, seg, off = it.ref
        if kind == "space" and k not in chosen_set:
            plans[seg].nbsp.add(off)
        elif kind == "hyphen" and k in chosen_set:
            plans[seg].hyphen.add(off)
        elif kind == "after" and k not in chosen_set:
            plans[seg].wj.add(off)
        elif kind == "after":
            plans[seg].breaks.add(off)
    # the tracked letters of each line: its tracked boxes' letters, and a space
    # inside the line between two of them (so that a line is one span a segment)
    count = [0] * len(chosen)
    boxes = [(j, it) for j, it in enumerate(items) if it.kind == "box" and it.ref is not None]
    for n, (j, it) in enumerate(boxes):
        k = line_of.get(j)
        if k is None or not it.stretch or not targets[k]:
            continue
        _kind, seg, off = it.ref
        for o in range(off, off + len(it.text)):
            plans[seg].on[o] = k
        count[k] += len(it.text)
        if n + 1 < len(boxes):
            j2, it2 = boxes[n + 1]
            if line_of.get(j2) == k and it2.stretch and it2.ref[1] == seg:
                gap = texts[seg][off + len(it.text):it2.ref[2]]
                if gap and all(c in SPACES for c in gap):
                    for o in range(off + len(it.text), it2.ref[2]):
                        plans[seg].on[o] = k
                    count[k] += 1
        if j + 1 in chosen_set and items[j + 1].kind == "penalty" and items[j + 1].width:
            count[k] += 1                   # its hyphen is tracked too
    ls = [t / c if c else 0.0 for t, c in zip(targets, count)]
    for plan in plans.values():
        plan.on = {o: ls[k] for o, k in plan.on.items() if ls[k]}
    # A tight line (its natural width over the measure) shrinks its spaces: every
    # space of it and every letter between them in a span of negative
    # word-spacing (a share of the face's space), so that WeasyPrint's first fit
    # finds the line fits; its justification then widens the spaces to the
    # measure.  The other lines need no span: their spaces are natural, then
    # justified, and the ragged last line keeps them natural.  (A negative
    # word-spacing on the paragraph would do it too, but WeasyPrint then gives
    # Pango an attribute for every space of the text it lays out, lines ahead
    # included, and the last line would need a span of natural spaces.)
    shrink_px = m.width((para.kind,), ' ') * opts["shrink"] if opts["shrink"] else 0.0
    for first, b in tight if shrink_px else ():
        for j in range(first, b):
            it = items[j]
            if it.ref is None or it.kind == "penalty":
                continue
            _kind, seg, off = it.ref
            if it.kind == "box":
                for o in range(off, off + len(it.text)):
                    plans[seg].tight[o] = shrink_px
            else:
                o, t = off, texts[seg]
                while o < len(t) and t[o] in SPACES:
                    plans[seg].tight[o] = shrink_px
                    o += 1
    return plans, max(shares, default=0.0)


def _set(para: Para, segs: list[str], m: Measurer, opts: dict, lines: int | None = None,
         unhyphenated: frozenset = frozenset()) -> tuple[dict[int, str], int, float, tuple] | None:
    """A paragraph broken by total fit: ({segment: new text}, lines, the largest share of a line's letters' width its tracking
    takes, the lines that end with a hyphen as (line, offset of the hyphen in the
    paragraph's text)), or None if it is left to WeasyPrint.  `lines` and
    `unhyphenated`: see `breaks`."""
    if not m.justified.get(para.kind):
        return None
    items = _items(para, segs, m, opts)
    if items is None:
        return None
    measure = m.measure[para.kind]
    # TeX's passes: within the tolerance, then the emergency tolerance, then any
    # badness (a line is still never wider than the measure, nor one without
    # spaces short of it)
    chosen = (breaks(items, measure, opts, lines=lines, unhyphenated=unhyphenated)
              or breaks(items, measure, opts, opts["emergency-tolerance"], lines=lines, unhyphenated=unhyphenated)
              or breaks(items, measure, opts, 1e12, lines=lines, unhyphenated=unhyphenated))
    if chosen is None:
        return None
    plans, share = _line_plan(para, segs, items, chosen, measure, opts, m)
    at = _text_offsets(para, segs)
    hyphens = tuple((k, at[items[b].ref[1]] + items[b].ref[2]) for k, b in enumerate(chosen)
                    if items[b].kind == "penalty" and items[b].width and items[b].ref is not None)
    return ({s: rewrite(htmllib.unescape(segs[s]), plan) for s, plan in plans.items()}, len(chosen), share,
            hyphens)


def _text_offsets(para: Para, segs: list[str]) -> dict[int, int]:
    """Where each text segment of the paragraph starts in its text (the same
    from one round to the next, though the segments' indexes are not)."""
    out, at = {}, 0
    for i, _k in para.pieces:
        out[i] = at
        at += len(htmllib.unescape(segs[i]))
    return out


def _kept_lines(para: Para, segs: list[str], hyphens: set) -> frozenset:
    """The lines (of the paragraph as set before) that ended with a hyphen
    inside a word the layout loop now keeps whole (span.nohyph: a hyphen at a
    page's end).  The paragraph set again in as many lines keeps its pages, so
    the same line ends the page: it must not end with another word's hyphen."""
    at = _text_offsets(para, segs)
    spans = [(at[i], at[i] + len(htmllib.unescape(segs[i]))) for i, k in para.pieces if _kept_whole(k)]
    return frozenset(line for line, off in hyphens if any(a <= off <= b for a, b in spans))


class BreakCache:
    """What the breaker keeps from one call of `impose` to the next, in one process.

    `impose` runs once a layout round (the layout loop lays a document out
    again after each correction, typeset/correct.py) and once a piece in a
    worker of the parallel layout (typeset/parallel.py), and `matbaa watch`
    rebuilds in the same process; a paragraph met again is not broken again,
    nor a specimen laid out again for the same stylesheets:

    - `sets`: a paragraph as broken (its signature: the `engine` key, the
      document's head, the settings, its kind and segments -> its segments'
      new texts, lines, tracking and hyphenated lines; False: left to WeasyPrint);
    - `lines`: a paragraph's text (with the `engine` key and its kind) -> its
      lines, as last set without a word kept whole;
    - `hyphens`: the same text -> its hyphenated lines in those many lines, as
      set in any round (`lines` and `hyphens` serve the next round, which sets
      a paragraph with a kept word in as many lines as before: `breaks`);
    - `measurers`: (the `engine` key, the document's head, the fonts folder)
      -> the Measurer of those stylesheets (it keeps its specimens' documents:
      their styles hold the fonts).

    Every key holds what decides its value (the `engine` key names the CSS,
    fonts, patterns and settings), so nothing in it goes stale: its lifetime is
    the process's (`CACHE`), bounded in size: `sets`, `lines` and `hyphens`
    are emptied together past `MAX_SETS` paragraphs, `measurers` past
    `MAX_MEASURERS` stylesheets.  `clear()` empties it (a test, or a
    long-running process that wants the memory back); the results of
    `impose` are the same, only slower the first time again."""

    MAX_SETS = 50000
    MAX_MEASURERS = 4

    def __init__(self):
        self.sets: dict[tuple, object] = {}
        self.lines: dict[tuple, int] = {}
        self.hyphens: dict[tuple, set] = {}
        self.measurers: dict[tuple, Measurer] = {}

    def clear(self) -> None:
        self.sets.clear()
        self.lines.clear()
        self.hyphens.clear()
        self.measurers.clear()

    def bound(self) -> None:
        """Empty the paragraphs' part if it has grown past `MAX_SETS`."""
        if len(self.sets) > self.MAX_SETS:
            self.sets.clear()
            self.lines.clear()
            self.hyphens.clear()

    def measurer(self, head: str, keys: frozenset, gens: frozenset, lay, fonts=None, engine: str = "") -> Measurer:
        """One Measurer per stylesheet (the layout loop's rounds and a worker's
        pieces share it), with every nesting of `keys` and `gens` measured."""
        key = (engine, head, str(fonts))
        m = self.measurers.get(key)
        if m is None:
            if len(self.measurers) >= self.MAX_MEASURERS:
                self.measurers.clear()
            m = self.measurers[key] = Measurer(head, lay)
            m.ligatures = ligature_sequences(str(fonts)) if fonts else frozenset()
        m.add(keys, gens)
        return m


#: the breaker's cache in this process (see `BreakCache`)
CACHE = BreakCache()


_DATA_SRC = re.compile(r'data-src="([^"]*)"')


def impose(html: str, lay, book_meta: dict, stats: dict | None = None, fonts=None, engine: str = "",
           cache: BreakCache | None = None) -> str:
    """The print document with every paragraph of running text broken by
    total fit (see the module's docstring); `lay(html)` lays out a document
    (the specimen of the styles).  A paragraph the breaker cannot set (an
    image, a hard break, no solution) is left as it is, to WeasyPrint.
    A paragraph met again (the layout loop's next round) is not broken again.
    `engine` names what else decides the widths (engine.layout_key:
    the CSS, fonts, hyphenation patterns and exceptions): the head of the
    document links the stylesheets by name only, so two books (or a test's
    styles) may share it with other CSS behind it.  `cache`: what is kept
    from one call to the next (`CACHE` unless given)."""
    opts = settings(book_meta)
    body_at = html.find("<body")
    first = _CHAPTER.search(html)
    if body_at < 0 or first is None:
        return html
    head = html[:body_at]
    segs = TAG.split(html[first.start():])
    paras = paragraphs(segs)
    if not paras:
        return html
    # the plain styles too: the space a tight line's span shrinks is theirs
    keys = frozenset({("body",), ("note",)} | {(p.kind,) for p in paras}
                     | {_style_key(key) for p in paras for _i, key in p.pieces if key != ("<br>",)})
    gens = frozenset(g for p in paras for d in (p.before, p.after) for lst in d.values() for g in lst)
    m = None
    set_paras = lines = 0
    by_source: list[tuple[str, int]] = []     # (the paragraph's data-src, its lines), for the tests
    tracking = 0.0          # the largest share of a line's letters' width its tracking takes
    cache = CACHE if cache is None else cache
    cache.bound()
    sets, known_lines, known_hyphens = cache.sets, cache.lines, cache.hyphens
    for para in paras:
        sig = (engine, head, json.dumps(opts, sort_keys=True), para.kind, para.indent, para.last_justified,
               tuple((segs[i], k, tuple(para.before.get(i, ())), tuple(para.after.get(i, ()))) for i, k in para.pieces))
        done = sets.get(sig)
        text = (engine, para.kind, "".join(htmllib.unescape(segs[i]) for i, _k in para.pieces))
        marked = any(_kept_whole(k) for _i, k in para.pieces)
        if done is None:
            m = m or cache.measurer(head, keys, gens, lay, fonts, engine)
            # A word the layout loop kept whole (a hyphen at a page's end): the
            # paragraph is broken again into as many lines as before if it can be,
            # so that the pages after it stay as they were (no new round for them).
            # The line that ended with the kept word's hyphen ends the page again, and
            # may not end with another word's hyphen either (which would need a new round).
            lines_before = known_lines.get(text) if marked else None
            kept = _kept_lines(para, segs, known_hyphens.get(text, set())) if lines_before else frozenset()
            result = _set(para, segs, m, opts, lines_before, kept)
            # kept by the pieces' order (segment indexes differ from one document to the next)
            done = sets[sig] = False if result is None else (
                [result[0][i] for i, _k in para.pieces], result[1], result[2], result[3])
        if done is False:
            continue
        texts, n, share, hyphens = done
        tracking = max(tracking, share)
        if not marked:
            known_lines[text] = n
            known_hyphens[text] = set(hyphens)
        elif known_lines.get(text) == n:
            known_hyphens.setdefault(text, set()).update(hyphens)
        segs[para.tag] = _add_class(segs[para.tag], "kp")
        for (i, _k), text in zip(para.pieces, texts):
            segs[i] = text
        set_paras += 1
        lines += n
        src = _DATA_SRC.search(segs[para.tag])
        by_source.append((src.group(1) if src else "", n))
    if stats is not None:
        stats.update(paragraphs=len(paras), set=set_paras, lines=lines, tracking=tracking, by_source=by_source)
    return html[:first.start()] + "".join(segs)
