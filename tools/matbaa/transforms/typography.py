"""Typography of running text, from the manuscript's plain characters.

What each language wants is data (LANGUAGES below, one entry per primary
subtag), not code: its quotation marks (CLDR's quotationStart/End and
alternateQuotationStart/End), the space it sets inside guillemets and before
high punctuation (French: a narrow no-break space before ; ! ? and inside « »,
a no-break space before :), its abbreviations that hold to the next word, and
whether its numerals take suffixes (Turkic 2001-ci, DTK-nin).  Then, for every
language:

- straight double quotes -> the language's quotation marks, nested quotes ->
  its secondary marks; the state runs through the whole paragraph, across
  emphasis and marks, so a quote after `*word*` or after `?` closes;
- a straight apostrophe -> ’ (l’idée, don’t), or a single quotation mark;
- a spaced hyphen " - " -> a spaced en dash " – ";
- numeric and Roman ranges with a hyphen -> en dash (1997–2001, I–II);
- no-break spaces: after the language's abbreviations (e.ə., və s.; M., p.),
  after initials (A.A. Bakıxanov, J.H.M. Dassen), between a number and the word
  it counts (44 gün, 32 bits), and where the language says between a Roman
  numeral and its word (II Navuxodonosor);
- a numeral or acronym with its suffix (2001-ci, DTK-nin) is kept on one line
  where the language has such suffixes: it is wrapped in a `nobr` span (the
  writers render `white-space: nowrap`), rather than replaced by U+2011, so
  the text reads back and searches as typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.token import Token

NBSP = "\u00a0"
NNBSP = "\u202f"          # narrow no-break space (French « », ; ! ?)
ROMAN = r"(?:M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))"
UPPER = "A-ZÀ-ÖØ-ÞÇƏĞIİÖŞÜА-ЯЁ"
LOWER = "a-zß-öø-ÿçəğıiöşüа-яё"


@dataclass(frozen=True)
class Rules:
    """One language's typography (see the module docstring)."""
    quotes: tuple[str, str, str, str]           # primary open, close; secondary open, close
    quote_space: str = ""                       # inside the primary marks (fr: narrow no-break space)
    before: dict = field(default_factory=dict)  # punctuation -> the no-break space set before it
    abbreviations: tuple[str, ...] = ()         # held to the next word by a no-break space
    roman_word: bool = False                    # II Navuxodonosor: numeral held to its word
    suffixes: bool = False                      # 2001-ci, DTK-nin: numeral/acronym + suffix unbroken


FRENCH_BEFORE = {";": NNBSP, "!": NNBSP, "?": NNBSP, ":": NBSP}

LANGUAGES: dict[str, Rules] = {
    "az": Rules(("“", "”", "‘", "’"), abbreviations=("e.ə.", "və s."), roman_word=True, suffixes=True),
    "tr": Rules(("“", "”", "‘", "’"), abbreviations=("vb.",), roman_word=True, suffixes=True),
    "en": Rules(("“", "”", "‘", "’"), abbreviations=("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "p.", "pp.")),
    "fr": Rules(("«", "»", "“", "”"), quote_space=NNBSP, before=FRENCH_BEFORE,
                abbreviations=("M.", "MM.", "Mme", "Mlle", "Dr", "p.", "n°", "art.")),
    "de": Rules(("„", "“", "‚", "‘"), abbreviations=("Nr.", "S.", "Dr.")),
    "ru": Rules(("«", "»", "„", "“"), abbreviations=("т.", "г.", "с.")),
}


def rules_for(lang: str) -> Rules:
    """The rules of a BCP 47 tag; a language without an entry gets English quotes and no extras."""
    return LANGUAGES.get(lang.split("-")[0].lower(), LANGUAGES["en"])


@dataclass
class QuoteState:
    """Quotation state through one paragraph: the open marks and the last character."""
    stack: list = field(default_factory=list)      # '"' or "'" for each open quote
    prev: str = " "


OPENERS = set("([{—–-/«„‚“‘") | {NBSP, NNBSP}


def smart_quotes(text: str, rules: Rules, state: QuoteState | None = None) -> str:
    state = state or QuoteState()
    q = rules.quotes
    out = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if ch == '"':
            opening = state.prev.isspace() or state.prev in OPENERS
            if opening and not (nxt.isspace() and state.stack):
                inner = '"' in state.stack           # a quote inside a quote takes the secondary marks
                state.stack.append('"')
                out.append((q[2] if inner else q[0]) + ("" if inner else rules.quote_space))
            else:
                if '"' in state.stack:
                    while state.stack and state.stack.pop() != '"':
                        pass
                inner = '"' in state.stack
                out.append(q[3] if inner else rules.quote_space + q[1])
        elif ch == "'":
            if state.prev.isalnum() and nxt.isalnum():
                out.append("’")                       # an apostrophe: l’idée, don’t
            elif (state.prev.isspace() or state.prev in OPENERS) and nxt.isalnum():
                state.stack.append("'")
                out.append(q[2])
            elif "'" in state.stack:
                while state.stack and state.stack.pop() != "'":
                    pass
                out.append(q[3])
            else:
                out.append("’")                       # elision at a word's end (the students’)
        else:
            out.append(ch)
        state.prev = ch if ch not in "\"'" else out[-1][-1]
    return "".join(out)


def _compile(rules: Rules) -> list[tuple[re.Pattern, re.Pattern, object]]:
    """(guard, rule, replacement): a quick search first, since most text needs no rule
    and the rules' lookarounds and optional Roman numerals are slow to fail."""
    out = [
        (" - ", r"(?<=\S) - (?=\S)", " – "),
        # a range, not a name's number (ISO-8859-1, FIPS 151-2 keep their hyphen)
        (r"\d-\d", r"(?<![\w.,/-])(?<![A-Z] )(\d{1,4})-(\d{1,4})(?![\w.,]*\d)", r"\1–\2"),
        (r"-[IVXLCDM]*(?:[\s,.;:)]|$)", rf"\b({ROMAN})-({ROMAN})\b(?=[\s,.;:)]|$)", r"\1–\2"),
    ]
    for abbr in rules.abbreviations:
        if " " in abbr:                               # "və s." is one unit: its inner space holds
            head, tail = abbr.split(" ", 1)
            out.append((re.escape(abbr), rf"(?<!\w){re.escape(head)} {re.escape(tail)}", head + NBSP + tail))
        else:
            out.append((re.escape(abbr) + " ", rf"(?<![\w.]){re.escape(abbr)} (?=\w)", abbr + NBSP))
    out.append((rf"[{UPPER}]\.",
                rf"\b([{UPPER}]\.)(?: ?)([{UPPER}]\.)?((?:[{UPPER}]\.)?) (?=[{UPPER}][{LOWER}])",
                lambda m: m.group(1) + (m.group(2) or "") + (m.group(3) or "") + NBSP))
    if rules.roman_word:
        out.append((r"[IVXLCDM–] ", rf"(?<![\w.])((?=[IVXLCDM])({ROMAN})(?:–{ROMAN})?) (?=[\w“])", r"\1" + NBSP))
    out.append((r"\d ", rf"(?<![\w.,:])(\d+(?:[.,]\d+)*) (?=[{LOWER}{UPPER}])", r"\1" + NBSP))
    for mark, space in rules.before.items():
        m = re.escape(mark)
        # the space typed before the mark becomes the no-break one; none typed: one is set
        # after a word or a closing mark (not inside 10:30, http://, ?!)
        out.append((m, rf"(?:[ {NBSP}{NNBSP}]|(?<=[\w»)\]]))(?={m}(?:[\s»”)\]]|$))", space))
    if rules.quote_space:
        s = rules.quote_space
        o, c = re.escape(rules.quotes[0]), re.escape(rules.quotes[1])
        out.append((rules.quotes[0], rf"{o}[ {NBSP}{NNBSP}]?(?=\S)", rules.quotes[0] + s))
        out.append((rules.quotes[1], rf"(?<=\S)[ {NBSP}{NNBSP}]?{c}", s + rules.quotes[1]))
    return [(re.compile(g), re.compile(p), r) for g, p, r in out]


_COMPILED: dict[int, list] = {}


def transform_text(text: str, rules: Rules | str, state: QuoteState | None = None) -> str:
    if isinstance(rules, str):
        rules = rules_for(rules)
    if '"' in text or "'" in text:
        text = smart_quotes(text, rules, state)
    elif state is not None and text:
        state.prev = text[-1]
    compiled = _COMPILED.get(id(rules))
    if compiled is None:
        compiled = _COMPILED[id(rules)] = _compile(rules)
    for guard, rx, repl in compiled:
        if guard.search(text):
            text = rx.sub(repl, text)
    return text


NOBR = re.compile(rf"(?<![\w-])(?:\d+(?:[.,]\d+)*(?:–\d+)?|[{UPPER}]{{2,}}|{ROMAN}–{ROMAN})-[{LOWER}]+")
_NOBR_GUARD = re.compile(rf"-[{LOWER}]")   # every NOBR match ends so


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


def _split_nobr(tok: Token) -> list[Token]:
    if not _NOBR_GUARD.search(tok.content):
        return [tok]
    parts: list[Token] = []
    pos = 0
    for m in NOBR.finditer(tok.content):
        if m.start() > pos:
            parts.append(_text(tok.content[pos:m.start()]))
        parts.append(Token("nobr_open", "span", 1))
        parts.append(_text(m.group(0)))
        parts.append(Token("nobr_close", "span", -1))
        pos = m.end()
    if not parts:
        return [tok]
    if pos < len(tok.content):
        parts.append(_text(tok.content[pos:]))
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
            parts.append(_text("f"))
            parts.append(Token("fsep_open", "span", 1))
            parts.append(_text(piece[0]))
            parts.append(Token("fsep_close", "span", -1))
            piece = piece[1:]
        if piece:
            parts.append(_text(piece))
    return parts


# Unicode's line breaking (UAX #14, LB13) allows no break before . / , ; : ! ? ) ] even
# after a space: "un fichier `.orig.tar.gz`" is one unbreakable unit, and WeasyPrint 70,
# unable to break it, sets one word per line before it.  A zero-width space after the
# space gives the break back (the words are unchanged: it is no letter).
ZWSP = "\u200b"
NO_BREAK_BEFORE = set("./,;:!?)]}")


def apply_to_tokens(tokens: list[Token], rules: Rules | str) -> None:
    if isinstance(rules, str):
        rules = rules_for(rules)
    for tok in tokens:
        if tok.type != "inline" or not tok.children:
            continue
        children: list[Token] = []
        italic = 0
        state = QuoteState()
        # a span in another language ([…]{lang=en}) takes that language's rules
        here: list[Rules | None] = []
        current = rules
        for child in tok.children:
            if child.type == "em_open":
                italic += 1
            elif child.type == "em_close":
                italic -= 1
            elif child.type == "span_open":
                lang = child.attrs.get("lang")
                here.append(current)
                current = rules_for(str(lang)) if lang else current
            elif child.type == "span_close" and here:
                current = here.pop()
            if child.type == "text":
                child.content = transform_text(child.content, current, state)
                pieces = _split_nobr(child) if current.suffixes else [child]
                for piece in pieces:
                    children.extend(_split_f_dotless(piece) if italic and piece.type == "text" else [piece])
            else:
                if child.type in ("softbreak", "hardbreak"):
                    state.prev = " "
                elif child.type == "code_inline" and child.content:
                    state.prev = child.content[-1]
                    if child.content[0] in NO_BREAK_BEFORE and children:
                        if children[-1].type == "text" and children[-1].content.endswith(" "):
                            children[-1].content += ZWSP
                        elif children[-1].type == "softbreak":        # a line end of the source
                            children.append(_text(ZWSP))
                children.append(child)
        tok.children = children


def apply(book, report) -> None:
    rules = rules_for(book.lang)
    if isinstance(book.meta.get("rights"), str):     # printed on the imprint page
        book.meta["rights"] = transform_text(book.meta["rights"], rules)
    for part in book.parts:
        if part.title:
            part.title = transform_text(part.title, rules)
    for chapter in book.chapters:
        if chapter.title:                     # a chapter's title, taken out of its tokens
            chapter.title = transform_text(chapter.title, rules)
        for heading in chapter.headings:      # its plain text, as the contents, outline and nav print it
            heading.text = transform_text(heading.text, rules)
        apply_to_tokens(chapter.tokens, rules)
    for note in book.notes.values():
        apply_to_tokens(note.tokens, rules)
    for entry in book.glossary:               # each language of the glossary by its own rules
        for lang in list(entry.term):
            entry.term[lang] = transform_text(entry.term[lang], lang)
            entry.definition[lang] = transform_text(entry.definition[lang], lang)
