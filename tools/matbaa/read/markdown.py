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

__all__ = ["make_parser", "html_id"]


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
    return md
