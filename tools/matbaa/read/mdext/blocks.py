"""Fenced divs, figures and table captions, in Pandoc's syntax.

Fenced divs (Pandoc's fenced_divs), by mdit-py-plugins' container plugin:

    ::: epigraph                  ::: {.dedication}           :::: {#box .note lang=fr}
    Text of the epigraph.         For my mother.              ::: epigraph
                                  :::                          …
    — Author                                                  :::
    :::                                                       ::::

A div nested in another needs a longer fence around it (the container plugin
closes a div at the first fence at least as long as its own).  Its classes
are passed on when they are safe (not one of matbaa's own: see RESERVED); an
id and a `lang` too.  Tokens: div_open (attrs: class, id, lang; meta:
"dropped", the attributes left out) / div_close.

Figures (Pandoc's implicit_figures): an image alone in a paragraph, with its
caption as alt text and an optional `{#fig:id}`:

    ![The harbour at dawn.](images/harbour.png){#fig:harbour}

Tokens: figure_open (meta "image": the image token; attrs: id) / figcaption_open
/ inline (the caption, as the running text counts it) / figcaption_close /
figure_close.

Table captions (Pandoc's table_captions): a paragraph beginning `Table:` (or
`table:`, or just `:`) right before or after a pipe table, with an optional
`{#tbl:id}` at its end; it becomes caption_open / inline / caption_close, the
first thing inside the table, as HTML wants it.
"""
from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attrs
from mdit_py_plugins.container import container_plugin

# Class names that matbaa's own markup, CSS and page reading (typeset/pagemap.py) give a
# meaning to: a div may not take them.
RESERVED = {
    "part", "part-title", "chapter", "chapter-title", "footnote", "footnotes", "noteref", "note-number",
    "note-p", "note-by", "term", "pagebreak", "nobr", "nohyph", "f-sep", "continued", "split", "line-block",
    "line", "attribution", "figure", "contents", "glossary", "half-title", "title-page", "imprint", "folio",
}
CLASS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
BARE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)\s*:*\s*$")
CAPTION = re.compile(r"^(?:[Tt]able)?:\s+")
TRAILING_ID = re.compile(r"\s*\{#([^\s{}]+)\}\s*$")


def html_id(raw: str) -> str:
    """An id as both editions write it: EPUB's XHTML wants an XML name without
    colons, so Pandoc-crossref's `fig:x` becomes `fig-x` (a link `#fig:x` too)."""
    out = re.sub(r"[^\w.-]", "-", raw)
    return out if re.match(r"^[^\W\d]", out) else "id-" + out


def div_attributes(params: str) -> tuple[dict[str, str], list[str]] | None:
    """The attributes of a div's opening fence (`epigraph`, `{.a .b #id lang=fr}`),
    as (safe attributes, names left out), or None when it is no div fence."""
    params = params.strip()
    m = BARE.match(params)
    if m:
        found = {"class": m.group(1)}
    elif params.startswith("{"):
        try:
            end, found = parse_attrs(params)
        except ParseError:
            return None
        if params[end + 1:].strip(": \t"):
            return None
    else:
        return None
    attrs: dict[str, str] = {}
    dropped: list[str] = []
    classes = []
    for name in (found.pop("class", "") or "").split():
        if CLASS.match(name) and name.lower() not in RESERVED:
            classes.append(name)
        else:
            dropped.append("." + name)
    if classes:
        attrs["class"] = " ".join(classes)
    if "id" in found:
        attrs["id"] = html_id(found.pop("id"))
    if "lang" in found:
        lang = found.pop("lang")
        if LANG.match(lang):
            attrs["lang"] = lang
        else:
            dropped.append(f"lang={lang}")
    dropped += [f"{k}={v}" for k, v in found.items()]
    return attrs, dropped


ATTRIBUTION = ("—", "―", "–", "--")


def _divs(state: StateCore) -> None:
    opened: list[int] = []
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type == "container_div_open":
            tok.type = "div_open"
            attrs, dropped = div_attributes(tok.info) or ({}, [])
            tok.attrs = dict(attrs)
            tok.meta["dropped"] = dropped
            opened.append(i)
        elif tok.type == "container_div_close":
            tok.type = "div_close"
            start = opened.pop() if opened else None
            if start is not None and "epigraph" in str(tokens[start].attrs.get("class", "")).split():
                _attribution(tokens, start, i)


def _attribution(tokens: list[Token], start: int, end: int) -> None:
    """An epigraph's last paragraph, when it begins with a dash and is not its
    only one, is its attribution (`— Author, Work`): set apart, to the right."""
    level = tokens[start].level + 1
    paras = [j for j in range(start + 1, end) if tokens[j].type == "paragraph_open" and tokens[j].level == level]
    if len(paras) >= 2 and paras[-1] + 3 == end and tokens[paras[-1] + 1].content.lstrip().startswith(ATTRIBUTION):
        tokens[paras[-1]].meta["attribution"] = True


def _only_image(inline: Token) -> Token | None:
    kids = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
    return kids[0] if len(kids) == 1 and kids[0].type == "image" else None


def _figures(state: StateCore) -> None:
    tokens = state.tokens
    i = 0
    in_note = 0             # a note's body is inline text at the page foot: its images stay inline
    while i + 2 < len(tokens):
        p, inline = tokens[i], tokens[i + 1]
        in_note += {"footnote_reference_open": 1, "footnote_reference_close": -1,
                    "footnote_open": 1, "footnote_close": -1}.get(p.type, 0)
        image = _only_image(inline) if p.type == "paragraph_open" and not p.hidden and not in_note else None
        if image is None:
            i += 1
            continue
        fig = Token("figure_open", "figure", 1)
        fig.map, fig.level, fig.block = p.map, p.level, True
        fig.meta["image"] = image
        if image.attrs.get("id"):
            fig.attrs["id"] = html_id(str(image.attrs.pop("id")))
        made = [fig]
        if image.children:
            cap = Token("inline", "", 0)
            cap.map, cap.level, cap.content, cap.children = inline.map, p.level + 2, image.content, image.children
            made += [_block("figcaption_open", "figcaption", 1, p.level + 1), cap,
                     _block("figcaption_close", "figcaption", -1, p.level + 1)]
        made.append(_block("figure_close", "figure", -1, p.level))
        tokens[i:i + 3] = made
        i += len(made)


def _block(kind: str, tag: str, nesting: int, level: int) -> Token:
    t = Token(kind, tag, nesting)
    t.level, t.block = level, True
    return t


def _caption_at(tokens: list[Token], i: int) -> bool:
    return (0 <= i and i + 2 < len(tokens) and tokens[i].type == "paragraph_open" and not tokens[i].hidden
            and tokens[i + 1].type == "inline" and bool(CAPTION.match(tokens[i + 1].content)))


def _table_captions(state: StateCore) -> None:
    tokens = state.tokens
    i = 0
    while i < len(tokens):
        if tokens[i].type != "table_open":
            i += 1
            continue
        level = tokens[i].level
        close = next(j for j in range(i + 1, len(tokens)) if tokens[j].type == "table_close"
                     and tokens[j].level == level)
        where = close + 1 if _caption_at(tokens, close + 1) else (i - 3 if _caption_at(tokens, i - 3) else None)
        if where is None:
            i = close + 1
            continue
        inline = tokens[where + 1]
        del tokens[where:where + 3]
        if where < i:
            i -= 3
        _strip_caption(inline, tokens[i])
        inline.level = level + 2
        tokens[i + 1:i + 1] = [_block("caption_open", "caption", 1, level + 1), inline,
                               _block("caption_close", "caption", -1, level + 1)]
        i += 4


def _strip_caption(inline: Token, table: Token) -> None:
    """`Table: text {#tbl:id}` -> `text`, the id on the table."""
    inline.content = CAPTION.sub("", inline.content, count=1)
    kids = inline.children or []
    if kids and kids[0].type == "text":
        kids[0].content = CAPTION.sub("", kids[0].content, count=1)
    if kids and kids[-1].type == "text":
        m = TRAILING_ID.search(kids[-1].content)
        if m:
            table.attrs["id"] = html_id(m.group(1))
            kids[-1].content = kids[-1].content[:m.start()]
            inline.content = TRAILING_ID.sub("", inline.content)


def blocks_plugin(md: MarkdownIt) -> None:
    container_plugin(md, "div", validate=lambda params, *_: div_attributes(params) is not None)
    md.core.ruler.after("block", "fenced_divs", _divs)
    md.core.ruler.after("inline", "figures", _figures)
    md.core.ruler.after("figures", "table_captions", _table_captions)


def book_images(book, part=None) -> dict[str, tuple[str, str]]:
    """The images of a book's chapters and notes (or of one part's), as the
    reader checked them: their name in both editions (meta "media") -> (file,
    media type)."""
    found: dict[str, tuple[str, str]] = {}
    chapters = part.chapters if part is not None else book.chapters
    notes = [n for n in book.notes.values() if part is None or n.part_index == part.index]
    lists = [c.tokens for c in chapters] + [n.tokens for n in notes]
    for tokens in lists:
        for tok in tokens:
            kids = [tok.meta["image"]] if tok.type == "figure_open" else [
                c for c in tok.children or [] if c.type == "image"] if tok.type == "inline" else []
            for image in kids:
                if image.meta.get("media"):
                    found[image.meta["media"]] = (image.meta["path"], image.meta["type"])
    return dict(sorted(found.items()))
