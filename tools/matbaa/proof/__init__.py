"""`make proof`: the proof edition, the proof report, the contact sheet.

    matbaa proof [-m MANUSCRIPT] [-o BUILD]

build.proof (the steps) writes BUILD/proof/: <id>.pdf (the reading PDF as proofed), <id>.epub,
<id>-proof.pdf (the same pages with a proof mark, the build's identity, line
numbers and each paragraph's source, drawn over the unchanged layout),
report.html with every finding and a contact sheet, and findings.json.
Exit status 1 when a finding is an error.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter
from pathlib import Path

from matbaa.diagnostics import ManuscriptError
from matbaa.language import primary
from matbaa.proof import checks
from matbaa.proof.catalogue import CATALOGUE, ERROR, Finding
from matbaa.proof.collate import source_text as read_source_text
from matbaa.proof.layout import all_lines
from matbaa.proof.overlay import write_proof_pdf
from matbaa.proof.report import write_report
from matbaa.read import config


def identity(root: Path) -> str:
    """The version-control identity of the manuscript: commit, and whether it has changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return (commit or "no commit") + (" +changes" if dirty else "")


def stamp_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def manuscript_findings(items, manuscript: Path) -> list[Finding]:
    """The build's diagnostics as findings (their file relative to the manuscript)."""
    return [_from_diagnostic(d, Path(manuscript)) for d in items]


def report_manuscript_errors(findings: list[Finding], manuscript: Path, out: Path, styles: Path) -> None:
    """The report of a manuscript that could not be built: its errors only."""
    write_report(out, findings, None, [], identity(manuscript), stamp_now(), title=str(manuscript), styles=styles)


def proofread(book, styles: Path, out: Path, edition, manuscript: Path) -> list[Finding]:
    """The findings about the editions (`edition`: build.Proofed: the reading
    PDF laid out as one document, its page map, the EPUB), and the proof PDF
    and the report that show them."""
    ident, stamp = identity(manuscript), stamp_now()
    lines = all_lines(edition.document)
    pdf_path = edition.pdf
    source_text = read_source_text(book)
    findings = checks.typography(book)
    findings += checks.apparatus(book)
    findings += checks.layout(book, lines, edition.pages, edition.pages.count)
    findings += checks.fonts(pdf_path, lines, checks.shipped_fonts(styles))
    if source_text is not None:
        findings += checks.collation(book, source_text, checks.pdf_words(pdf_path, lines, book.labels),
                                     checks.epub_words(edition.epub))
    checks.place(findings, lines)
    findings.append(Finding("S001", spelling_notice(book, styles)))
    findings.sort(key=lambda f: (f.page or 10**6, f.page_line or 0, f.file or "", f.line or 0, f.code))
    proof_pdf = write_proof_pdf(book, styles, out, pdf_path, edition.document, lines, ident, stamp)
    write_report(out, findings, proof_pdf, lines, ident, stamp, title=book.meta["title"], pdf=pdf_path,
                 styles=styles)
    return findings


def spelling_notice(book, styles: Path) -> str:
    """S001: the proof has no spell checker; say so in the book's language's name."""
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
    counts = Counter(f.severity for f in findings)
    lines = [str(f) for f in findings if f.severity == ERROR][:30]
    lines.append(f"proof: {counts.get('error', 0)} error(s), {counts.get('warning', 0)} warning(s), "
                 f"{counts.get('info', 0)} note(s) — {out / 'report.html'}")
    return "\n".join(lines)


def write_findings(out: Path, findings: list[Finding]) -> int:
    """findings.json, the summary on stdout; the exit status (1 when a finding is an error)."""
    (out / "findings.json").write_text(json.dumps(
        [dict(code=f.code, severity=f.severity, category=f.category, message=f.message, file=f.file,
              line=f.line, page=f.page, page_line=f.page_line) for f in findings],
        ensure_ascii=False, indent=1), encoding="utf-8")
    print(summary(findings, out))
    return 1 if any(f.severity == ERROR for f in findings) else 0


__all__ = ["proofread", "manuscript_findings", "report_manuscript_errors", "write_findings", "CATALOGUE",
           "Finding"]
