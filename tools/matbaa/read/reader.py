"""Reader: manuscript folder -> Book (the document model), collecting every error.

Steps, in order: book.yaml -> labels -> glossary -> chapters (Markdown, with
their notes) -> corrections.  Nothing here raises on a manuscript mistake;
everything goes to the Report and the caller aborts once.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

from markdown_it.token import Token

from matbaa.read import config
from matbaa.read.citations import load_references
from matbaa.diagnostics import Location, Report
from matbaa.read.markdown import MAX_NESTING, TOO_DEEP, make_parser
from matbaa.read.styles import check_stylesheets
from matbaa.model.book import Book, Chapter, GlossaryEntry, Note, Part

NOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:")
NOTE_CALL_TEXT = re.compile(r"\[\^([^\]\s]+)\]")
RAW_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>|<!--")

#: characters XML cannot hold (or should not: DEL), and NUL: never written into
#: a document (F003); tab and newline are text
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
#: at most this many F003 per file (one per line)
MAX_CONTROL_REPORTS = 10


def control_characters(text: str, path: Path, report: Report, first_line: int = 1) -> bool:
    """F003 at the line (and column) of each control character or NUL in `text`
    (one per line, the first MAX_CONTROL_REPORTS lines); True if there was one."""
    found = False
    reported = set()
    for m in CONTROL.finditer(text):
        found = True
        line = first_line + text.count("\n", 0, m.start())
        if line in reported:
            continue
        if len(reported) == MAX_CONTROL_REPORTS:
            break
        reported.add(line)
        column = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        name = "NUL" if m.group(0) == "\0" else f"U+{ord(m.group(0)):04X}"
        report.add("F003", path, line, f"a control character ({name}) at column {column}; delete it (it cannot "
                                       "be printed, and no XML document may hold it).")
    return found


def control_values(data, path: Path, report: Report, line: int | None = None) -> bool:
    """F003 for each text in a YAML or JSON value holding a control character
    (an escape such as "\\x01" in a quoted YAML string), at its key's line; the
    characters are taken out of the values (in place: the build stops at the
    error, and the rest is still checked without errors that follow from it)."""
    found = False
    if isinstance(data, str):
        m = CONTROL.search(data)
        if m:
            name = "NUL" if m.group(0) == "\0" else f"U+{ord(m.group(0)):04X}"
            report.add("F003", path, line, f"the text {CONTROL.sub('', data)[:40]!r} holds a control character "
                                           f"({name}) at column {m.start() + 1} of the value; delete it.")
            return True
    elif isinstance(data, dict):
        for key, value in data.items():
            found |= control_values(key, path, report, config.line_of(data, key, line))
            if control_values(value, path, report, config.line_of(data, key, line)):
                found = True
                if isinstance(value, str):
                    data[key] = CONTROL.sub("", value)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if control_values(value, path, report, config.line_of(data, i, line)):
                found = True
                if isinstance(value, str):
                    data[i] = CONTROL.sub("", value)
    return found


def read_text(path: Path, report: Report, digests: dict[str, str] | None = None) -> str | None:
    """Read a manuscript file as UTF-8; accept (and normalise) a BOM and CRLF.

    `digests`, if given, receives the SHA-256 of the bytes read, under str(path)
    (the book's `source_digests`: what the EPUB writer's caches are keyed by)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.add("M006", path, None, f"cannot read the file ({exc.strerror}); check the name in book.yaml.")
        return None
    if digests is not None:
        digests[str(path)] = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.add("F001", path, line, f"byte {exc.start} is not UTF-8; save the file as UTF-8.")
        return None
    if text.startswith("\ufeff"):
        report.add("F002", path, 1, "byte-order mark removed (accepted); save without BOM to silence this.")
        text = text[1:]
    if "\r" in text:
        report.add("F002", path, 1, "CRLF line endings read as LF (accepted).")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if control_characters(text, path, report):
        text = CONTROL.sub("", text)        # reported (the build stops); the rest is still read
    return unicodedata.normalize("NFC", text)


def manuscript_path(root: Path, rel: str) -> Path | None:
    """`root`/`rel` if it lies inside the manuscript folder once resolved
    (`..`, an absolute path, symbolic links followed), else None.  Nothing is
    opened."""
    try:
        path = Path(root) / rel
        inside = path.resolve().is_relative_to(Path(root).resolve())
    except (OSError, ValueError, RuntimeError):   # a NUL in the name, a symlink loop
        return None
    return path if inside else None


def _named_file(root: Path, rel: str, report: Report, meta_path: Path, line: int | None,
                message: str) -> Path | None:
    """The gate of every file book.yaml names (at `line`): its path, or None
    with M008 (outside the manuscript folder) or M006 (no such file) reported.
    No other code opens a path named in the manuscript."""
    path = manuscript_path(root, rel)
    if path is None:
        report.add("M008", meta_path, line, f"'{rel}' lies outside the manuscript folder {root} (a '..', an "
                                            "absolute path or a symbolic link leading out of it); copy the "
                                            "file into the manuscript and name it from there.")
        return None
    if path.is_file():
        return path
    report.add("M006", meta_path, line, message)
    return None


def read_labels(styles: Path, lang: str, meta_path: Path, report: Report,
                line: int | None = None, names_for: list[str] = ()) -> dict[str, str]:
    """The labels of the book's language: every key of the English table is
    required (M007 names the missing ones), and a name for every language of
    the glossary (`language_names`)."""
    path = styles / "labels.yaml"
    table = config.safe_load(path.read_text(encoding="utf-8"))
    primary = lang.split("-")[0].lower()
    if primary not in table:
        report.add("M007", meta_path, line,
                   f"no labels for language '{lang}' in {path}; add a '{primary}:' table with the keys "
                   f"of 'en:' translated ({', '.join(table['en'])}); existing: {', '.join(table)}.")
        return dict(table["en"])
    labels = dict(table[primary])
    missing = [k for k in table["en"] if k not in labels]
    if missing:
        report.add("M007", meta_path, line,
                   f"labels for '{primary}' in {path} lack {', '.join(missing)}; add them to its '{primary}:' table.")
    names = dict(labels.get("language_names") or {})
    unnamed = [lg for lg in names_for if lg.split("-")[0].lower() not in names]
    if unnamed:
        report.add("M007", meta_path, line,
                   f"labels for '{primary}' in {path} have no language_names for {', '.join(unnamed)}; "
                   f"add them (e.g. language_names: {{{unnamed[0]}: …}}).")
    for lg in names_for:                      # a full tag (fr-CA) is named as its language
        names.setdefault(lg, names.get(lg.split("-")[0].lower(), lg))
    return {**table["en"], **labels, "language_names": names}


def read_glossary(path: Path, languages: list[str], report: Report,
                  digests: dict[str, str] | None = None) -> list[GlossaryEntry]:
    text = read_text(path, report, digests)
    if text is None:
        return []
    errors_before = len(report.errors)
    data = config.load_yaml(text, path, report, "G001")
    control_values(data, path, report)
    if data is None:
        if len(report.errors) == errors_before:
            report.add("G001", path, 1, "the glossary file is empty; write its entries ('- id: …').")
        return []
    if not isinstance(data, list):
        report.add("G001", path, 1, "the glossary must be a YAML list of entries ('- id: …').")
        return []
    entries: list[GlossaryEntry] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(data):
        line = config.line_of(data, i)
        if not isinstance(item, dict):
            report.add("G001", path, line, "each glossary entry must be a mapping (id, term, definition).")
            continue
        problems = []
        eid = item.get("id")
        if not isinstance(eid, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", eid):
            problems.append("'id:' (letters, digits, - or _)")
        term, definition = item.get("term"), item.get("definition")
        for key, value in (("term", term), ("definition", definition)):
            missing = [lg for lg in languages if not (isinstance(value, dict) and isinstance(value.get(lg), str)
                                                      and value.get(lg).strip())]
            if missing:
                problems.append(f"'{key}:' in {', '.join(missing)}")
        see = item.get("see") or []
        if not isinstance(see, list):
            problems.append("'see:' as a list of ids")
        unknown = set(item) - {"id", "term", "definition", "see"}
        if unknown:
            problems.append(f"no unknown keys ({', '.join(sorted(map(str, unknown)))}; known: id, term, definition, see)")
        if problems:
            report.add("G002", path, line, f"entry {eid or '#' + str(i + 1)} needs " + "; ".join(problems) + ".")
            continue
        if eid in seen:
            report.add("G003", path, line, f"id '{eid}' is already used by the entry at line {seen[eid]}; rename one.")
            continue
        seen[eid] = line
        entries.append(GlossaryEntry(
            id=eid,
            term={lg: " ".join(term[lg].split()) for lg in languages},
            definition={lg: " ".join(definition[lg].split()) for lg in languages},
            see=[str(s) for s in see],
            location=Location(path, line),
        ))
    ids = {e.id for e in entries}
    for e in entries:
        for s in e.see:
            if s not in ids:
                report.add("G004", path, e.location.line, f"entry '{e.id}' has see: '{s}', which is no entry id.")
    return entries


def _child_lines(inline: Token) -> list[int]:
    """The 0-based source line of each child of an inline token."""
    line = inline.map[0] if inline.map else 0
    out = []
    for child in inline.children or []:
        out.append(line)
        if child.type in ("softbreak", "hardbreak"):
            line += 1
    return out


def read_chapter(root: Path, rel: str, part_index: int, md, report: Report,
                 notes: dict[str, Note], digests: dict[str, str] | None = None,
                 line: int | None = None) -> Chapter | None:
    path = _named_file(root, rel, report, root / "book.yaml", line,
                       f"chapter '{rel}' does not exist in {root}; fix its name under 'contents:'.")
    if path is None:
        return None
    text = read_text(path, report, digests)
    if text is None:
        return None
    lines = text.split("\n")

    # Note definitions, found by line so that duplicates and unused ones can be located.
    defined: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        m = NOTE_DEF.match(line)
        if m:
            label = m.group(1)
            if label in defined:
                report.add("N002", path, n, f"note '{label}' is already defined at line {defined[label]}; "
                                            "give one of them another id.")
            else:
                defined[label] = n

    env: dict = {}
    tokens = md.parse(text, env)
    if not any(t.type != "footnote_block_open" for t in tokens) or not text.strip():
        report.add("D003", path, 1, "the chapter is empty; write its text or remove it from 'contents:'.")

    # Split the footnote block (bodies) from the running text.
    body: list[Token] = []
    bodies: dict[str, list[Token]] = {}
    current: str | None = None
    in_block = False
    for tok in tokens:
        if tok.type == "footnote_block_open":
            in_block = True
        elif tok.type == "footnote_block_close":
            in_block = False
        elif tok.type == "footnote_open":
            current = tok.meta.get("label")   # None for an inline note ^[…] (refused below)
            if current is not None:
                bodies[current] = []
        elif tok.type == "footnote_close":
            current = None
        elif in_block:
            if current is not None and current in bodies and tok.type != "footnote_anchor":
                if tok.type == "inline" and tok.children:
                    tok.children = [c for c in tok.children if c.type != "footnote_anchor"]
                bodies[current].append(tok)
        else:
            body.append(tok)

    called: dict[str, int] = {}
    for i, tok in enumerate(body):
        if tok.type == "heading_open" and i + 1 < len(body) and body[i + 1].children:
            _heading_keys(body[i + 1], path, report)
    for tok in body + [t for b in bodies.values() for t in b]:
        line = tok.map[0] + 1 if tok.map else None
        if tok.type == "figure_open":     # an image alone in a paragraph (mdext/blocks.py)
            _allowed_attrs(tok.meta["image"], path, line, report)
            src = str(tok.meta["image"].attrs.get("src") or "")
            problem = _outside(root, path, src)
            if problem:
                report.add("D002", path, line, f"image to '{src}' {problem}; only files inside the manuscript "
                                               "can be used.")
            _check_image(root, path, tok.meta["image"], line, report, digests)
        elif tok.type == "div_open" and tok.meta.get("dropped"):
            report.add("D009", path, line, f"fenced div attribute{'s' if len(tok.meta['dropped']) > 1 else ''} "
                                           f"{', '.join(tok.meta['dropped'])} left out: a div takes classes (not "
                                           "matbaa's own), an id and lang=; see docs/manuscript.md.")
        if tok.type != "inline" or not tok.children:
            continue
        _event_handlers(tok, path, report)
        for child, line0 in zip(tok.children, _child_lines(tok)):
            _allowed_attrs(child, path, line0 + 1, report)
            if child.type == "footnote_ref":
                label = child.meta.get("label")
                if label is None:
                    report.add("N005", path, line0 + 1, "an inline note ^[…] has no id; write a call [^id] and "
                                                       "a definition '[^id]: …' after the paragraph.")
                    continue
                if label in called:
                    report.add("N004", path, line0 + 1, f"note '{label}' is already called at line {called[label]}; "
                                                       "a note is called once: write a second note.")
                else:
                    called[label] = line0 + 1
                child.meta["location"] = Location(path, line0 + 1)
            elif child.type == "text":
                for m in NOTE_CALL_TEXT.finditer(child.content):
                    report.add("N001", path, line0 + 1, f"note '[^{m.group(1)}]' is called but not defined; "
                                                       f"add a line '[^{m.group(1)}]: …' after the paragraph.")
                if RAW_HTML.search(child.content):
                    report.add("D001", path, line0 + 1, "raw HTML is not passed through and will print as text; "
                                                       "use Markdown instead.")
            elif child.type in ("link_open", "image"):
                target = child.attrs.get("href") if child.type == "link_open" else child.attrs.get("src")
                problem = _outside(root, path, str(target or ""))
                if problem:
                    report.add("D002", path, line0 + 1, f"{child.type.replace('_open', '')} to '{target}' {problem}; "
                                                       "only files inside the manuscript can be used.")
                elif child.type == "image":
                    _check_image(root, path, child, line0 + 1, report, digests)
                child.meta["location"] = Location(path, line0 + 1)
    for label, line in defined.items():
        if label not in called:
            report.add("N003", path, line, f"note '{label}' is defined but never called; call it with [^{label}] "
                                           "or delete it.")

    for label, toks in bodies.items():
        if label in notes:
            report.add("N002", path, defined.get(label), f"note id '{label}' is also used in "
                                                         f"{notes[label].location}; note ids are unique in a book.")
            continue
        notes[label] = Note(id=label, location=Location(path, defined.get(label)), tokens=toks,
                            call_location=Location(path, called.get(label)), part_index=part_index)

    title, attrs = None, {}
    if len(body) >= 3 and body[0].type == "heading_open" and body[0].tag == "h1":
        title, attrs = _title(body[1], path, report)
        body = body[3:]
    return Chapter(path=Path(rel), location=Location(path, 1), tokens=body, title=title, title_attrs=attrs)


HEADING_ATTRS = re.compile(r"\s*\{([^{}]*)\}\s*$")


def heading_attrs(inline: Token) -> dict:
    """Pandoc's attributes after a heading, `## Text {#id .class}`: taken off its
    last text child; returns {"id": …, "class": …} (what was given)."""
    children = inline.children or []
    if not children or children[-1].type != "text":
        return {}
    m = HEADING_ATTRS.search(children[-1].content)
    if not m or not all(re.match(r"^([#.][\w:.-]+|[\w-]+=\S*|-)$", w) for w in m.group(1).split()):
        return {}
    children[-1].content = children[-1].content[:m.start()]
    out: dict = {}
    for w in m.group(1).split():
        if w.startswith("#"):
            out["id"] = w[1:]
        elif w.startswith("."):
            out.setdefault("class", []).append(w[1:])
        elif w == "-":
            out.setdefault("class", []).append("unnumbered")
    if "class" in out:
        out["class"] = " ".join(out["class"])
    return out


def plain_text(children) -> str:
    """The text of inline tokens without their markup (for titles, the contents, the outline)."""
    out = []
    for c in children or []:
        if c.type in ("text", "code_inline"):
            out.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif c.type == "image":
            out.append(plain_text(c.children))
    return " ".join("".join(out).split())


def _title(inline: Token, path: Path, report: Report) -> tuple[str, dict]:
    """A chapter's title, as plain text, and its {#id} attributes.  A glossary mark
    or a note call cannot stand in it: the title is also the running head, the
    contents line and the outline entry (D007)."""
    attrs = heading_attrs(inline)
    line = (inline.map[0] + 1) if inline.map else 1
    for c in inline.children or []:
        if c.type == "span_open" and ("term" in c.attrs or "term" in (c.attrs.get("class") or "").split()):
            report.add("D007", path, line, "a glossary mark in the chapter's title: the title is also the "
                                           "running head and the contents line; mark the term in the text.")
        elif c.type == "footnote_ref":
            report.add("D007", path, line, "a note call in the chapter's title: put the call in the text, "
                                           "after the first sentence.")
    return plain_text(inline.children), attrs



IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png", ".png"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
               (b"GIF87a", "image/gif", ".gif"), (b"GIF89a", "image/gif", ".gif"))


def _check_image(root: Path, chapter: Path, image: Token, line: int | None, report: Report,
                 digests: dict[str, str] | None) -> None:
    """An image needs alt text (its caption: what a reader who cannot see it is
    told) and a PNG, JPEG or GIF file inside the manuscript.  Sets meta "media"
    (the name both editions give the file: its digest and type), "type" and "path"."""
    alt = image.attrs.get("fig-alt") or "".join(c.content for c in image.children or [] if c.type in (
        "text", "code_inline")).strip()
    src = str(image.attrs.get("src") or "")
    if not alt:
        report.add("D008", chapter, line, f"image '{src}' has no alt text; describe it between the brackets: "
                                          "![what it shows](…) (alone in a paragraph, that is its caption).")
    if _outside(root, chapter, src):
        return                          # D002, reported by the caller
    target = (chapter.parent / unquote(src.split("#")[0])).resolve()
    shown = target.relative_to(root.resolve()) if target.is_relative_to(root.resolve()) else target
    if not src or not target.is_file():
        report.add("D004", chapter, line, f"image '{src}' not found ({shown} does not exist); an image's path is "
                                          "relative to its chapter's file.")
        return
    data = target.read_bytes()
    kind = next(((mime, ext) for magic, mime, ext in IMAGE_TYPES if data.startswith(magic)), None)
    if kind is None:
        report.add("D004", chapter, line, f"image '{src}' is not a PNG, JPEG or GIF file; save it as one of these.")
        return
    digest = hashlib.sha256(data).hexdigest()
    if digests is not None:
        digests[str(target)] = digest
    image.meta.update(media=digest[:16] + kind[1], type=kind[0], path=str(target))


def _outside(root: Path, chapter: Path, target: str) -> str | None:
    """Why a link's or an image's target may not be used, or None.  The path is
    judged as it will be opened: percent-decoded (`%2e%2e` is `..`), resolved,
    symbolic links followed; nothing is opened."""
    if target.startswith("#"):
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith("//"):
        return "goes to the network or to an absolute location"
    decoded = unquote(target.split("#")[0])
    if target.startswith("/") or decoded.startswith(("/", "\\")):
        return "is an absolute path"
    try:
        resolved = (chapter.parent / decoded).resolve()
    except (OSError, ValueError, RuntimeError):       # a NUL in the name, a symlink loop
        return "cannot be a file's name"
    if not resolved.is_relative_to(root.resolve()):
        return "points outside the manuscript"
    return None


#: The attributes a manuscript may give each kind of inline element (Pandoc's
#: `{#id .class key=value}`, docs/manuscript.md); markdown-it's own (a link's
#: href and title, an image's src, alt and title) are kept.  Everything else is
#: left out with D010: never a style, an event handler or data-*.
ALLOWED_ATTRS = {
    "span_open": {"id", "class", "lang", "term"},
    "code_inline": {"id"},
    "link_open": {"href", "title", "id"},
    "image": {"src", "alt", "title", "id", "fig-alt"},
}


#: an attribute block after a span, a link, an image or code, and an event
#: handler in it (mdit_py_plugins' attrs drops these before the reader sees
#: the tokens: said here, D010)
_ATTR_BLOCK = re.compile(r"[\]`)]\{([^{}]*)\}")
_HANDLER = re.compile(r"(?:^|\s)(on[A-Za-z]+)\s*=", re.I)


def _event_handlers(inline: Token, path: Path, report: Report) -> None:
    first = inline.map[0] + 1 if inline.map else None
    for block in _ATTR_BLOCK.finditer(inline.content):
        names = _HANDLER.findall(block.group(1))
        if names:
            line = first + inline.content.count("\n", 0, block.start()) if first else None
            report.add("D010", path, line, f"event handler{'s' if len(names) > 1 else ''} "
                                           f"{', '.join(repr(n) for n in names)} left out: a manuscript cannot "
                                           "run code in the book.")


def _heading_keys(inline: Token, path: Path, report: Report) -> None:
    """A heading takes an id, classes and `-` (heading_attrs); a key=value is left out (D010)."""
    children = inline.children or []
    if not children or children[-1].type != "text":
        return
    m = HEADING_ATTRS.search(children[-1].content)
    words = m.group(1).split() if m else []
    if not all(re.match(r"^([#.][\w:.-]+|[\w-]+=\S*|-)$", w) for w in words):
        return
    keys = [w.split("=")[0] for w in words if "=" in w and not w.startswith(("#", "."))]
    if keys:
        report.add("D010", path, inline.map[0] + 1 if inline.map else None,
                   f"attribute{'s' if len(keys) > 1 else ''} {', '.join(repr(k) for k in keys)} left out: a "
                   "heading takes an id, classes and - (see docs/manuscript.md).")


ELEMENT_NAMES = {"span_open": "a span", "code_inline": "inline code", "link_open": "a link", "image": "an image"}


def _allowed_attrs(tok: Token, path: Path, line: int, report: Report) -> None:
    if not tok.attrs:
        return
    allowed = ALLOWED_ATTRS.get(tok.type, set())
    dropped = [k for k in tok.attrs if k not in allowed]
    if not dropped:
        return
    for k in dropped:
        del tok.attrs[k]
    shown = ", ".join(repr(k) for k in dropped)
    report.add("D010", path, line, f"attribute{'s' if len(dropped) > 1 else ''} {shown} left out: "
                                   f"{ELEMENT_NAMES.get(tok.type, tok.type)} takes "
                                   f"{', '.join(sorted(allowed - {'href', 'src', 'alt', 'title'})) or 'none'} "
                                   "(see docs/manuscript.md).")


def read_book(root: Path, styles: Path, report: Report) -> Book | None:
    meta_path = root / "book.yaml"
    if not meta_path.is_file():
        report.add("M001", meta_path, None, f"no book.yaml in '{root}'; is MANUSCRIPT= the manuscript folder?")
        return None
    digests: dict[str, str] = {}
    text = read_text(meta_path, report, digests)
    if text is None:
        return None
    errors_before = len(report.errors)
    data = config.load_yaml(text, meta_path, report, "M002")
    if data is None:
        if len(report.errors) == errors_before:
            report.add("M004", meta_path, 1, "book.yaml is empty; write the book's metadata (see docs/manuscript.md).")
        return None
    control_values(data, meta_path, report)
    meta = config.validate(data, meta_path, report)
    if meta is None or report.errors:
        return None
    meta.pop("__duplicates__", None)

    gloss = meta.get("glossary")
    labels = read_labels(styles, meta["lang"], meta_path, report, config.line_of(meta, "lang"),
                         list(gloss["languages"]) if gloss else [])
    glossary = []
    if gloss:
        gpath = _named_file(root, gloss["file"], report, meta_path, config.line_of(gloss, "file"),
                            f"glossary file '{gloss['file']}' does not exist in {root}.")
        if gpath is not None:
            glossary = read_glossary(gpath, gloss["languages"], report, digests)

    md = make_parser()
    notes: dict[str, Note] = {}
    parts: list[Part] = []
    contents = meta["contents"]
    for i, spec in enumerate(contents, 1):
        kind = next(k for k in config.CONTENTS_KINDS if k in spec)
        chapters = []
        items = spec["chapters"] if kind == "part" else [spec[kind]]
        for j, rel in enumerate(items):
            line = config.line_of(spec["chapters"], j) if kind == "part" else config.line_of(spec, kind)
            ch = read_chapter(root, rel, i, md, report, notes, digests, line)
            if ch is not None:
                chapters.append(ch)
        if kind == "part":
            title = spec["part"]
        else:
            # a division of one file: titled by book.yaml, else by its '# title', else by its kind
            title = spec.get("title") or (chapters[0].title if chapters else None) or labels.get(
                kind.replace("-", "_")) or kind
            if chapters and chapters[0].title == title:
                chapters[0].title = None            # printed once, as the division's title
        parts.append(Part(title=title, chapters=chapters, index=i, kind=kind,
                          location=Location(meta_path, config.line_of(contents, i - 1))))

    corrections: list[dict] = []
    if meta.get("corrections"):
        cpath = _named_file(root, meta["corrections"], report, meta_path, config.line_of(meta, "corrections"),
                            f"corrections file '{meta['corrections']}' does not exist.")
        if cpath is not None:
            ctext = read_text(cpath, report, digests)
            cdata = config.load_yaml(ctext, cpath, report, "C001") if ctext is not None else None
            control_values(cdata, cpath, report)
            if cdata is not None and not isinstance(cdata, list):
                report.add("C001", cpath, 1, "corrections must be a YAML list of {file, kind, before, after, reason}.")
            elif cdata:
                for j, c in enumerate(cdata):
                    if not (isinstance(c, dict) and {"kind", "before", "after", "reason"} <= set(c)):
                        report.add("C001", cpath, config.line_of(cdata, j),
                                   "each correction needs kind, before, after and reason.")
                    else:
                        corrections.append(dict(c))
    references: list[dict] = []
    if meta.get("bibliography"):
        bpath = _named_file(root, meta["bibliography"], report, meta_path, config.line_of(meta, "bibliography"),
                            f"bibliography file '{meta['bibliography']}' does not exist in {root}.")
        if bpath is not None:
            btext = read_text(bpath, report, digests)
            if btext is not None:
                references = load_references(bpath, btext, report)
                for entry in references:
                    control_values(entry, bpath, report, entry["_line"])
    if meta.get("csl"):
        csl = _named_file(root, meta["csl"], report, meta_path, config.line_of(meta, "csl"),
                          f"CSL style '{meta['csl']}' does not exist in {root}.")
        if csl is not None:
            read_text(csl, report, digests)      # its digest keys the EPUB's caches
    if meta.get("source", {}).get("file"):
        _named_file(root, meta["source"]["file"], report, meta_path, config.line_of(meta["source"], "file"),
                    f"source file '{meta['source']['file']}' does not exist.")
    for j, rel in enumerate((meta.get("source") or {}).get("files") or []):
        _named_file(root, rel, report, meta_path, config.line_of(meta["source"]["files"], j),
                    f"source file '{rel}' does not exist; fix its name under 'source: files:'.")

    # source_digests: what the book was read from, every manuscript file read
    # (the EPUB writer keys its caches by them); styles_dir: the default CSL
    # style and locales (transforms/citations.py)
    book = Book(root=root, meta=meta, parts=parts, notes=notes, glossary=glossary,
                labels=labels, corrections=corrections, references=references,
                source_digests=digests, styles_dir=Path(styles))
    nesting_errors(book, report)
    check_stylesheets(Path(styles), report)
    return book


def nesting_errors(book: Book, report: Report) -> None:
    """D011 for each block nested deeper than the parser keeps (read/markdown.py
    MAX_NESTING): its text would be lost, so the chapter is refused."""
    places = [(c.location.file, c.tokens) for c in book.chapters]
    places += [(n.location.file, n.tokens) for n in book.notes.values()]
    for file, tokens in places:
        for tok in tokens:
            if TOO_DEEP in tok.meta:
                report.add("D011", file, tok.meta[TOO_DEEP] + 1,
                           f"lists and quotations are nested deeper than matbaa keeps (a list level counts 2, "
                           f"a quotation 1, at most {MAX_NESTING} in all: lists 10 deep inside quotations 10 "
                           "deep fit); nest less, or make the inner levels paragraphs.")

