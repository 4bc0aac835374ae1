"""The proof's checks.  Each returns a list of Findings; none changes anything."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from matbaa.proof.collate import WORD, collate_words, head_words, normal, words
from matbaa.language import TURKIC, primary, sort_key
from matbaa.transforms.typography import rules_for
from matbaa.model import PageMap
from matbaa.model.words import element_text
from matbaa.proof.catalogue import Finding
from matbaa.proof.layout import PLine
from matbaa.typeset.hyphenation import legal_breaks
from matbaa.typeset.pagemap import HYPHEN_CHARS

# ------------------------------------------------------------------ typography (source)

UNITS = {1: "bir", 2: "iki", 3: "üç", 4: "dörd", 5: "beş", 6: "altı", 7: "yeddi", 8: "səkkiz", 9: "doqquz"}
TENS = {1: "on", 2: "iyirmi", 3: "otuz", 4: "qırx", 5: "əlli", 6: "altmış", 7: "yetmiş", 8: "səksən", 9: "doxsan"}
BACK, FRONT = set("aıou"), set("eəiöü")


def number_word(n: int) -> str:
    """The last number word of n, which decides the suffix's vowel."""
    if n == 0:
        return "sıfır"
    if n % 10:
        return UNITS[n % 10]
    if n % 100:
        return TENS[(n // 10) % 10]
    if n % 1000:
        return "yüz"
    if n % 1_000_000:
        return "min"
    return "milyon"


def expected_suffix(n: int, suffix: str) -> str | None:
    """The vowel-harmonic form of an ordinal (-ci) or locative/ablative (-da, -dan) suffix."""
    word = number_word(n)
    last = [c for c in word if c in BACK | FRONT][-1]
    if suffix in ("ci", "cı", "cu", "cü"):
        return {"a": "cı", "ı": "cı", "o": "cu", "u": "cu", "e": "ci", "ə": "ci", "i": "ci",
                "ö": "cü", "ü": "cü"}[last]
    if suffix in ("da", "də", "ta", "tə"):
        return "da" if last in BACK else "də"
    if suffix in ("dan", "dən", "tan", "tən"):
        return "dan" if last in BACK else "dən"
    return None


NUM_SUFFIX = re.compile(r"(?<![\w.,])(?:\d{1,9}[–-])?(\d{1,9})-(ci|cı|cu|cü|da|də|dan|dən)\b")  # a range agrees with its last number
ROMAN = re.compile(r"^(?=[IVXLCDM]+$)M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
LOOKALIKE = re.compile(r"[\u0400-\u04FF\u0370-\u03FF]")
LATIN = re.compile(r"[A-Za-zÇçƏəĞğİıÖöŞşÜü]")


def _paragraphs(lines: list[str]):
    """(first line number, [(line number, text)]) for each blank-line separated block."""
    block: list[tuple[int, str]] = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            block.append((n, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


FENCE = re.compile(r"^\s*(```+|~~~+)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def _prose_lines(lines: list[str]) -> list[str]:
    """The lines with code left out: fenced blocks emptied, code spans blanked
    (a command's hyphens, spacing and names are not the book's typography)."""
    out, fence = [], None
    for line in lines:
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            out.append("")
        elif fence is not None:
            if line.strip().startswith(fence):
                fence = None
            out.append("")
        else:
            out.append(CODE_SPAN.sub(lambda c: "#" * len(c.group(0)), line))
    return out


# a span in another language, [text]{lang=xx}, over several lines and around one level of brackets
OTHER_LANG = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\{lang=\"?([A-Za-z-]+)\"?\}", re.S)


def _book_language_lines(lines: list[str], lang: str) -> list[str]:
    """The lines with text in another language blanked (its spelling and spacing are its own)."""
    text = "\n".join(lines)
    blank = lambda m: m.group(0) if primary(m.group(2)) == primary(lang) else re.sub(r"[^\n]", "#", m.group(0))
    return OTHER_LANG.sub(blank, text).split("\n")


def _list_markers(book, chapter) -> dict[int, list[str]]:
    """line number -> the ordered-list markers that open items on it, as the
    parser read it (mdext/fancy_lists.py: token.info, "(iv)", "b)", "ii."), in the
    chapter's text and its notes.  T010 reads the source lines, where a marker
    stands before the item's words: its letters (i, ii, iii ...) are no words."""
    path = book.root / chapter.path
    streams = [chapter.tokens] + [n.tokens for n in book.notes.values()
                                  if n.location.file is not None and Path(n.location.file) == path]
    out: dict[int, list[str]] = defaultdict(list)     # "a) (i) x": two items open on one line
    for tokens in streams:
        for tok in tokens:
            if tok.type == "list_item_open" and tok.info and tok.map:
                out[tok.map[0] + 1].append(tok.info)
    return out


def typography(book) -> list[Finding]:
    out: list[Finding] = []
    rules = rules_for(book.lang)
    quotes = rules.quotes
    foreign = [q for q in ("«", "»", "„") if q not in quotes]
    spaced = "".join(sorted(set(",.;:!?") - set(rules.before)))   # the language sets a space before the others
    turkic = primary(book.lang) in TURKIC
    forms: dict[str, Counter] = defaultdict(Counter)
    first_seen: dict[str, tuple[str, int]] = {}
    for chapter in book.chapters:
        path = book.root / chapter.path
        raw = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff").replace("\r\n", "\n")
        lines = raw.split("\n")
        prose = _prose_lines(lines)
        own = _book_language_lines(prose, book.lang)
        rel = str(chapter.path)
        markers = _list_markers(book, chapter)
        for block in _paragraphs(prose):
            text = " ".join(t for _, t in block)
            opened, closed = text.count(quotes[0]), text.count(quotes[1])
            if opened != closed:
                out.append(Finding("T001", f"{opened} {quotes[0]} against {closed} {quotes[1]} in this paragraph; "
                                           "close the quotation or remove the stray mark", rel, block[0][0]))
        for n, (line, body, mine) in enumerate(zip(lines, prose, own), 1):
            if unicodedata.normalize("NFC", line) != line:
                out.append(Finding("T009", "decomposed letters (not NFC); retype them or normalise the file", rel, n))
            body = body.lstrip()
            if re.match(r"\|\s*[-:]*\s*\|", body) or re.match(r"\|?\s*:?-{3,}", body):
                continue                          # a pipe table's rule line
            for q in foreign:
                if q in body:
                    out.append(Finding("T002", f"'{q}' in a book that uses {quotes[0]}…{quotes[1]}", rel, n))
            if re.search(r"\S - \S", body):
                out.append(Finding("T003", "spaced hyphen ' - ': write a spaced en dash ' – '", rel, n))
            # a range, not a name's number (FIPS 151-2, ISO-8859-1)
            for m in re.finditer(r"(?<![\w.,–-])(?<![A-Z] )(\d{1,4})-(\d{1,4})(?![\w.,]*\d)", body):
                out.append(Finding("T004", f"'{m.group(0)}': a range takes an en dash ({m.group(1)}–{m.group(2)})",
                                   rel, n))
            # two spaces after a sentence are a typist's habit that the build removes, not a fault
            if re.search(r"[^\s.!?:]  +\S", body) and not body.startswith("|"):
                out.append(Finding("T005", "doubled space", rel, n))
            if spaced:
                for m in re.finditer(rf"(?<=\w) +([{re.escape(spaced)}])(?![\w\[])", mine):   # not an image's ![
                    out.append(Finding("T006", f"space before '{m.group(1)}'", rel, n))
            if turkic:
                for m in NUM_SUFFIX.finditer(body):
                    number, suffix = int(m.group(1)), m.group(2)
                    want = expected_suffix(number, suffix)
                    if want and want != suffix:
                        out.append(Finding("T007", f"'{m.group(0)}': {number} takes -{want} "
                                                   f"(vowel harmony with '{number_word(number)}')", rel, n))
            for w in re.findall(r"[^\W\d_]+", body):
                if LOOKALIKE.search(w) and LATIN.search(w):
                    bad = "".join(sorted(set(LOOKALIKE.findall(w))))
                    out.append(Finding("T008", f"'{w}' mixes scripts: {bad!r} "
                                               f"({', '.join(unicodedata.name(c) for c in bad)})", rel, n))
            for marker in markers.get(n, ()):     # an item's marker, not a word (i, ii, iv …)
                mine = mine.replace(marker, " " * len(marker), 1)
            for w in WORD.findall(re.sub(r"\[\^[^\]]*\]|\{[^}]*\}|\]\([^)]*\)", " ", mine)):
                if not any(c.isdigit() for c in w) and not ROMAN.match(w) and not w.isupper():
                    forms[_variant_key(w, turkic)][w] += 1
                    first_seen.setdefault(w, (rel, n))
    out += spelling_variants(forms, first_seen, turkic)
    return out


def _variant_key(word: str, turkic: bool = True) -> str:
    """Words that differ only by a doubled letter (ümumilli / ümummilli) fall
    together, and in a Turkic language also by i/ı/İ/I."""
    w = word.lower()
    if turkic:
        w = word.replace("İ", "I").replace("i", "ı").lower().replace("i̇", "ı").replace("i", "ı")
    return re.sub(r"(.)\1+", r"\1", w)


def spelling_variants(forms, first_seen, turkic: bool = True) -> list[Finding]:
    out = []
    for key, counter in forms.items():
        spellings = {w for w in counter}
        # differences of capitalisation alone (Vətən / vətən) are not variants; outside the
        # Turkic languages short words are not either (to / too, met / meet are two words)
        if not turkic:
            spellings = {w for w in spellings if len(w) >= 6}
        by_shape = {}
        for w in spellings:
            by_shape.setdefault(w[0].isupper(), set()).add(w)
        for group in by_shape.values():
            if len(group) < 2:
                continue
            common = max(group, key=lambda w: (counter[w], w))
            for w in sorted(group - {common}):
                if w.lower() == common.lower():         # GNU / Gnu: capitals, not spelling
                    continue
                rel, n = first_seen[w]
                out.append(Finding("T010", f"'{w}' ({counter[w]}×) beside '{common}' ({counter[common]}×)", rel, n))
    return out


# ------------------------------------------------------------------ apparatus

def apparatus(book) -> list[Finding]:
    out = []
    if book.glossary:
        lang = book.meta["glossary"]["languages"][0]
        for prev, entry in zip(book.glossary, book.glossary[1:]):
            if sort_key(entry.term[lang], lang) < sort_key(prev.term[lang], lang):
                out.append(Finding("A001", f"'{entry.term[lang]}' comes after '{prev.term[lang]}' in the file but "
                                           "before it alphabetically (the book sorts them; the file is harder to edit)",
                                   str(entry.location.file.relative_to(book.root)), entry.location.line))
                break
    return out


# ------------------------------------------------------------------ layout

def legal_breaks_for(lang: str):
    """The breaks a language allows in a word: Azerbaijani by its syllables
    (hyphenation.legal_breaks, independent of the patterns the layout uses),
    any other language by pyphen's dictionary for it (soft-ware, pro-gram)."""
    if primary(lang) == "az":
        return legal_breaks
    import pyphen

    try:
        dic = pyphen.Pyphen(lang=lang)
    except KeyError:
        return None                               # no dictionary: nothing to check against

    return lambda word: set(dic.positions(word))


def layout(book, lines: list[PLine], pagemap: PageMap, page_count: int) -> list[Finding]:
    rules: dict = {}

    def legal_breaks(line):
        """The legal breaks for the language of the line's text (the book's, or a span's)."""
        lang = line.lang or book.lang
        if lang not in rules:
            rules[lang] = legal_breaks_for(lang)
        return rules[lang]

    out = []
    body = [l for l in lines if l.kind in ("body", "heading", "other")]

    def src(line):
        if line.src and ":" in line.src:
            f, n = line.src.rsplit(":", 1)
            return f, int(n)
        return None, None

    # widows and orphans: a paragraph's lines on each page
    by_block: dict[int, list[PLine]] = defaultdict(list)
    for l in body:
        if l.kind == "body":
            by_block[l.block].append(l)
    for block in by_block.values():
        pages = [l.page for l in block]
        if len(set(pages)) < 2 or len(block) < 2:
            continue
        if pages.count(pages[-1]) == 1:
            out.append(Finding("L001", "the paragraph's last line stands alone at the top of the page",
                               *src(block[-1]), block[-1].page, block[-1].n))
        if pages.count(pages[0]) == 1:
            out.append(Finding("L002", "the paragraph's first line stands alone at the foot of the page",
                               *src(block[0]), block[0].page, block[0].n))
    # a line inside a paragraph that holds a single word or fragment
    for block in by_block.values():
        for l in block[:-1]:
            if len(l.text.split()) <= 1:
                out.append(Finding("L011", f"a line with nothing but '{l.text.strip()}' inside a paragraph",
                                   *src(l), l.page, l.n))
    # hyphenation: runs, page ends, legality
    run = 0
    chapter_lines = [l for l in body if l.in_chapter]
    for i, l in enumerate(chapter_lines):
        run = run + 1 if l.hyphenated else 0
        if run == 3:
            out.append(Finding("L003", "a third hyphenated line in a row", *src(l), l.page, l.n))
        nxt = chapter_lines[i + 1] if i + 1 < len(chapter_lines) else None
        if l.hyphenated and nxt is not None:
            if nxt.page != l.page:
                out.append(Finding("L004", "a word is hyphenated across the page turn", *src(l), l.page, l.n))
            head = re.findall(r"\w+$", l.text.rstrip()[:-1])
            tail = re.findall(r"^\w+", nxt.text.lstrip())
            breaks = legal_breaks(l)
            if head and tail and breaks is not None:
                word = head[0] + tail[0]
                if len(head[0]) not in breaks(word):
                    out.append(Finding("L010", f"'{head[0]}-{tail[0]}' is not a legal break of '{word}'",
                                       *src(l), l.page, l.n))
    # headings at a page foot
    for i, l in enumerate(body):
        if l.kind == "heading":
            rest = [m for m in body[i + 1:] if m.page == l.page]
            if not rest and i + 1 < len(body):
                out.append(Finding("L006", f"heading '{l.text.strip()}' ends the page", *src(l), l.page, l.n))
    # overflowing lines
    for l in lines:
        if l.overflow > 0.5:
            out.append(Finding("L007", f"the line runs {l.overflow * 0.75:.1f} pt into the margin", *src(l), l.page, l.n))
    # notes off their page
    for note_id, call, page in pagemap.misplaced:
        note = book.notes.get(note_id)
        out.append(Finding("L005", f"note {note.number if note else note_id}: called on page {call}, "
                                   f"printed on page {page or '— (lost)'}",
                           str(note.location.file.relative_to(book.root)) if note else None,
                           note.location.line if note else None, call))
    # a nearly empty last page
    last = [l for l in lines if l.page == page_count]
    if 0 < len(last) < 4:
        out.append(Finding("L009", f"the last page holds {len(last)} line(s)", *src(last[0]), page_count, 1))
    return out


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def shipped_fonts(styles: Path) -> tuple[str, ...]:
    """The families the book ships in styles/fonts (Vollkorn, DejaVu Sans Mono), as
    squashed names: every glyph of the PDF must come from one of them."""
    stems = {_squash(f.stem.split("-")[0]) for f in (Path(styles) / "fonts").rglob("*") if f.suffix.lower() in (".ttf", ".otf")}
    return tuple(sorted(stems)) or ("vollkorn",)


def fonts(pdf_path: Path, lines: list[PLine], allowed: tuple[str, ...] = ("vollkorn",)) -> list[Finding]:
    import pdfplumber

    out = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            bad = [c for c in page.chars if not any(a in _squash(c["fontname"]) for a in allowed)]
            seen = set()
            for c in bad:
                y = c["top"] / 0.75
                line = min((l for l in lines if l.page == page.page_number), key=lambda l: abs(l.y - y), default=None)
                key = (c["fontname"], line.n if line else None)
                if key in seen:
                    continue
                seen.add(key)
                out.append(Finding("L008", f"'{c['text']}' drawn with {c['fontname'].split('+')[-1]}",
                                   None, None, page.page_number, line.n if line else None))
    return out


# ------------------------------------------------------------------ collation of the outputs

def generated_pattern(labels: dict) -> re.Pattern | None:
    """What the build prints that no manuscript holds: a cross-reference's page
    ("(p. 82)", CSS generated content, labels: xref_page)."""
    label = (labels or {}).get("xref_page")
    if not label or "{page}" not in label:
        return None
    head, tail = label.split("{page}", 1)
    esc = lambda t: r"\s*".join(re.escape(part) for part in re.split(r"[\s\u00a0]+", t))
    return re.compile(r"\s*" + esc(head) + r"\s*\d+\s*" + esc(tail))


def pdf_words(pdf_path: Path, lines: list[PLine], labels: dict | None = None) -> list[tuple[str, PLine]]:
    """The running text read back from the PDF: for each chapter line of the
    layout, the characters the PDF draws there (note calls and cross-references'
    page numbers left out), lines joined with hyphenation undone."""
    import pdfplumber

    chapter = [l for l in lines if l.in_chapter]
    text, owners = "", []
    with pdfplumber.open(pdf_path) as pdf:
        by_page = defaultdict(list)
        for l in chapter:
            by_page[l.page].append(l)
        # the running text's size, over the book (a page may hold more of a table's or a
        # caption's smaller text than of it)
        sizes = Counter(round(c["size"], 1) for number in by_page for c in pdf.pages[number - 1].chars)
        body_size = sizes.most_common(1)[0][0] if sizes else 10
        for number in sorted(by_page):
            page = pdf.pages[number - 1]
            # note calls (65 %) are not text; tables, captions and quotations (about 80 %) are;
            # code is small too, but in its mono face
            page = page.filter(lambda o: o.get("object_type") != "char" or o["size"] > body_size * 0.72
                               or "mono" in o["fontname"].lower())
            for l in by_page[number]:
                top, bottom = l.y * 0.75, (l.y + l.height) * 0.75
                # the line's own box: a table's cells share their row's height
                left, right = (l.x * 0.75 - 1, (l.x + l.width) * 0.75 + 2) if l.width else (-1e9, 1e9)
                band = page.filter(lambda o, a=top, b=bottom, x0=left, x1=right: o.get("object_type") != "char"
                                   or (a <= (o["top"] + o["bottom"]) / 2 < b and x0 <= (o["x0"] + o["x1"]) / 2 < x1))
                t = (band.extract_text(x_tolerance=1.5) or "").replace("\n", " ").replace("\u2060", "").strip()
                if text.endswith(HYPHEN_CHARS):
                    text = text[:-1]
                elif text and not text.endswith("-"):
                    text += " "
                owners.append((len(text), l))
                text += t
    starts = [o for o, _ in owners]
    import bisect

    generated = generated_pattern(labels or {})
    if generated is not None:                   # blanked, so that the owners' offsets hold
        text = generated.sub(lambda m: " " * len(m.group(0)), text)
    text = normal(text)
    out = []
    for m in WORD.finditer(text):
        i = max(0, bisect.bisect_right(starts, m.start()) - 1)
        out.append((m.group(0), owners[i][1] if owners else None))
    return out


def epub_words(epub_path: Path) -> list[str]:
    import zipfile

    from lxml import etree

    ns = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    out = []
    with zipfile.ZipFile(epub_path) as z:
        names = sorted((n for n in z.namelist() if re.search(r"part-\d+\.xhtml$", n)),
                       key=lambda n: int(re.search(r"part-(\d+)", n).group(1)))
        for name in names:
            root = etree.fromstring(z.read(name), parser)
            # in reading order: the title of a division of one file (a chapter outside any
            # part, a preface…), and every chapter, its title read like its text
            for el in root.xpath("//*[contains(concat(' ', @class, ' '), ' division ')]"
                                 "/*[contains(concat(' ', @class, ' '), ' part-title ')]"
                                 " | //*[contains(concat(' ', @class, ' '), ' chapter ')]", namespaces=ns):
                if "chapter" not in (el.get("class") or "").split():
                    out += words("".join(el.itertext()))
                    continue
                for title in el.xpath(".//*[contains(concat(' ', @class, ' '), ' chapter-title ')]")[:1]:
                    out += words("".join(title.itertext()))
                out += words(element_text(el))       # the running text, as words.py reads it
    return out


def collation(book, source_text: str, pdf_read, epub_read: list[str] | None) -> list[Finding]:
    out = []
    head = head_words(book)
    for code, edition, what in (("P001", pdf_read, "PDF"), ("P002", [(w, None) for w in epub_read or []], "EPUB")):
        if code == "P002" and epub_read is None:
            continue
        diffs = collate_words(book, source_text, [(w, None) for w in head] + list(edition))
        for d in diffs:
            line = d.where
            f, n = (line.src.rsplit(":", 1) if line is not None and line.src else (None, None))
            if d.explained_by is not None:
                if code == "P001":
                    out.append(Finding("P003", f"{d.op}: «{' '.join(d.source)}» → «{' '.join(d.edition)}»: "
                                               f"{' '.join(str(d.explained_by.get('reason', '')).split())[:160]}",
                                       f, int(n) if n else None, line.page if line else None, line.n if line else None))
                continue
            what_happened = {"delete": "missing", "insert": "added", "replace": "changed"}[d.op]
            out.append(Finding(code, f"{what}: {what_happened}: source «{' '.join(d.source)}» "
                                     f"{what} «{' '.join(d.edition)}»",
                               f, int(n) if n else None, line.page if line else None, line.n if line else None))
    return out


def place(findings: list[Finding], lines: list[PLine]) -> None:
    """Give a page and line to findings that only have a manuscript file:line:
    the first printed line of the paragraph (or note) that holds that line."""
    starts: dict[str, list[tuple[int, PLine]]] = defaultdict(list)
    for l in lines:
        if l.src and ":" in l.src:
            f, n = l.src.rsplit(":", 1)
            if not any(n2 == int(n) for n2, _ in starts[f]):
                starts[f].append((int(n), l))
    for f in starts.values():
        f.sort(key=lambda p: p[0])
    for finding in findings:
        if finding.page or not finding.file or not finding.line:
            continue
        candidates = [l for n, l in starts.get(finding.file, []) if n <= finding.line]
        if candidates:
            finding.page, finding.page_line = candidates[-1].page, candidates[-1].n
