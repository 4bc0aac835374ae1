"""Progress of long builds on a terminal: the layout round and the page being laid out.

The engine reports each page WeasyPrint lays out (`engine.on_page`, from its
progress log); on a terminal they are shown on one status line, with the
layout round of the layout loop (typeset/correct.py).  Quiet when stderr is
not a terminal (CI, pipes, make's output in a file).
"""
from __future__ import annotations

import sys

from matbaa.typeset import engine

_state = {"round": 1, "book": ""}


def _show(page: int) -> None:
    sys.stderr.write(f"\r\033[Kmatbaa: {_state['book']}: layout round {_state['round']}, page {page}")
    sys.stderr.flush()


def enable(stream=None) -> bool:
    """Show the status line if `stream` (stderr) is a terminal; whether it is shown."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return False
    engine.on_page(_show)
    return True


def set_round(book_id: str, number: int) -> None:
    _state.update(book=book_id, round=number)


def done() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
