"""Pandoc's fancy_lists: ordered lists numbered with letters or roman numerals,
and with `(…)`, `…)` or `….` around the number.

    1. one      1) one      (1) one
    a. one      a) one      (a) one      A.  One (two spaces: "A. Smith" is a name)
    i. one      ii) two     (iv) four    I.  One

Only the first marker's value counts (the list starts there); the next items
must be in the same style and with the same delimiter, or they begin a new
list.  `#.` is an item of any style.  A single `i`/`I` is a roman one; another
single letter is a letter (`c.` is the third item, not a hundredth).

Why this module is a port: markdown-it-py's list rule parses its markers with a
module-level function (decimal numbers only) in the middle of the item loop,
and mdit-py-plugins has no fancy-list plugin, so the rule cannot be extended
from outside.  `list_block` below is markdown-it-py 3/4's `rules_block/list.py`
(MIT licence, (c) ExecutableBookProject; itself a port of markdown-it by Vitaly
Puzrin and Alex Kocharin) with the marker parser generalised and GFM task
lists left out; everything else (indentation, tightness, interruption) is
unchanged.  The ordered_list_open token gets meta["style"] (a CSS
list-style-type name) and meta["delim"] ("period", "paren", "parens").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.common.utils import isStrSpace
from markdown_it.rules_block import StateBlock

ROMAN = re.compile(r"^(?=[mdclxvi])m{0,4}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def roman_value(s: str) -> int:
    s = s.lower()
    total = 0
    for i, ch in enumerate(s):
        v = ROMAN_VALUES[ch]
        total += -v if i + 1 < len(s) and ROMAN_VALUES[s[i + 1]] > v else v
    return total


@dataclass
class Marker:
    end: int            # position after the marker
    style: str          # decimal, lower-alpha, upper-alpha, lower-roman, upper-roman; "" for #
    delim: str          # period, paren, parens
    value: int


def _value(body: str, style: str | None) -> tuple[str, int] | None:
    """The style and value of a marker's body (`12`, `c`, `iv`, `#`), in `style`
    if one is given (an item after the first)."""
    if body == "#":
        return (style or "decimal"), 0
    if body.isdigit():
        return ("decimal", int(body)) if style in (None, "decimal") and len(body) <= 9 else None
    if not body.isascii() or not body.isalpha():
        return None
    lower = body.islower()
    if style is None:
        if body in ("i", "I") or (len(body) > 1 and ROMAN.match(body.lower())):
            style = "lower-roman" if lower else "upper-roman"
        elif len(body) == 1:
            style = "lower-alpha" if lower else "upper-alpha"
        else:
            return None
    if style.endswith("alpha") and len(body) == 1 and body.islower() == (style == "lower-alpha"):
        return style, ord(body.lower()) - ord("a") + 1
    if style.endswith("roman") and (body.islower() == (style == "lower-roman")) and ROMAN.match(body.lower()):
        return style, roman_value(body)
    return None


def parse_marker(state: StateBlock, line: int, style: str | None = None) -> Marker | None:
    """An ordered-list marker at the start of `line`, or None."""
    pos = state.bMarks[line] + state.tShift[line]
    maximum = state.eMarks[line]
    text = state.src[pos:min(maximum, pos + 14)]
    m = re.match(r"(\()?([0-9]{1,9}|#|[A-Za-z]{1,10})([.)])", text)
    if not m:
        return None
    opened, body, close = m.groups()
    if opened and close != ")":
        return None
    found = _value(body, style)
    if found is None:
        return None
    kind, value = found
    end = pos + m.end()
    if end < maximum and not isStrSpace(state.src[end]):
        return None
    delim = "parens" if opened else ("paren" if close == ")" else "period")
    # Pandoc: "B. Russell" is no list: an upper-case letter (or I, V, X, …) and a
    # period need two spaces or a tab after them
    if delim == "period" and (kind == "upper-alpha" or (kind == "upper-roman" and len(body) == 1)):
        rest = state.src[end:end + 2]
        if not (rest.startswith("\t") or rest == "  "):
            return None
    return Marker(end, kind, delim, value)


def skipBulletListMarker(state: StateBlock, startLine: int) -> int:
    pos = state.bMarks[startLine] + state.tShift[startLine]
    maximum = state.eMarks[startLine]
    try:
        marker = state.src[pos]
    except IndexError:
        return -1
    pos += 1
    if marker not in ("*", "-", "+"):
        return -1
    if pos < maximum and not isStrSpace(state.src[pos]):
        return -1
    return pos


def markTightParagraphs(state: StateBlock, idx: int) -> None:
    level = state.level + 2
    i = idx + 2
    length = len(state.tokens) - 2
    while i < length:
        if state.tokens[i].level == level and state.tokens[i].type == "paragraph_open":
            state.tokens[i + 2].hidden = True
            state.tokens[i].hidden = True
            i += 2
        i += 1


def list_block(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    isTerminatingParagraph = False
    tight = True

    if state.is_code_block(startLine):
        return False
    if (state.listIndent >= 0 and state.sCount[startLine] - state.listIndent >= 4
            and state.sCount[startLine] < state.blkIndent):
        return False
    if silent and state.parentType == "paragraph" and state.sCount[startLine] >= state.blkIndent:
        isTerminatingParagraph = True

    marker = parse_marker(state, startLine)
    if marker is not None:
        isOrdered = True
        posAfterMarker = marker.end
        start = state.bMarks[startLine] + state.tShift[startLine]
        # After a paragraph line, a list starts with "1." or "1)" (CommonMark);
        # a fancy one needs a blank line before it (Pandoc), except as a sublist
        # in a list item (listIndent >= 0 there)
        if isTerminatingParagraph and state.listIndent < 0 and not (
                marker.value == 1 and marker.style == "decimal" and marker.delim != "parens"):
            return False
        style = marker.style
        kind = (style, marker.delim)
    else:
        posAfterMarker = skipBulletListMarker(state, startLine)
        if posAfterMarker < 0:
            return False
        isOrdered = False
        kind = state.src[posAfterMarker - 1]

    if isTerminatingParagraph and state.skipSpaces(posAfterMarker) >= state.eMarks[startLine]:
        return False
    markerChar = state.src[posAfterMarker - 1]

    if silent:
        return True

    listTokIdx = len(state.tokens)
    if isOrdered:
        token = state.push("ordered_list_open", "ol", 1)
        value = marker.value or 1
        if value != 1:
            token.attrs = {"start": value}
        token.meta = {"style": marker.style, "delim": marker.delim}
    else:
        token = state.push("bullet_list_open", "ul", 1)
    token.map = listLines = [startLine, 0]
    token.markup = markerChar

    nextLine = startLine
    prevEmptyEnd = False
    terminatorRules = state.md.block.ruler.getRules("list")
    oldParentType = state.parentType
    state.parentType = "list"

    while nextLine < endLine:
        pos = posAfterMarker
        maximum = state.eMarks[nextLine]
        initial = offset = state.sCount[nextLine] + posAfterMarker - (state.bMarks[startLine] + state.tShift[startLine])
        while pos < maximum:
            ch = state.src[pos]
            if ch == "\t":
                offset += 4 - (offset + state.bsCount[nextLine]) % 4
            elif ch == " ":
                offset += 1
            else:
                break
            pos += 1
        contentStart = pos
        indentAfterMarker = 1 if contentStart >= maximum else offset - initial
        if indentAfterMarker > 4:
            indentAfterMarker = 1
        indent = initial + indentAfterMarker

        token = state.push("list_item_open", "li", 1)
        token.markup = markerChar
        token.map = itemLines = [startLine, 0]
        if isOrdered:
            token.info = state.src[start:posAfterMarker]

        oldTight = state.tight
        oldTShift = state.tShift[startLine]
        oldSCount = state.sCount[startLine]
        oldListIndent = state.listIndent
        state.listIndent = state.blkIndent
        state.blkIndent = indent
        state.tight = True
        state.tShift[startLine] = contentStart - state.bMarks[startLine]
        state.sCount[startLine] = offset

        if contentStart >= maximum and state.isEmpty(startLine + 1):
            state.line = min(state.line + 2, endLine)
        else:
            state.md.block.tokenize(state, startLine, endLine)

        if (not state.tight) or prevEmptyEnd:
            tight = False
        prevEmptyEnd = (state.line - startLine) > 1 and state.isEmpty(state.line - 1)

        state.blkIndent = state.listIndent
        state.listIndent = oldListIndent
        state.tShift[startLine] = oldTShift
        state.sCount[startLine] = oldSCount
        state.tight = oldTight

        token = state.push("list_item_close", "li", -1)
        token.markup = markerChar

        nextLine = startLine = state.line
        itemLines[1] = nextLine
        if nextLine >= endLine:
            break
        if state.sCount[nextLine] < state.blkIndent:
            break
        if state.is_code_block(startLine):
            break
        if any(rule(state, nextLine, endLine, True) for rule in terminatorRules):
            break

        # the list ends where the style or the delimiter changes
        if isOrdered:
            following = parse_marker(state, nextLine, style)
            if following is None or (following.style, following.delim) != kind:
                break
            posAfterMarker = following.end
            start = state.bMarks[nextLine] + state.tShift[nextLine]
        else:
            posAfterMarker = skipBulletListMarker(state, nextLine)
            if posAfterMarker < 0 or state.src[posAfterMarker - 1] != kind:
                break
        markerChar = state.src[posAfterMarker - 1]

    token = state.push("ordered_list_close" if isOrdered else "bullet_list_close", "ol" if isOrdered else "ul", -1)
    token.markup = markerChar
    listLines[1] = nextLine
    state.line = nextLine
    state.parentType = oldParentType
    if tight:
        markTightParagraphs(state, listTokIdx)
    return True


def fancy_lists_plugin(md: MarkdownIt) -> None:
    """Replace markdown-it's list rule (same place, same terminations)."""
    md.block.ruler.at("list", list_block, {"alt": ["paragraph", "reference", "blockquote"]})
