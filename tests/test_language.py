from matbaa.language import lower, sort_key, upper

AZ = "a b c ç d e ə f g ğ h x ı i j k q l m n o ö p r s ş t u ü v y z".split()


def test_alphabet_order_is_azerbaijani():
    shuffled = list(reversed(AZ))
    assert sorted(shuffled, key=lambda w: sort_key(w, "az")) == AZ


def test_words_sort_by_azerbaijani_alphabet_not_code_points():
    words = ["xalq", "həmrəylik", "ıldırım", "icma", "qurultay", "kimlik", "çevrə", "cəmiyyət", "İsveçrə"]
    got = sorted(words, key=lambda w: sort_key(w, "az"))
    assert got == ["cəmiyyət", "çevrə", "həmrəylik", "xalq", "ıldırım", "icma", "İsveçrə", "kimlik", "qurultay"]


def test_turkic_casing():
    assert upper("ilkin ışıq, işıq", "az") == "İLKİN IŞIQ, İŞIQ"
    assert lower("İSVEÇRƏ IŞIQ", "az") == "isveçrə ışıq"
    assert upper("i", "en") == "I"
