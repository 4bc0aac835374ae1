import pytest

from matbaa.read.markdown import make_parser
from matbaa.transforms.typography import (
    LANGUAGES,
    NBSP,
    NNBSP,
    NOBR,
    apply_to_tokens,
    rules_for,
    transform_text,
)


@pytest.mark.parametrize("src, want", [
    ("e.ə. VI əsrin", f"e.ə.{NBSP}VI{NBSP}əsrin"),
    ("II Navuxodonosor", f"II{NBSP}Navuxodonosor"),
    ("1997-2001-ci illərdə", "1997–2001-ci illərdə"),
    ("I-II əsrlərində", f"I–II{NBSP}əsrlərində"),
    ("A.A. Bakıxanov", f"A.A.{NBSP}Bakıxanov"),
    ("və s. birliklər", f"və{NBSP}s. birliklər"),
    ("44 günlük", f"44{NBSP}günlük"),
    ("bir - iki", "bir – iki"),
    ('"Vətən" cəmiyyəti', "“Vətən” cəmiyyəti"),
    ("1991-ci il", "1991-ci il"),
])
def test_transform_text(src, want):
    assert transform_text(src, "az") == want


@pytest.mark.parametrize("text, kept", [
    ("2001-ci il", ["2001-ci"]),
    ("9–10-da", ["9–10-da"]),
    ("DTK-nin təsiri", ["DTK-nin"]),
    ("332.640 manat", []),
    ("ictimai-siyasi", []),
])
def test_numeral_and_acronym_suffixes_are_kept_together(text, kept):
    assert [m.group(0) for m in NOBR.finditer(text)] == kept


# CLDR's quotation marks (quotationStart/End, alternateQuotationStart/End)
CLDR = {"az": "“”‘’", "en": "“”‘’", "fr": "«»“”", "de": "„“‚‘", "ru": "«»„“", "tr": "“”‘’"}


@pytest.mark.parametrize("lang", sorted(CLDR))
def test_every_language_has_its_quotation_marks(lang):
    q = CLDR[lang]
    got = transform_text('x "one "two" three" y', lang)
    space = NNBSP if lang == "fr" else ""
    assert got == f"x {q[0]}{space}one {q[2]}two{q[3]} three{space}{q[1]} y"


@pytest.mark.parametrize("lang", sorted(CLDR))
def test_apostrophes_are_curly(lang):
    assert transform_text("l'idée, don't", lang) == "l’idée, don’t"


def test_a_quote_after_a_mark_closes():
    md = make_parser()
    tokens = md.parse('He said "*word*" and "why?" then "[fin]{.x}."\n')
    apply_to_tokens(tokens, "en")
    text = "".join(c.content for c in tokens[1].children if c.type == "text")
    assert text == "He said “word” and “why?” then “fin.”"


@pytest.mark.parametrize("src, want", [
    ("Pourquoi ? Voilà ; enfin !", f"Pourquoi{NNBSP}? Voilà{NNBSP}; enfin{NNBSP}!"),
    ("Pourquoi? Voilà; enfin!", f"Pourquoi{NNBSP}? Voilà{NNBSP}; enfin{NNBSP}!"),
    ("Debian est : libre", f"Debian est{NBSP}: libre"),
    ("« Stable »", f"«{NNBSP}Stable{NNBSP}»"),
    ("«Stable»", f"«{NNBSP}Stable{NNBSP}»"),
    ("à 10:30 ou http://x", "à 10:30 ou http://x"),
    ("M. Dupont", f"M.{NBSP}Dupont"),
])
def test_french_spaces(src, want):
    assert transform_text(src, "fr") == want


def test_english_has_no_french_spaces_and_no_roman_rule():
    assert transform_text("Why? I went: yes", "en") == "Why? I went: yes"
    assert transform_text("Dr. Who", "en") == f"Dr.{NBSP}Who"


def test_a_span_in_another_language_takes_its_rules():
    md = make_parser()
    tokens = md.parse('Il dit ["Really?" she said]{lang=en} et "oui" !\n')
    apply_to_tokens(tokens, "fr")
    text = "".join(c.content for c in tokens[1].children if c.type == "text")
    assert text == f"Il dit “Really?” she said et «{NNBSP}oui{NNBSP}»{NNBSP}!"


def test_suffix_rule_only_where_the_language_has_suffixes():
    assert rules_for("az").suffixes and rules_for("tr").suffixes
    assert not any(rules_for(x).suffixes for x in ("en", "fr", "de", "ru"))
    assert set(CLDR) <= set(LANGUAGES)
    assert rules_for("xx") is LANGUAGES["en"]


def test_a_code_span_after_a_space_keeps_its_break():
    """UAX #14 forbids a break before '.' or '/' even after a space; the build gives it back."""
    md = make_parser()
    tokens = md.parse("un fichier `.orig.tar.gz` et `/usr/local/`, puis `foo`\n")
    apply_to_tokens(tokens, "fr")
    texts = [c.content for c in tokens[1].children if c.type == "text"]
    assert texts[0].endswith(" \u200b") and texts[1] == " et \u200b" and not texts[2].endswith("\u200b")
    tokens = md.parse("sous\n`/usr/local/`\n")
    apply_to_tokens(tokens, "fr")
    assert [c.type for c in tokens[1].children] == ["text", "softbreak", "text", "code_inline"]
