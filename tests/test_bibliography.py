"""The printed bibliography of each book reads as Harvard (Cite Them Right) has it:
an entry without an author prints its title once (in the author position), and
every web source (an entry with a URL) prints the date it was accessed.

Nothing is built: the books are loaded (matbaa.build.load) and their rendered
bibliography (book.bibliography, a list of (id, html)) is read."""

import html
import re
from pathlib import Path

import pytest

from matbaa.build import load

ROOT = Path(__file__).resolve().parents[1]
BOOKS = [ROOT / "manuscript", ROOT / "manuscripts" / "faq-debian"]

# A title or a container: quoted (“…”) or in italics (<i>…</i>).
_SEGMENT = re.compile(r"“(.+?)”(?=[\s,.(]|$)|<i>(.+?)</i>")
_URL = re.compile(r"https?://")
# The access date: "(Baxılıb: 8 dekabr 2026)", "(Accessed: 8 December 2026)" …,
# a parenthesis after the URL holding a term, a colon and a year.
_ACCESSED = re.compile(r"https?://\S+ \([^()]+: [^()]*\b\d{4}\)")


@pytest.fixture(scope="module", params=BOOKS, ids=lambda p: p.name)
def bibliography(request):
    book, _ = load(request.param)
    return [(key, html.unescape(text)) for key, text in (book.bibliography or [])]


def _segments(text):
    return [a or b for a, b in _SEGMENT.findall(text)]


def test_no_entry_repeats_its_title(bibliography):
    repeated = {}
    for key, text in bibliography:
        segments = _segments(text)
        twice = sorted({s for s in segments if segments.count(s) > 1})
        if twice:
            repeated[key] = twice
    assert not repeated, repeated


def test_every_web_source_has_an_access_date(bibliography):
    missing = [key for key, text in bibliography
               if _URL.search(text) and not _ACCESSED.search(text)]
    assert not missing, missing


def test_the_first_book_has_a_bibliography():
    book, _ = load(BOOKS[0])
    assert len(book.bibliography) > 30
