"""One key scheme for every cache: a SHA-256 of JSON-able parts.

The layout cache (typeset/parallel.py), the page map (model/pagemap.py, checked
by build.py), the cover (typeset/cover.py) and the EPUB's pieces
(epub/writer.py) all key what they keep by `digest` of what it is made of;
`tree_digests` names every file of a folder by its content, `code_digest`
matbaa's own code and the installed distributions.  What the typesetting
engine adds (the versions of WeasyPrint's libraries) is typeset/engine.layout_key.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def digest(*parts) -> str:
    """A key from JSON-able parts (lists and dicts in a fixed order: never a set)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tree_digests(folder: Path, suffixes: tuple[str, ...] | None = None,
                 contents: dict[str, bytes] | None = None) -> dict[str, str]:
    """relative path -> SHA-256 of every file under `folder` (of the given suffixes);
    `contents`, if given, receives the bytes read (relative path -> bytes)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel = os.path.relpath(dirpath, folder).replace(os.sep, "/")
        for name in sorted(filenames):
            if suffixes is None or name.endswith(suffixes):
                data = Path(dirpath, name).read_bytes()
                key = name if rel == "." else f"{rel}/{name}"
                out[key] = hashlib.sha256(data).hexdigest()
                if contents is not None:
                    contents[key] = data
    return out


@functools.cache
def distributions() -> tuple[str, ...]:
    """The installed distributions, as their metadata folders name them
    (`weasyprint-70.0.dist-info`): name and version, without importing
    importlib.metadata (a tenth of a warm EPUB build)."""
    found = set()
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found.update(n for n in names if n.endswith((".dist-info", ".egg-info")))
    return tuple(sorted(found))


@functools.cache
def code_digest() -> str:
    """matbaa's own sources, the Python, and the installed distributions (name
    and version of each: their code is theirs)."""
    return digest(sys.version, sys.platform, list(distributions()), tree_digests(PACKAGE, (".py",)))
