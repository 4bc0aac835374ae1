"""Transforms: the steps between the reader and the writers, in order.

The pipeline is plain data, as in markdown-it: a list of (name, function);
each function takes the Book and the Report and changes the Book in place.
"""
from __future__ import annotations

from matbaa.transforms import citations, glossary, notes, structure, typography

PIPELINE = [
    ("ids", structure.assign_ids),          # ids of divisions, chapters, headings (Pandoc's rule)
    ("notes", notes.number_notes),          # note numbers and anchors, in call order
    ("citations", citations.resolve),       # keys -> bibliography entries, rendered by the CSL style
    ("glossary", glossary.link_marks),      # marks -> entries, anchors, back-references
    ("links", structure.resolve_links),     # every link to the id it names (D005 if none)
    ("typography", typography.apply),       # quotes, dashes, no-break spaces, numeral+suffix
]


def run(book, report) -> None:
    for _name, step in PIPELINE:
        step(book, report)
