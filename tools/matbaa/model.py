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

from .diagnostics import Location


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
class Chapter:
    path: Path                  # relative to the manuscript
    location: Location
    tokens: list[Token]
    title: str | None = None    # from a leading '# heading', if any
    anchor: str = ""


@dataclass
class Part:
    title: str
    chapters: list[Chapter]
    index: int                  # 1-based
    anchor: str = ""
    location: Location | None = None


@dataclass
class Book:
    root: Path                  # the manuscript folder
    meta: dict[str, Any]
    parts: list[Part]
    notes: dict[str, Note]
    glossary: list[GlossaryEntry]
    labels: dict[str, str]
    corrections: list[dict] = field(default_factory=list)
    references: list[dict] = field(default_factory=list)     # the CSL-JSON entries (book.yaml bibliography:)
    bibliography: list[tuple[str, str]] = field(default_factory=list)  # (id, rendered entry) of the cited ones

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
