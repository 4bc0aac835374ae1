"""The proof report (report.html): findings by category, and the contact sheet."""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from matbaa.files import write_bytes, write_text
from matbaa.proof.catalogue import CATALOGUE, Finding
from matbaa.render.common import jinja_env
from matbaa.resources import default_styles

THUMB_SCALE = 0.45


def write_report(out: Path, findings: list[Finding], proof_pdf: Path | None, lines, identity: str, stamp: str,
                 title: str, pdf: Path | None = None, styles: Path | None = None) -> Path:
    styles = styles or default_styles()
    thumbs = []
    by_page: dict[int, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.page:
            by_page[f.page].append(f)
    if proof_pdf is not None:
        import io

        import pypdfium2

        doc = pypdfium2.PdfDocument(str(proof_pdf))
        for i in range(len(doc)):
            image = doc[i].render(scale=THUMB_SCALE).to_pil()
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            name = f"pages/page-{i + 1:03d}.png"
            write_bytes(out / name, buf.getvalue())
            thumbs.append({"number": i + 1, "src": name, "findings": by_page.get(i + 1, []),
                           "worst": _worst(by_page.get(i + 1, []))})
    categories = ["collation", "typography", "apparatus", "layout", "spelling", "manuscript"]
    grouped = {c: [f for f in findings if f.category == c] for c in categories}
    counts = Counter(f.severity for f in findings)
    html = jinja_env(styles).get_template("proof/report.html.j2").render(
        title=title, identity=identity, stamp=stamp, grouped=grouped, counts=counts, thumbs=thumbs,
        catalogue=CATALOGUE, proof_pdf=proof_pdf.name if proof_pdf else None)
    target = out / "report.html"
    write_text(target, html)
    return target


def _worst(findings: list[Finding]) -> str:
    sev = {f.severity for f in findings}
    return "error" if "error" in sev else "warning" if "warning" in sev else "info" if sev else ""
