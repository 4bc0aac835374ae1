"""The Markdown dialect of a chapter: CommonMark + Pandoc-style footnotes and spans.

    [^id]            a note call            [^id]: text    its definition
    [diasporun]{term=diaspor}               a glossary mark (inflected form -> entry id)
    [diaspor]{.term}                        a glossary mark whose text is the headword
    [@key, p. 16]  @key  [-@key]            citations (Pandoc; tools/matbaa/citations.py)

Raw HTML is off: it is printed as text, never passed through (see D001).
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from .citations import citations_plugin


def make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "xhtmlOut": True, "typographer": False})
    md.use(footnote_plugin)
    md.use(attrs_plugin, spans=True)
    md.use(citations_plugin)
    # markdown-it silently leaves file:/data: links as text; we want every link
    # as a token so that the reader can refuse it with a located message (D002).
    md.validateLink = lambda url: True
    return md
