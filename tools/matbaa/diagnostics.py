"""Diagnostics: every message matbaa gives about a manuscript.

Each message has a stable code from the CATALOGUE below, a severity, and a
location (``file:line``).  Readers and transforms *collect* diagnostics into a
``Report`` instead of raising, so one run reports every problem at once; the
command line then prints them all and exits non-zero (no traceback).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

ERROR = "error"
WARNING = "warning"

# code: (severity, short meaning).  The meaning is printed in the README's
# troubleshooting table; the message itself says what to do.
CATALOGUE: dict[str, tuple[str, str]] = {
    # metadata (book.yaml)
    "M001": (ERROR, "book.yaml is missing or cannot be read"),
    "M002": (ERROR, "book.yaml is not valid YAML"),
    "M003": (ERROR, "a required metadata key is missing"),
    "M004": (ERROR, "a metadata value has the wrong type or form"),
    "M005": (ERROR, "an unknown metadata key (probably a typo)"),
    "M006": (ERROR, "a file named in book.yaml does not exist"),
    "M007": (ERROR, "no labels for the book's language, or a label or language name missing"),
    # files
    "F001": (ERROR, "a manuscript file is not UTF-8"),
    "F002": (WARNING, "a byte-order mark or CRLF line endings (accepted)"),
    # notes
    "N001": (ERROR, "a note call has no definition"),
    "N002": (ERROR, "two note definitions have the same id"),
    "N003": (ERROR, "a note definition is never called"),
    "N004": (ERROR, "a note is called more than once"),
    "N005": (ERROR, "an inline note ^[…] (notes need an id and a definition)"),
    # glossary
    "G001": (ERROR, "glossary.yaml is not valid YAML or not a list of entries"),
    "G002": (ERROR, "a glossary entry lacks a key or a language"),
    "G003": (ERROR, "two glossary entries have the same id"),
    "G004": (ERROR, "a glossary mark names no entry"),
    "G005": (WARNING, "a glossary entry is never marked in the text"),
    # markdown
    "D001": (WARNING, "raw HTML in Markdown is printed as text"),
    "D002": (ERROR, "a link or image points outside the manuscript or to the network"),
    "D003": (WARNING, "a chapter is empty"),
    "D004": (ERROR, "an image file is missing, or not a PNG, JPEG or GIF"),
    "D005": (ERROR, "a link to a chapter or #id the book does not have"),
    "D006": (ERROR, "an id given twice, or one the build reserves"),
    "D007": (ERROR, "a glossary mark or a note call in a chapter title"),
    # citations and the bibliography
    "B001": (ERROR, "a citation names no entry of the bibliography"),
    "B002": (ERROR, "the bibliography or the CSL style cannot be read"),
    "B003": (WARNING, "a bibliography entry is never cited"),
    "D008": (ERROR, "an image has no alt text"),
    "D009": (WARNING, "a fenced div attribute is left out (a class of matbaa's own, an unknown key)"),
    # corrections / collation
    "C001": (ERROR, "corrections.yaml is not valid"),
    # hostile or huge input (issue 22)
    "M008": (ERROR, "a file named in book.yaml lies outside the manuscript folder (a link or `..` leading out of it)"),
    "M009": (ERROR, "a YAML file expands beyond what a manuscript needs (aliases)"),
    "F003": (ERROR, "a control character or NUL in a manuscript file"),
    "D010": (WARNING, "an attribute matbaa does not allow (style, an event handler, data-*) is left out"),
    "D011": (ERROR, "lists or quotations nested deeper than the book allows"),
    "D012": (ERROR, "a stylesheet names a resource outside the styles or on the network"),
    "X001": (ERROR, "the manuscript exceeds a limit (a paragraph's length, the notes, a file's size); the message names the setting"),
}


@dataclass(frozen=True)
class Location:
    file: Path
    line: int | None = None  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else f"{self.file}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    location: Location
    message: str

    @property
    def severity(self) -> str:
        return CATALOGUE[self.code][0]

    def __str__(self) -> str:
        return f"{self.location}: {self.code}: {self.severity}: {self.message}"


@dataclass
class Report:
    """Collects diagnostics; ``raise_if_errors`` aborts once, with all of them."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, file: Path, line: int | None, message: str) -> None:
        if code not in CATALOGUE:  # a programming error, not a manuscript one
            raise KeyError(code)
        self.items.append(Diagnostic(code, Location(Path(file), line), message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == WARNING]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ManuscriptError(self)

    def print(self, stream=None) -> None:
        stream = stream or sys.stderr
        for d in self.items:
            print(d, file=stream)


class MatbaaError(Exception):
    """The only exception the command line turns into a message (no traceback)."""


class ManuscriptError(MatbaaError):
    def __init__(self, report: Report):
        self.report = report
        n = len(report.errors)
        super().__init__(f"{n} error{'s' if n != 1 else ''} in the manuscript; nothing was written")
