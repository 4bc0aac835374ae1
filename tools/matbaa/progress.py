"""Progress of long builds on a terminal: the layout round and the page being laid out.

WeasyPrint reports its steps on the 'weasyprint.progress' logger ("Step 5 -
Creating layout - Page 12"); on a terminal they are shown on one status line,
with the layout round of writers/pdf.layout_book.  Quiet when stderr is not a
terminal (CI, pipes, make's output in a file).
"""
from __future__ import annotations

import logging
import sys

_state = {"round": 1, "book": ""}


class _Status(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "Page" in msg:
            page = msg.rsplit(" ", 1)[-1]
            sys.stderr.write(f"\r\033[Kmatbaa: {_state['book']}: layout round {_state['round']}, page {page}")
            sys.stderr.flush()


def enable(stream=None) -> bool:
    stream = stream or sys.stderr
    if not stream.isatty():
        return False
    logger = logging.getLogger("weasyprint.progress")
    if not any(isinstance(h, _Status) for h in logger.handlers):
        logger.addHandler(_Status())
        logger.setLevel(logging.INFO)
    return True


def set_round(book_id: str, number: int) -> None:
    _state.update(book=book_id, round=number)


def done() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
