"""What both writers need: the Jinja environment and the book's data for templates."""
from __future__ import annotations

import datetime as dt
import re
import os
from dataclasses import dataclass
from pathlib import Path

from matbaa import __version__
from matbaa.language import sort_key
from matbaa.model.book import Book
from matbaa.render.tokens import ref_id
from matbaa.transforms.typography import NOBR, transform_text


def f_sep(text: str):
    """For italic template text: keep f and a following ı apart (see transforms.typography)."""
    from markupsafe import Markup, escape

    return Markup(re.sub("f(ı)", r'f<span class="f-sep">\1</span>', str(escape(text))))


def keep_suffix(text: str):
    """For print template text (the glossary's definitions): a numeral or acronym
    and its suffix (1948-ci) stay on one line, by a WORD JOINER after the hyphen,
    as the renderer does in the running text (render/tokens.py, typography.NOBR)."""
    from markupsafe import Markup, escape

    return Markup(NOBR.sub(lambda m: m.group(0).replace("-", "-\u2060"), str(escape(text))))


def typeset(ctx, text: str) -> str:
    """For template text in the book's language, such as a label and its colon
    (the glossary's "voir :"): the running text's typography (transforms/typography.py:
    the language's spaces before punctuation), so its rules stay in one place."""
    return transform_text(text, ctx["lang"])


_URL = re.compile(r"https?://[^\s<]+")


def url_keep(html: str):
    """For print (the bibliography): a URL breaks where the line needs it
    (print.css: overflow-wrap), never after one of its hyphens, which would read
    as a word broken by hyphenation: a WORD JOINER follows each."""
    from markupsafe import Markup

    return Markup(_URL.sub(lambda m: m.group(0).replace("-", "-\u2060"), str(html)))


def jinja_env(styles: Path):
    """The templates' jinja2.Environment (jinja2 is imported here, when a template
    is needed: an EPUB build whose documents are all cached needs none)."""
    import jinja2

    # autoescape for every template (select_autoescape() misses .xhtml/.j2 names),
    # and an undefined variable is an error, not an empty string.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(styles / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["f_sep"] = f_sep
    env.filters["keep_suffix"] = keep_suffix
    env.filters["url_keep"] = url_keep
    env.filters["typeset"] = jinja2.pass_context(typeset)
    return env


@dataclass
class GlossaryView:
    languages: list[str]
    entries: list            # in the first language's alphabetical order
    reverse: list            # (term in the second language, entry), in its order


def glossary_view(book: Book) -> GlossaryView | None:
    if not book.glossary:
        return None
    langs = book.meta["glossary"]["languages"]
    entries = sorted(book.glossary, key=lambda e: sort_key(e.term[langs[0]], langs[0]))
    reverse = sorted(((e.term[langs[1]], e) for e in book.glossary), key=lambda p: sort_key(p[0], langs[1]))
    return GlossaryView(langs, entries, reverse)


def build_date(book: Book) -> dt.datetime:
    """The one date every output carries: SOURCE_DATE_EPOCH if set, else the
    book's `date` (never the clock), so that rebuilds give the same bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).replace(tzinfo=None)
    y, m, d = (book.meta["date"].split("-") + ["01", "01"])[:3]
    return dt.datetime(int(y), int(m), int(d))


def common_context(book: Book) -> dict:
    from markupsafe import Markup

    meta = book.meta
    return {
        "build_date": build_date(book).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "meta": meta,
        "labels": book.labels,
        "lang": book.lang,
        "authors": meta.get("author") or [],
        "editors": meta.get("editor") or [],
        "glossary": glossary_view(book),
        "bibliography": [{"id": ref_id(k), "html": Markup(h)} for k, h in book.bibliography],
        "version": __version__,
        "generator": f"matbaa {__version__}",
    }
