"""The document model: what the reader produces and the writers consume.

A Book holds its metadata, Parts, Chapters, Notes and the Glossary.  Chapter
and note bodies are markdown-it token streams; every block token keeps
``map`` (its source lines), and every model object keeps its Location, so any
later step can say ``file:line``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from matbaa.diagnostics import Location


@dataclass
class Note:
    id: str
    location: Location          # where the definition is
    tokens: list[Token]         # block tokens of the note body
    number: int = 0             # set by transforms.notes
    call_id: str = ""           # anchor id of the call in the text
    call_location: Location | None = None
    part_index: int = 0


@dataclass
class TermMark:
    entry_id: str
    anchor: str                 # id of the mark in the text
    text: str
    location: Location
    part_index: int


@dataclass
class GlossaryEntry:
    id: str
    term: dict[str, str]        # language -> headword
    definition: dict[str, str]  # language -> definition
    see: list[str]
    location: Location
    marks: list[TermMark] = field(default_factory=list)


@dataclass
class Heading:
    level: int                  # the Markdown level: 2 for '##'
    id: str                     # Pandoc's: {#id}, or made from the text (transforms.structure)
    text: str                   # plain text, for the contents, the outline and the nav
    location: Location


@dataclass
class Chapter:
    path: Path                  # relative to the manuscript
    location: Location
    tokens: list[Token]
    title: str | None = None    # from a leading '# heading', if any (plain text)
    anchor: str = ""            # the id of its section
    title_id: str = ""          # the id of its title: {#id}, or made from the title (Pandoc's rule)
    title_attrs: dict = field(default_factory=dict)     # {#id .class} written after the title
    headings: list[Heading] = field(default_factory=list)   # its sub-headings, in order


#: The divisions of book.yaml `contents`, with where they stand: front matter,
#: the body (parts, and chapters outside any part), back matter.
FRONT_KINDS = ("dedication", "foreword", "preface")
BODY_KINDS = ("part", "chapter")
BACK_KINDS = ("afterword", "about-author")
KINDS = FRONT_KINDS + BODY_KINDS + BACK_KINDS


@dataclass
class Part:
    """A division of the book: a part with its chapters, or (kind other than
    "part") one chapter standing alone: a chapter outside any part, a dedication,
    a preface, a foreword, an afterword, a note about the author."""
    title: str
    chapters: list[Chapter]
    index: int                  # 1-based
    anchor: str = ""
    location: Location | None = None
    kind: str = "part"          # one of KINDS
    title_id: str = ""          # a division of one file: the id of its title (transforms.structure)

    @property
    def matter(self) -> str:
        """frontmatter, bodymatter or backmatter (EPUB's epub:type of its document)."""
        return ("frontmatter" if self.kind in FRONT_KINDS else
                "backmatter" if self.kind in BACK_KINDS else "bodymatter")


@dataclass
class Book:
    root: Path                  # the manuscript folder
    meta: dict[str, Any]
    parts: list[Part]
    notes: dict[str, Note]
    glossary: list[GlossaryEntry]
    labels: dict[str, str]
    corrections: list[dict] = field(default_factory=list)
    # every id a link can name -> the index of the part it is in (0: the glossary);
    # set by transforms.structure
    ids: dict[str, int] = field(default_factory=dict)
    references: list[dict] = field(default_factory=list)     # the CSL-JSON entries (book.yaml bibliography:)
    bibliography: list[tuple[str, str]] = field(default_factory=list)  # (id, rendered entry) of the cited ones
    # what the book was read from: str(path) -> SHA-256 of the bytes of every
    # manuscript file read (the EPUB writer's caches are keyed by them; empty:
    # a book made otherwise, nothing to key a cache by)
    source_digests: dict[str, str] = field(default_factory=dict)
    styles_dir: Path | None = None      # the styles it was read with (the default CSL style and locales)

    @property
    def id(self) -> str:
        return self.meta["id"]

    @property
    def lang(self) -> str:
        return self.meta["lang"]

    @property
    def chapters(self) -> list[Chapter]:
        return [c for p in self.parts for c in p.chapters]

    def entry(self, entry_id: str) -> GlossaryEntry | None:
        return next((e for e in self.glossary if e.id == entry_id), None)
