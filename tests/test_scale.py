"""Inputs at the edge of the scale (slow: `make test-slow`, run by CI)."""
import random
import shutil
import subprocess
import sys

import pypdf
import pytest

from matbaa.sample import HERE as SAMPLE

pytestmark = pytest.mark.slow


def test_a_50000_word_paragraph_is_built(tmp_path):
    root = tmp_path / "ms"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    rng = random.Random(1)
    vocab = ("the diaspora kept its ties with the homeland through letters newspapers and visits "
             "over many decades while communities grew").split()
    paragraph = " ".join(rng.choice(vocab) for _ in range(50_000)) + "."
    second = root / "chapters" / "02-second.md"
    second.write_text(second.read_text() + "\n" + paragraph + "\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "matbaa", "build", "pdf", "epub", "-m", str(root), "-o", str(out)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    assert len(pypdf.PdfReader(out / "sample-book.pdf").pages) > 120
    assert (out / "sample-book.epub").stat().st_size > 100_000
