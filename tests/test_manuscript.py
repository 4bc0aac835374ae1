"""The first book's manuscript: every word of the source, and a real apparatus."""

from conftest import MANUSCRIPT

from matbaa.proof.collate import collate, edition_words, words
from matbaa.language import lower


def test_every_word_of_the_source_is_in_the_edition(book):
    source = (MANUSCRIPT / book.meta["source"]["file"]).read_text(encoding="utf-8")
    diffs = collate(book, source)
    unexplained = [str(d) for d in diffs if d.explained_by is None]
    assert unexplained == [], "\n".join(unexplained)
    # the documented removals are exactly the page furniture and serial notices
    removed = " ".join(w for d in diffs for w in d.source)
    assert "ardı var" in removed and "əvvəli ötən sayda" in removed
    assert all(d.op == "delete" for d in diffs)


def test_collation_catches_a_lost_word(book):
    source = (MANUSCRIPT / book.meta["source"]["file"]).read_text(encoding="utf-8")
    damaged = source.replace("Navuxodonosor", "Navuxodonosor Nebukadnezar", 1)
    diffs = [d for d in collate(book, damaged) if d.explained_by is None]
    assert len(diffs) == 1 and diffs[0].source == ["Nebukadnezar"] and diffs[0].op == "delete"
    assert diffs[0].location.file.name == "01-birinci-hisse.md"


def test_every_correction_has_a_reason(book):
    assert book.corrections
    for c in book.corrections:
        assert c["kind"] in ("removed", "word", "punctuation")
        assert len(str(c["reason"]).split()) >= 5


def test_two_parts_and_serial_notices_removed(book):
    assert [p.title for p in book.parts] == ["Birinci hissə", "İkinci hissə"]
    text = " ".join(w for w, _ in edition_words(book))
    for furniture in ("ardı var", "P R E Z", "əvvəli ötən"):
        assert furniture not in text
    # real hyphens at the source's line ends are kept
    for word in ("1969-cu", "ictimai-siyasi", "2-ci"):
        assert word in text.split()


def test_apparatus_size(book):
    assert len(book.notes) >= 15
    assert len(book.glossary) >= 30
    for e in book.glossary:
        assert all(e.term.values()) and all(e.definition.values())


def test_each_entry_is_marked_at_its_first_appearance_in_each_part(book):
    for entry in book.glossary:
        assert entry.marks, entry.id
        parts = [m.part_index for m in entry.marks]
        assert len(parts) == len(set(parts)), f"{entry.id} is marked twice in one part"
    # a marked form (word or phrase) does not occur earlier, unmarked, in the same part
    for part in book.parts:
        seen: list[str] = []
        for chapter in part.chapters:
            for tok in chapter.tokens:
                if tok.type != "inline":
                    continue
                for child in tok.children or []:
                    if child.type == "term_open":
                        mark = child.meta["mark"]
                        phrase = [lower(w, "az") for w in words(mark.text)]
                        earlier = any(seen[i:i + len(phrase)] == phrase for i in range(len(seen)))
                        assert not earlier, f"{mark.location}: '{mark.text}' appears earlier in the part"
                    if child.type == "text":
                        seen += [lower(w, "az") for w in words(child.content)]
