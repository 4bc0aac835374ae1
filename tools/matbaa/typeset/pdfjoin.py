"""Join segment PDFs into one book PDF, as good as if WeasyPrint had laid out the whole book.

The book is laid out in parallel: every segment (a part, a chapter) is a small HTML
document that WeasyPrint lays out in its own process and writes as its own tagged PDF
(``pdf/ua-1``). A PDF holds more than pages, though: named destinations, the outline,
the structure tree and the fonts are written once per document. :func:`join` puts the
pages back together and rebuilds those document-wide parts the way WeasyPrint writes
them for one document:

- the pages, in reading order, with blank pages where the caller asks for them;
- one name tree of destinations; links to another segment made internal links;
- one outline, the segments' outlines one after the other;
- one structure tree, whose Document element holds every segment's elements, with the
  parent tree renumbered;
- the folios (page numbers) drawn over the pages, as artifacts;
- one font program per font file, subset to the glyphs of the whole book.

Everything is copied with pikepdf, which copies an object of a piece once however often
it is reached: a page copied with the pages is the same page when the structure tree or
the outline is copied later.
"""
from __future__ import annotations

import contextlib
import copy
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from matbaa.files import atomic_path
from matbaa.typeset import engine

#: A link to an element of another segment: the caller writes ``<a href="matbaa-dest:ID">``
#: and WeasyPrint, which knows no such element, writes a URI action with that address.
DEST_SCHEME = "matbaa-dest:"

#: Catalog entries that describe the whole document: they are taken from the first piece
#: (every piece is laid out with the same metadata and PDF variant).
DOCUMENT_ENTRIES = (
    "/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata", "/OutputIntents",
    "/PageLayout", "/PageMode")

#: Catalog entries the steps below rebuild from every piece.
REBUILT_ENTRIES = ("/Type", "/Pages", "/Names", "/Outlines", "/StructTreeRoot")

#: What a blank page takes from the page before it.
PAGE_GEOMETRY = (
    "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate", "/UserUnit")

#: Content stream operators that put marks on the page (a folio page without any of
#: them draws nothing and is not overlaid). pikepdf calls an inline image an operator.
PAINTING_OPERATORS = frozenset((
    "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "Tj", "TJ", "'", '"',
    "INLINE IMAGE"))


class JoinError(ValueError):
    """The pieces cannot make one book; `report` holds what was found (see `join`)."""

    def __init__(self, message: str, report: dict):
        super().__init__(message)
        self.report = report


@dataclass
class _Segment:
    """A piece whose pages are in the joined file."""
    number: int              # its place in `pieces`, for messages
    source: pikepdf.Pdf
    pages: list              # its pages in the joined file (page dictionaries)


def join(pieces: list[Path | None], out: Path, folios: Path | None = None,
         fonts_dir: Path | None = None) -> dict:
    """Join the segment PDFs `pieces` into the PDF `out`.

    pieces: the segment PDFs in reading order; None inserts one blank page (with the
    boxes of the page before it). folios: a PDF with as many pages as the result, whose
    page i is drawn over page i (the page numbers). fonts_dir: a folder searched
    recursively for the original .ttf/.otf files of the embedded fonts; without it the
    segments' fonts are left as they are.

    `out` is written atomically. Returns a report: pages, blank_pages, segments,
    destinations, links (rewritten), bookmarks, folios (pages overlaid), fonts (before,
    after, merged, not_found), not_carried (catalog entries of the pieces not carried
    over), missing_targets and duplicate_destinations. A link to a destination no piece
    defines, or a destination defined twice, raises JoinError (a ValueError that
    carries the report) and `out` is not written.
    """
    if not any(piece is not None for piece in pieces):
        raise ValueError("nothing to join: no segment PDF among the pieces")
    report = {
        "pages": 0, "blank_pages": 0, "segments": 0, "destinations": 0, "links": 0,
        "bookmarks": 0, "folios": 0, "fonts": {}, "not_carried": [],
        "missing_targets": [], "duplicate_destinations": []}
    with contextlib.ExitStack() as stack:
        # The pieces stay open until the joined file is saved: pikepdf reads the
        # streams it copied from them only then.
        sources = [None if piece is None else stack.enter_context(pikepdf.open(piece))
                   for piece in pieces]
        pdf = stack.enter_context(pikepdf.new())
        segments = _pages(pdf, sources, report)
        _document(pdf, segments, report)
        names = _destinations(pdf, segments, report)
        _links(pdf, names, report)
        _outline(pdf, segments, report)
        _structure(pdf, segments)
        # Folios before fonts: the folio PDF's fonts (the page numbers are set in the
        # book's fonts) are then merged with the book's.
        if folios is not None:
            _folios(pdf, stack.enter_context(pikepdf.open(folios)), report)
        if fonts_dir is not None:
            _fonts(pdf, Path(fonts_dir), report)
        _save(pdf, Path(out), max(segment.source.pdf_version for segment in segments))
    return report


# Pages


def _pages(pdf, sources, report) -> list[_Segment]:
    """Append every piece's pages, and a blank page for every None."""
    segments = []
    for number, source in enumerate(sources):
        if source is None:
            template = pdf.pages[-1] if len(pdf.pages) else _next_page(sources, number)
            pdf.pages.append(pikepdf.Page(pdf.make_indirect(_blank_page(template))))
            report["blank_pages"] += 1
            continue
        first = len(pdf.pages)
        for page in source.pages:
            # append(), not extend(): pikepdf warns on extend() that it does not carry
            # destinations; the steps below do.
            pdf.pages.append(page)
        pages = [pdf.pages[index].obj for index in range(first, len(pdf.pages))]
        segments.append(_Segment(number, source, pages))
    report["pages"] = len(pdf.pages)
    report["segments"] = len(segments)
    return segments


def _next_page(sources, number):
    """The first page after `number` (a blank page first in the book takes its size)."""
    for source in sources[number + 1:]:
        if source is not None and len(source.pages):
            return source.pages[0]
    raise ValueError("a blank page needs a page before or after it to take its size from")


def _blank_page(template: pikepdf.Page) -> Dictionary:
    """An empty page with the boxes (and rotation) of `template`."""
    page = Dictionary(Type=Name.Page, Resources=Dictionary())
    for key in PAGE_GEOMETRY:
        value = template.mediabox if key == "/MediaBox" else template.obj.get(key)
        if value is not None:
            # Boxes are arrays of numbers: rebuilt, since `template` may belong to a piece.
            page[key] = Array(list(value)) if isinstance(value, Array) else value
    return page


def _document(pdf, segments, report):
    """Document-wide catalog entries and the document information, from the first piece.

    Entries of the pieces that no step carries over (forms, attachments, page labels...)
    are listed in the report rather than silently dropped.
    """
    first = segments[0].source
    for key in DOCUMENT_ENTRIES:
        if key in first.Root:
            pdf.Root[key] = _copy(pdf, first, first.Root[key])
    if "/Info" in first.trailer:
        pdf.trailer.Info = _copy(pdf, first, first.trailer.Info)
    dropped = set()
    for segment in segments:
        root = segment.source.Root
        dropped.update(set(root.keys()) - set(DOCUMENT_ENTRIES) - set(REBUILT_ENTRIES))
        if "/Names" in root:
            dropped.update(f"/Names{key}" for key in root.Names.keys() if key != "/Dests")
    report["not_carried"] = sorted(dropped)


# Destinations and links


def _destinations(pdf, segments, report) -> dict[str, bytes]:
    """One /Names /Dests tree with every segment's named destinations.

    The destinations were copied with the pages they point at, so they point at the
    joined pages. Returns the names, each with the bytes of its key (how links name it).
    """
    trees = [_copy(pdf, segment.source, segment.source.Root.Names.Dests)
             for segment in segments
             if "/Names" in segment.source.Root and "/Dests" in segment.source.Root.Names]
    pairs, duplicates = _merged_name_tree(trees)
    if duplicates:
        report["duplicate_destinations"] = duplicates
        raise JoinError(
            f"destinations defined in more than one segment: {', '.join(duplicates)}", report)
    if pairs:
        pdf.Root.Names = Dictionary(Dests=Dictionary(Names=_flat(pairs)))
    report["destinations"] = len(pairs)
    return {str(key): bytes(key) for key, _ in pairs}


def _links(pdf, names: dict[str, bytes], report):
    """Make every `matbaa-dest:ID` link an internal link, as WeasyPrint writes them.

    WeasyPrint 70 writes an internal link as ``/Dest (ID)``, plus ``/Contents (ID)`` in
    tagged PDF. Named destinations of links already internal are checked too: together
    these are all the targets that must exist.
    """
    missing = set()
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", ()):
            if annotation.get("/Subtype") != Name.Link:
                continue
            destination = annotation.get("/Dest")
            if isinstance(destination, String):
                if str(destination) not in names:
                    missing.add(str(destination))
                continue
            target = _dest_link_target(annotation)
            if target is None:
                continue
            if target not in names:
                missing.add(target)
                continue
            del annotation["/A"]
            annotation.Dest = String(names[target])
            if "/Contents" in annotation:
                annotation.Contents = String(names[target])
            report["links"] += 1
    if missing:
        report["missing_targets"] = sorted(missing)
        raise JoinError(
            f"links to destinations no segment defines: {', '.join(sorted(missing))}", report)


def _dest_link_target(annotation) -> str | None:
    """The ID of a `matbaa-dest:ID` link (WeasyPrint percent-encodes the address)."""
    action = annotation.get("/A")
    if not isinstance(action, Dictionary) or action.get("/S") != Name.URI:
        return None
    uri = str(action.get("/URI", ""))
    return unquote(uri[len(DEST_SCHEME):]) if uri.startswith(DEST_SCHEME) else None


# Outline


def _outline(pdf, segments, report):
    """The segments' outlines one after the other, under one outline root.

    Each segment's items keep their children, titles and destinations (copied with the
    pages, they point at the joined pages); only the top level is relinked.
    """
    root = last = None
    visible = 0
    for segment in segments:
        outlines = segment.source.Root.get("/Outlines")
        if outlines is None or "/First" not in outlines:
            continue
        outlines = _copy(pdf, segment.source, outlines)
        if root is None:
            root = outlines if outlines.is_indirect else pdf.make_indirect(outlines)
            root.First = outlines.First
        else:
            last.Next = outlines.First
            outlines.First.Prev = last
        for item in _siblings(outlines.First):
            item.Parent = root
            # An open item shows its /Count descendants, a closed one (negative) none.
            visible += 1 + max(int(item.get("/Count", 0)), 0)
            report["bookmarks"] += 1 + _descendants(item)
            last = item
    if root is not None:
        root.Last = last
        root.Count = visible
        pdf.Root.Outlines = root


def _siblings(item):
    """`item` and the items after it (/Next)."""
    while item is not None:
        yield item
        item = item.get("/Next")


def _descendants(item) -> int:
    return sum(1 + _descendants(kid) for kid in _siblings(item.get("/First")))


# Structure tree


def _structure(pdf, segments):
    """One structure tree: the first segment's top element (the Document element that
    WeasyPrint writes) holds the top elements' children of every segment, in order.

    Marked content is found through the parent tree, keyed by the pages' /StructParents
    and the annotations' /StructParent: every segment's keys are shifted past the keys
    of the segments before it.
    """
    tagged = [segment for segment in segments if "/StructTreeRoot" in segment.source.Root]
    if not tagged:
        return
    if len(tagged) != len(segments):
        untagged = [str(s.number) for s in segments if "/StructTreeRoot" not in s.source.Root]
        raise ValueError(
            f"pieces {', '.join(untagged)} are not tagged PDF while others are")
    document_lang = segments[0].source.Root.get("/Lang")
    tree = document = None
    children, numbers, maps, id_trees = Array(), [], {"/RoleMap": {}, "/ClassMap": {}}, []
    next_key = 0
    for segment in segments:
        root = _copy(pdf, segment.source, segment.source.Root.StructTreeRoot)
        top = _top_element(root, segment, document)
        if tree is None:
            tree, document = root, top
        lang = segment.source.Root.get("/Lang")
        if lang is not None:
            lang = _copy(pdf, segment.source, lang)
        for kid in _kids(top):
            if not _is_struct_element(kid):
                raise ValueError(
                    f"piece {segment.number}: marked content directly in the top structure "
                    "element is not supported")
            kid.P = document
            # The catalog's language is the first piece's: a piece in another language
            # says so on its elements.
            if lang is not None and lang != document_lang and "/Lang" not in kid:
                kid.Lang = lang
            children.append(kid)
        pairs = list(_tree_pairs(root.ParentTree, "/Nums")) if "/ParentTree" in root else []
        numbers.extend((key + next_key, value) for key, value in pairs)
        _shift_struct_parents(segment.pages, next_key)
        next_key += max(
            [int(root.get("/ParentTreeNextKey", 0))] + [key + 1 for key, _ in pairs])
        for key, merged in maps.items():
            _merge_map(merged, root.get(key), key, segment)
        if "/IDTree" in root:
            id_trees.append(root.IDTree)
    document.K = children
    tree.K = Array([document])
    tree.ParentTree = Dictionary(Nums=_flat(sorted(numbers, key=lambda pair: pair[0])))
    tree.ParentTreeNextKey = next_key
    for key, merged in maps.items():
        if merged:
            tree[key] = Dictionary({name: merged[name] for name in sorted(merged)})
    if id_trees:
        pairs, duplicates = _merged_name_tree(id_trees)
        if duplicates:
            raise ValueError(f"structure element IDs used twice: {', '.join(duplicates)}")
        tree.IDTree = Dictionary(Names=_flat(pairs))
    pdf.Root.StructTreeRoot = tree


def _top_element(root, segment, document):
    """The one top element of a segment's structure tree, of the same type as the first
    segment's (WeasyPrint writes one Document element)."""
    kids = _kids(root)
    if len(kids) != 1 or not _is_struct_element(kids[0]):
        raise ValueError(
            f"piece {segment.number}: the structure tree has {len(kids)} top elements, "
            "not one Document element")
    if document is not None and kids[0].get("/S") != document.get("/S"):
        raise ValueError(
            f"piece {segment.number}: top structure element {kids[0].get('/S')}, "
            f"not {document.get('/S')} as in the first piece")
    return kids[0]


def _kids(element) -> list:
    """An element's /K as a list (a single kid may stand without an array)."""
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _is_struct_element(obj) -> bool:
    # /Type is optional on structure elements; marked-content and object references
    # (/MCR, /OBJR) have no /S.
    return isinstance(obj, Dictionary) and "/S" in obj


def _shift_struct_parents(pages, shift: int):
    """Renumber the parent tree keys of pages, their annotations and their forms."""
    if not shift:
        return
    for obj in _drawing_objects(pages):
        if "/StructParents" in obj:
            obj.StructParents = int(obj.StructParents) + shift
        for annotation in obj.get("/Annots", ()):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + shift


def _merge_map(merged: dict, mapping, key, segment):
    """Add a segment's /RoleMap or /ClassMap; one name may not mean two things."""
    if mapping is None:
        return
    for name in sorted(mapping.keys()):
        value = mapping[name]
        if name in merged and _unparse(merged[name]) != _unparse(value):
            raise ValueError(f"piece {segment.number}: {key} {name} differs from another piece's")
        merged.setdefault(name, value)


def _unparse(value) -> bytes:
    if isinstance(value, pikepdf.Object):
        return value.unparse(resolved=True)
    return repr(value).encode()


# Folios


def _folios(pdf, folios: pikepdf.Pdf, report):
    """Draw page i of `folios` over page i, as a pagination artifact.

    The folio page becomes a form XObject drawn in the default coordinates, so it lands
    where it is on its own page. It is marked as an artifact, outside the structure
    tree, so the pages' /StructParents are left as they are.  The folio PDF may
    end early: the pieces after it print their own folios (segments.py: the
    glossary, laid out once its first page is known).
    """
    if len(folios.pages) > len(pdf.pages):
        raise ValueError(
            f"the folio PDF has {len(folios.pages)} pages, the joined book only {len(pdf.pages)}")
    shared_streams = {}
    for page, folio in zip(pdf.pages, folios.pages):
        instructions = pikepdf.parse_content_stream(folio)
        if not any(_paints(instruction) for instruction in instructions):
            continue
        form = _folio_form(pdf, folios, folio, instructions)
        name = _add_xobject(pdf, page, form)
        # Shared: every page draws its folio with the same two small streams. `q`/`Q`
        # around the page's own content restore the default coordinates it may change.
        before = _shared_stream(pdf, shared_streams, b"q\n")
        after = _shared_stream(
            pdf, shared_streams,
            b"Q\n/Artifact <</Type /Pagination>> BDC\n" + name.encode() + b" Do\nEMC\n")
        page.contents_add(before, prepend=True)
        page.contents_add(after)
        report["folios"] += 1


def _paints(instruction) -> bool:
    return str(instruction.operator) in PAINTING_OPERATORS


def _folio_form(pdf, folios, folio: pikepdf.Page, instructions) -> pikepdf.Stream:
    """The folio page as a form XObject of the joined file."""
    form = pikepdf.Stream(pdf, pikepdf.unparse_content_stream(_unmarked(instructions)))
    form.Type = Name.XObject
    form.Subtype = Name.Form
    form.BBox = Array(list(folio.mediabox))
    if "/Resources" in folio.obj:
        form.Resources = _copy(pdf, folios, folio.obj.Resources)
    return form


def _unmarked(instructions) -> list:
    """The instructions without marked content that claims a place in a structure tree
    (/MCID): inside the folio artifact it would belong to no structure element."""
    kept, dropped = [], []   # `dropped`: for each open marked-content sequence, is it dropped
    for instruction in instructions:
        operator = str(instruction.operator)
        if operator in ("BMC", "BDC"):
            operands = instruction.operands
            drop = (operator == "BDC" and isinstance(operands[1], Dictionary)
                    and "/MCID" in operands[1])
            dropped.append(drop)
            if drop:
                continue
        elif operator == "EMC" and dropped and dropped.pop():
            continue
        kept.append(instruction)
    return kept


def _add_xobject(pdf, page: pikepdf.Page, xobject) -> str:
    """Add `xobject` to the resources of `page` alone; return its resource name.

    WeasyPrint gives all the pages of a document one /Resources dictionary: the page
    gets its own, a shallow copy sharing every entry but /XObject. Direct entries are
    made indirect first, so that the copies share them rather than repeat them.
    """
    shared = page.obj.get("/Resources", Dictionary())
    resources = Dictionary()
    for key in sorted(shared.keys()):
        value = shared[key]
        if isinstance(value, (Dictionary, Array)) and not value.is_indirect:
            value = shared[key] = pdf.make_indirect(value)
        resources[key] = value
    xobjects = Dictionary()
    old = resources.get("/XObject", Dictionary())
    for key in sorted(old.keys()):
        xobjects[key] = old[key]
    name, number = "/Folio", 0
    while name in xobjects:
        number += 1
        name = f"/Folio{number}"
    xobjects[name] = xobject
    resources.XObject = xobjects
    page.obj.Resources = resources
    return name


def _shared_stream(pdf, streams: dict, data: bytes) -> pikepdf.Stream:
    if data not in streams:
        streams[data] = pikepdf.Stream(pdf, data)
    return streams[data]


# Fonts


@dataclass
class _EmbeddedFont:
    """A Type0 font that WeasyPrint embedded in a segment (or in the folios)."""
    font: Dictionary           # the Type0 font dictionary
    descendant: Dictionary     # its CIDFont
    file_key: str              # /FontFile2 (TrueType) or /FontFile3 (OpenType CFF)
    data: bytes                # the embedded font program
    postscript_name: str
    identity: tuple            # what identifies its original file (see _font_identity)
    hinting: bool              # whether WeasyPrint kept the hinting
    widths: dict               # glyph id -> width, from /W
    text: dict                 # glyph id -> text, from /ToUnicode
    encoded: bool              # has an /Encoding CMap: some characters were not in the font

    @property
    def descriptor(self) -> Dictionary:
        return self.descendant.FontDescriptor


@dataclass
class _Face:
    """Embedded fonts that one font program, subset to all their glyphs, can replace."""
    original: Path
    glyph_count: int           # glyphs of the original; ids from there on are missing ones
    members: list = field(default_factory=list)
    widths: dict = field(default_factory=dict)
    text: dict = field(default_factory=dict)

    def accepts(self, font: _EmbeddedFont) -> bool:
        """Whether `font` agrees with the members on what its glyphs are.

        A glyph of the original font is the same glyph in every segment, but a character
        missing from the font gets the next free id *in its segment*: the same id may
        stand for two characters in two segments, and then the fonts cannot be one.
        """
        return not (
            any(self.widths.get(glyph, width) != width
                for glyph, width in font.widths.items())
            or any(self.text.get(glyph, text) != text
                   for glyph, text in font.text.items() if glyph >= self.glyph_count))

    def add(self, font: _EmbeddedFont):
        self.members.append(font)
        for glyph, width in font.widths.items():
            self.widths.setdefault(glyph, width)
        # The first text wins, as in one document where a glyph gets the text it has the
        # first time it is drawn (a space and a no-break space may share a glyph).
        for glyph, text in font.text.items():
            self.text.setdefault(glyph, text)


def _fonts(pdf, fonts_dir: Path, report):
    """Replace the segments' subsets of each font file by one subset of all their glyphs.

    WeasyPrint subsets a font keeping the original glyph ids, so the content streams of
    every segment stay valid with a font that has the glyphs of all the segments: it is
    made from the original file with WeasyPrint's own subsetting routine (through the
    engine: engine.subset_font), and its widths and ToUnicode map are the union of the
    segments'.
    """
    # The same before and after the replacement: walked once.
    resources = list(_resources([page.obj for page in pdf.pages]))
    before = _font_programs(resources)
    embedded = _embedded_fonts(resources)
    originals = _original_fonts(fonts_dir) if embedded else {}
    faces, not_found = _faces(embedded, originals)
    replacement = {}
    cache = {}
    for face in faces:
        if len(face.members) < 2:
            continue   # nothing to share: the segment's own subset stays
        if face.original not in cache:
            cache[face.original] = face.original.read_bytes()
        merged = _merged_font(pdf, face, cache[face.original])
        for member in face.members:
            replacement[member.font.objgen] = merged
    for fonts in _font_dictionaries(resources):
        for name in sorted(fonts.keys()):
            font = fonts[name]
            if font.is_indirect and font.objgen in replacement:
                fonts[name] = replacement[font.objgen]
    report["fonts"] = {
        "before": len(before), "after": len(_font_programs(resources)),
        "merged": sorted({face.members[0].postscript_name
                          for face in faces if len(face.members) > 1}),
        "not_found": sorted(not_found)}


def _font_dictionaries(resources) -> list[Dictionary]:
    return [r.Font for r in resources if isinstance(r.get("/Font"), Dictionary)]


def _embedded_fonts(resources) -> list[_EmbeddedFont]:
    """The embedded Type0 fonts, each once, in the order the pages first use them."""
    found, seen = [], set()
    for fonts in _font_dictionaries(resources):
        for name in sorted(fonts.keys()):
            font = fonts[name]
            if not font.is_indirect or font.objgen in seen:
                continue
            seen.add(font.objgen)
            embedded = _read_embedded_font(font)
            if embedded is not None:
                found.append(embedded)
    return found


def _read_embedded_font(font) -> _EmbeddedFont | None:
    """What WeasyPrint wrote for a font, or None for a font this step does not handle
    (not Type0, not embedded, not readable)."""
    from fontTools.ttLib import TTFont

    if font.get("/Subtype") != Name.Type0 or "/DescendantFonts" not in font:
        return None
    descendant = font.DescendantFonts[0]
    descriptor = descendant.get("/FontDescriptor")
    file_key = next((key for key in ("/FontFile2", "/FontFile3")
                     if descriptor is not None and key in descriptor), None)
    if file_key is None or "/ToUnicode" not in font:
        return None
    data = descriptor[file_key].read_bytes()
    try:
        program = TTFont(io.BytesIO(data), lazy=True)
        identity = _font_identity(program)
    except Exception:   # fontTools raises many kinds of errors on broken fonts
        return None
    if identity is None:
        return None
    return _EmbeddedFont(
        font=font, descendant=descendant, file_key=file_key, data=data,
        postscript_name=identity[0], identity=identity,
        # WeasyPrint drops the TrueType hinting tables unless asked to keep them.
        hinting=any(tag in program for tag in ("fpgm", "prep", "cvt ")),
        widths=_read_widths(descendant.get("/W", Array())),
        text=read_to_unicode(font.ToUnicode.read_bytes()),
        encoded=isinstance(font.get("/Encoding"), pikepdf.Stream))


def _font_identity(font) -> tuple | None:
    """What identifies a font file: its PostScript name and its version and dates.

    HarfBuzz keeps the name table's first names and the head table in a subset, so a
    subset and its original agree on these. (The BaseFont name cannot serve: WeasyPrint
    builds it from the CSS family and style, as in ``ABCDEF+Vollkorn-Bold-Italic``.)
    """
    name = font["name"].getDebugName(6)
    if not name:
        return None
    head = font["head"]
    return (name, head.unitsPerEm, head.fontRevision, head.created, head.modified)


def _original_fonts(fonts_dir: Path) -> dict[tuple, Path]:
    """The .ttf and .otf files under `fonts_dir`, by identity.

    Only fonts that WeasyPrint embeds by subsetting alone: variable fonts (instanced for
    each use), colour and bitmap fonts (transformed) are left out, and the segments'
    copies of them stay as they are.
    """
    from fontTools.ttLib import TTFont, TTLibError

    transformed = ("fvar", "CBDT", "CBLC", "sbix", "SVG ", "COLR", "EBDT")
    originals = {}
    paths = (p for p in fonts_dir.rglob("*") if p.suffix.lower() in (".ttf", ".otf"))
    for path in sorted(paths, key=lambda p: p.as_posix()):
        try:
            font = TTFont(path, lazy=True)
            identity = _font_identity(font)
        except (TTLibError, OSError, KeyError):
            continue
        if identity is not None and not any(tag in font for tag in transformed):
            originals.setdefault(identity, path)   # the first in path order
    return originals


def _faces(embedded, originals) -> tuple[list[_Face], set[str]]:
    """Group the embedded fonts by original file, in the order they are first used."""
    faces, not_found = [], set()
    for font in embedded:
        original = originals.get(font.identity)
        if original is None:
            not_found.add(font.postscript_name)
            continue
        # A font embedded whole (WeasyPrint does so for PDF forms) is not a subset.
        if len(font.data) == original.stat().st_size and font.data == original.read_bytes():
            continue
        for face in faces:
            if (face.original == original and face.members[0].hinting == font.hinting
                    and face.members[0].file_key == font.file_key and face.accepts(font)):
                face.add(font)
                break
        else:
            face = _Face(original, _glyph_count(original))
            face.add(font)
            faces.append(face)
    return faces, not_found


def _glyph_count(path: Path) -> int:
    from fontTools.ttLib import TTFont

    return TTFont(path, lazy=True)["maxp"].numGlyphs


def _merged_font(pdf, face: _Face, original: bytes) -> Dictionary:
    """One Type0 font for all the members of `face`: the first member's dictionaries,
    with the subset of all the glyphs, the union of the widths and of the text."""
    first = face.members[0]
    encoded = [member for member in face.members if member.encoded]
    program = engine.subset_font(original, face.text, first.hinting, missing=bool(encoded))

    font_file = pikepdf.Stream(pdf, program)
    old_file = first.descriptor[first.file_key]
    for key in sorted(old_file.keys()):
        if key not in ("/Length", "/Filter", "/DecodeParms", "/Length1"):
            font_file[key] = old_file[key]
    if first.file_key == "/FontFile2":
        font_file.Length1 = len(program)

    # As WeasyPrint: the box is as wide as the widest glyph, fixed pitch if all glyphs
    # have one width, the CID set (PDF 1.4 and older) lists the glyphs.
    descriptor = copy.copy(first.descriptor)
    descriptor[first.file_key] = font_file
    box = list(descriptor.FontBBox)
    box[2] = max(face.widths.values(), default=0)
    descriptor.FontBBox = Array(box)
    fixed = len(face.widths) > 1 and len(set(face.widths.values())) == 1
    descriptor.Flags = (int(descriptor.Flags) & ~1) | int(fixed)
    if "/CIDSet" in descriptor:
        descriptor.CIDSet = pikepdf.Stream(pdf, _cid_set(face.widths))

    descendant = copy.copy(first.descendant)
    descendant.W = _widths_array(face.widths)
    descendant.FontDescriptor = pdf.make_indirect(descriptor)

    font = copy.copy(first.font)
    font.DescendantFonts = Array([pdf.make_indirect(descendant)])
    font.ToUnicode = pikepdf.Stream(pdf, _to_unicode_cmap(face.text))
    if encoded:
        encoding = pikepdf.Stream(pdf, _encoding_cmap(face.text, face.glyph_count))
        old_encoding = encoded[0].font.Encoding
        for key in sorted(old_encoding.keys()):
            if key not in ("/Length", "/Filter", "/DecodeParms"):
                encoding[key] = old_encoding[key]
        font.Encoding = encoding
    return pdf.make_indirect(font)


def _read_widths(widths) -> dict:
    """A CIDFont's /W: ``c [w1 w2 ...]`` and ``c_first c_last w`` runs."""
    result, items, index = {}, list(widths), 0
    while index < len(items):
        start = int(items[index])
        if isinstance(items[index + 1], Array):
            for offset, width in enumerate(items[index + 1]):
                result[start + offset] = width
            index += 2
        else:
            for glyph in range(start, int(items[index + 1]) + 1):
                result[glyph] = items[index + 2]
            index += 3
    return result


def _widths_array(widths: dict) -> Array:
    """/W as WeasyPrint writes it: one ``c [w1 w2 ...]`` run per range of glyph ids."""
    array, run = [], None
    for glyph in sorted(widths):
        if glyph - 1 not in widths:
            run = []
            array.extend((glyph, run))
        run.append(widths[glyph])
    return Array([Array(item) if isinstance(item, list) else item for item in array])


_CMAP_SECTION = re.compile(rb"begin(bfchar|bfrange)(.*?)end\1", re.S)
_CMAP_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|\[|\]")


def read_to_unicode(cmap: bytes) -> dict:
    """A ToUnicode CMap's mappings: glyph id -> text (bfchar and bfrange)."""
    result = {}
    for kind, body in _CMAP_SECTION.findall(cmap):
        tokens = [None if match.group(1) is None else bytes.fromhex(match.group(1).decode())
                  for match in _CMAP_TOKEN.finditer(body)]
        if kind == b"bfchar":
            for code, text in zip(tokens[0::2], tokens[1::2]):
                result[int.from_bytes(code, "big")] = text.decode("utf-16-be")
            continue
        index = 0
        while index < len(tokens):
            low, high = (int.from_bytes(code, "big") for code in tokens[index:index + 2])
            if tokens[index + 2] is None:   # [<text> <text> ...]
                end = tokens.index(None, index + 3)
                for offset, text in enumerate(tokens[index + 3:end]):
                    result[low + offset] = text.decode("utf-16-be")
                index = end + 1
            else:   # one text, its last code unit counting up
                text = tokens[index + 2]
                for offset in range(high - low + 1):
                    last = int.from_bytes(text[-2:], "big") + offset
                    result[low + offset] = (text[:-2] + last.to_bytes(2, "big")).decode(
                        "utf-16-be", "replace")
                index += 3
    return result


def _to_unicode_cmap(text: dict) -> bytes:
    """A ToUnicode CMap, written as WeasyPrint writes it (but in glyph order)."""
    return _cmap(
        (b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
         b"/CIDSystemInfo", b"<< /Registry (Adobe)", b"/Ordering (UCS)", b"/Supplement 0",
         b">> def", b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
         b"1 begincodespacerange", b"<0000> <ffff>", b"endcodespacerange"),
        "bfchar",
        [f"<{glyph:04x}> <{text[glyph].encode('utf-16-be').hex()}>".encode()
         for glyph in sorted(text)])


def _encoding_cmap(text: dict, glyph_count: int) -> bytes:
    """The /Encoding CMap WeasyPrint writes when characters are missing from a font:
    codes of missing characters (ids past the font's glyphs) show .notdef."""
    return _cmap(
        (b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
         b"/CIDSystemInfo", b"3 dict dup begin", b"/Registry (Adobe) def",
         b"/Ordering (Identity) def", b"/Supplement 0 def", b"end def",
         b"/CMapName /WP-Encod-0 def", b"/CMapType 1 def", b"1 begincodespacerange",
         b"<0000> <ffff>", b"endcodespacerange"),
        "cidchar",
        [f"<{glyph:04x}> {0 if glyph >= glyph_count else glyph}".encode()
         for glyph in sorted(text)])


def _cmap(header: tuple, kind: str, entries: list[bytes]) -> bytes:
    """A CMap as WeasyPrint writes one: `header`, then `entries` by sections of 100."""
    lines = list(header)
    for start in range(0, len(entries), 100):
        batch = entries[start:start + 100]
        lines += [f"{len(batch)} begin{kind}".encode(), *batch, f"end{kind}".encode()]
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _cid_set(widths: dict) -> bytes:
    """A CIDSet stream: one bit per glyph id, set for the glyphs used (as WeasyPrint)."""
    cids = sorted(widths)
    bits = ["0"] * (-(-(cids[-1] + 1) // 8) * 8)
    for cid in cids:
        bits[cid] = "1"
    return int("".join(bits), 2).to_bytes(len(bits) // 8, "big")


def _font_programs(resources) -> set:
    """The embedded font programs used with `resources` (their object numbers)."""
    programs = set()
    for fonts in _font_dictionaries(resources):
        for name in sorted(fonts.keys()):
            font = fonts[name]
            for descendant in font.get("/DescendantFonts", Array([font])):
                descriptor = descendant.get("/FontDescriptor")
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if descriptor is not None and key in descriptor:
                        programs.add(descriptor[key].objgen)
    return programs


# Saving


def _save(pdf, out: Path, version: str):
    """Write `out` atomically, reproducibly: same pieces, same bytes.

    The file identifier is computed from the content (deterministic_id) rather than
    from the clock; pikepdf adds no date. The XMP metadata is the first piece's, as it
    is: pikepdf would otherwise rewrite it (fix_metadata_version).
    """
    with atomic_path(out) as tmp:
        pdf.save(
            tmp, min_version=version, deterministic_id=True, compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            fix_metadata_version=False)


# Helpers


def _copy(pdf, source, obj):
    """`obj` of the piece `source`, copied into `pdf` with everything it refers to.

    pikepdf copies indirect objects only; a direct one travels in an indirect array
    that is left behind (unreachable, it is not written).
    """
    if not isinstance(obj, pikepdf.Object):
        return obj   # numbers and booleans come as Python values
    if obj.is_indirect:
        return pdf.copy_foreign(obj)
    return pdf.copy_foreign(source.make_indirect(Array([obj])))[0]


def _tree_pairs(node, key: str):
    """The (key, value) pairs of a name tree (key "/Names") or number tree ("/Nums")."""
    pairs = node.get(key, Array())
    for index in range(0, len(pairs) - 1, 2):
        yield pairs[index], pairs[index + 1]
    for kid in node.get("/Kids", ()):
        yield from _tree_pairs(kid, key)


def _merged_name_tree(trees) -> tuple[list, list[str]]:
    """The pairs of several name trees, sorted; and the names defined twice.

    Keys are sorted by their bytes, as the PDF reference wants (WeasyPrint sorts the
    text, the same order for ASCII names).
    """
    found, duplicates = {}, set()
    for tree in trees:
        for key, value in _tree_pairs(tree, "/Names"):
            if str(key) in found:
                duplicates.add(str(key))
            else:
                found[str(key)] = (String(bytes(key)), value)
    return sorted(found.values(), key=lambda pair: bytes(pair[0])), sorted(duplicates)


def _flat(pairs) -> Array:
    return Array([item for pair in pairs for item in pair])


_DICTIONARIES = (Dictionary, pikepdf.Stream)   # a stream is not a pikepdf Dictionary


def _drawing_objects(pages):
    """The pages and everything drawn with resources of its own from them: annotation
    appearances, form XObjects, tiling patterns, Type 3 fonts; each once, in page order."""
    seen, stack = set(), list(reversed(pages))
    while stack:
        obj = stack.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        yield obj
        stack.extend(reversed(_drawn_from(obj)))


def _drawn_from(obj) -> list:
    drawn = []
    for annotation in obj.get("/Annots", ()):
        appearances = annotation.get("/AP", Dictionary())
        for key in ("/N", "/R", "/D"):
            appearance = appearances.get(key)
            if isinstance(appearance, pikepdf.Stream):
                drawn.append(appearance)
            elif isinstance(appearance, Dictionary):
                drawn.extend(appearance[state] for state in sorted(appearance.keys()))
    resources = obj.get("/Resources")
    if isinstance(resources, Dictionary):
        for kind, subtype in (("/XObject", Name.Form), ("/Pattern", None), ("/Font", Name.Type3)):
            entries = resources.get(kind)
            for name in sorted(entries.keys()) if isinstance(entries, Dictionary) else ():
                entry = entries[name]
                # Tiling patterns are streams, shading patterns dictionaries.
                if isinstance(entry, pikepdf.Stream if subtype is None else _DICTIONARIES) and (
                        subtype is None or entry.get("/Subtype") == subtype):
                    drawn.append(entry)
    return drawn


def _resources(pages):
    """Every /Resources dictionary used to draw the pages, each once."""
    seen = set()
    for obj in _drawing_objects(pages):
        resources = obj.get("/Resources")
        if not isinstance(resources, Dictionary):
            continue
        if resources.is_indirect:
            if resources.objgen in seen:
                continue
            seen.add(resources.objgen)
        yield resources
