"""Typography of running text, from the manuscript's plain characters.

- straight double quotes -> the language's quotation marks (labels: quotes);
- a spaced hyphen " - " -> a spaced en dash " – ";
- numeric and Roman ranges with a hyphen -> en dash (1997–2001-ci, I–II);
- no-break spaces: after e.ə., in "və s.", after initials (A.A. Bakıxanov),
  between a Roman numeral and its word (II Navuxodonosor), between a number and
  the word it counts (44 gün);
- a numeral or acronym with its suffix (2001-ci, DTK-nin) is kept on one line:
  it is wrapped in a `nobr` span (the writers render `white-space: nowrap`),
  rather than replaced by U+2011, so the text reads back and searches as typed.
"""
from __future__ import annotations

import re

from markdown_it.token import Token

NBSP = "\u00a0"
ROMAN = r"(?:M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))"
UPPER = "A-ZÇƏĞIİÖŞÜ"
LOWER = "a-zçəğıiöşü"

RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(?<=\S) - (?=\S)"), " – "),
    (re.compile(r"(?<![\d.,])(\d{1,4})-(\d{1,4})(?![\d.,]*\d)"), r"\1–\2"),
    (re.compile(rf"\b({ROMAN})-({ROMAN})\b(?=[\s,.;:)]|$)"), r"\1–\2"),
    (re.compile(r"\be\.ə\. "), "e.ə." + NBSP),
    (re.compile(r"\bvə s\."), "və" + NBSP + "s."),
    (re.compile(rf"\b([{UPPER}]\.)(?: ?)([{UPPER}]\.)? (?=[{UPPER}][{LOWER}])"),
     lambda m: m.group(1) + (m.group(2) or "") + NBSP),
    (re.compile(rf"(?<![\w.])((?=[IVXLCDM])({ROMAN})(?:–{ROMAN})?) (?=[\w“])"), r"\1" + NBSP),
    (re.compile(rf"(?<![\w.,])(\d+(?:[.,]\d+)*) (?=[{LOWER}{UPPER}])"), r"\1" + NBSP),
]

# What each rule cannot match without, a quick search first: most texts need no
# rule, and the rules' lookarounds and optional Roman numerals are slow to fail.
GUARDS: list[re.Pattern] = [re.compile(p) for p in (
    " - ",
    r"\d-\d",
    r"-[IVXLCDM]*(?:[\s,.;:)]|$)",      # the second numeral (maybe empty), then the lookahead
    r"e\.ə\. ",
    r"və s\.",
    rf"[{UPPER}]\.",
    r"[IVXLCDM–] ",                     # a numeral ends in a letter, or in the dash of "I– "
    r"\d ",
)]
_GUARDED_RULES = list(zip(GUARDS, RULES, strict=True))

NOBR = re.compile(rf"(?<![\w-])(?:\d+(?:[.,]\d+)*(?:–\d+)?|[{UPPER}]{{2,}}|{ROMAN}–{ROMAN})-[{LOWER}]+")


def smart_quotes(text: str, quotes: list[str]) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == '"':
            before = text[i - 1] if i else " "
            opening = before.isspace() or before in "([{—–-/" + NBSP
            out.append(quotes[0] if opening else quotes[1])
        else:
            out.append(ch)
    return "".join(out)


def transform_text(text: str, quotes: list[str]) -> str:
    if '"' in text:
        text = smart_quotes(text, quotes)
    for guard, (rx, repl) in _GUARDED_RULES:
        if guard.search(text):
            text = rx.sub(repl, text)
    return text


_NOBR_GUARD = re.compile(rf"-[{LOWER}]")   # every NOBR match ends so


def _split_nobr(tok: Token) -> list[Token]:
    if not _NOBR_GUARD.search(tok.content):
        return [tok]
    parts: list[Token] = []
    pos = 0
    for m in NOBR.finditer(tok.content):
        if m.start() > pos:
            t = Token("text", "", 0)
            t.content = tok.content[pos:m.start()]
            parts.append(t)
        parts.append(Token("nobr_open", "span", 1))
        t = Token("text", "", 0)
        t.content = m.group(0)
        parts.append(t)
        parts.append(Token("nobr_close", "span", -1))
        pos = m.end()
    if not parts:
        return [tok]
    if pos < len(tok.content):
        t = Token("text", "", 0)
        t.content = tok.content[pos:]
        parts.append(t)
    return parts


# In Vollkorn's italic (and many italics) the terminal of f reaches over a
# following dotless ı, so "inkişafı" reads as "inkişafi".  A hair of space
# (CSS .f-sep) between them keeps the letters apart; the text is unchanged.
F_DOTLESS = re.compile(r"f(?=ı)")


def _split_f_dotless(tok: Token) -> list[Token]:
    parts: list[Token] = []
    pieces = F_DOTLESS.split(tok.content)
    if len(pieces) == 1:
        return [tok]
    for n, piece in enumerate(pieces):
        if n > 0:
            t = Token("text", "", 0)
            t.content = "f"
            parts.append(t)
            parts.append(Token("fsep_open", "span", 1))
            t = Token("text", "", 0)
            t.content, piece = piece[0], piece[1:]
            parts.append(t)
            parts.append(Token("fsep_close", "span", -1))
        if piece:
            t = Token("text", "", 0)
            t.content = piece
            parts.append(t)
    return parts


def apply_to_tokens(tokens: list[Token], quotes: list[str]) -> None:
    for tok in tokens:
        if tok.type != "inline" or not tok.children:
            continue
        children: list[Token] = []
        italic = 0
        for child in tok.children:
            if child.type == "em_open":
                italic += 1
            elif child.type == "em_close":
                italic -= 1
            if child.type == "text":
                child.content = transform_text(child.content, quotes)
                for piece in _split_nobr(child):
                    children.extend(_split_f_dotless(piece) if italic and piece.type == "text" else [piece])
            else:
                children.append(child)
        tok.children = children


def apply(book, report) -> None:
    quotes = book.labels.get("quotes") or ["“", "”", "‘", "’"]
    for chapter in book.chapters:
        apply_to_tokens(chapter.tokens, quotes)
    for note in book.notes.values():
        apply_to_tokens(note.tokens, quotes)
