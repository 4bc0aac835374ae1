import pytest

from matbaa.transforms.typography import NBSP, NOBR, transform_text

Q = ["“", "”", "‘", "’"]


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
    assert transform_text(src, Q) == want


@pytest.mark.parametrize("text, kept", [
    ("2001-ci il", ["2001-ci"]),
    ("9–10-da", ["9–10-da"]),
    ("DTK-nin təsiri", ["DTK-nin"]),
    ("332.640 manat", []),
    ("ictimai-siyasi", []),
])
def test_numeral_and_acronym_suffixes_are_kept_together(text, kept):
    assert [m.group(0) for m in NOBR.finditer(text)] == kept
