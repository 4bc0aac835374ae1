"""Nothing lost, nothing leaks, same bytes every time."""
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matbaa.diagnostics import MatbaaError
from matbaa.files import DIE_WRITING
from matbaa.sample import HERE as SAMPLE

from conftest import MANUSCRIPT, ROOT, STYLES


@pytest.fixture
def ms(tmp_path) -> Path:
    root = tmp_path / "ms"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def tree_hash(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def matbaa(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "matbaa", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kw)


# ------------------------------------------------------------------ the fetcher

class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"\x89PNG")

    def log_message(self, *a):
        pass


def test_fetcher_reads_nothing_outside_and_never_the_network(tmp_path):
    from weasyprint import HTML

    from matbaa.typeset.engine import BookFetcher

    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    book = tmp_path / "book"
    book.mkdir()
    html = (f'<p>x<a rel="attachment" href="file://{secret}">a</a>'
            f'<img src="../secret.txt"/><img src="http://127.0.0.1:{port}/pixel.png"/>'
            f'<link rel="attachment" href="{secret}"/></p>')
    fetcher = BookFetcher([book])
    out = tmp_path / "out.pdf"
    HTML(string=html, base_url=str(book) + "/", url_fetcher=fetcher).write_pdf(out)
    server.shutdown()
    assert _Recorder.hits == []
    assert len(fetcher.refused) >= 3
    assert b"private" not in out.read_bytes()
    assert "/EmbeddedFiles" not in str(pypdf.PdfReader(out).trailer["/Root"])


def test_fetcher_serves_files_inside(tmp_path):
    from matbaa.typeset.engine import BookFetcher

    inside = tmp_path / "in.css"
    inside.write_text("p{}")
    fetcher = BookFetcher([tmp_path])
    assert fetcher.fetch(inside.as_uri()) is not None
    with pytest.raises(MatbaaError):
        fetcher.fetch((tmp_path.parent / "x.css").as_uri())


# ------------------------------------------------------------------ nothing lost

def test_build_never_writes_into_the_manuscript(tmp_path, built):
    shutil.copy(built.pdf.with_suffix(".pages.json"), tmp_path)   # spare a second layout
    before = tree_hash(MANUSCRIPT)
    for fmt in ("html", "epub"):
        assert matbaa("build", fmt, "-m", str(MANUSCRIPT), "-o", str(tmp_path), cwd=ROOT).returncode == 0
    assert tree_hash(MANUSCRIPT) == before


def test_killed_pdf_build_leaves_the_previous_output(ms, tmp_path):
    """A build killed while it writes the PDF (files.DIE_WRITING: the process
    kills itself once N bytes are written, before the rename) leaves the
    previous PDF exactly as it was, whatever N."""
    out = tmp_path / "out"
    assert matbaa("build", "pdf", "-m", str(ms), "-o", str(out)).returncode == 0
    good = (out / "sample-book.pdf").read_bytes()
    p = ms / "chapters" / "01-first.md"
    p.write_text(p.read_text() + "\nA paragraph more, so that the build writes another PDF.\n")
    for size in (0, 4096, len(good) - 1, 10 ** 9):
        proc = matbaa("build", "pdf", "-m", str(ms), "-o", str(out), env={DIE_WRITING: f"sample-book.pdf:{size}"})
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert (out / "sample-book.pdf").read_bytes() == good
    assert matbaa("build", "pdf", "-m", str(ms), "-o", str(out)).returncode == 0
    assert (out / "sample-book.pdf").read_bytes() != good       # the hook alone kept the old PDF


# ------------------------------------------------------------------ reproducible

def test_same_bytes_across_time_zones_and_hash_seeds(ms, tmp_path):
    outs = []
    for i, (tz, seed) in enumerate((("UTC", "1"), ("Asia/Baku", "2"), ("America/New_York", "3"))):
        out = tmp_path / f"o{i}"
        proc = matbaa("build", "pdf", "epub", "-m", str(ms), "-o", str(out),
                      env={"TZ": tz, "PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        outs.append(((out / "sample-book.pdf").read_bytes(), (out / "sample-book.epub").read_bytes()))
        time.sleep(1.1)  # a different wall-clock second for each build
    assert outs[0] == outs[1] == outs[2]


def test_source_date_epoch_sets_the_dates(ms, tmp_path):
    proc = matbaa("build", "pdf", "epub", "-m", str(ms), "-o", str(tmp_path), env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert proc.returncode == 0, proc.stderr
    meta = pypdf.PdfReader(tmp_path / "sample-book.pdf").metadata
    assert meta["/CreationDate"] == "D:20231114221320Z"
    import zipfile

    with zipfile.ZipFile(tmp_path / "sample-book.epub") as z:
        assert "2023-11-14T22:13:20Z" in z.read("EPUB/content.opf").decode()
        assert all(i.date_time == (2023, 11, 14, 22, 13, 20) for i in z.infolist())


# ------------------------------------------------------------------ any input

yaml_text = st.text(alphabet=st.sampled_from(list("abc:- \n[]{}'\"#&*!|>%@`0123ə\t")), max_size=200)
md_text = st.text(alphabet=st.sampled_from(list("ab [](){}^:=.*_#`<>!\n\\-|~ə1")), max_size=300)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(meta=yaml_text, chapter=md_text)
def test_reader_never_raises_anything_but_its_own_errors(tmp_path_factory, meta, chapter):
    root = tmp_path_factory.mktemp("fuzz")
    valid = (SAMPLE / "book.yaml").read_text()
    (root / "book.yaml").write_text(meta if len(meta) % 2 else valid, encoding="utf-8")
    (root / "chapters").mkdir()
    (root / "chapters" / "01-first.md").write_text(chapter, encoding="utf-8")
    (root / "chapters" / "02-second.md").write_text(chapter[::-1], encoding="utf-8")
    shutil.copy(SAMPLE / "glossary.yaml", root / "glossary.yaml")
    from matbaa.build import load

    try:
        load(root, STYLES)
    except MatbaaError:
        pass
