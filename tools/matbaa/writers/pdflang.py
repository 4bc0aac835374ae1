"""The language of each tagged element in the PDF's structure tree (/Lang).

WeasyPrint 70 writes the document's language (the catalog's /Lang, from
<html lang>) but no /Lang on structure elements, so a screen reader reads the
glossary's French or German equivalents, or an English paragraph, with the
book language's voice.  Its tagger (weasyprint.pdf.tags) builds one structure
element per box in `_build_box_tree`, a generator it calls recursively through
the module's global name; wrapping that name lets each element take the
`lang` of its box's HTML element when it differs from the document's.  In
PDF, /Lang on a structure element holds for everything below it, as lang does
in HTML.  Checked by tests/test_second_book.py and tests/test_pdf.py.
"""
from __future__ import annotations

import pydyf

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from weasyprint.pdf import tags

    build = tags._build_box_tree

    # the language in force, innermost last: the tagger walks the boxes depth first,
    # and each generator is drained by its parent before the next sibling starts
    stack: list[str | None] = []

    def build_with_lang(box, parent, *args, **kwargs):
        element = getattr(box, "element", None)
        tag = getattr(box, "element_tag", None)
        lang = element.get("lang") if element is not None else None
        if tag == "html":
            stack[:] = [lang]
        inherited = stack[-1] if stack else None
        stack.append(lang or inherited)
        try:
            for struct in build(box, parent, *args, **kwargs):
                if lang and lang != inherited and tag not in ("html", "body") and "Lang" not in struct:
                    struct["Lang"] = pydyf.String(lang)
                yield struct
        finally:
            stack.pop()

    tags._build_box_tree = build_with_lang
    _INSTALLED = True
