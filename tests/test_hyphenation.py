"""Azerbaijani hyphenation: patterns, reference syllabifier, WeasyPrint hook, soft hyphens."""
from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest

from matbaa.typeset import engine
from matbaa.typeset import hyphenation as hy
from matbaa_dev.patterns import generate

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "manuscript" / "original" / "000_55b4d57c9d4bc234.txt"
DIC = ROOT / "styles" / "hyphenation" / "hyph_az.dic"
HYPHEN = "\u2010"  # WeasyPrint's default hyphenate-character


@pytest.fixture(autouse=True)
def builtin_exceptions():
    hy.register()
    yield
    hy.register()  # undo a test's extra exceptions


def shown(word: str, positions) -> str:
    out, last = [], 0
    for p in sorted(positions):
        out += [word[last:p], "-"]
        last = p
    return "".join(out) + word[last:]


def seed_words() -> list[str]:
    return sorted(set(re.findall(r"[^\W\d_]+", SEED.read_text(encoding="utf-8"))))


def raw_patterns():
    """The .dic alone, read by plain pyphen (no casing fix, no runs, no left/right filter)."""
    raw = engine.pattern_positions(DIC)
    return lambda word: {int(p) for p in raw(hy.turkic_lower(word)) if 0 < p < len(word)}


EXAMPLES = [
    # the rules
    "fə-a-liy-yət", "al-ma", "ata-lar", "dost-luq", "rəs-sam", "türk-lər",
    "azər-bay-can-lı-la-rın", "həm-rəy-li-yi-nin", "təş-ki-lat-lan-ma-sı",
    "Gən-cə-yə", "mət-bəə", "ürək", "ata",
    # loanword clusters
    "proq-ram", "konq-res-men", "konk-ret", "sen-tyabr", "ok-tyabr-da", "ak-tyor", "qət-yən",
    "eks-press", "trans-krip-si-ya", "Avs-tra-li-ya", "ins-tru-ment", "mist-ral",
    # initial and final clusters
    "struk-tur", "stra-te-gi-ya", "spektr", "te-atr", "mi-nistr", "te-atr-da",
    # İ and I
    "İs-veç-rə-də", "İS-VEÇ-RƏ-DƏ", "İl-ham", "İŞIQ", "İŞIQ-LAN-DI-RIL-MA-SI",
    "İns-ti-tu-tu-nun", "İNS-Tİ-TU-TU-NUN", "Ilı-ca-lar", "IŞIQ-lı",
    # foreign letters: never
    "Washington", "Вашингтон", "example.com",
]


@pytest.mark.parametrize("expected", EXAMPLES)
def test_examples(expected):
    word = expected.replace("-", "")
    assert shown(word, hy.hyphenate(word)) == expected
    assert shown(word, hy.legal_breaks(word)) == expected


@pytest.mark.parametrize("word, positions", [
    ("ictimai-siyasi", [2, 4, 10, 12]),   # ic-ti-mai | si-ya-si: not ictima-i, not i-siyasi
    ("Azərbaycan'ın", [4, 7]),            # never at or next to an apostrophe
    ("Azərbaycan’dakı", [4, 7, 13]),
    ("Kur'an", []),
    ("ictimai-", [2, 4]),
    # digits cut runs too: never next to one, and the suffix stays with the numeral
    ("1991-ci", []), ("2-ci", []), ("abc2001ci", []), ("1990-cılarda", [7, 10]),
    # a part with foreign letters is not hyphenated, the others are
    ("Café-lərimizdən", [7, 9, 12]),
])
def test_words_with_hyphens_apostrophes_digits(word, positions):
    assert hy.hyphenate(word) == positions
    assert hy.legal_breaks(word) == set(positions)


def test_syllables():
    assert hy.syllabify("fəaliyyət") == ["fə", "a", "liy", "yət"]
    assert hy.syllabify("ata") == ["a", "ta"]
    assert hy.syllabify("struktur") == ["struk", "tur"]
    assert hy.syllabify("İsveçrədə") == ["İs", "veç", "rə", "də"]


@pytest.mark.parametrize("tag", ["az", "az-Latn", "az_AZ", "az-Latn-AZ", "AZ"])
def test_weasyprint_lookup_gets_our_dictionary(tag):
    # the lookup weasyprint.text.line_break does (language_fallback, then
    # Pyphen(lang=...)): our points, the casing fixed (plain pyphen: İsv-eçr-ədə)
    positions = engine.hyphenator(tag, 2, 2)
    assert positions is not None
    assert [int(p) for p in positions("İsveçrədə")] == [2, 5, 7]
    assert [int(p) for p in positions("Azərbaycan")] == [4, 7]


def test_plain_pyphen_still_has_the_casing_bug():
    """Why hy.points exists; if this is skipped, pyphen fixed it."""
    plain = [int(p) for p in engine.pattern_positions(DIC)("İsveçrədə")]
    if plain == [2, 5, 7]:
        pytest.skip("pyphen now lower-cases İ correctly: the workaround can go")
    assert plain == [3, 6, 8]  # İsv-eçr-ədə
    assert hy.hyphenate("İsveçrədə") == [2, 5, 7]


def test_register_is_idempotent_and_cheap():
    hd = hy.register()
    assert hy.register() is hd
    assert engine.hyphenation_registered(("az", "az_AZ", "az_Latn"), DIC, hd)


def test_builtin_exceptions():
    entries = hy.read_exceptions(DIC.parent / "exceptions-az.txt")
    assert "YUNESKO" in entries
    assert hy.legal_breaks("YUNESKO") == {2, 5}  # the rule would break it
    assert hy.hyphenate("YUNESKO") == []
    assert hy.hyphenate("yunesko") == []
    assert raw_patterns()("YUNESKO") == set()  # compiled into the .dic too


def test_extra_exceptions():
    assert hy.hyphenate("Azərbaycan") == [4, 7]
    hy.register(["Azərbay-can", "diasporu", "proq-ram"])
    assert hy.hyphenate("Azərbaycan") == [7]
    assert hy.hyphenate("AZƏRBAYCAN") == [7]
    assert hy.hyphenate("diasporu") == []
    assert hy.hyphenate("diasporunun") == [2, 4, 6, 8]  # exceptions match whole words only
    assert engine.hyphenator("az")("Azərbaycan") == [7]  # WeasyPrint's path
    hy.register()
    assert hy.hyphenate("Azərbaycan") == [4, 7]


def test_bad_exceptions_are_refused():
    for bad in ["-ata", "proq--ram", "Wa-shing-ton", "19-91", ""]:
        with pytest.raises(ValueError):
            hy.parse_exception(bad)
    assert hy.parse_exception("İs-veç-rə") == ("isveçrə", (2, 5))


def test_dic_is_the_generators_output():
    assert DIC.read_text(encoding="utf-8") == generate(), (
        "regenerate: python -m matbaa_dev patterns > styles/hyphenation/hyph_az.dic")


def test_dic_header():
    lines = DIC.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["UTF-8", "LEFTHYPHENMIN 2", "RIGHTHYPHENMIN 2"]
    patterns = [l for l in lines[3:] if l and not l.startswith("%")]
    assert 1000 < len(patterns) < 2000
    letters = [re.sub(r"\d", "", p) for p in patterns]
    assert len(set(letters)) == len(letters)  # pyphen keeps only the last of equal letter strings


def test_patterns_agree_with_the_reference_on_every_seed_word():
    words = seed_words()
    assert len(words) == 1460
    exceptions = {hy.parse_exception(e)[0] for e in hy.read_exceptions(DIC.parent / "exceptions-az.txt")}
    raw = raw_patterns()
    checked = hyphenated = 0
    for word in words:
        if hy.turkic_lower(word) in exceptions:
            continue
        reference = hy.legal_breaks(word)
        assert set(hy.hyphenate(word)) == reference, (word, shown(word, hy.hyphenate(word)), shown(word, reference))
        assert raw(word) == reference, (word, shown(word, raw(word)), shown(word, reference))
        checked += 1
        hyphenated += bool(reference)
    assert checked == 1460 and hyphenated > 1000


def test_patterns_agree_with_the_reference_on_every_cluster():
    """Every cluster of 1-3 consonants between vowels, word-initially and word-finally,
    the four-consonant loan onsets, and a sample of the other four-consonant clusters."""
    consonants = sorted(hy.CONSONANTS)
    vowels = sorted(hy.VOWELS)
    rnd = random.Random(20240601)
    raw = raw_patterns()
    clusters = [("".join(k)) for m in (1, 2, 3) for k in itertools.product(consonants, repeat=m)]
    fours = [c + "s" + x + l for c in consonants for x in hy.OBSTRUENTS for l in hy.LIQUIDS]
    fours += [a + b + "ty" for a in consonants for b in consonants]
    fours += ["".join(rnd.choice(consonants) for _ in range(4)) for _ in range(5000)]
    words = []
    for k in clusters + fours:
        v1, v2 = rnd.choice(vowels), rnd.choice(vowels)
        words.append("ta" + v1 + k + v2 + "ma")
        if len(k) <= 3:
            words += [k + v1 + "la" + v2 + "n", "ba" + v1 + "n" + v2 + k]
    words += [a + b + "ta" for a in vowels for b in vowels] + ["ta" + a + b for a in vowels for b in vowels]
    disagreements = [w for w in words if raw(w) != hy.legal_breaks(w)]
    assert not disagreements, disagreements[:20]
    assert len(words) > 40000


def test_soft_hyphenate():
    s = hy.SOFT_HYPHEN
    assert hy.soft_hyphenate("Azərbaycan diasporunun") == f"Azər{s}bay{s}can di{s}as{s}po{s}ru{s}nun"
    assert hy.soft_hyphenate("İsveçrədə yaşayan") == f"İs{s}veç{s}rə{s}də ya{s}şa{s}yan"
    # shorter than six letters: untouched
    assert hy.soft_hyphenate("ailə atalar") == f"ailə ata{s}lar"
    # digits, acronyms, URLs and identifiers: untouched
    for text in ["1991-ci", "2001-ci", "DTK-nin", "SSRİ-nin", "AMƏC-in", "AMEA", "PREZİDENT",
                 "www.azerbaycan.az", "https://prezident.az/diaspor", "matbaa.hyphenation",
                 "strategiya_proqramı", "istifadəçi@poçt.az", "AzərTAc", "abc2001ci",
                 f"Azər{s}baycan", "Azərbaycan"[:4] + "c\u0327" + "ılıq"]:
        assert hy.soft_hyphenate(text) == text, text
    # compounds: only inside the parts, two letters from the hyphen
    assert hy.soft_hyphenate("ictimai-siyasi") == f"ic{s}ti{s}mai-si{s}ya{s}si"
    # punctuation and quotes around words
    assert hy.soft_hyphenate("“Diaspor” anlayışı, (əvvəli") == f"“Di{s}as{s}por” an{s}la{s}yı{s}şı, (əv{s}və{s}li"
    assert hy.soft_hyphenate("A.A.Bakıxanov") == f"A.A.Ba{s}kı{s}xa{s}nov"
    # every inserted break is legal, on the whole seed
    text = SEED.read_text(encoding="utf-8")
    soft = hy.soft_hyphenate(text)
    assert soft.replace(s, "") == text
    assert soft.count(s) > 3000
    for token in soft.split():
        if s in token:
            for part in re.split(r"[^\w\u00ad]+", token):
                if s in part:
                    word = part.replace(s, "")
                    cuts, n = set(), 0
                    for ch in part:
                        if ch == s:
                            cuts.add(n)
                        else:
                            n += 1
                    assert cuts <= hy.legal_breaks(word), part
                    assert len(word) >= 6 and not any(c.isdigit() for c in word)


# ------------------------------------------------------------ WeasyPrint

def laid_out_lines(html: str) -> list[str]:
    document = engine.render(html, str(ROOT) + "/", None, (), None)
    lines = []
    for root in engine.roots(document):
        for box in engine.descendants(root):
            if engine.kind(box) == engine.LINE:
                lines.append("".join(engine.text(t) for t in engine.descendants(box) if engine.kind(t) == engine.TEXT))
    return lines


def page(text: str, width_mm: int) -> str:
    return f"""<html><head><style>
    @font-face {{ font-family: Vollkorn; src: url(styles/fonts/vollkorn/Vollkorn-Regular.ttf); }}
    @page {{ size: {width_mm + 10}mm 2000mm; margin: 5mm; }}
    p {{ font: 10pt/1.2 Vollkorn; text-align: justify; hyphens: auto; margin: 0 0 1em; }}
    </style></head><body><p lang="az">{text}</p></body></html>"""


def hyphenated_breaks(lines: list[str]) -> list[tuple[str, int]]:
    """(word, position) for every automatic hyphen at a line end.

    The lines are joined back into the text (a hyphenated line without its
    hyphen and without a space), so a word broken twice is seen whole.
    """
    text, cuts = "", []
    for line in lines:
        line = line.strip()
        if line.endswith(HYPHEN):
            text += line[:-1]
            cuts.append(len(text))
        else:
            text += line + " "
    breaks = []
    for cut in cuts:
        start, end = cut, cut
        while start and text[start - 1].isalpha():
            start -= 1
        while end < len(text) and text[end].isalpha():
            end += 1
        breaks.append((text[start:end], cut - start))
    return breaks


def test_weasyprint_hyphenates_the_seed_legally():
    text = " ".join(SEED.read_text(encoding="utf-8").split())
    lines = laid_out_lines(page(text, 50))
    breaks = hyphenated_breaks(lines)
    assert len(breaks) > 50, "WeasyPrint hyphenated (almost) nothing: is lang=az registered?"
    for word, at in breaks:
        assert at in hy.legal_breaks(word), f"{word[:at]}-{word[at:]}"
        assert at in hy.hyphenate(word)
    assert "".join(lines).replace(HYPHEN, "").count("Azərbaycan") >= 30  # nothing lost


def test_weasyprint_hyphenates_words_with_dotted_capital_i():
    words = ("İsveçrədə İnstitutunun İSVEÇRƏDƏKİ İŞIQLANDIRILMASI İctimaiyyətin "
             "İngiltərədəki İNSTİTUTLARININ İmzalanmasından Ilıcalarda ")
    breaks = []
    for width in (25, 28, 31, 34, 37, 40):
        breaks += hyphenated_breaks(laid_out_lines(page(words * 3, width)))
    with_i = [(w, at) for w, at in breaks if "İ" in w[:at] or "I" in w[:at]]
    assert len(with_i) >= 5
    for word, at in breaks:
        assert at in hy.legal_breaks(word), f"{word[:at]}-{word[at:]}"
