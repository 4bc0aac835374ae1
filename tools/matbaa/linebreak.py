"""Total-fit line breaking (Knuth and Plass) for the print edition.

WeasyPrint breaks lines first-fit: each line takes as many words as fit, and
the spaces of a justified line are stretched to fill what is left, however
much that is.  Here every paragraph of running text (chapters' <p>, and the
notes' paragraphs) is broken as a whole, as TeX breaks it:

* the paragraph is a list of boxes (words and pieces of words, their widths
  from Pango with the very computed styles WeasyPrint uses: see `Measurer`),
  glue (the spaces: the face's space width, 0.2 em in Vollkorn, stretchable by
  `stretch` spaces at badness 100 and shrinkable by `shrink` of it: WeasyPrint
  only ever adds to a space, so the paragraph is given a negative word-spacing
  of that much and its ragged last line a span of natural spaces) and
  penalties (the book's hyphenation points, with hyphenate-limit-chars of the
  style, at `hyphen-penalty`; a break after an explicit hyphen or a dash);
* `breaks` finds the breaks of least total demerits (badness from how much
  each line's spaces stretch or shrink, fitness classes with a penalty for
  adjacent lines of very different looseness, a penalty for consecutive
  hyphenated lines and none allowed beyond two, a penalty for a hyphen on the
  last full line; looseness 0), in TeX's passes (tolerance, emergency
  tolerance, then any badness);
* a hyphen at a page's end is found after the layout, by the layout loop
  (writers/pdf.correct): the word is marked `nohyph`, which here takes its
  hyphenation points away (an infinite penalty), and the paragraph is broken
  again in the next round;
* `impose` writes the chosen breaks into the print HTML so that WeasyPrint
  sets exactly those lines: inside a line every space becomes a no-break space
  (U+00A0, which WeasyPrint justifies like a space), a chosen hyphenation
  point becomes a visible hyphen U+2010 (a break opportunity after it, the
  character WeasyPrint draws when it hyphenates: the page map and the text
  layer join such a line end to the next line, so the word is still read
  whole), and an explicit hyphen not chosen gets a word joiner after it.  The
  spaces between lines stay spaces: WeasyPrint, breaking first-fit, can only
  break there, and each line fits, so it sets the lines chosen here; the last
  line stays ragged, the paragraph still one block (orphans, widows, notes).

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
from dataclasses import dataclass

INF = 10000                 # a penalty of INF forbids a break, -INF forces one

DEFAULTS = {
    "linebreak": "greedy",
    "tolerance": 200,          # largest badness of a line (TeX's \tolerance)
    "emergency-tolerance": 2000,   # second pass, for a paragraph with no solution within `tolerance`
    "hyphen-penalty": 500,     # TeX's \hyphenpenalty (50 there; higher here: fewer hyphens)
    "line-penalty": 10,        # TeX's \linepenalty
    "double-hyphen-demerits": 3000,
    "final-hyphen-demerits": 5000,
    "adjacent-demerits": 3000,     # lines of non-adjacent fitness classes (TeX's \adjdemerits)
    "stretch": 0.6,            # a space may stretch by this many times its width at badness 100
    "shrink": 0.5,             # ... and shrink by this share of its width (set as a negative word-spacing)
}
NBSP, HYPHEN, WJ = "\u00a0", "\u2010", "\u2060"
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


def optimal(book_meta: dict) -> bool:
    return (book_meta.get("print") or {}).get("linebreak", DEFAULTS["linebreak"]) == "optimal"


def settings(book_meta: dict) -> dict:
    return {**DEFAULTS, **{k: v for k, v in ((book_meta.get("print") or {}).items()) if k in DEFAULTS}}


# ---------------------------------------------------------------- Knuth-Plass


def breaks(items: list[Item], measure: float, opts: dict, tolerance: float | None = None) -> list[int] | None:
    """Indexes of the items where the lines end (the last is the paragraph's
    end), of least total demerits; None if no set of breaks keeps every line
    within `tolerance` and the measure.  `items` ends with the finishing glue
    and a forced break."""
    tol = opts["tolerance"] if tolerance is None else tolerance
    line_pen, hyph_pen_dem = opts["line-penalty"], opts["double-hyphen-demerits"]
    final_dem, adj_dem = opts["final-hyphen-demerits"], opts["adjacent-demerits"]
    n = len(items)
    # running sums of width and stretch up to each item
    sw, ss, sk = [0.0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1)
    for i, it in enumerate(items):
        sw[i + 1] = sw[i] + (it.width if it.kind != "penalty" else 0.0)
        ss[i + 1] = ss[i] + (it.stretch if it.kind == "glue" else 0.0)
        sk[i + 1] = sk[i] + (it.shrink if it.kind == "glue" else 0.0)
    # an active node: (position, fitness, hyphen run) -> (demerits, previous node); every line
    # has the same measure (a first-line indent is a box), so the line number is not part of it
    # position: index of the break item; the next line starts after it (discarding glue and penalties)
    start = {(-1, 1, 0): (0.0, None)}
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
        new: dict = {}
        for key in list(active):
            pos, fit, run = key
            s = starts.setdefault(pos, after(pos))
            width = sw[b] - sw[s] + (it.width if it.kind == "penalty" else 0.0)
            stretch = ss[b] - ss[s]
            shrink = sk[b] - sk[s]
            if width - shrink > measure - MARGIN:
                if not (it.kind == "penalty" and it.penalty <= -INF and width <= measure):
                    # too wide: this node can never begin a line that ends here or later
                    del active[key]
                    continue
            forced = it.kind == "penalty" and it.penalty <= -INF and b > 0 and items[b - 1].kind == "glue"
            if forced:
                bad = 0.0                                   # the last line, ragged (after the finishing glue)
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
            nk = (b, fitness, newrun)
            if nk not in new or total < new[nk][0]:
                new[nk] = (total, key)
        for nk, v in new.items():
            nodes[nk] = v
            active[nk] = v
        if not active:
            return None
    ends = [(v[0], k) for k, v in nodes.items() if k[0] == n - 1]
    if not ends:
        return None
    key = min(ends)[1]
    out = []
    while key is not None and key[0] >= 0:
        out.append(key[0])
        key = nodes[key][1]
    return out[::-1]


# ---------------------------------------------------------------- the print HTML

_TAG = re.compile(r"(<[^>]*>)")
_CHAPTER = re.compile(r'<section class="chapter"')
_P_OPEN = re.compile(r"<p(\s[^>]*)?>")
_ATTR = re.compile(r'([\w:-]+)="([^"]*)"')
_VOID = {"br", "img", "wbr", "hr"}
# where Pango (UAX #14) may break inside a run of non-spaces, besides our own marks
_BREAK_AFTER = "-‐–—/"


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


@dataclass
class Para:
    kind: str               # "body" or "note"
    indent: bool            # a first-line indent (p + p, .note-p + .note-p)
    pieces: list            # [index of the text segment in `segs`, chain key]
    last_justified: bool = False
    tag: int = -1           # the segment of its opening tag


def _paragraphs(segs: list[str]) -> list[Para]:
    """The paragraphs of running text in the segments of the print HTML from
    the first chapter on (tags at odd indexes, text between): the <p> of
    chapters and, inside them, the notes' paragraphs (span.note-p)."""
    paras: list[Para] = []
    in_chapter = False
    prev_p = False                  # p + p: the previous element sibling is a paragraph
    body: Para | None = None
    stack: list[tuple[str, dict]] = []      # open elements inside the paragraph
    note: Para | None = None
    note_depth = 0
    prev_note = False
    bad = False                     # something the breaker does not measure
    for i, seg in enumerate(segs):
        if i % 2 == 1:
            name, attrs, kind = _tag_info(seg)
            cls = attrs.get("class", "").split()
            if body is None:        # between paragraphs
                if kind == 1 and name == "section" and "chapter" in cls:
                    in_chapter, prev_p = True, False
                elif kind == -1 and name == "section":
                    in_chapter, prev_p = False, False
                elif kind == 1 and name == "p" and in_chapter:
                    body = Para("body", prev_p and "continued" not in cls, [], last_justified="split" in cls, tag=i)
                    stack, bad = [], False
                elif kind != 0 or name != "br":
                    prev_p = False
                continue
            if kind == 1:
                if name == "span" and "note-p" in cls:
                    note = Para("note", prev_note, [], tag=i)
                    note_depth = len(stack)
                elif name == "span" and "footnote" in cls:
                    prev_note = False
                elif name in ("img", "svg", "math", "code", "sub", "sup", "object", "iframe"):
                    bad = True
                stack.append((name, attrs))
            elif kind == -1:
                if not stack:                       # </p>
                    if not bad:
                        paras.append(body)
                    body, prev_p = None, True
                    continue
                stack.pop()
                if note is not None and len(stack) == note_depth:
                    if not bad:
                        paras.append(note)
                    note, prev_note = None, True
            else:
                target = note if note is not None else body
                if name == "br":
                    target.pieces.append((i, ("<br>",)))
                else:
                    bad = True
        elif seg and body is not None:
            if note is not None:
                note.pieces.append((i, ("note",) + _chain_key(stack[note_depth + 1:])))
            elif not any("footnote" in a.get("class", "").split() for _n, a in stack):
                body.pieces.append((i, ("body",) + _chain_key(stack)))
    return paras


class Measurer:
    """Widths of text in the computed styles of the print document, from
    WeasyPrint's own Pango layouts (weasyprint.text.line_break.Layout: the
    font, size, features and language of each style, as its text boxes are
    measured when WeasyPrint lays out a line).

    The styles come from a specimen: a small document with the print
    document's head (the same stylesheets) and one sample of each nesting of
    inline elements found in the paragraphs, laid out once by `lay`."""

    def __init__(self, head: str, keys: set[tuple], lay):
        self.keys = sorted(keys)
        samples_body, samples_note = [], []
        for n, key in enumerate(self.keys):
            chain = key[1:]
            opens = "".join("<" + name + (f' class="{c}"' if c else "") + (f' lang="{lg}"' if lg else "") + ">"
                            for name, c, lg in chain)
            closes = "".join(f"</{name}>" for name, _c, _lg in reversed(chain))
            sample = f"{opens}qz{n}zq{closes} "
            (samples_note if key[0] == "note" else samples_body).append(sample)
        specimen = (head + '<body><section class="part"><section class="chapter">'
                    f'<p>{"".join(samples_body)}</p><p>qzbodyzq'
                    f'<span class="footnote"><span class="note-p">qznotezq {"".join(samples_note)}</span>'
                    '<span class="note-p">qznote2zq</span></span></p></section></section></body></html>')
        self.document = lay(specimen)           # kept: its styles hold the fonts
        self.styles: dict[tuple, object] = {}
        self.measure = {}
        self.indent = {}
        found = {}

        def walk(box, block=None):
            name = type(box).__name__
            if name == "TextBox":
                for m in re.finditer(r"qz(\w+?)zq", box.text):
                    found[m.group(1)] = (box.style, block)
            if name in ("BlockBox", "FootnoteAreaBox") or (
                    getattr(box, "element_tag", "") == "span" and box.style["display"] == ("block", "flow")):
                block = box
            for child in getattr(box, "children", None) or []:
                walk(child, block)
        for page in self.document.pages:
            walk(page._page_box)
        for n, key in enumerate(self.keys):
            if str(n) in found:
                self.styles[key] = found[str(n)][0]
        for kind, tag in (("body", "body"), ("note", "note2")):
            style, block = found[tag]
            self.measure[kind] = block.width
            ti = style["text_indent"]
            self.indent[kind] = ti.value if getattr(ti, "unit", "px") == "px" else 0.0
        self._layouts: dict = {}
        self._width = functools.lru_cache(maxsize=1 << 16)(self._measure)

    def _measure(self, key: tuple, text: str) -> float:
        from weasyprint.text.line_break import Layout, line_size

        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = Layout(self.styles[key])
        layout.set_text(text)
        line, _ = layout.get_first_line()
        return line_size(line, self.styles[key])[0]

    def width(self, key: tuple, text: str) -> float:
        return self._width(key, text)


def _hyphen_points(word: str, style) -> list[int]:
    from .hyphenation import hyphenate

    if style["hyphens"] != "auto":
        return []
    limits = style["hyphenate_limit_chars"]
    total, left, right = limits if isinstance(limits, tuple) else (5, 2, 2)
    total = 5 if total == "auto" else total
    left = 2 if left == "auto" else left
    right = 2 if right == "auto" else right
    if len(word) < total or not word.isalpha():
        return []
    lang = (style["lang"] or "az").split("-")[0]
    return [p for p in hyphenate(word, lang, left, right) if left <= p <= len(word) - right]


def _candidates(t: str, style, nowrap: bool, opts: dict) -> list[tuple[int, str]]:
    """Break points inside a run of non-spaces: (offset, "hyphen" | "after")."""
    if nowrap:
        return []
    out = []
    for wm in re.finditer(r"[^\W\d_]+|.", t, re.S):
        w = wm.group()
        if w.isalpha() and len(w) > 1:
            out += [(wm.start() + p, "hyphen") for p in _hyphen_points(w, style)]
        elif w in _BREAK_AFTER and 0 < wm.start() and wm.end() < len(t) and t[wm.end()] not in (WJ, ")", ",", "."):
            out.append((wm.end(), "after"))
    return out


def _items(para: Para, segs: list[str], m: Measurer, opts: dict) -> list[Item] | None:
    """The boxes, glue and penalties of a paragraph; refs point at (kind,
    segment, offset in its unescaped text) so that `impose` can find them."""
    items: list[Item] = []
    if para.indent and m.indent[para.kind]:
        items.append(Item("box", m.indent[para.kind]))
    stretch_k = opts["stretch"]
    pending = None                          # a space not yet placed: (segment, offset, key, nowrap)
    for seg_index, key in para.pieces:
        if key == ("<br>",) or key not in m.styles:
            return None                     # a hard break, an unknown style: left to WeasyPrint
        style = m.styles[key]
        text = htmllib.unescape(segs[seg_index])
        nowrap = style["white_space"] in ("nowrap", "pre")
        for tok in re.finditer(r"\s+|\S+", text):
            t = tok.group()
            if t[0].isspace():
                if items and pending is None:
                    pending = (seg_index, tok.start(), key, nowrap)
                continue
            if pending is not None:
                s_seg, s_off, s_key, s_nowrap = pending
                w = m.width(s_key, " ")
                if s_nowrap:
                    items.append(Item("penalty", penalty=INF))
                items.append(Item("glue", w, w * stretch_k, w * opts["shrink"], ref=("space", s_seg, s_off)))
                pending = None
            at = 0
            for off, kind in _candidates(t, style, nowrap, opts):
                items.append(Item("box", m.width(key, t[at:off]), text=t[at:off]))
                if kind == "hyphen":
                    items.append(Item("penalty", m.width(key, HYPHEN), penalty=opts["hyphen-penalty"],
                                      flagged=True, ref=("hyphen", seg_index, tok.start() + off)))
                else:
                    items.append(Item("penalty", 0.0, penalty=opts["hyphen-penalty"] if t[off - 1] in "-‐" else 50,
                                      flagged=t[off - 1] in "-‐", ref=("after", seg_index, tok.start() + off)))
                at = off
            items.append(Item("box", m.width(key, t[at:]), text=t[at:]))
    while items and items[-1].kind != "box":
        items.pop()
    if not any(it.kind == "glue" for it in items):
        return None
    if para.last_justified:         # a paragraph split before a page (p.split): its last line is full
        return items + [Item("penalty", penalty=-INF)]
    items += [Item("penalty", penalty=INF), Item("glue", 0.0, 1e6), Item("penalty", penalty=-INF)]
    return items


def _add_class(tag: str, name: str) -> str:
    m = re.search(r'\sclass="([^"]*)"', tag)
    if m:
        return tag[:m.start(1)] + m.group(1) + " " + name + tag[m.end(1):]
    return re.sub(r"^<(\w+)", lambda t: f'<{t.group(1)} class="{name}"', tag)


def _rewrite(text: str, ed: list) -> str:
    """A text segment with its edits: [(offset, 'nbsp' | 'hyphen' | 'wj' | 'natural')]."""
    spaces = {off for off, kind in ed if kind == "nbsp"}
    hyph = {off for off, kind in ed if kind == "hyphen"}
    wj = {off for off, kind in ed if kind == "wj"}
    natural = min((off for off, kind in ed if kind == "natural"), default=None)
    out: list[str] = []
    cut = None
    i = 0
    while i < len(text):
        ch = text[i]
        if i in hyph:
            out.append(HYPHEN)
        if i in wj:
            out.append(WJ)
        if i == natural:
            cut = len(out)
        if ch.isspace():
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
            out.append(NBSP if i in spaces else " ")
            i = j
            continue
        out.append(ch)
        i += 1
    new = "".join(out)
    if natural is not None:
        # the text of the ragged last line (in this segment), in a span of natural spaces
        cut = len(new) if cut is None else cut
        head, tail = new[:cut], new[cut:]
        if tail.strip():
            return (htmllib.escape(head, quote=False) + '<span class="kp-last">'
                    + htmllib.escape(tail, quote=False) + "</span>")
    return htmllib.escape(new, quote=False)


def _set(para: Para, segs: list[str], m: Measurer, opts: dict) -> tuple[str, dict[int, str], int] | None:
    """A paragraph broken by total fit: (the style its tag gets, {segment: new
    text}, lines), or None if it is left to WeasyPrint."""
    items = _items(para, segs, m, opts)
    if items is None:
        return None
    measure = m.measure[para.kind]
    # TeX's passes: within the tolerance, then the emergency tolerance, then any
    # badness (a line is still never wider than the measure, nor one without
    # spaces short of it)
    chosen = (breaks(items, measure, opts) or breaks(items, measure, opts, opts["emergency-tolerance"])
              or breaks(items, measure, opts, 1e12))
    if chosen is None:
        return None
    # the spaces' least width: WeasyPrint justifies by adding to it
    style = f"word-spacing: -{m.width((para.kind,), ' ') * opts['shrink']:.3f}px" if opts["shrink"] else ""
    edits: dict[int, list] = {s: [] for s, _k in para.pieces}
    chosen_set = set(chosen)
    if opts["shrink"] and not para.last_justified and len(chosen) > 1:
        it = items[chosen[-2]]
        if it.ref is not None:
            _kind, seg, off = it.ref
            edits[seg].append((off, "natural"))
            for s, _k in para.pieces:
                if s > seg:
                    edits[s].append((0, "natural"))
    for k, it in enumerate(items):
        if it.ref is None:
            continue
        kind, seg, off = it.ref
        if kind == "space" and k not in chosen_set:
            edits[seg].append((off, "nbsp"))
        elif kind == "hyphen" and k in chosen_set:
            edits[seg].append((off, "hyphen"))
        elif kind == "after" and k not in chosen_set:
            edits[seg].append((off, "wj"))
    return style, {s: _rewrite(htmllib.unescape(segs[s]), ed) for s, ed in edits.items()}, len(chosen)


_SET_CACHE: dict[tuple, object] = {}


def impose(html: str, lay, book_meta: dict, stats: dict | None = None) -> str:
    """The print document with every paragraph of running text broken by
    total fit (see the module's docstring); `lay(html)` lays out a document
    (the specimen of the styles).  A paragraph the breaker cannot set (an
    image, a hard break, no solution) is left as it is, to WeasyPrint.
    A paragraph met again (the layout loop's next round) is not broken again."""
    opts = settings(book_meta)
    body_at = html.find("<body")
    first = _CHAPTER.search(html)
    if body_at < 0 or first is None:
        return html
    head = html[:body_at]
    segs = _TAG.split(html[first.start():])
    paras = _paragraphs(segs)
    if not paras:
        return html
    keys = frozenset(key for p in paras for _i, key in p.pieces if key != ("<br>",))
    m = None
    set_paras = lines = 0
    if len(_SET_CACHE) > 50000:
        _SET_CACHE.clear()
    for para in paras:
        sig = (head, keys, json.dumps(opts, sort_keys=True), para.kind, para.indent, para.last_justified,
               tuple((segs[i], k) for i, k in para.pieces))
        done = _SET_CACHE.get(sig)
        if done is None:
            m = m or _measurer(head, keys, lay)
            result = _set(para, segs, m, opts)
            # kept by the pieces' order (segment indexes differ from one document to the next)
            done = _SET_CACHE[sig] = False if result is None else (
                result[0], [result[1][i] for i, _k in para.pieces], result[2])
        if done is False:
            continue
        style, texts, n = done
        tag = _add_class(segs[para.tag], "kp")
        segs[para.tag] = tag[:-1] + f' style="{style}">' if style else tag
        for (i, _k), text in zip(para.pieces, texts):
            segs[i] = text
        set_paras += 1
        lines += n
    if stats is not None:
        stats.update(paragraphs=len(paras), set=set_paras, lines=lines)
    return html[:first.start()] + "".join(segs)


_MEASURERS: dict[tuple, Measurer] = {}


def _measurer(head: str, keys: frozenset, lay) -> Measurer:
    """One Measurer per stylesheet and set of inline nestings (the layout loop's
    rounds and a worker's pieces share it)."""
    key = (head, keys)
    m = _MEASURERS.get(key)
    if m is None:
        if len(_MEASURERS) >= 4:
            _MEASURERS.clear()
        m = _MEASURERS[key] = Measurer(head, set(keys), lay)
    return m
