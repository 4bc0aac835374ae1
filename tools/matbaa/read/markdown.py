"""The Markdown dialect of a chapter: CommonMark + Pandoc's extensions that books use.

    [^id]            a note call            [^id]: text    its definition
    [diasporun]{term=diaspor}               a glossary mark (inflected form -> entry id)
    [diaspor]{.term}                        a glossary mark whose text is the headword
    [@key, p. 16]  @key  [-@key]            citations (Pandoc; tools/matbaa/citations.py)
    a) (a) A.  i. (iv) …                    ordered lists in any numbering (mdext/fancy_lists.py)
    | a line                                line blocks: verse, addresses (mdext/line_blocks.py)
    | a | b |  + Table: caption             pipe tables with a caption (mdext/blocks.py)
    ![caption](images/x.png){#fig:x}        a figure: an image alone in a paragraph
    ::: epigraph … :::                      fenced divs: epigraph, dedication, {.class}
    > quote, ``` code ```, `code`           CommonMark's own

docs/manuscript.md documents each with an example.  Raw HTML is off: it is
printed as text, never passed through (see D001).
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from matbaa.read.citations import citations_plugin
from matbaa.read.mdext.blocks import blocks_plugin, html_id
from matbaa.read.mdext.fancy_lists import fancy_lists_plugin
from matbaa.read.mdext.line_blocks import line_blocks_plugin

__all__ = ["make_parser", "html_id", "MAX_NESTING", "TOO_DEEP"]

#: The deepest block nesting a chapter may have (markdown-it's state.level: a
#: list level counts 2, its item and the list; a quotation 1): lists 10 deep
#: inside quotations 10 deep, and room to spare.  markdown-it drops whatever
#: lies deeper without a word; make_parser records where (TOO_DEEP) instead, and
#: the build refuses the chapter with D011 (read/reader.nesting_errors).
MAX_NESTING = 48

#: the meta key, on the innermost open token, of the 0-based line of a block
#: nested deeper than MAX_NESTING
TOO_DEEP = "matbaa_too_deep"


def make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "xhtmlOut": True, "typographer": False})
    md.enable("table")
    md.use(footnote_plugin)
    md.use(attrs_plugin, spans=True)
    md.use(citations_plugin)
    md.use(fancy_lists_plugin)
    md.use(line_blocks_plugin)
    md.use(blocks_plugin)
    # markdown-it silently leaves file:/data: links as text; we want every link
    # as a token so that the reader can refuse it with a located message (D002).
    md.validateLink = lambda url: True
    md.options["maxNesting"] = MAX_NESTING
    _record_too_deep(md)
    return md


def _record_too_deep(md: MarkdownIt) -> None:
    """Where markdown-it would drop a block nested deeper than maxNesting (the
    rest of that list item or quotation), mark the innermost open token (a
    list item's or a quotation's, which the reader keeps) with the 0-based line
    of what would be lost: meta[TOO_DEEP]."""
    tokenize = md.block.tokenize

    def checked(state, start: int, end: int) -> None:
        if state.level >= md.options["maxNesting"] and state.tokens:
            line = state.skipEmptyLines(start)
            if line < end and state.sCount[line] >= state.blkIndent:
                state.tokens[-1].meta.setdefault(TOO_DEEP, line)
        tokenize(state, start, end)

    md.block.tokenize = checked
