"""The document model: the Book the reader makes (book.py), the one word rule
(words.py), and the page map of the print layout with its corrections
(pagemap.py).  Nothing here imports another part of matbaa but diagnostics
and files."""
from matbaa.model.book import (  # noqa: F401
    BACK_KINDS,
    BODY_KINDS,
    FRONT_KINDS,
    KINDS,
    Book,
    Chapter,
    GlossaryEntry,
    Heading,
    Note,
    Part,
    TermMark,
)
from matbaa.model.pagemap import Corrections, PageMap  # noqa: F401
