"""The proof report's findings: one catalogue of stable codes (like `se lint`).

Manuscript diagnostics (M…, N…, G…, D…, F…) keep their own codes from
diagnostics.CATALOGUE; the proof adds these.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from matbaa.diagnostics import CATALOGUE as MANUSCRIPT

ERROR, WARNING, INFO = "error", "warning", "info"

CATALOGUE: dict[str, tuple[str, str, str]] = {
    # code: (category, severity, meaning)
    "P001": ("collation", ERROR, "the PDF's text differs from the source"),
    "P002": ("collation", ERROR, "the EPUB's text differs from the source"),
    "P003": ("collation", INFO, "a documented editorial correction"),
    "T001": ("typography", ERROR, "unbalanced quotation marks in a paragraph"),
    "T002": ("typography", WARNING, "quotation marks of another style than the book's"),
    "T003": ("typography", ERROR, "a spaced hyphen used as a dash"),
    "T004": ("typography", WARNING, "a hyphen in a numeric range (en dash wanted)"),
    "T005": ("typography", WARNING, "doubled space"),
    "T006": ("typography", WARNING, "space before punctuation"),
    "T007": ("typography", ERROR, "a numeral suffix that breaks vowel harmony"),
    "T008": ("typography", ERROR, "a letter from another script (lookalike)"),
    "T009": ("typography", ERROR, "text not in Unicode NFC"),
    "T010": ("typography", WARNING, "one word spelled two ways in the book"),
    "A001": ("apparatus", WARNING, "glossary file not in alphabetical order"),
    "L001": ("layout", WARNING, "widow: a paragraph's last line alone at the top of a page"),
    "L002": ("layout", WARNING, "orphan: a paragraph's first line alone at the foot of a page"),
    "L003": ("layout", WARNING, "more than two hyphenated lines in a row"),
    "L004": ("layout", WARNING, "a hyphenated word at the end of a page"),
    "L005": ("layout", ERROR, "a note not on the page of its call"),
    "L006": ("layout", ERROR, "a heading at the foot of a page"),
    "L007": ("layout", ERROR, "a line wider than its measure"),
    "L008": ("layout", ERROR, "a glyph drawn from a fallback font"),
    "L009": ("layout", WARNING, "the last page is nearly empty"),
    "L010": ("layout", ERROR, "a hyphen at a break the rules forbid"),
    "L011": ("layout", ERROR, "a line holding a single word or fragment inside a paragraph"),
    "S001": ("spelling", INFO, "spelling not checked (no dictionary for the book's language)"),
}


@dataclass
class Finding:
    code: str
    message: str
    file: str | None = None        # manuscript file, relative to the manuscript
    line: int | None = None        # manuscript line
    page: int | None = None        # page of the proof PDF
    page_line: int | None = None   # line number on that page (as printed in the proof's margin)
    extra: dict = field(default_factory=dict)

    @property
    def category(self) -> str:
        return CATALOGUE[self.code][0] if self.code in CATALOGUE else "manuscript"

    @property
    def severity(self) -> str:
        if self.code in CATALOGUE:
            return CATALOGUE[self.code][1]
        return MANUSCRIPT[self.code][0]

    def where(self) -> str:
        src = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "")
        pg = f"p. {self.page}" + (f" l. {self.page_line}" if self.page_line else "") if self.page else ""
        return ", ".join(x for x in (pg, src) if x)

    def __str__(self) -> str:
        return f"{self.where()}: {self.code}: {self.severity}: {self.message}"
