"""matbaa installed as a user installs it: `pip install .` (a wheel, not the
editable install of `make`) into a new virtual environment, then, in a folder
that has nothing to do with the repository, `matbaa new` and a build of the
PDF and the EPUB.  The wheel must carry everything a build reads: the styles
(matbaa/styles: templates, CSS, fonts, hyphenation patterns, labels, CSL) and
the sample.  About 20 s (the dependencies come from the package index): `make test-slow`."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdf
import pytest

from conftest import ROOT, STYLES


def _run(cmd: list, cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.slow          # 20 s: `make test-slow`, which CI runs, keeps `make test` quick
def test_wheel_builds_a_book_anywhere(tmp_path):
    # nothing of the repository on the path: no PYTHONPATH, no editable install
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path, env)
    py, matbaa = venv / "bin" / "python", venv / "bin" / "matbaa"
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", ROOT], tmp_path, env, timeout=900)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # the styles are the wheel's own package data, all of them
    where = _run([py, "-c", "from matbaa.resources import default_styles; print(default_styles())"], elsewhere, env)
    packaged = Path(where.stdout.strip())
    assert packaged.is_relative_to(venv) and packaged.parts[-2:] == ("matbaa", "styles"), packaged
    files = sorted(p.relative_to(STYLES).as_posix() for p in STYLES.rglob("*") if p.is_file())
    assert sorted(p.relative_to(packaged).as_posix() for p in packaged.rglob("*") if p.is_file()) == files

    _run([matbaa, "new", "sample"], elsewhere, env)
    _run([matbaa, "build", "pdf", "-m", "sample", "-o", "out"], elsewhere, env)
    _run([matbaa, "build", "epub", "-m", "sample", "-o", "out"], elsewhere, env)

    pdf, epub = elsewhere / "out" / "sample-book.pdf", elsewhere / "out" / "sample-book.epub"
    assert len(pypdf.PdfReader(pdf).pages) > 0
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        assert names[0] == "mimetype" and z.read("mimetype") == b"application/epub+zip"
        assert z.testzip() is None
