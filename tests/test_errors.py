"""Bad manuscripts: every problem reported with file:line and code, nothing written."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matbaa.build import build_epub, load
from matbaa.diagnostics import ManuscriptError
from matbaa.sample import HERE as SAMPLE


@pytest.fixture
def ms(tmp_path) -> Path:
    root = tmp_path / "ms"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def codes(root: Path) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ManuscriptError) as exc:
        load(root)
    return [(d.code, d.location.file.name, d.location.line) for d in exc.value.report.errors]


def test_sample_is_clean(ms):
    book, report = load(ms)
    assert report.items == []


def test_yaml_syntax_error_has_its_line(ms):
    p = ms / "book.yaml"
    p.write_text(p.read_text().replace("title: A Sample Book", "title: [A Sample Book"))
    assert codes(ms)[0][:2] == ("M002", "book.yaml")


def test_missing_and_unknown_keys_all_reported(ms):
    p = ms / "book.yaml"
    text = p.read_text().replace("identifier:", "identifer:").replace("lang: en\n", "")
    p.write_text(text)
    got = codes(ms)
    assert ("M005", "book.yaml", 3) in got          # the typo, at its line
    assert {c for c, _, _ in got} >= {"M003", "M005"}
    assert len([c for c in got if c[0] == "M003"]) == 2   # identifier and lang


def test_missing_chapter_file(ms):
    (ms / "chapters" / "02-second.md").unlink()
    line = next(n for n, t in enumerate((ms / "book.yaml").read_text().splitlines(), 1) if "02-second.md" in t)
    assert ("M006", "book.yaml", line) in codes(ms)


def test_note_problems(ms):
    p = ms / "chapters" / "01-first.md"
    text = p.read_text()
    call = text[:text.index("homeland.[^first]")].count("\n") + 1
    unused = text.count("\n") + 2          # the line appended below
    text = text.replace("homeland.[^first]", "homeland.[^first] Again[^nowhere].")
    text += "\n[^unused]: Never called.\n"
    p.write_text(text)
    got = codes(ms)
    assert ("N001", "01-first.md", call) in got
    assert ("N003", "01-first.md", unused) in got


def test_duplicate_note_definition(ms):
    p = ms / "chapters" / "02-second.md"
    line = p.read_text().count("\n") + 2
    p.write_text(p.read_text() + "\n[^second]: Twice.\n")
    assert ("N002", "02-second.md", line) in codes(ms)


def test_unknown_glossary_mark_and_duplicate_entry(ms):
    p = ms / "chapters" / "02-second.md"
    p.write_text(p.read_text().replace("{term=solidarity}", "{term=solidarty}"))
    g = ms / "glossary.yaml"
    g.write_text(g.read_text() + "- id: congress\n  term: {en: c, az: c}\n  definition: {en: c, az: c}\n")
    got = codes(ms)
    assert ("G004", "02-second.md", 3) in got
    assert ("G003", "glossary.yaml", 17) in got


def test_glossary_entry_missing_a_language(ms):
    g = ms / "glossary.yaml"
    g.write_text(g.read_text().replace("    az: Nümayəndələrin rəsmi toplantısı.\n", ""))
    assert ("G002", "glossary.yaml", 1) in codes(ms)


def test_not_utf8(ms):
    (ms / "chapters" / "01-first.md").write_bytes("Bakı\n".encode("utf-8") + "ə".encode("utf-16"))
    assert ("F001", "01-first.md", 2) in codes(ms)


def test_bom_and_crlf_give_the_same_book(ms, tmp_path):
    clean, _ = build_epub(ms, tmp_path / "a")
    p = ms / "chapters" / "01-first.md"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n"))
    again, report = build_epub(ms, tmp_path / "b")
    assert {d.code for d in report.warnings} == {"F002"}
    assert again.read_bytes() == clean.read_bytes()


@pytest.mark.parametrize("target", ["file:///etc/passwd", "../../secret.png", "http://127.0.0.1:9/x.png"])
def test_images_outside_the_manuscript_are_refused(ms, target):
    p = ms / "chapters" / "01-first.md"
    line = p.read_text().count("\n") + 2
    p.write_text(p.read_text() + f"\n![x]({target})\n")
    assert ("D002", "01-first.md", line) in codes(ms)


def test_raw_html_is_not_passed_through(ms, tmp_path):
    p = ms / "chapters" / "01-first.md"
    p.write_text(p.read_text() + "\n<script>alert(1)</script>\n")
    out, report = build_epub(ms, tmp_path)
    assert "D001" in {d.code for d in report.warnings}
    import zipfile

    with zipfile.ZipFile(out) as z:
        part = z.read("EPUB/part-1.xhtml").decode()
    assert "<script" not in part and "&lt;script&gt;" in part


def test_cli_reports_all_errors_without_traceback_and_writes_nothing(ms, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sample-book.pdf").write_bytes(b"previous good build")
    p = ms / "chapters" / "02-second.md"
    unused = p.read_text().count("\n") + 2
    p.write_text(p.read_text().replace("{term=solidarity}", "{term=nope}") + "\n[^x]: never called\n")
    proc = subprocess.run([sys.executable, "-m", "matbaa", "build", "pdf", "-m", str(ms), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "02-second.md:3: G004: error:" in proc.stderr
    assert f"02-second.md:{unused}: N003: error:" in proc.stderr
    assert (out / "sample-book.pdf").read_bytes() == b"previous good build"
    assert sorted(f.name for f in out.iterdir()) == ["sample-book.pdf"]


def test_readme_lists_every_error_code():
    from conftest import ROOT

    from matbaa.diagnostics import CATALOGUE

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, (severity, meaning) in CATALOGUE.items():
        assert f"| {code} | {severity} | {meaning} |" in readme, code


def test_wrong_type_and_bad_values(ms):
    p = ms / "book.yaml"
    text = p.read_text().replace("title: A Sample Book", "title: [A, list]").replace("lang: en", "lang: english!")
    p.write_text(text.replace("  numbering: continuous", "  numbering: sometimes"))
    got = codes(ms)
    assert ("M004", "book.yaml", 4) in got        # title is not a text
    assert ("M004", "book.yaml", 10) in got       # not a BCP 47 tag
    assert ("M004", "book.yaml", 16) in got       # not one of the choices


def test_empty_chapter_is_built_with_a_warning(ms, tmp_path):
    (ms / "chapters" / "02-second.md").write_text("")
    out, report = build_epub(ms, tmp_path)
    assert "D003" in {d.code for d in report.warnings}
    assert out.is_file()
