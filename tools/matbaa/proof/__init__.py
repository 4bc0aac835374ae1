"""`make proof`: the proof edition, the proof report, the contact sheet.

    matbaa proof [-m MANUSCRIPT] [-o BUILD]

Writes BUILD/proof/: <id>.pdf (the reading PDF as proofed), <id>.epub,
<id>-proof.pdf (the same pages with a proof mark, the build's identity, line
numbers and each paragraph's source, drawn over the unchanged layout),
report.html with every finding and a contact sheet, and findings.json.
Exit status 1 when a finding is an error.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from ..diagnostics import ManuscriptError, Report
from .catalogue import CATALOGUE, ERROR, Finding


def _identity(root: Path) -> str:
    """The version-control identity of the manuscript: commit, and whether it has changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return (commit or "no commit") + (" +changes" if dirty else "")


def make_proof(manuscript: Path, build: Path, styles: Path) -> tuple[list[Finding], Path]:
    from ..build import load
    from ..writers.pdf import layout_book
    from . import checks
    from .layout import all_lines
    from .overlay import write_proof_pdf
    from .report import write_report

    manuscript, build = Path(manuscript), Path(build)
    out = build / "proof"
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    identity = _identity(manuscript)
    report = Report()
    try:
        book, report = load(manuscript, styles, report)
    except ManuscriptError as exc:
        findings = [_from_diagnostic(d, manuscript) for d in exc.report.items]
        write_report(out, findings, None, [], identity, stamp, title=str(manuscript))
        return findings, out
    findings = [_from_diagnostic(d, manuscript) for d in report.items]

    from .. import pagemap
    from ..files import atomic_path

    html, document, data = layout_book(book, styles, out)
    pdf_path = out / f"{book.id}.pdf"
    with atomic_path(pdf_path) as tmp:
        document.write_pdf(str(tmp), pdf_variant="pdf/ua-1")
    pagemap.save(out / f"{book.id}.pages.json", html, data)
    lines = all_lines(document)

    from ..build import build_epub

    epub_path, _ = build_epub(manuscript, out, styles)

    from ..collate import source_text as read_source_text

    source_text = read_source_text(book)
    findings += checks.typography(book)
    findings += checks.apparatus(book)
    findings += checks.layout(book, lines, data, len(document.pages))
    findings += checks.fonts(pdf_path, lines, checks.shipped_fonts(styles))
    if source_text is not None:
        findings += checks.collation(book, source_text, checks.pdf_words(pdf_path, lines, book.labels),
                                     checks.epub_words(epub_path))
    checks.place(findings, lines)
    findings.append(Finding("S001", spelling_notice(book, styles)))
    findings.sort(key=lambda f: (f.page or 10**6, f.page_line or 0, f.file or "", f.line or 0, f.code))
    proof_pdf = write_proof_pdf(book, styles, out, pdf_path, document, lines, identity, stamp)
    write_report(out, findings, proof_pdf, lines, identity, stamp, title=book.meta["title"], pdf=pdf_path)
    return findings, out


def spelling_notice(book, styles: Path) -> str:
    """S001: the proof has no spell checker; say so in the book's language's name."""
    from .. import config
    from ..language import primary

    names = (config.safe_load((styles / "labels.yaml").read_text(encoding="utf-8"))["en"]
             .get("language_names") or {})
    lang = primary(book.lang)
    name = names.get(lang, book.lang)
    if lang == "az":
        return ("no Azerbaijani spelling dictionary is packaged for Debian or PyPI; "
                "spelling was not checked (a project word list would only advise)")
    return f"spelling was not checked: the proof has no {name} ({book.lang}) spell checker"


def _from_diagnostic(d, root: Path) -> Finding:
    f = d.location.file
    try:
        rel = str(Path(f).relative_to(root))
    except ValueError:
        rel = str(f)
    return Finding(d.code, d.message, rel, d.location.line)


def summary(findings: list[Finding], out: Path) -> str:
    from collections import Counter

    counts = Counter(f.severity for f in findings)
    lines = [str(f) for f in findings if f.severity == ERROR][:30]
    lines.append(f"proof: {counts.get('error', 0)} error(s), {counts.get('warning', 0)} warning(s), "
                 f"{counts.get('info', 0)} note(s) — {out / 'report.html'}")
    return "\n".join(lines)


def main(manuscript: Path, build: Path, styles: Path) -> int:
    findings, out = make_proof(manuscript, build, styles)
    (out / "findings.json").write_text(json.dumps(
        [dict(code=f.code, severity=f.severity, category=f.category, message=f.message, file=f.file,
              line=f.line, page=f.page, page_line=f.page_line) for f in findings],
        ensure_ascii=False, indent=1), encoding="utf-8")
    print(summary(findings, out))
    return 1 if any(f.severity == ERROR for f in findings) else 0


__all__ = ["make_proof", "main", "CATALOGUE", "Finding"]
