"""book.yaml: a declarative schema, read with line numbers, all errors collected.

Like MkDocs' config: every key is declared once in SCHEMA (type, required,
what it means); validation logs every problem and the caller aborts once.
Key names follow Pandoc's and Dublin Core's where they exist.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from matbaa.diagnostics import Report

# ---------------------------------------------------------------- YAML with lines


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and lists remember the line of each key/item."""


# The same loader on libyaml's parser, when PyYAML has it: the same constructors
# and resolver (Python), the scanning and parsing in C, several times faster.
_CLineLoader = type("_CLineLoader", (yaml.CSafeLoader,), {}) if getattr(yaml, "__with_libyaml__", False) else None


class LineDict(dict):
    lines: dict[str, int]
    line: int


class LineList(list):
    lines: list[int]
    line: int


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    d = LineDict()
    d.lines = {}
    d.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key is a list or a mapping ('? [a, b]'); a key is a name", key_node.start_mark) from None
        if key in d:
            d.setdefault("__duplicates__", []).append((key, key_node.start_mark.line + 1))
        d[key] = loader.construct_object(value_node, deep=True)
        d.lines[key] = key_node.start_mark.line + 1
    return d


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    seq = LineList(loader.construct_object(child, deep=True) for child in node.value)
    seq.lines = [child.start_mark.line + 1 for child in node.value]
    seq.line = node.start_mark.line + 1
    return seq


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A date as YAML reads it; one that is no date (2026-13-45) stays a text,
    which the schema then refuses at its line (M004), not a ValueError."""
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


for _loader in (_LineLoader, _CLineLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
        _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

#: the most values a YAML file may hold once its aliases (*a) are expanded: a
#: book's metadata or glossary holds thousands; an alias bomb (&a [..], &b [*a,
#: *a, ...], ...) billions, which any code walking it (validation, a repr) would
#: take minutes and gigabytes to.
MAX_EXPANDED = 1_000_000


def _too_large(root: yaml.Node) -> yaml.Node | None:
    """The first node whose aliases expand beyond MAX_EXPANDED values (the
    smallest such: its children are within it), or None."""
    size: dict[int, int] = {}
    found: list = []

    def walk(node: yaml.Node) -> int:
        key = id(node)
        if key in size:
            return size[key]
        size[key] = 1           # a recursive alias (&a [*a]) counts once
        total = 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        for child in children:
            total += walk(child)
            if found:
                return total
        if total > MAX_EXPANDED and not found:
            found.append(node)
        size[key] = total
        return total

    walk(root)
    return found[0] if found else None


def _load_bounded(text: str, loader_class: type) -> Any:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        big = _too_large(node)
        if big is not None:
            raise _AliasBomb(big.start_mark.line + 1)
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _AliasBomb(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def safe_load(text: str) -> Any:
    """yaml.safe_load, on libyaml's parser when there is one (an error is raised
    by the pure-Python parser, as yaml.safe_load raises it)."""
    if _CLineLoader is not None:
        try:
            return yaml.load(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def load_yaml(text: str, path: Path, report: Report, code: str) -> Any:
    """Parse YAML; on a syntax error add one diagnostic with its line, return None.
    Aliases that expand beyond MAX_EXPANDED values: M009 at the line, None."""
    try:
        if _CLineLoader is not None:
            try:
                return _load_bounded(text, _CLineLoader)     # a CSafeLoader
            except yaml.YAMLError:
                pass        # the pure-Python parser below words the message (and judges) as always
        return _load_bounded(text, _LineLoader)
    except _AliasBomb as exc:
        report.add("M009", path, exc.line, f"the aliases (*name) here expand to more than {MAX_EXPANDED:,} values; "
                                           "write the values out, or use fewer aliases of aliases.")
        return None
    except RecursionError:
        report.add("M009", path, None, "the YAML is nested too deeply to read; flatten it.")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        report.add(code, path, line, f"YAML syntax: {problem}; fix the line (indentation, a ':' or a quote).")
        return None


def line_of(obj: Any, key: Any = None, default: int | None = None) -> int | None:
    if isinstance(obj, LineDict):
        return obj.lines.get(key, obj.line) if key is not None else obj.line
    if isinstance(obj, LineList):
        if isinstance(key, int) and key < len(obj.lines):
            return obj.lines[key]
        return obj.line
    return default


# ---------------------------------------------------------------- the schema

BCP47 = re.compile(r"^[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*$")
BOOK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
LENGTH = re.compile(r"^\d+(\.\d+)?(mm|cm|in|pt|pc|px)$")
PAGE_SIZE = re.compile(r"^(A[3-6]|B[4-6]|JIS-B[4-6]|letter|legal|\d+(\.\d+)?(mm|cm|in) \d+(\.\d+)?(mm|cm|in))$")

PRINT_DEFAULTS = {"page-size": "A5", "margin-top": "18mm", "margin-bottom": "20mm",
                  "margin-inner": "20mm", "margin-outer": "16mm", "font-size": "10.5pt"}


@dataclass
class Key:
    kind: str  # "str", "list[str]", "date", "people", "map", "contents"
    required: bool = False
    doc: str = ""
    check: Callable[[Any], str | None] | None = None  # returns a complaint or None
    keys: dict[str, "Key"] = field(default_factory=dict)  # for kind == "map"


def _pattern(rx: re.Pattern, what: str) -> Callable[[Any], str | None]:
    return lambda v: None if rx.match(v) else f"'{v}' is not {what}"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"'{v}' is not one of: {', '.join(choices)}"


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"{v} is less than {low}"


def _two_langs(v: list) -> str | None:
    if len(v) != 2:
        return "give exactly two languages, the book's first (e.g. [az, en])"
    bad = [x for x in v if not BCP47.match(x)]
    return f"not BCP 47 language tags: {', '.join(bad)}" if bad else None


SCHEMA: dict[str, Key] = {
    "id": Key("str", True, "short name of the outputs: build/<id>.pdf", _pattern(BOOK_ID, "a file name (letters, digits, . _ -)")),
    "identifier": Key("str", True, "dc:identifier: a URN, UUID or ISBN that never changes"),
    "title": Key("str", True, "dc:title"),
    "subtitle": Key("str", False, "subtitle (Pandoc)"),
    "author": Key("people", True, "dc:creator: list of {name, role, affiliation}"),
    "editor": Key("people", False, "contributors: list of {name, role, affiliation}"),
    "lang": Key("str", True, "dc:language, a BCP 47 tag (az, az-Latn, en)", _pattern(BCP47, "a BCP 47 language tag")),
    "publisher": Key("str", False, "dc:publisher"),
    "series": Key("str", False, "the series (EPUB belongs-to-collection)"),
    "date": Key("date", True, "dc:date of this edition, YYYY-MM-DD; also the date every output carries"),
    "rights": Key("str", False, "dc:rights"),
    "subject": Key("str", False, "dc:subject"),
    "description": Key("str", False, "dc:description"),
    "keywords": Key("list[str]", False, "keywords (PDF metadata)"),
    "source": Key("map", False, "dc:source: the text as received", keys={
        "title": Key("str", True, "the original publication"),
        "file": Key("str", False, "the source text as received, relative to the manuscript (for collation)"),
        "files": Key("list[str]", False, "the source as received in several files, in reading order (for collation)"),
        "note": Key("str", False, "how the text was prepared from it"),
    }),
    "corrections": Key("str", False, "file listing the editorial corrections (for collation)"),
    "bibliography": Key("str", False, "the works cited: a CSL-JSON file, relative to the manuscript (Pandoc)"),
    "csl": Key("str", False, "the citation style: a CSL file, relative to the manuscript (Pandoc); "
                             "default styles/csl/harvard-cite-them-right.csl"),
    "notes": Key("map", False, "footnotes", keys={
        "by": Key("str", False, "who wrote the notes: author or editor", _one_of("author", "editor")),
        "numbering": Key("str", False, "continuous or per-part", _one_of("continuous", "per-part")),
    }),
    "glossary": Key("map", False, "the bilingual glossary", keys={
        "file": Key("str", True, "glossary file, relative to the manuscript"),
        "languages": Key("list[str]", True, "the two languages, book language first", _two_langs),
    }),
    "print": Key("map", False, "the print edition's page", keys={
        "page-size": Key("str", False, "A5 (default), A4, B5, letter, or 'width height' (148mm 210mm)",
                         _pattern(PAGE_SIZE, "a page size (A5, A4, B5, letter, or '148mm 210mm')")),
        "margin-top": Key("str", False, "head margin, a CSS length (18mm)", _pattern(LENGTH, "a length (18mm)")),
        "margin-bottom": Key("str", False, "foot margin (20mm)", _pattern(LENGTH, "a length (20mm)")),
        "margin-inner": Key("str", False, "inner (gutter) margin (20mm)", _pattern(LENGTH, "a length (20mm)")),
        "margin-outer": Key("str", False, "outer margin (16mm)", _pattern(LENGTH, "a length (16mm)")),
        "font-size": Key("str", False, "body type size (10.5pt)", _pattern(LENGTH, "a length (10.5pt)")),
        # line breaking of paragraphs (tools/matbaa/typeset/knuth_plass.py)
        "linebreak": Key("str", False, "optimal (default: total fit, Knuth-Plass) or greedy (WeasyPrint's first fit)",
                         _one_of("greedy", "optimal")),
        "tolerance": Key("number", False, "optimal: the largest badness of a line (200)", _at_least(1)),
        "hyphen-penalty": Key("number", False, "optimal: the penalty of a hyphenated line (700)", _at_least(0)),
        "stretch": Key("number", False, "optimal: how far a space stretches at badness 100, in spaces (0.8)",
                       _at_least(0.01)),
        "shrink": Key("number", False, "optimal: how far a space may shrink, a share of it (0.333)",
                      lambda v: None if 0 <= v < 1 else f"{v} is not from 0 to 1 (a share of a space)"),
        "expansion": Key("number", False, "optimal: how far a line's letters may be tracked wider or narrower, "
                         "a share of their width (0.02; 0: never)",
                         lambda v: None if 0 <= v <= 0.05 else f"{v} is not from 0 to 0.05 (5 %)"),
        "protrusion": Key("bool", False, "optimal: a line-end hyphen, stop or comma hangs into the margin (true)"),
    }),
    "hyphenation": Key("map", False, "hyphenation of the book's language", keys={
        "exceptions": Key("list[str]", False, "words with their allowed breaks (proq-ram); no hyphen: never break"),
    }),
    "toc-depth": Key("int", False, "the headings the contents list (Pandoc's toc-depth): 1 the chapters (default), "
                     "2 also ## headings, 3 also ###", lambda v: None if 1 <= v <= 6 else f"{v} is not from 1 to 6"),
    "contents": Key("contents", True, "ordered divisions: {part: title, chapters: [files]}, {chapter: file}, "
                    "{dedication|foreword|preface|afterword|about-author: file}"),
}

#: what a `contents` entry can be (model.KINDS): a part, or one file standing alone
CONTENTS_KINDS = ("dedication", "foreword", "preface", "part", "chapter", "afterword", "about-author")
CONTENTS_FRONT = ("dedication", "foreword", "preface")
CONTENTS_BACK = ("afterword", "about-author")

PERSON_KEYS = {"name", "role", "affiliation"}
MARC_ROLE = re.compile(r"^[a-z]{3}$")


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str) and value.strip() != ""
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(x, str) for x in value)
    if kind == "date":
        return isinstance(value, (str, _dt.date))
    if kind in ("people", "contents"):
        return isinstance(value, list) and len(value) > 0
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "map":
        return isinstance(value, dict)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    raise ValueError(kind)


_KIND_WORDS = {
    "str": "a non-empty text",
    "list[str]": "a list of texts",
    "date": "a date YYYY-MM-DD",
    "people": "a list of people, each {name: …}",
    "contents": "a list of divisions, each {part: …, chapters: […]} or {chapter: file} (or preface, …)",
    "int": "a whole number",
    "map": "a mapping of keys",
    "number": "a number",
    "bool": "true or false",
}


def _type_word(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return "an empty text" if isinstance(value, str) else type(value).__name__


def _validate_keys(data: dict, schema: dict[str, Key], path: Path, report: Report, where: str) -> None:
    for key in data:
        if key == "__duplicates__":
            continue
        if key not in schema:
            close = _closest(str(key), schema)
            hint = f" Did you mean '{close}'?" if close else ""
            report.add("M005", path, line_of(data, key),
                       f"unknown key '{where}{key}'.{hint} Known keys: {', '.join(schema)}.")
    for dup, line in data.get("__duplicates__", []):
        report.add("M004", path, line, f"key '{where}{dup}' is given twice; keep one.")
    for key, spec in schema.items():
        if key not in data or data[key] is None:
            if spec.required:
                report.add("M003", path, line_of(data),
                           f"required key '{where}{key}' is missing: add it ({spec.doc}).")
            continue
        value = data[key]
        if not _type_ok(spec.kind, value):
            report.add("M004", path, line_of(data, key),
                       f"'{where}{key}' must be {_KIND_WORDS[spec.kind]}, not {_type_word(value)}: {value!r:.60}.")
            continue
        if spec.kind == "date":
            value = data[key] = value.isoformat() if isinstance(value, _dt.date) else value
            if not ISO_DATE.match(value) or not _real_date(value):
                report.add("M004", path, line_of(data, key), f"'{where}{key}' must be YYYY-MM-DD, not '{value}'.")
        if spec.check and spec.kind in ("str", "list[str]", "int", "number"):
            complaint = spec.check(value)
            if complaint:
                report.add("M004", path, line_of(data, key), f"'{where}{key}': {complaint}.")
        if spec.kind == "map":
            _validate_keys(value, spec.keys, path, report, f"{where}{key}.")
            if key == "print" and not where:
                _validate_page(value, path, report)
        if spec.kind == "people":
            for i, person in enumerate(value):
                line = line_of(value, i)
                if isinstance(person, str):
                    value[i] = {"name": person}
                    continue
                if not isinstance(person, dict) or not isinstance(person.get("name"), str):
                    report.add("M004", path, line, f"each '{where}{key}' entry needs 'name:' (a text).")
                    continue
                for k in person:
                    if k not in PERSON_KEYS and k != "__duplicates__":
                        report.add("M005", path, line_of(person, k),
                                   f"unknown key '{k}' for a person; known: {', '.join(sorted(PERSON_KEYS))}.")
                role = person.get("role")
                if role is not None and not (isinstance(role, str) and MARC_ROLE.match(role)):
                    report.add("M004", path, line_of(person, "role"),
                               f"role '{role}' is not a MARC relator code (aut, edt, trl, ill …).")
        if spec.kind == "contents":
            _validate_contents(value, path, report, where + key)


def _real_date(value: str) -> bool:
    """YYYY, YYYY-MM or YYYY-MM-DD that names a day of the calendar (not 2026-13-45)."""
    parts = [int(x) for x in value.split("-")] + [1, 1]
    try:
        _dt.date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "pc": 25.4 / 6, "px": 25.4 / 96}
PAGE_SIZES_MM = {"A3": (297, 420), "A4": (210, 297), "A5": (148, 210), "A6": (105, 148), "B4": (250, 353),
                 "B5": (176, 250), "B6": (125, 176), "JIS-B4": (257, 364), "JIS-B5": (182, 257),
                 "JIS-B6": (128, 182), "letter": (215.9, 279.4), "legal": (215.9, 355.6)}
#: the print page matbaa lays out: a page from 50 mm to 1 m a side, type from
#: 5 to 36 pt, and a text block of at least 30 mm by 40 mm inside the margins
PAGE_LIMITS = {"side": (50.0, 1000.0), "font": (5.0, 36.0), "block": (30.0, 40.0)}


def _mm(length: str) -> float | None:
    m = re.match(r"^(\d+(?:\.\d+)?)(mm|cm|in|pt|pc|px)$", length.strip())
    return float(m.group(1)) * MM[m.group(2)] if m else None


def _validate_page(settings: dict, path: Path, report: Report) -> None:
    """The print settings together: a page, type size and margins that WeasyPrint
    can lay a book out on (M004 at the line of the setting that is out of range)."""
    def given(key: str) -> str | None:
        v = settings.get(key)
        return v if isinstance(v, str) and (PAGE_SIZE if key == "page-size" else LENGTH).match(v) else None

    where = {k: line_of(settings, k) for k in PRINT_DEFAULTS}
    size = given("page-size") or (PRINT_DEFAULTS["page-size"] if settings.get("page-size") is None else None)
    if size is not None:
        if size in PAGE_SIZES_MM:
            width, height = PAGE_SIZES_MM[size]
        else:
            width, height = (_mm(x) for x in size.split())
        low, high = PAGE_LIMITS["side"]
        if not (low <= width <= high and low <= height <= high):
            report.add("M004", path, where["page-size"], f"'print.page-size': {size} is not a page matbaa can lay "
                                                         f"out; each side from {low:g} mm to {high:g} mm.")
            return
    font = given("font-size")
    if font is not None:
        low, high = PAGE_LIMITS["font"]
        pt = _mm(font) / MM["pt"]
        if not low <= pt <= high:
            report.add("M004", path, where["font-size"], f"'print.font-size': {font} is not a type size for a book; "
                                                         f"from {low:g}pt to {high:g}pt.")
    if size is None:
        return
    margins = {}
    for key in ("margin-top", "margin-bottom", "margin-inner", "margin-outer"):
        value = given(key) or (PRINT_DEFAULTS[key] if settings.get(key) is None else None)
        if value is None:
            return                  # refused already (not a length)
        margins[key] = _mm(value)
    min_width, min_height = PAGE_LIMITS["block"]
    if width - margins["margin-inner"] - margins["margin-outer"] < min_width:
        key = max(("margin-inner", "margin-outer"), key=lambda k: margins[k])
        report.add("M004", path, where[key] or line_of(settings), f"'print.{key}': the margins leave less than "
                   f"{min_width:g} mm of the page's {width:g} mm width for the text; make them narrower.")
    if height - margins["margin-top"] - margins["margin-bottom"] < min_height:
        key = max(("margin-top", "margin-bottom"), key=lambda k: margins[k])
        report.add("M004", path, where[key] or line_of(settings), f"'print.{key}': the margins leave less than "
                   f"{min_height:g} mm of the page's {height:g} mm height for the text; make them narrower.")


def _validate_contents(value: list, path: Path, report: Report, where: str) -> None:
    """`contents`: each entry a part ({part: title, chapters: [files]}) or one file
    standing alone ({chapter: file}, {preface: file} …, with an optional title:);
    front matter before the body, back matter after it."""
    kinds = ", ".join(CONTENTS_KINDS)
    seen_body = seen_back = False
    for i, entry in enumerate(value):
        line = line_of(value, i)
        found = [k for k in CONTENTS_KINDS if isinstance(entry, dict) and k in entry]
        if not isinstance(entry, dict) or len(found) != 1:
            what = "two kinds: " + " and ".join(found) if len(found) > 1 else "no kind"
            report.add("M004", path, line, f"each '{where}' entry is one division ({what} here): "
                                           f"{{part: title, chapters: [files]}} or {{KIND: file}}, KIND one of {kinds}.")
            continue
        kind = found[0]
        known = ("part", "chapters") if kind == "part" else (kind, "title")
        for k in entry:
            if k not in known and k != "__duplicates__":
                report.add("M005", path, line_of(entry, k),
                           f"unknown key '{k}' in a {kind} entry; known: {', '.join(known)}.")
        if kind == "part":
            if not isinstance(entry.get("part"), str) or not entry["part"].strip():
                report.add("M004", path, line_of(entry, "part", line), "'part:' must be the part's title (a text).")
                continue
            chapters = entry.get("chapters")
            if not isinstance(chapters, list) or not chapters or not all(isinstance(c, str) for c in chapters):
                report.add("M004", path, line_of(entry, "chapters", line),
                           f"part '{entry['part']}' needs 'chapters:', a list of Markdown files.")
        else:
            if not isinstance(entry.get(kind), str) or not entry[kind].strip():
                report.add("M004", path, line_of(entry, kind, line),
                           f"'{kind}:' must be one Markdown file (chapters/x.md), not {_type_word(entry.get(kind))}.")
            if "title" in entry and not (isinstance(entry["title"], str) and entry["title"].strip()):
                report.add("M004", path, line_of(entry, "title", line), f"'title:' of the {kind} must be a text.")
        if kind in CONTENTS_FRONT and (seen_body or seen_back):
            report.add("M004", path, line, f"a {kind} is front matter: put it before the parts and chapters.")
        elif kind in CONTENTS_BACK:
            seen_back = True
        elif kind not in CONTENTS_FRONT:
            if seen_back:
                report.add("M004", path, line, f"a {kind} after the back matter: put the afterword and "
                                               "about-author entries after the last part or chapter.")
            seen_body = True
    if value and not seen_body and all(isinstance(e, dict) for e in value):
        report.add("M004", path, line_of(value), f"'{where}' needs at least one part or chapter (the body of the book).")


def _closest(word: str, schema: dict) -> str | None:
    import difflib

    hits = difflib.get_close_matches(word, list(schema), n=1, cutoff=0.6)
    return hits[0] if hits else None


def validate(data: Any, path: Path, report: Report) -> dict | None:
    if not isinstance(data, dict):
        report.add("M004", path, 1, "book.yaml must be a mapping of keys (title:, author:, …).")
        return None
    _validate_keys(data, SCHEMA, path, report, "")
    return data
