"""Writing outputs safely: never a half-built file in place of a good one."""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

#: For tests/test_safety.py: `MATBAA_DIE_WRITING=NAME:N` makes a build that
#: writes the output NAME kill itself (SIGKILL) once N bytes of it are written,
#: before the rename: a build killed while it writes, at a known point.
DIE_WRITING = "MATBAA_DIE_WRITING"


@contextlib.contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside `target`; rename it over `target` on success.

    The rename is atomic on one file system, so a build killed at any moment
    leaves either the previous output or the new one, never a broken one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        _die_if_asked(target, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(target: Path, data: bytes) -> None:
    if target.is_file() and target.read_bytes() == data:
        return  # unchanged: keep the file (and its mtime) as it is
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def _die_if_asked(target: Path, tmp: str) -> None:
    name, _, size = os.environ.get(DIE_WRITING, "").rpartition(":")
    if name and name == target.name and size.isdigit():
        with open(tmp, "r+b") as fh:
            fh.truncate(min(int(size), os.path.getsize(tmp)))
        os.kill(os.getpid(), signal.SIGKILL)
