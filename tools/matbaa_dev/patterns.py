"""Generate the Azerbaijani hyphenation patterns (libhyphen / pyphen .dic).

    python -m matbaa_dev patterns > styles/hyphenation/hyph_az.dic

The patterns are derived mechanically from the syllable rules, not trained
on a word list (there is no hyphenated Azerbaijani word list to train on).
Each rule is a family of Liang patterns enumerated over the letters; odd
digits allow a break, even digits forbid it, the highest digit wins.

  level 1  1CV      a consonant before a vowel begins a syllable (a-ta, al-ma,
                    dost-luq); V1V: two vowels are split (fə-a-liy-yət)
  level 1  C1ty     loan onset ty after a consonant (sen-tyabr, ak-tyor) ...
  level 2  Ct2y       ... so not sent-yabr;  2tyC, 2ty.: only when a vowel follows
  level 1  s1XL     loan onset obstruent + r/l after s (eks-press, trans-krip) ...
  level 2  sX2L       ... so not eksp-ress;  Vs2XL: but only after two consonants
  level 3  VsX3L      (mist-ral, not mis-tral);  2XL.: never in a final cluster
  level 4  .L4 4L.  never leave or carry a single letter (a-ta, mət-bə-ə)
  level 4  .CC4     never split a word-initial cluster (struk-tur, not st-ruk-tur)
  level 4  4rC 4lC  r or l before a consonant never begins a syllable
  level 8/9         the exceptions of styles/hyphenation/exceptions-az.txt,
                    as whole-word patterns (.proq9ram.)

They are exact (equal to matbaa.typeset.hyphenation.legal_breaks) for every cluster
of up to four consonants between vowels and up to three at the start or the
end of a word (checked over all 292,560 such clusters when they were written;
tests/test_hyphenation.py checks every cluster of up to three, the
four-consonant loan onsets and a sample of the other clusters of four).
"""
from __future__ import annotations

from itertools import product
from pathlib import Path

from matbaa.typeset.hyphenation import (
    ALPHABET,
    CONSONANTS,
    EXCEPTIONS,
    LIQUIDS,
    OBSTRUENTS,
    STYLES,
    VOWELS,
    parse_exception,
    read_exceptions,
)

V = sorted(VOWELS, key=ALPHABET.index)
C = sorted(CONSONANTS, key=ALPHABET.index)
X = sorted(OBSTRUENTS, key=ALPHABET.index)
L = sorted(LIQUIDS, key=ALPHABET.index)
LETTERS = ALPHABET


def rule_patterns() -> list[str]:
    """The rule patterns, as Liang strings ('a1e', '1ba', '.st4', ...)."""
    p: list[str] = []
    # syllables
    p += [f"{a}1{b}" for a, b in product(V, V)]
    p += [f"1{c}{v}" for c, v in product(C, V)]
    # loan onset ty after a consonant
    p += [f"{c}1ty" for c in C]
    p += [f"{c}t2y" for c in C]
    p += [f"2ty{c}" for c in C] + ["2ty."]
    # loan onset obstruent + liquid after s and another consonant
    p += [f"s1{x}{l}" for x, l in product(X, L)]
    p += [f"s{x}2{l}" for x, l in product(X, L)]
    p += [f"{v}s2{x}{l}" for v, x, l in product(V, X, L)]
    p += [f"{v}s{x}3{l}" for v, x, l in product(V, X, L)]
    p += [f"2{x}{l}." for x, l in product(X, L)]
    # limits
    p += [f".{a}4" for a in LETTERS] + [f"4{a}." for a in LETTERS]
    p += [f".{a}{b}4" for a, b in product(C, C)]
    p += [f"4{l}{c}" for l, c in product(L, C)]
    return p


def exception_patterns(entries: list[str]) -> list[str]:
    """'proq-ram' -> '.p8r8o8q9r8a8m.': a whole-word pattern above every rule."""
    out = []
    for entry in entries:
        word, breaks = parse_exception(entry)
        s = "."
        for i, ch in enumerate(word):
            if i:
                s += "9" if i in breaks else "8"
            s += ch
        out.append(s + ".")
    return out


def split(pattern: str) -> tuple[str, list[int]]:
    """'s1t2y' -> ('sty', [0, 1, 2, 0])."""
    letters, values = "", [0]
    for ch in pattern:
        if ch.isdigit():
            values[-1] = int(ch)
        else:
            letters += ch
            values.append(0)
    return letters, values


def join(letters: str, values: list[int]) -> str:
    return "".join((str(v) if v else "") + ch for v, ch in zip(values, letters)) + (
        str(values[-1]) if values[-1] else "")


def merge(patterns: list[str]) -> list[str]:
    """One pattern per letter string (pyphen keeps only the last of equal ones)."""
    merged: dict[str, list[int]] = {}
    for pattern in patterns:
        letters, values = split(pattern)
        old = merged.setdefault(letters, values)
        if old is not values:
            merged[letters] = [max(a, b) for a, b in zip(old, values)]
    return sorted((join(k, v) for k, v in merged.items()), key=lambda s: split(s)[0])


def generate(styles: Path = STYLES) -> str:
    entries = read_exceptions(styles / EXCEPTIONS)
    patterns = merge(rule_patterns() + exception_patterns(entries))
    header = [
        "UTF-8",
        "LEFTHYPHENMIN 2",
        "RIGHTHYPHENMIN 2",
        "% Azerbaijani (az, Latin script) hyphenation patterns for libhyphen and pyphen.",
        "% Generated from the syllable rules by `python -m matbaa_dev patterns`:",
        "% do not edit; see README.md in this folder.  License: MIT, like matbaa.",
        f"% {len(patterns)} patterns ({len(entries)} of them from exceptions-az.txt).",
        "% Words are expected as runs of letters (split at hyphens and apostrophes),",
        "% as Pango hands them to WeasyPrint; map I -> ı and İ -> i before lower-casing.",
    ]
    return "\n".join(header + patterns) + "\n"
