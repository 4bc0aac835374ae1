"""Any language: labels, the glossary's language pair, collation, page labels, proof rules."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from matbaa.read import config
from matbaa.build import build_pdf, load
from matbaa.diagnostics import ManuscriptError
from matbaa.language import sort_key
from matbaa.proof.checks import spelling_variants, legal_breaks_for, typography
from matbaa.sample import HERE as SAMPLE

ROOT = Path(__file__).resolve().parent.parent
STYLES = ROOT / "styles"
LABELS = config.safe_load((STYLES / "labels.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def ms(tmp_path) -> Path:
    root = tmp_path / "ms"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def _set(root: Path, old: str, new: str, name: str = "book.yaml") -> None:
    p = root / name
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("lang", ["az", "en", "fr", "de", "ru", "tr"])
def test_every_language_has_every_label_and_names_the_six_languages(lang):
    assert set(LABELS[lang]) == set(LABELS["en"])
    assert all(v is not None for v in LABELS[lang].values())
    assert set(LABELS[lang]["language_names"]) >= {"az", "en", "fr", "de", "ru", "tr"}
    assert LABELS[lang]["page"] and LABELS[lang]["pages"]


def test_a_language_without_labels_is_a_located_error(ms):
    _set(ms, "lang: en\n", "lang: kk\n")
    proc = subprocess.run([sys.executable, "-m", "matbaa", "build", "pdf", "-m", str(ms), "-o", str(ms.parent / "o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = next(n for n, t in enumerate((ms / "book.yaml").read_text().splitlines(), 1) if t.startswith("lang:"))
    assert f"book.yaml:{line}: M007: error" in proc.stderr and "'kk:'" in proc.stderr
    assert not (ms.parent / "o").exists() or not list((ms.parent / "o").glob("*.pdf"))


def test_a_missing_label_is_named(ms, tmp_path):
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    table = yaml.safe_load((styles / "labels.yaml").read_text(encoding="utf-8"))
    del table["en"]["see"]
    table["en"]["language_names"].pop("az")
    table["xx"] = {}
    (styles / "labels.yaml").write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ManuscriptError) as exc:
        load(ms, styles)
    messages = [d.message for d in exc.value.report.errors if d.code == "M007"]
    assert any("language_names for az" in m for m in messages), messages


def test_a_glossary_in_english_and_french_builds(ms, tmp_path):
    """The glossary may pair any languages: [en, fr] (no labels key 'fr' crash)."""
    _set(ms, "languages: [en, az]", "languages: [en, fr]")
    g = (ms / "glossary.yaml").read_text(encoding="utf-8")
    g = g.replace("az: qurultay", "fr: congrès").replace("az: diaspor", "fr: diaspora") \
         .replace("az: həmrəylik", "fr: solidarité")
    g = re.sub(r"    az: .*", "    fr: Une définition en français.", g)
    (ms / "glossary.yaml").write_text(g, encoding="utf-8")
    pdf, _ = build_pdf(ms, tmp_path / "out", STYLES)
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        text = " ".join(p.extract_text() or "" for p in doc.pages)
    assert "Index of French terms" in text and "congrès" in text
    # "p. 7" before one page, "pp. 7, 9" before several
    assert re.search(r"\bp\. \d+\b", text)


def test_french_collation():
    words = ["responsabilité", "résiliation", "rester", "résumé", "Résumé", "éditeur", "edition", "zèbre"]
    got = sorted(words, key=lambda w: sort_key(w, "fr"))
    assert got.index("résiliation") < got.index("responsabilité")
    assert got.index("éditeur") < got.index("edition") < got.index("zèbre")     # accents do not decide first


def test_azerbaijani_collation_matches_its_alphabet_on_every_word_of_the_first_book():
    """ICU's az order equals the 32-letter alphabet's (the rank table the first book was checked with)."""
    alphabet = "a b c ç d e ə f g ğ h x ı i j k q l m n o ö p r s ş t u ü v y z".split()
    rank = {ch: i for i, ch in enumerate(alphabet)}
    from matbaa.language import lower

    text = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "manuscript" / "chapters").glob("*.md"))
    words = sorted({w for w in re.findall(r"[^\W\d_]+", text) if all(c in rank for c in lower(w, "az"))})
    assert len(words) > 1000
    by_table = sorted(words, key=lambda w: ([rank[c] for c in lower(w, "az")], w))
    by_icu = sorted(words, key=lambda w: sort_key(w, "az"))
    lowered = lambda ws: [lower(w, "az") for w in ws]          # ties of case aside
    assert lowered(by_icu) == lowered(by_table)


def test_legal_breaks_by_the_books_language():
    en = legal_breaks_for("en")
    assert 4 in en("software") and 3 in en("program")       # soft-ware, pro-gram
    az = legal_breaks_for("az")
    assert 4 in az("azərbaycan") and 1 not in az("struktur")          # azər-bay-can


def test_english_variants_are_not_noise():
    from collections import Counter

    forms = {"to": Counter({"to": 9, "too": 2}), "met": Counter({"met": 1, "meet": 3}),
             "gnu": Counter({"GNU": 4, "Gnu": 1}), "traveled": Counter({"traveled": 2, "travelled": 1})}
    seen = {w: ("a.md", 1) for c in forms.values() for w in c}
    found = spelling_variants(forms, seen, turkic=False)
    assert [f.message.split("'")[1] for f in found] == ["traveled"] or \
        [f.message.split("'")[1] for f in found] == ["travelled"]


def test_english_typography_checks_are_quiet(ms):
    p = ms / "chapters" / "01-first.md"
    p.write_text(p.read_text(encoding="utf-8") + "\nIt ended.  Then it began again.  See `a  b - c`.\n\n"
                 "```\nls  -l  - x 1-2\n```\n", encoding="utf-8")
    book, _ = load(ms)
    findings = typography(book)
    assert [f.code for f in findings if f.code in ("T003", "T004", "T005")] == []


def test_french_spaces_are_not_t006_but_english_ones_are(ms):
    p = ms / "chapters" / "01-first.md"
    p.write_text(p.read_text(encoding="utf-8") + "\nWhy ? Because .\n", encoding="utf-8")
    book, _ = load(ms)
    assert {f.message for f in typography(book) if f.code == "T006"} == {"space before '?'", "space before '.'"}
    _set(ms, "lang: en\n", "lang: fr\n")
    _set(ms, "languages: [en, az]", "languages: [fr, az]")
    g = (ms / "glossary.yaml").read_text(encoding="utf-8").replace("    en: ", "    fr: ").replace("{en: ", "{fr: ")
    (ms / "glossary.yaml").write_text(g, encoding="utf-8")
    book, _ = load(ms)
    assert {f.message for f in typography(book) if f.code == "T006"} == {"space before '.'"}
