"""Azerbaijani hyphenation for WeasyPrint (pyphen) and for soft hyphens in the EPUB.

No Azerbaijani hyphenation patterns exist in pyphen, LibreOffice, Debian, TeX
or Typst, so WeasyPrint does not hyphenate ``lang="az"`` text by itself.  This
module supplies them:

* ``styles/hyphenation/hyph_az.dic``: Liang patterns (libhyphen/pyphen format)
  generated from the syllable rules by ``python -m matbaa_dev patterns``
  (see ``styles/hyphenation/README.md`` for the rules and the decisions);
* ``styles/hyphenation/exceptions-az.txt``: words the rules get wrong;
* ``register()``: makes pyphen, hence WeasyPrint, use them for ``az``,
  ``az-Latn``, ``az_AZ`` (and any other ``az-*`` tag, by pyphen's fallback),
  through the engine (``engine.register_hyphenation``: pyphen's insides are
  the engine's), with ``points()``: the casing fix, runs and exceptions;
* ``hyphenate()`` / ``soft_hyphenate()``: the same breaks for other uses
  (U+00AD in the EPUB, whose reading systems have no Azerbaijani patterns);
* ``syllabify()`` / ``legal_breaks()``: an independent implementation of the
  rules, written directly in Python, against which the patterns are checked
  (tests/test_hyphenation.py) and with which a proof can check a line end.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Iterable

from matbaa.resources import default_styles
from matbaa.typeset import engine

PATTERNS = "hyphenation/hyph_az.dic"
EXCEPTIONS = "hyphenation/exceptions-az.txt"
STYLES = default_styles()  # the default styles folder (matbaa_dev/patterns.py writes the patterns there)
LANG_KEYS = ("az", "az_AZ", "az_Latn")  # pyphen falls back from az-Latn-AZ etc. to these

# ----------------------------------------------------------------- letters

ALPHABET = "a b c ç d e ə f g ğ h x ı i j k q l m n o ö p r s ş t u ü v y z".split()
VOWELS = frozenset("aeəıioöuü")
CONSONANTS = frozenset(ALPHABET) - VOWELS
# Loan onsets of two consonants (eks-press, trans-krip-si-ya): an obstruent
# followed by a liquid, after an s that closes the previous syllable.
OBSTRUENTS = frozenset("bdfgkpqtv")
LIQUIDS = frozenset("lr")
# Characters inside a word that split it into separately hyphenated runs;
# no break is allowed at them or one letter away from them.
APOSTROPHES = "'’ʼ"
HYPHENS = "-‐‑"
SEPARATORS = frozenset(APOSTROPHES + HYPHENS)
MIN_RUN_EDGE = 2  # never leave or carry a single letter (ü-rək, mət-bə-ə are wrong)


def turkic_lower(text: str) -> str:
    """Azerbaijani lower case: I -> ı and İ -> i, then str.lower().

    Keeps the length of the text (``'İ'.lower()`` alone is two code points).
    """
    return text.replace("I", "ı").replace("İ", "i").lower()


# ------------------------------------------------- the reference syllabifier


def _syllable_starts(run: str) -> list[int]:
    """Where the syllables of one lower-case run of Azerbaijani letters begin.

    Written from the rules, independently of the patterns:
    one vowel per syllable; two adjacent vowels are split (fə-a-liy-yət); of the
    consonants between two vowels only the last begins the next syllable
    (a-ta, al-ma, dost-luq, konq-res-men), except the two onsets of loanwords
    the Azerbaijani school grammar lists: ``ty`` after a consonant
    (sen-tyabr, ok-tyabr, ak-tyor) and obstruent + r/l after ``s`` and another
    consonant (eks-press, trans-krip-si-ya, Avs-tra-li-ya).  Word-initial and
    word-final clusters are never split (struk-tur, te-atr, spektr).
    """
    vowels = [i for i, ch in enumerate(run) if ch in VOWELS]
    starts = []
    for left, right in zip(vowels, vowels[1:]):
        cluster = run[left + 1:right]
        m = len(cluster)
        if m == 0:
            start = right
        elif m >= 3 and cluster.endswith("ty"):
            start = right - 2
        elif (m >= 4 and cluster[-3] == "s" and cluster[-2] in OBSTRUENTS
              and cluster[-1] in LIQUIDS):
            start = right - 2
        else:
            start = right - 1
        starts.append(start)
    return starts


_PIECE = re.compile("[^" + "".join(map(re.escape, APOSTROPHES + HYPHENS)) + "]+")
_LETTER_RUN = re.compile(r"[^0-9]+")
DIGITS = "0123456789"


def _runs(word: str) -> list[tuple[int, str]]:
    """The runs of letters of a lower-case word that are hyphenated, as (offset, run).

    The word is cut at hyphens and apostrophes, as Pango cuts it into words
    for WeasyPrint.  A piece holding anything else than Azerbaijani letters
    and digits (a foreign letter, a combining mark, a dot of a URL) is not
    hyphenated at all; in the others, digits cut the runs too (abc2001ci).
    """
    runs = []
    for piece in _PIECE.finditer(word):
        text = piece.group()
        if any(ch not in CONSONANTS and ch not in VOWELS and ch not in DIGITS for ch in text):
            continue
        runs += [(piece.start() + m.start(), m.group()) for m in _LETTER_RUN.finditer(text)]
    return runs


def syllabify(word: str) -> list[str]:
    """The syllables of a word by the rules (no limits): 'fəaliyyət' -> fə a liy yət.

    Hyphens, apostrophes and digits end a syllable and are kept with it.
    """
    runs = _runs(turkic_lower(word))
    cuts = sorted({off + s for off, run in runs for s in _syllable_starts(run)}
                  | {off for off, _ in runs if off})
    bounds = [0, *cuts, len(word)]
    return [word[a:b] for a, b in zip(bounds, bounds[1:]) if a < b]


def legal_breaks(word: str, left: int = MIN_RUN_EDGE, right: int = MIN_RUN_EDGE) -> set[int]:
    """Positions where the rules allow a line break (a hyphen) in ``word``.

    A position p means ``word[:p] + '-' / word[p:]``.  The rules: a syllable
    boundary (see ``_syllable_starts``) inside a run of letters, with at
    least ``left``/``right`` letters between it and the ends of the run (the
    word's ends, a hyphen, an apostrophe or a digit).  Parts of the word (between
    hyphens and apostrophes) with letters outside the Azerbaijani alphabet have
    none.  Exceptions are not applied: this is the rule, for checking that a
    break is legal.
    """
    runs = _runs(turkic_lower(word))
    return {off + s for off, run in runs for s in _syllable_starts(run)
            if s >= left and len(run) - s >= right}


# ---------------------------------------------------------------- exceptions


def parse_exception(entry: str) -> tuple[str, tuple[int, ...]]:
    """'proq-ram' -> ('proqram', (4,)); 'YUNESKO' -> ('yunesko', ()): never break."""
    entry = entry.strip()
    key = turkic_lower(entry.replace("-", ""))
    if not key or any(ch not in CONSONANTS and ch not in VOWELS for ch in key) or \
            entry.startswith("-") or entry.endswith("-") or "--" in entry:
        raise ValueError(f"not an Azerbaijani hyphenation exception: {entry!r}")
    positions, n = [], 0
    for ch in entry:
        if ch == "-":
            positions.append(n)
        else:
            n += 1
    return key, tuple(positions)


def read_exceptions(path: Path) -> list[str]:
    """One entry a line; '#' starts a comment."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            entries.append(line)
    return entries


# --------------------------------------------------- pyphen / WeasyPrint hook


def points(exceptions: dict[str, tuple[int, ...]], word: str, patterns) -> list[int]:
    """The hyphenation points of ``word`` WeasyPrint gets (through the engine:
    ``engine.register_hyphenation``): the patterns' points (``patterns(run)``)
    or the exception's, run by run, two letters at least from the run's ends.

    Why not pyphen's own: ``pyphen.HyphDict.positions`` lower-cases with
    ``str.lower()``, and ``'İ'.lower()`` is two code points (i + U+0307), so
    every position after an İ came out one letter late ("İsv-eçrədə"), and
    ``'I'.lower()`` is i, not ı.  Mapping İ -> i and I -> ı first keeps the
    length, so the positions fit the word WeasyPrint passes.  The word is also
    cut into runs of letters at apostrophes, hyphens (as Pango does for
    WeasyPrint anyway) and digits (which patterns cannot name: digits are their
    weights), and parts with foreign letters or other characters (URLs) get no
    break.
    """
    out = []
    for off, run in _runs(turkic_lower(word)):
        found = exceptions[run] if run in exceptions else patterns(run)
        out += [off + p for p in found if MIN_RUN_EDGE <= p <= len(run) - MIN_RUN_EDGE]
    return out


_state: dict = {}


def register(extra_exceptions: Iterable[str] = (), styles: Path | None = None):
    """Make pyphen, hence WeasyPrint, hyphenate ``az`` with our patterns.

    The exceptions are the built-in list (styles/hyphenation/exceptions-az.txt)
    plus ``extra_exceptions`` ("proq-ram": breaks where the hyphens are;
    "YUNESKO": never break); a call replaces the extra exceptions of the
    previous one.  Calling it again with the same arguments does nothing.

    The patterns (styles/hyphenation/hyph_az.dic) are registered for
    ``LANG_KEYS`` through the engine (``engine.register_hyphenation``: pyphen's
    tables, which WeasyPrint reads), with ``points`` and the exceptions.
    Returns the registered dictionary (``engine.hyphenation_registered``).
    """
    styles = Path(styles) if styles else default_styles()
    extra = tuple(extra_exceptions)
    key = (str(styles), extra)
    path = styles / PATTERNS
    hd = _state.get("hd")
    if _state.get("key") == key and hd is not None and engine.hyphenation_registered(LANG_KEYS, path, hd):
        return hd
    exceptions = dict(parse_exception(e) for e in read_exceptions(styles / EXCEPTIONS))
    exceptions.update(parse_exception(e) for e in extra)
    hd = engine.register_hyphenation(LANG_KEYS, path, functools.partial(points, exceptions), previous=hd)
    _state.update(key=key, hd=hd)
    return hd


def _ensure_registered() -> None:
    if "hd" not in _state:
        register()


def hyphenate(word: str, lang: str = "az", left: int = 2, right: int = 2) -> list[int]:
    """Break positions in ``word``: those WeasyPrint uses (hyphenate-limit-chars 5 2 2).

    A word with hyphens, apostrophes or digits is hyphenated run by run (Pango
    hands WeasyPrint the pieces between hyphens and apostrophes); breaks keep
    two letters from either side of them.  Exceptions apply.  WeasyPrint only
    tries words of 5 characters or more.  Other languages use pyphen's own
    dictionaries ([] if there is none).
    """
    _ensure_registered()
    positions = _dictionary(lang, left, right, _state.get("key"), id(_state.get("hd")))
    if positions is None:
        return []
    return list(_positions(positions, word))


@functools.lru_cache(maxsize=1 << 16)
def _positions(positions, word: str) -> tuple[int, ...]:
    # a book repeats its words: the total-fit breaker asks for every word of
    # every paragraph (a new registration is a new dictionary, so a new key)
    return tuple(int(p) for p in positions(word))


@functools.lru_cache(maxsize=64)
def _dictionary(lang: str, left: int, right: int, _registration, _hd_id):
    """WeasyPrint's hyphenation of `lang` (once per registration: hyphenate() runs for every word)."""
    return engine.hyphenator(lang, left, right)


SOFT_HYPHEN = "\u00ad"
_TOKEN = re.compile(r"\S+")
_RUN = re.compile(r"[^\W\d_]+")
_UPPER_RUN = re.compile(r"[^\W\d_]{2,}")
_IDENTIFIER = re.compile(
    r"://|^www\.|@|[/\\_=<>{}\[\]|~^*`$#&+]|[^\W\d_]{2,}\.[^\W\d_]|[^\W\d_]:[^\W\d_]")


def soft_hyphenate(text: str, lang: str = "az", min_length: int = 6) -> str:
    """Insert U+00AD at the allowed breaks of the words of ``text`` (plain text).

    Untouched: words shorter than ``min_length`` letters, tokens with a digit
    (1991-ci), tokens with an all-capitals acronym (DTK, SSRİ-nin, AMƏC), URLs
    and identifiers (www..., a/b, snake_case, example.com, camelCase), tokens
    already holding a soft hyphen, and tokens not in NFC (decomposed letters).
    In hyphenated compounds (ictimai-siyasi) each part is a word, and breaks
    keep two letters from the hyphen.  A token is a run of non-spaces; apply
    this to the text nodes of markup, not to the markup.
    """
    registration = _state.get("key")
    memo = _memos.get((lang, min_length, registration))
    if memo is None:
        if len(_memos) >= 8:
            _memos.clear()
        memo = _memos[(lang, min_length, registration)] = {}

    def token(match: re.Match) -> str:
        tok = match.group()
        out = memo.get(tok)
        if out is None:
            if len(memo) >= 65536:
                memo.clear()
            out = memo[tok] = _soft_token(tok, lang, min_length, registration)
        return out

    return _long_tokens(min_length).sub(token, text)


# token -> soft_hyphenate's result, per (lang, min_length, registration): a book
# repeats its words, and a dict is cheaper than the lru_cache of _soft_token
_memos: dict[tuple, dict[str, str]] = {}


@functools.lru_cache(maxsize=8)
def _long_tokens(min_length: int) -> re.Pattern:
    """The tokens that can hold a word of `min_length` letters (a shorter one is
    returned unchanged by _soft_token anyway): \\S+ of that length at least."""
    return re.compile(rf"\S{{{min_length},}}") if min_length > 1 else _TOKEN


@functools.lru_cache(maxsize=65536)
def _soft_token(tok: str, lang: str, min_length: int, _registration) -> str:
    """One token of soft_hyphenate (cached: a book repeats its words; the cache
    key includes the registration, so new exceptions are honoured)."""
    if (SOFT_HYPHEN in tok or any(ch.isdigit() for ch in tok) or _IDENTIFIER.search(tok)
            or any(a.islower() and b.isupper() for a, b in zip(tok, tok[1:]))  # camelCase
            or any(r.isupper() for r in _UPPER_RUN.findall(tok))
            or not unicodedata.is_normalized("NFC", tok)):
        return tok
    out, last = [], 0
    for run in _RUN.finditer(tok):
        word = run.group()
        if len(word) < min_length:
            continue
        for p in hyphenate(word, lang):
            out += [tok[last:run.start() + p], SOFT_HYPHEN]
            last = run.start() + p
    return "".join(out) + tok[last:]
