"""Token -> (X)HTML, shared by the print and the EPUB writers.

One note model, two renderings:
- print: the call is a link, and the note body follows it as a
  `<span class="footnote">` that the print CSS floats to the page foot
  (`float: footnote`), so it lands on the page of its call;
- epub: the call is an EPUB 3 noteref, and the body is rendered apart as an
  `<aside epub:type="footnote">` (see ``note_body``), which reading systems
  show as a pop-up.
Output is well-formed XHTML in both cases (the EPUB needs it, WeasyPrint
does not mind).

The block constructs of Pandoc's Markdown (markdown.py, mdext/) render the same
in both editions but for a few attributes: an ordered list carries its
numbering as `type`/`start` and a class naming its CSS counter style (the
delimiter, which HTML cannot say); a figure or an image its file, copied into
the print document's assets or packed in the EPUB under a name made of its
content (`media/<digest>.png`); epigraph and dedication divs their EPUB
semantics (epub:type and the DPUB-ARIA role).
"""
from __future__ import annotations

import re
from html import escape

from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML

from matbaa.model.book import Book, Note
from matbaa.read.markdown import make_parser

#: The print document names a book's image `matbaa-media:<digest>.png`
#: (typeset/engine.BookFetcher serves it from build/assets/media/).
MEDIA_SCHEME = "matbaa-media"

SAFE_ATTRS = {"class", "id", "lang"}
ALIGN = {"text-align:left": "left", "text-align:right": "right", "text-align:center": "center"}
LIST_TYPE = {"decimal": "1", "lower-alpha": "a", "upper-alpha": "A", "lower-roman": "i", "upper-roman": "I"}
DIV_SEMANTICS = {"epigraph": ("epigraph", "doc-epigraph"), "dedication": ("dedication", "doc-dedication")}


def _attrs(attrs: dict) -> str:
    return "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items())


def _unsafe(name: str) -> bool:
    """An attribute no token from a manuscript may carry into HTML: a style, an
    event handler, data-*, or a name that is no plain name.  The reader leaves
    these out with D010 (read/reader.ALLOWED_ATTRS); this is the renderer's
    own guard."""
    name = str(name).lower()
    return (name == "style" or name.startswith(("on", "data-"))
            or not re.fullmatch(r"[a-z][a-z0-9:-]*", name))


def _safe_attrs(attrs: dict) -> dict:
    return {k: v for k, v in attrs.items() if not _unsafe(k)}

# A space standing alone between two inline elements (two glossary marks:
# `</a> <a class="term">`) is a text box holding only a space in WeasyPrint,
# which it lays out but does not draw (draw_first_line skips a box of
# whitespace): the PDF's text layer then runs the two words together
# ("Respublikası" + "Ali" read "RespublikasıAli").  In print the space is
# moved inside the next element, where it is drawn with that element's first
# word; the layout is the same (a space, a break opportunity, at the same place).
_LONE_SPACE = re.compile(r'(</(?:a|span)>) (<(?:a|span)\b(?![^>]*class="(?:footnote|noteref|pagebreak)")[^>]*>)')


def space_into_next(html: str) -> str:
    return _LONE_SPACE.sub(r"\1\2 ", html)


def ref_id(key: str) -> str:
    """The id of a bibliography entry's element: ref-<key>, as an XML id."""
    return "ref-" + re.sub(r"[^\w.-]", "-", key)


class BookRenderer(RendererHTML):
    def __init__(self, book: Book, mode: str, glossary_href: str = "", note_href: str = "",
                 pages: dict[str, int] | None = None, bibliography_href: str = ""):
        super().__init__()
        self.options = make_parser().options
        assert mode in ("print", "epub")
        self.book = book
        self.mode = mode
        self.glossary_href = glossary_href
        self.note_href = note_href
        self.bibliography_href = bibliography_href
        self.source = ""          # the chapter being rendered, for data-src
        # print, a piece laid out alone (typeset/parallel.py): the page of each
        # cross-reference's target, printed from data-page (else target-counter)
        self.pages = pages
        self.rules.update({
            "footnote_ref": self._footnote_ref,
            "citation": self._citation,
            "term_open": self._term_open,
            "term_close": lambda *a: "</a>",
            "nobr_open": self._nobr_open,
            "nobr_close": self._nobr_close,
            "text": self._text,
            "nohyph_open": lambda *a: '<span class="nohyph">',
            "nohyph_close": lambda *a: "</span>",
            "fsep_open": lambda *a: '<span class="f-sep">',
            "fsep_close": lambda *a: "</span>",
            "span_open": self._span_open,
            "span_close": lambda *a: "</span>",
            "pagebreak": self._pagebreak,
            "forced_break": self._forced_break,
            "paragraph_open": self._paragraph_open,
            "ordered_list_open": self._ordered_list_open,
            "th_open": self._cell_open,
            "td_open": self._cell_open,
            "figure_open": self._figure_open,
            "image": self._image,
            "div_open": self._div_open,
            "paragraph_close": self._paragraph_close,
            "link_open": self._link_open,
            "heading_open": self._heading_open,
            "heading_close": self._heading_close,
        })

    def renderAttrs(self, token) -> str:
        """markdown-it's attributes, without any a manuscript may not set (`_unsafe`)."""
        return "".join(f' {escapeHtml(k)}="{escapeHtml(str(v))}"' for k, v in token.attrItems() if not _unsafe(k))

    # -- inline rules ---------------------------------------------------

    def _span_open(self, tokens, idx, options, env) -> str:
        attrs = {k: v for k, v in tokens[idx].attrs.items() if k in SAFE_ATTRS}
        return "<span" + "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items()) + ">"

    # A numeral or acronym and its suffix (1993-cü, DTK-nin) stay on one line.  In
    # print a WORD JOINER after the hyphen forbids the break (UAX #14): WeasyPrint
    # mis-breaks the lines before a `white-space: nowrap` box (a near-empty line
    # two lines up); the EPUB keeps the nowrap span, which browsers handle.
    def _nobr_open(self, tokens, idx, options, env) -> str:
        self._in_nobr = True
        return "" if self.mode == "print" else '<span class="nobr">'

    def _nobr_close(self, tokens, idx, options, env) -> str:
        self._in_nobr = False
        return "" if self.mode == "print" else "</span>"

    def _text(self, tokens, idx, options, env) -> str:
        text = escape(tokens[idx].content, quote=False)
        if self.mode == "print" and getattr(self, "_in_nobr", False):
            text = text.replace("-", "-\u2060")
        return text

    def _forced_break(self, tokens, idx, options, env) -> str:
        # print only: the rest of the paragraph starts on the next page (typeset/correct.py);
        # in a heading the heading itself does (_heading_open)
        if self.mode == "print" and getattr(self, "_in_heading", False):
            return ""
        return '</p>\n<p class="continued">' if self.mode == "print" else ""

    def _heading_open(self, tokens, idx, options, env) -> str:
        self._in_heading = True
        html = self.renderToken(tokens, idx, options, env)
        if self._split(tokens, idx):
            html = html.replace(">", ' style="break-before: page">', 1)
        return html

    def _split(self, tokens, idx) -> bool:
        """Print: the paragraph opened at `idx` holds a forced page break (typeset/correct.py)."""
        inline = tokens[idx + 1] if idx + 1 < len(tokens) else None
        return self.mode == "print" and inline is not None and any(
            c.type == "forced_break" for c in inline.children or [])

    def _heading_close(self, tokens, idx, options, env) -> str:
        self._in_heading = False
        return self.renderToken(tokens, idx, options, env)

    def _paragraph_close(self, tokens, idx, options, env) -> str:
        if tokens[idx].hidden and not self._split(tokens, idx - 2):
            return self.renderToken(tokens, idx, options, env)      # "" (a tight list's item)
        return "</p>\n"

    def _paragraph_open(self, tokens, idx, options, env) -> str:
        split = self._split(tokens, idx)
        if tokens[idx].hidden and not split:
            # a tight list's item: no <p> (markdown-it's own rule; a split one in print keeps it)
            return self.renderToken(tokens, idx, options, env)
        classes = " ".join(c for c, on in (("split", split), ("attribution", tokens[idx].meta.get("attribution")))
                           if on)
        attrs = f' class="{classes}"' if classes else ""
        if self.mode == "print" and self.source and tokens[idx].map:
            # where the paragraph comes from, for the proof (attributes do not change the layout)
            attrs += f' data-src="{escape(self.source)}:{tokens[idx].map[0] + 1}"'
        return f"<p{attrs}>"

    # -- blocks of Pandoc's Markdown (mdext/) ----------------------------

    def _ordered_list_open(self, tokens, idx, options, env) -> str:
        tok = tokens[idx]
        style, delim = tok.meta.get("style", "decimal"), tok.meta.get("delim", "period")
        attrs = {}
        if style != "decimal":
            attrs["type"] = LIST_TYPE[style]
        if "start" in tok.attrs:
            attrs["start"] = tok.attrs["start"]
            if self.mode == "print":    # WeasyPrint (70) ignores `start`; it honours the counter
                attrs["style"] = f"counter-reset: list-item {int(tok.attrs['start']) - 1}"
        if (style, delim) != ("decimal", "period"):
            attrs["class"] = f"{style}-{delim}"   # its @counter-style in the CSS
        return f"<ol{_attrs(attrs)}>\n"

    def _cell_open(self, tokens, idx, options, env) -> str:
        tok = tokens[idx]
        align = ALIGN.get(str(tok.attrs.get("style", "")))
        return f'<{tok.tag} class="align-{align}">' if align else f"<{tok.tag}>"

    def _src(self, image) -> str:
        media = image.meta.get("media")
        if not media:                   # not checked by the reader (refused there)
            return str(image.attrs.get("src", ""))
        return (f"{MEDIA_SCHEME}:" if self.mode == "print" else "media/") + media

    def _img(self, image, css_class: str = "") -> str:
        alt = image.attrs.get("fig-alt") or self.renderInlineAsText(image.children or [], self.options, {})
        cls = f' class="{css_class}"' if css_class else ""
        return f'<img{cls} src="{escape(self._src(image))}" alt="{escape(alt)}" />'

    def _image(self, tokens, idx, options, env) -> str:
        return self._img(tokens[idx], "inline")

    def _figure_open(self, tokens, idx, options, env) -> str:
        tok = tokens[idx]
        src = ""
        if self.mode == "print" and self.source and tok.map:
            src = f' data-src="{escape(self.source)}:{tok.map[0] + 1}"'
        return f'<figure class="figure"{_attrs(_safe_attrs(tok.attrs))}{src}>\n{self._img(tok.meta["image"])}\n'

    def _div_open(self, tokens, idx, options, env) -> str:
        attrs = _safe_attrs(tokens[idx].attrs)
        if self.mode == "epub":
            for name in str(attrs.get("class", "")).split():
                if name in DIV_SEMANTICS:
                    attrs["epub:type"], attrs["role"] = DIV_SEMANTICS[name]
                    break
        if "lang" in attrs and self.mode == "epub":
            attrs["xml:lang"] = attrs["lang"]
        return f"<div{_attrs(attrs)}>\n"

    def _link_open(self, tokens, idx, options, env) -> str:
        """A link resolved by transforms.structure: print, to the id in the one
        document, with the target's page printed after it ("(p. 7)", labels
        `xref_page`); EPUB, to the file that holds the id."""
        tok = tokens[idx]
        target = tok.meta.get("target")
        if target is None:
            return self.renderToken(tokens, idx, options, env)
        if self.mode == "epub":
            return f'<a href="{escape(self.file_of(target))}#{escape(target)}">'
        label = self.book.labels.get("xref_page") or "(p.\u00a0{page})"
        before, _, after = label.partition("{page}")
        page = "" if self.pages is None or target not in self.pages else f' data-page="{self.pages[target]}"'
        return (f'<a class="xref" href="#{escape(target)}" data-before="{escape(" " + before)}" '
                f'data-after="{escape(after)}"{page}>')

    def file_of(self, target: str) -> str:
        """The EPUB document that holds the id `target`."""
        index = self.book.ids.get(target, 0)
        return "glossary.xhtml" if index == 0 else f"part-{index}.xhtml"

    def _pagebreak(self, tokens, idx, options, env) -> str:
        n = tokens[idx].meta["page"]
        return f'<span class="pagebreak" epub:type="pagebreak" role="doc-pagebreak" id="page-{n}" aria-label="{n}"></span>'

    def _term_open(self, tokens, idx, options, env) -> str:
        mark = tokens[idx].meta["mark"]
        return (f'<a class="term" id="{mark.anchor}" href="{self.glossary_href}#gl-{mark.entry_id}">')

    def _citation(self, tokens, idx, options, env) -> str:
        """A citation as its style renders it: a span holding the text, each
        cited work's piece a link to its entry in the bibliography."""
        tok = tokens[idx]
        pieces = tok.meta.get("pieces")
        if not pieces:          # an unknown key (reported, nothing is written) or no bibliography
            return escape(tok.content, quote=False)
        keys = " ".join(c["key"] for c in tok.meta["cites"])
        inner = "".join(f'<a href="{self.bibliography_href}#{ref_id(key)}">{html}</a>' if key else html
                        for key, html in pieces)
        return f'<span class="citation" data-cites="{escape(keys)}">{inner}</span>'

    def _footnote_ref(self, tokens, idx, options, env) -> str:
        note: Note | None = tokens[idx].meta.get("note")
        if note is None:  # reported by the reader
            return ""
        n = note.number
        if self.mode == "epub":
            return (f'<a class="noteref" epub:type="noteref" role="doc-noteref" id="{note.call_id}" '
                    f'href="{self.note_href}#fn-{note.id}">{n}</a>')
        body = self.note_inline(note)
        label = escape(f"{self.book.labels.get('note', 'Note')} {n}")
        return (f'<a class="noteref" id="{note.call_id}" href="#fn-{note.id}">{n}</a>'
                f'<span class="footnote" id="fn-{note.id}" data-bookmark="{label}">{body}</span>')

    # -- notes ----------------------------------------------------------

    def note_suffix(self) -> str:
        by = (self.book.meta.get("notes") or {}).get("by", "author")
        label = self.book.labels.get("editor_note" if by == "editor" else "author_note") or ""
        return f' <span class="note-by">– {escape(label)}</span>' if label else ""

    def note_inline(self, note: Note) -> str:
        """A note body as inline content: each paragraph a block-level span."""
        out = []
        paras = [t for t in note.tokens if t.type == "inline"]
        for i, tok in enumerate(paras):
            inner = self.renderInline(tok.children or [], self.options, {})
            back = (f'<a class="note-number" href="#{note.call_id}">{note.number}</a> ' if i == 0 else "")
            tail = self.note_suffix() if i == len(paras) - 1 else ""
            src = ""
            if tok.map and note.location.file:
                rel = note.location.file.relative_to(self.book.root) if note.location.file.is_relative_to(
                    self.book.root) else note.location.file
                src = f' data-src="{escape(str(rel))}:{tok.map[0] + 1}"'
            out.append(f'<span class="note-p"{src}>{back}{space_into_next(inner)}{tail}</span>')
        return "".join(out)

    def note_body(self, note: Note, call_href: str = "") -> str:
        """A note for the EPUB: an aside with a back-link to its call."""
        paras = [t for t in note.tokens if t.type == "inline"]
        out = [f'<aside class="footnote" epub:type="footnote" role="doc-footnote" id="fn-{note.id}">']
        for i, tok in enumerate(paras):
            inner = self.renderInline(tok.children or [], self.options, {})
            back = (f'<a class="note-number" role="doc-backlink" href="{call_href}#{note.call_id}">'
                    f'{note.number}</a> ' if i == 0 else "")
            tail = self.note_suffix() if i == len(paras) - 1 else ""
            out.append(f"<p>{back}{inner}{tail}</p>")
        out.append("</aside>")
        return "\n".join(out)

    def body(self, tokens, source: str = "") -> str:
        self.source = source
        html = self.render(tokens, self.options, {})
        return space_into_next(html) if self.mode == "print" else html
