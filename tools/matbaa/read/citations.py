"""Citations: Pandoc's syntax in the Markdown, a CSL-JSON bibliography, a CSL style.

    [@connor1986, p. 16]            a citation: key, locator (p. 16)
    [see @a; @b, pp. 3-5]           several, with a prefix and a locator
    [-@connor1986]                  the year without the author (the text names him)
    @connor1986                     in the text: Connor (1986)
    @connor1986 [p. 16]             in the text, with a locator

The markdown-it inline rule (`citations_plugin`) turns each into one
`citation` token (meta["cites"]: key, prefix, suffix, locator, label,
suppress_author; meta["mode"]: "normal" or "in-text").  transforms/citations.py
checks the keys and renders every citation with citeproc-py (`Engine`), in the
order of the book; render/tokens.py prints it as a span class="citation".
"""
from __future__ import annotations

import copy
import io
import json
import re
import types
from html import escape
from pathlib import Path

from lxml import etree

from matbaa.language import sort_key

#: what an entry's sort key leaves out at its start: quotation marks, brackets
_LEADING = re.compile(r"^[\W_]+")

# Pandoc's citation key: a letter, digit or _, then alphanumerics and internal
# punctuation (:.#$%&-+?<>~/), ending in an alphanumeric.
KEY = r"[^\W][\w:.#$%&+?<>~/-]*(?<=[^\W])"
_ITEM = re.compile(rf"^(?P<prefix>.*?)(?:(?<=\s)|^)(?P<minus>-)?@(?P<key>{KEY})(?P<suffix>.*)$", re.S)
_INTEXT = re.compile(rf"@(?P<key>{KEY})")

# Locator labels, as Pandoc reads them (English) and as Azerbaijani writes them.
LABELS = {
    "p": "page", "pp": "page", "page": "page", "pages": "page", "s": "page", "səh": "page",
    "chap": "chapter", "chaps": "chapter", "ch": "chapter", "chapter": "chapter", "fəs": "chapter",
    "sec": "section", "secs": "section", "section": "section", "§": "section", "§§": "section", "böl": "section",
    "para": "paragraph", "paras": "paragraph", "¶": "paragraph", "abz": "paragraph",
    "n": "note", "nn": "note", "note": "note",
    "vol": "volume", "vols": "volume", "c": "volume",
    "l": "line", "ll": "line", "line": "line",
    "v": "verse", "vv": "verse", "fig": "figure", "col": "column",
}
_LOCATOR = re.compile(r"^\s*,?\s*(?:(?P<label>§§?|¶|[^\W\d]+)\.?\s*)?"
                      r"(?P<value>\d[\w]*(?:\s*[-–,]\s*\d[\w]*)*)(?P<rest>.*)$", re.S)


def parse_locator(suffix: str) -> dict:
    """', p. 16' -> {label: page, locator: 16, suffix: ''}; a suffix that names no
    locator stays a suffix (', maddə 1' prints as it is)."""
    m = _LOCATOR.match(suffix)
    if m:
        label = m.group("label")
        name = LABELS.get(label.lower()) if label else "page"   # a bare number is a page (Pandoc)
        if name is not None:
            value = re.sub(r"\s*[-–]\s*", "–", m.group("value").strip())
            return {"label": name, "locator": value, "suffix": m.group("rest")}
    return {"label": None, "locator": None, "suffix": suffix}


def parse_cites(content: str) -> list[dict] | None:
    """The items of a bracketed citation, or None when it is no citation (an
    item without an @key)."""
    cites = []
    for raw in content.split(";"):
        m = _ITEM.match(raw)
        if m is None:
            return None
        loc = parse_locator(m.group("suffix"))
        cites.append({"key": m.group("key"), "prefix": m.group("prefix").strip(),
                      "suffix": loc["suffix"].strip(), "locator": loc["locator"], "label": loc["label"],
                      "suppress_author": bool(m.group("minus"))})
    return cites or None


# ---------------------------------------------------------------- the markdown-it rule

def _bracketed(state, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "[" or start + 1 >= state.posMax or src[start + 1] == "^":
        return False
    end = src.find("]", start + 1, state.posMax)
    if end < 0 or "[" in src[start + 1:end] or "@" not in src[start + 1:end]:
        return False
    nxt = src[end + 1:end + 2]
    if nxt in ("(", "{", "["):            # a link, a span [..]{..}, a reference link: not ours
        return False
    cites = parse_cites(src[start + 1:end])
    if cites is None:
        return False
    if not silent:
        tok = state.push("citation", "", 0)
        tok.content = src[start:end + 1]
        tok.meta = {"cites": cites, "mode": "normal"}
    state.pos = end + 1
    return True


def _in_text(state, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "@" or (start > 0 and (src[start - 1].isalnum() or src[start - 1] in "_@.")):
        return False
    m = _INTEXT.match(src, start, state.posMax)
    if m is None:
        return False
    end = m.end()
    loc = {"label": None, "locator": None, "suffix": ""}
    after = re.match(r" \[([^\]\[@]*)\](?![({\[])", src[end:state.posMax])
    if after:                                  # @key [p. 16]
        loc = parse_locator(after.group(1))
        end += after.end()
    if not silent:
        tok = state.push("citation", "", 0)
        tok.content = src[start:end]
        tok.meta = {"cites": [{"key": m.group("key"), "prefix": "", "suffix": loc["suffix"].strip(),
                               "locator": loc["locator"], "label": loc["label"], "suppress_author": False}],
                    "mode": "in-text"}
    state.pos = end
    return True


def citations_plugin(md) -> None:
    md.inline.ruler.before("link", "citation", _bracketed)
    md.inline.ruler.before("link", "citation_in_text", _in_text)


# ---------------------------------------------------------------- the bibliography file

def load_references(path: Path, text: str, report) -> list[dict]:
    """CSL-JSON (a list of entries, each with id and type): entries, with the
    line of each in entry["_line"].  Problems are B002, located."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        report.add("B002", path, exc.lineno, f"not valid JSON ({exc.msg}, column {exc.colno}); "
                                             "the bibliography is CSL-JSON: a list of entries [{\"id\": …}].")
        return []
    if not isinstance(data, list):
        report.add("B002", path, 1, "the bibliography must be a CSL-JSON list of entries ([{\"id\": …, \"type\": …}]).")
        return []
    # the line of each entry: where its "id" is written
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"id"\s*:', text)]
    out, seen = [], {}
    for i, entry in enumerate(data):
        line = lines[i] if i < len(lines) else 1
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("type"), str):
            report.add("B002", path, line, f"entry {i + 1} needs \"id\" and \"type\" (texts), e.g. "
                                           "{\"id\": \"connor1986\", \"type\": \"chapter\", …}.")
            continue
        key = entry["id"].lower()
        if key in seen:
            report.add("B002", path, line, f"id '{entry['id']}' is already used at line {seen[key]} "
                                           "(ids are compared without case); rename one.")
            continue
        seen[key] = line
        out.append(dict(entry, _line=line))
    return out


# ---------------------------------------------------------------- rendering

# citeproc-py pastes the entries' text into its output as it is (only the
# style's own affixes and terms go through the formatter's `preformat`), so
# its output cannot be trusted as markup.  The formatter used here makes
# none: each formatting element is a pair of private-use characters, the
# entries' text is stripped of those characters (`_plain`), and
# `to_xhtml` escapes the whole result before putting the only tags a
# bibliography may hold in place of the pairs: every text is escaped, every
# tag is one of these.
_TAGS = {"Italic": ("i", ""), "Oblique": ("i", ""), "Bold": ("b", ""), "Light": ("span", "csl-light"),
         "Underline": ("u", ""), "Superscript": ("sup", ""), "Subscript": ("sub", ""),
         "SmallCaps": ("span", "csl-small-caps")}
_MARK = {name: (chr(0xE000 + 2 * i), chr(0xE001 + 2 * i)) for i, name in enumerate(_TAGS)}
_PRIVATE = re.compile("[\ue000-\ue0ff]")
_PAIRS = {}
for _name, (_tag, _cls) in _TAGS.items():
    _PAIRS[_MARK[_name][0]] = f'<{_tag} class="{_cls}">' if _cls else f"<{_tag}>"
    _PAIRS[_MARK[_name][1]] = f"</{_tag}>"


def _xhtml_formatter():
    """A citeproc-py formatter whose output is text: formatting is marked by
    private-use characters that `to_xhtml` turns into XHTML elements."""
    fmt = types.ModuleType("matbaa_csl_marked")

    def wrapper(name):
        opening, closing = _MARK[name]
        return type(name, (str,), {"__new__": lambda cls, text: str.__new__(cls, opening + str(text) + closing)})

    fmt.preformat = lambda text: str(text)
    for name in _TAGS:
        setattr(fmt, name, wrapper(name))
    return fmt


def _plain(value):
    """An entry's value without the private-use characters the formatter marks with."""
    if isinstance(value, str):
        return _PRIVATE.sub("", value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_xhtml(marked: str) -> str:
    """citeproc's marked text as XHTML: all of it escaped, then the marks made tags."""
    return _PRIVATE.sub(lambda m: _PAIRS.get(m.group(0), ""), escape(str(marked), quote=False))


def to_text(marked: str) -> str:
    """citeproc's marked text without its formatting (what the bibliography is sorted by)."""
    return _PRIVATE.sub("", str(marked))


CSL_NS = "http://purl.org/net/xbiblio/csl"


def _author_node(root) -> etree._Element | None:
    """The part of the citation layout that prints the author: a <names>, or
    the first <text macro> whose macro holds one."""
    ns = {"cs": CSL_NS}
    macros = {m.get("name"): m for m in root.iterfind("cs:macro", ns)}

    def holds_names(el, seen=()) -> bool:
        if el.tag == f"{{{CSL_NS}}}names":
            return True
        for sub in el.iter():
            if sub.tag == f"{{{CSL_NS}}}names":
                return True
            macro = sub.get("macro") if sub.tag == f"{{{CSL_NS}}}text" else None
            if macro and macro not in seen and macro in macros and holds_names(macros[macro], seen + (macro,)):
                return True
        return False

    layout = root.find("cs:citation/cs:layout", ns)
    for el in layout.iter():
        if el is layout:
            continue
        if el.tag == f"{{{CSL_NS}}}names" or (el.tag == f"{{{CSL_NS}}}text" and el.get("macro")
                                                and holds_names(el)):
            return el
    return None


class Engine:
    """One book's citations through citeproc-py.

    citeproc-py renders CSL 1.0 citations but has neither Pandoc's in-text form
    (Connor (1986)) nor CSL-M's author-only / suppress-author, and links no
    entry.  So each cite is rendered alone by a copy of the style whose
    citation layout has no affixes ("bare"): the pieces are joined with the
    layout's delimiter and wrapped in its prefix and suffix here, each piece a
    link to its entry; the author-only and suppress-author copies drop
    everything but, or only, the layout's author node (`_author_node`)."""

    def __init__(self, entries: list[dict], style: Path, locale: Path | None, lang: str):
        from citeproc import CitationStylesBibliography, CitationStylesStyle
        from citeproc.source.json import CiteProcJSON

        self.ids = {e["id"].lower(): e["id"] for e in entries}
        clean = [{k: _plain(v) for k, v in e.items() if k != "_line"} for e in entries]
        root = etree.parse(str(style), etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
        csl_lang = locale_name(lang, locale)
        if locale is not None:
            loc = etree.parse(str(locale), etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
            loc.set("{http://www.w3.org/XML/1998/namespace}lang", csl_lang)
            for info in loc.findall(f"{{{CSL_NS}}}info"):
                loc.remove(info)
            # in-style locales come before the style's macros (CSL schema order)
            first = root.find(f"{{{CSL_NS}}}macro")
            first.addprevious(loc) if first is not None else root.append(loc)
        layout = root.find(f"{{{CSL_NS}}}citation/{{{CSL_NS}}}layout")
        self.prefix = layout.get("prefix", "")
        self.suffix = layout.get("suffix", "")
        self.delimiter = layout.get("delimiter", "; ")
        for attr in ("prefix", "suffix", "delimiter"):
            layout.attrib.pop(attr, None)
        variants = {"bare": root}
        author = _author_node(root)
        if author is not None:
            without = copy.deepcopy(root)
            node = _author_node(without)
            node.getparent().remove(node)
            variants["suppress"] = without
            only = copy.deepcopy(root)
            lay = only.find(f"{{{CSL_NS}}}citation/{{{CSL_NS}}}layout")
            node = _author_node(only)
            for child in list(lay):
                lay.remove(child)
            lay.append(node)
            variants["author"] = only
        self.formatter = _xhtml_formatter()
        self.source = CiteProcJSON(clean)
        self.styles = {}
        for name, tree in variants.items():
            st = CitationStylesStyle(io.BytesIO(etree.tostring(tree)), locale=csl_lang, validate=False)
            self.styles[name] = CitationStylesBibliography(st, self.source, self.formatter)
        self.cited: list[str] = []

    def register(self, cites: list[dict]) -> None:
        for c in cites:
            key = c["key"].lower()
            if key not in self.cited:
                self.cited.append(key)
        for bib in self.styles.values():
            bib.register(self._citation(cites))

    def _citation(self, cites, variant_cites=None):
        from citeproc import Citation, CitationItem
        from citeproc.source import Locator

        items = []
        for c in variant_cites or cites:
            args = {}
            if c.get("locator"):
                args["locator"] = Locator(c["label"] or "page", c["locator"])
            items.append(CitationItem(c["key"], **args))
        return Citation(items)

    def _one(self, variant: str, cite: dict) -> str:
        bib = self.styles.get(variant) or self.styles["bare"]
        citation = self._citation([cite])
        bib.register(citation)          # sets the citation's bibliography; the entry is known
        return to_xhtml(bib.cite(citation, lambda item: None))

    def render(self, cites: list[dict], mode: str) -> list[tuple[str, str]]:
        """[(key, html)]: the pieces of one citation, and the joining text as key ''."""
        pieces: list[tuple[str, str]] = []
        if mode == "in-text" and "author" in self.styles:
            c = cites[0]
            rest = self._one("suppress", c)
            suffix = (" " + escape(c["suffix"])) if c.get("suffix") else ""
            pieces.append((self.ids[c["key"].lower()], self._one("author", c) + " (" + rest + suffix + ")"))
            return pieces
        pieces.append(("", escape(self.prefix)))
        for i, c in enumerate(cites):
            if i:
                pieces.append(("", escape(self.delimiter)))
            variant = "suppress" if c.get("suppress_author") and "suppress" in self.styles else "bare"
            text = self._one(variant, c)
            if c.get("prefix"):
                text = escape(c["prefix"]) + " " + text
            if c.get("suffix"):
                text += ("" if c["suffix"][0] in ",.;:" else " ") + escape(c["suffix"])
            pieces.append((self.ids[c["key"].lower()], text))
        pieces.append(("", escape(self.suffix)))
        return [p for p in pieces if p[0] or p[1]]

    def bibliography(self, lang: str) -> list[tuple[str, str]]:
        """[(id, html)] of every cited entry, in the alphabetical order of the
        book's language (of its text: citeproc-py sorts by its output, and by
        code points)."""
        bib = self.styles["bare"]
        out = [(self.ids[item.key], str(text)) for item, text in zip(bib.items, bib.bibliography())]
        # an entry filed under its title files by the title's first word, not by
        # its opening quotation mark (“Müstəqil…” among the M, not before the 1 and the A)
        out.sort(key=lambda e: sort_key(_LEADING.sub("", to_text(e[1])), lang))
        return [(key, to_xhtml(text)) for key, text in out]


def locale_name(lang: str, locale: Path | None) -> str:
    """The CSL locale name for the book's language: the shipped file's
    (locales-az-AZ.xml -> az-AZ), or the tag itself (en -> en-US)."""
    if locale is not None:
        return locale.stem.removeprefix("locales-")
    primary = lang.split("-")[0].lower()
    return {"en": "en-US"}.get(lang, lang if "-" in lang else {"de": "de-DE", "fr": "fr-FR", "ru": "ru-RU",
                                                                 "tr": "tr-TR"}.get(primary, "en-US"))


def find_locale(styles: Path, lang: str) -> Path | None:
    primary = lang.split("-")[0].lower()
    folder = Path(styles) / "csl"
    exact = folder / f"locales-{lang}.xml"
    if exact.is_file():
        return exact
    found = sorted(folder.glob(f"locales-{primary}-*.xml")) + sorted(folder.glob(f"locales-{primary}.xml"))
    return found[0] if found else None


DEFAULT_STYLE = "harvard-cite-them-right.csl"
