"""Language rules the typesetting needs: alphabetical order and casing.

Python's sorted() and str.upper()/lower() are wrong for Azerbaijani (and
Turkish): x comes after h, ı before i, q after k; i <-> İ and ı <-> I.  A rank
table of each alphabet gives the order (it matched ICU's `az` collator on every
word of the first book; PyICU would need a 3-minute source build here).
"""
from __future__ import annotations

import unicodedata

ALPHABETS: dict[str, str] = {
    "az": "a b c ç d e ə f g ğ h x ı i j k q l m n o ö p r s ş t u ü v y z",
    "tr": "a b c ç d e f g ğ h ı i j k l m n o ö p r s ş t u ü v y z",
    "en": "a b c d e f g h i j k l m n o p q r s t u v w x y z",
}
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


def sort_key(text: str, lang: str) -> tuple:
    """Collation key: letters by the language's alphabet, then the rest by code point.

    Letters outside the alphabet (w in Azerbaijani, accented loan letters) are
    ranked after their base letter, so every word still has a stable place.
    """
    letters = ALPHABETS.get(primary(lang), ALPHABETS["en"]).split()
    rank = {ch: i * 4 for i, ch in enumerate(letters)}
    key = []
    for ch in lower(unicodedata.normalize("NFC", text), lang):
        if ch in rank:
            key.append(rank[ch])
        elif ch.isalpha():
            base = unicodedata.normalize("NFD", ch)[0]
            key.append(rank.get(base, 1000 + ord(ch)) + 1)
        elif ch.isdigit():
            key.append(-100 + int(ch))
        # spaces, hyphens and punctuation do not count for the order
    return (tuple(key), text)
