"""Pandoc's line blocks: verse and addresses, where each line stays a line.

    | The limerick packs laughs anatomical
    |     Into space that is quite economical.
    |
    | 200 Main St.
    | Berkeley, CA 94718

A line begins with `|` and a space (or is a lone `|`, an empty line); a line
that begins with a space instead continues the line above (a long line of
verse, wrapped in the source).  Leading spaces are kept (as no-break spaces,
as Pandoc does); the text of each line is ordinary inline Markdown.

Tokens: line_block_open, then per line line_open / inline / line_close, then
line_block_close; an empty line has an inline token with no text.  A line
block does not interrupt a paragraph, and a pipe table (tried first) wins.
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

NBSP = "\u00a0"


def _line(state: StateBlock, n: int) -> str:
    return state.src[state.bMarks[n] + state.tShift[n]:state.eMarks[n]]


def _starts(text: str) -> bool:
    return text == "|" or text.startswith("| ")


def line_block(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    if state.is_code_block(startLine) or not _starts(_line(state, startLine)):
        return False
    if silent:
        return True
    lines: list[tuple[int, str]] = []          # (source line, text)
    n = startLine
    while n < endLine:
        if state.isEmpty(n) or state.sCount[n] < state.blkIndent:
            break
        text = _line(state, n)
        if _starts(text):
            body = text[2:]
            stripped = body.lstrip(" ")
            lines.append((n, NBSP * (len(body) - len(stripped)) + stripped.rstrip()))
        elif lines and state.sCount[n] > state.blkIndent:
            at, before = lines[-1]
            lines[-1] = (at, (before + " " + text.strip()).strip(" "))
        else:
            break
        n += 1
    token = state.push("line_block_open", "div", 1)
    token.attrs = {"class": "line-block"}
    token.map = [startLine, n]
    for k, (at, text) in enumerate(lines):
        end = lines[k + 1][0] if k + 1 < len(lines) else n
        token = state.push("line_open", "div", 1)
        token.attrs = {"class": "line"}
        token.map = [at, end]
        token = state.push("inline", "", 0)
        token.content = text
        token.map = [at, end]
        token.children = []
        state.push("line_close", "div", -1)
    state.push("line_block_close", "div", -1)
    state.line = n
    return True


def line_blocks_plugin(md: MarkdownIt) -> None:
    md.block.ruler.after("table", "line_block", line_block)
