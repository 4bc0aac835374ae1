"""Number the notes in the order of their calls (continuous, or per part)."""
from __future__ import annotations


def _walk_calls(tokens):
    for tok in tokens:
        if tok.type == "inline" and tok.children:
            for child in tok.children:
                if child.type == "footnote_ref":
                    yield child


def number_notes(book, report) -> None:
    per_part = (book.meta.get("notes") or {}).get("numbering") == "per-part"
    n = 0
    for part in book.parts:
        if per_part:
            n = 0
        for chapter in part.chapters:
            for ref in _walk_calls(chapter.tokens):
                note = book.notes.get(ref.meta.get("label"))
                if note is None or note.number:
                    continue
                n += 1
                note.number = n
                note.part_index = part.index
                note.call_id = f"fnref-{note.id}"
                ref.meta["note"] = note
                # notes called from inside notes (rare) get numbers after their caller
                for inner in _walk_calls(note.tokens):
                    inner_note = book.notes.get(inner.meta.get("label"))
                    if inner_note is not None and not inner_note.number:
                        n += 1
                        inner_note.number = n
                        inner_note.part_index = part.index
                        inner_note.call_id = f"fnref-{inner_note.id}"
                        inner.meta["note"] = inner_note
