"""Language rules the typesetting needs: alphabetical order and casing.

Order: ICU's collator for the language (PyICU, from the PyPI wheel
`pyicu-wheels`, which bundles ICU: no system library, no source build).  ICU
knows each language's alphabet and accents (Azerbaijani x after h, ı before i,
q after k; French accents compared from the end of the word, "résiliation"
before "responsabilité").

Casing: Python's str.upper()/lower() are wrong for Azerbaijani and Turkish
(i <-> İ, ı <-> I); the Turkic rules are applied here first.  (ICU's
UnicodeString casing would do the same, but these two functions run on every
glossary mark and heading, where a plain replace is enough and fast.)
"""
from __future__ import annotations

import functools
import unicodedata

import icu

TURKIC = {"az", "tr", "crh", "kk", "tt", "gag"}


def primary(lang: str) -> str:
    return lang.split("-")[0].lower()


def lower(text: str, lang: str) -> str:
    if primary(lang) in TURKIC:
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


def upper(text: str, lang: str) -> str:
    if primary(lang) in TURKIC:
        text = text.replace("i", "İ").replace("ı", "I")
    return text.upper()


@functools.lru_cache(maxsize=None)
def collator(lang: str) -> icu.Collator:
    """The ICU collator of a BCP 47 tag (root order for a language ICU lacks)."""
    return icu.Collator.createInstance(icu.Locale.forLanguageTag(lang))


def sort_key(text: str, lang: str) -> tuple[bytes, str]:
    """Collation key: the language's alphabetical order, then the text itself
    (so that two spellings ICU ranks equal still have a stable place)."""
    text = unicodedata.normalize("NFC", text)
    return (collator(lang).getSortKey(text), text)
