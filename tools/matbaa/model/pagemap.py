"""The page map: where each printed page begins in the running text, and what
the layout loop corrected to get there.

Made by the print layout (typeset/pagemap.py reads it from WeasyPrint's
boxes; typeset/correct.py adds the corrections), saved beside the PDF as
`<id>.pages.json`, and read by the EPUB (its page-list), `make html` and the
proof.  Word k is word k of the running text as model/words.py counts it, in
the print edition and in the EPUB alike.

A saved map belongs to one layout: `key` is the layout key of the print
document it was read from (typeset/engine.layout_key: the HTML, every CSS,
font and pattern byte, and the versions of the engine's libraries).  A map
whose key is not the one the book would be laid out with now is stale, and
build.py lays the book out again: never a page-list from another layout.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from matbaa.files import write_text


@dataclass(frozen=True)
class Corrections:
    """What the layout loop decided, as data (transforms/corrections.py applies
    it to a Book and gives a new one): the words before which a page ends (the
    paragraph is split there), and the words kept whole (no hyphen)."""
    forced: tuple[int, ...] = ()
    unhyphenated: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.forced or self.unhyphenated)

    def shifted(self, words: int) -> Corrections:
        """The same corrections with word indexes counted `words` further on."""
        return Corrections(tuple(k + words for k in self.forced), tuple(k + words for k in self.unhyphenated))


@dataclass
class HyphenStats:
    lines: int = 0
    hyphenated: int = 0
    share: float = 0.0
    longest_run: int = 0
    page_end: int = 0


@dataclass
class PageMap:
    words: list[str] = field(default_factory=list)              # the running text's words, in order
    pages: dict[int, int] = field(default_factory=dict)          # page -> index of the first word starting on it
    anchors: dict[str, int] = field(default_factory=dict)        # element id -> first page it is on
    count: int = 0                                               # the pages laid out
    line_words: list[int] = field(default_factory=list)          # the word holding each line's first letter
    line_ids: list[list[str]] = field(default_factory=list)      # the ids on each line
    line_pages: list[int] = field(default_factory=list)          # the page of each line
    hyphenation: HyphenStats = field(default_factory=HyphenStats)
    hyphen_fix: list[int] = field(default_factory=list)          # words whose hyphen should not be (a round more)
    # set by the layout loop (typeset/correct.py)
    forced: list[int] = field(default_factory=list)              # the corrections in this very layout
    unhyphenated: list[int] = field(default_factory=list)
    misplaced: list[list] = field(default_factory=list)          # [note id, its call's page, its page]
    rounds: int = 1
    linebreak: str = ""                                          # "optimal" or "greedy", as set
    # set when saved: what it was laid out from
    html: str = ""                                               # sha256 of the print document
    key: str = ""                                                # the layout key (module docstring)

    @property
    def corrections(self) -> Corrections:
        return Corrections(tuple(self.forced), tuple(self.unhyphenated))

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["pages"] = {str(k): v for k, v in sorted(self.pages.items())}
        if not self.linebreak:
            del out["linebreak"]
        return out

    @classmethod
    def from_json(cls, data: dict) -> PageMap:
        names = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        known["pages"] = {int(k): v for k, v in (data.get("pages") or {}).items()}
        known["hyphenation"] = HyphenStats(**(data.get("hyphenation") or {}))
        return cls(**known)

    def save(self, path: Path) -> None:
        """Saved with the SHA-256 of its content (`sha256`), which load() checks."""
        data = self.to_json()
        data["sha256"] = _checksum(data)
        write_text(path, json.dumps(data, ensure_ascii=False, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> PageMap | None:
        """The saved map, or None (no file, not a page map, or one whose content
        is not what was saved: a damaged file is laid out again, never used)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.pop("sha256", None) != _checksum(data):
                return None
            return cls.from_json(data)
        except (OSError, ValueError, TypeError, AttributeError, KeyError, RecursionError):
            return None


def _checksum(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
