"""`make bench`: how long matbaa takes on books of growing length, beside its anchors.

    python -m matbaa_dev bench [--sizes 1,10,40] [--runs 3] [--out build/bench] [--quick]

For each size N a synthetic book is made from the first book (manuscript/):
its parts repeated N times as distinct parts "… (K)", with distinct note ids
(`[^id]` -> `[^id-cK]`) and distinct chapter files; the glossary stays the
same (each copy marks its entries again, so every entry gets N times the marks
and anchors).  N = 1 is the first book's text unchanged.  The synthetic
manuscripts are written to <out>/temp/xN/manuscript.

Each build runs in its own process (`python -m matbaa build …`), timed by the
wall clock, with its peak memory (largest resident set of the process and its
descendants, summed over the process tree: see run_measured).  Measured, each
`--runs` times (median, min, max):

    pdf_full        `matbaa build pdf` into an empty folder (nothing cached: every
                    part laid out, in one process per core, with its corrections)
    epub_full       `matbaa build epub` into an empty folder (lays the book out
                    for the page-list: there is no page map yet)
    epub_after_pdf  `matbaa build epub` beside a fresh PDF (page map present),
                    what `make pdf epub` does after the PDF; the EPUB's own cache
                    emptied before each run (the cover PNG stays cached)
    pdf_greedy      the same with book.yaml print: linebreak: greedy (WeasyPrint's
                    first fit instead of total-fit line breaking, typeset/knuth_plass.py):
                    the time without the breaker
    pdf_rebuild     `matbaa build pdf` after one sentence of one chapter changed
    epub_repeat     `matbaa build epub` again, nothing changed (its cache filled)
    epub_rebuild    then `matbaa build epub` (as `make pdf epub` runs them; the
                    parts not edited come from the EPUB's cache)
    make_noop       `make pdf epub MANUSCRIPT=… BUILD=…` with nothing changed

and the anchors, in the same run:

    weasyprint      WeasyPrint alone on matbaa's own print HTML (the document
                    of the full PDF build, which `matbaa build html` writes), in a
                    fresh `python -c "… HTML(f).write_pdf(o, pdf_variant='pdf/ua-1')"`
                    with matbaa's hyphenation patterns registered: one layout in
                    one process, no corrections, tagged as matbaa's PDF is (the
                    same pages: the table shows both counts); once more
                    untagged, for reference
    pandoc          the pandoc binary of PyPI `pypandoc-binary` converting the
                    same chapters (concatenated Markdown) to EPUB
    typst           Typst (PyPI `typst`) setting the same paragraphs (those of the
                    print HTML) in the same face, size and measure, with the
                    book's hyphenation points as soft hyphens (spacing.typst_anchor):
                    the anchor of the spacing figures (Typst breaks paragraphs by
                    Knuth and Plass's total-fit algorithm); its time is given too

Spacing (spacing.py, read back from the PDFs with pdfplumber): for the justified
lines of running text of matbaa's PDF (its body pages, from the page map), of
its notes, and of the Typst anchor, the median and 90th percentile of a line's
mean word space in em, the lines over 0.5 em, the largest, the hyphenated lines.

PDF figures (and make_noop) are given as a ratio to `weasyprint`, EPUB figures
to `pandoc`.  Phases (read, transforms, templates, layout, page map, PDF write,
EPUB write) are timed in one more process that imports matbaa and wraps its
functions (`child("--phases", …)`).

Results: <out>/results.json and <out>/results.md; a table on stdout.
Benchmarks are not tests: nothing here asserts a time.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent      # the project (Makefile, manuscript/, styles/)
MANUSCRIPT = ROOT / "manuscript"
STYLES = ROOT / "styles"

NOTE_ID = re.compile(r"\[\^([^\]\s]+)\]")

PDF_ROWS = ("pdf_full", "pdf_greedy", "pdf_rebuild", "make_noop")
EPUB_ROWS = ("epub_full", "epub_after_pdf", "epub_repeat", "epub_rebuild")
ANCHOR_OF = {**{k: "weasyprint" for k in PDF_ROWS}, **{k: "pandoc" for k in EPUB_ROWS}}
ROW_TITLES = {
    "pdf_full": "PDF, full build",
    "pdf_greedy": "PDF, full build, print: linebreak: greedy (WeasyPrint's first fit)",
    "pdf_rebuild": "PDF, rebuild after a one-sentence edit",
    "make_noop": "make pdf epub, nothing changed",
    "epub_full": "EPUB, full build (no page map yet)",
    "epub_after_pdf": "EPUB, after the PDF (page map present; its own cache empty)",
    "epub_repeat": "EPUB, built again, nothing changed (its cache filled)",
    "epub_rebuild": "EPUB, rebuild after the edit",
    "weasyprint": "anchor: WeasyPrint alone on the print HTML (tagged PDF/UA-1, like matbaa's)",
    "pandoc": "anchor: pandoc, Markdown to EPUB",
    "typst": "anchor: Typst, the same paragraphs (spacing anchor)",
}
PHASES = ("read", "transforms", "templates", "layout", "pagemap", "pdf_write", "join", "pdf_other", "epub_write")


# ------------------------------------------------------------------ synthetic books

def _yaml():
    import yaml

    return yaml


def make_synthetic(source: Path, target: Path, n: int, print_options: dict | None = None) -> dict:
    """Write a manuscript N times the length of `source` into `target`.

    Copy K of every part becomes its own part "<title> (K)" whose chapters are
    copies of the part's chapter files (beside them, named <stem>--cK.md) with
    every note id rewritten `[^id]` -> `[^id-cK]` (calls and definitions).
    N = 1 keeps the text, titles and ids as they are.  book.yaml gets the id
    `bench-xN`, a new identifier and the new contents; the glossary and
    original/ are copied; corrections are dropped (they only serve collation).
    Returns a summary (id, parts, chapters, note definitions, words)."""
    yaml = _yaml()
    source, target = Path(source), Path(target)
    if target.exists():
        shutil.rmtree(target)
    meta = yaml.safe_load((source / "book.yaml").read_text(encoding="utf-8"))
    chapter_files = {c for part in meta["contents"] for c in part["chapters"]}
    corrections = meta.pop("corrections", None)
    skip = set(chapter_files) | ({corrections} if corrections else set())
    # everything else (glossary, original/, images) as it is
    for f in sorted(source.rglob("*")):
        rel = f.relative_to(source).as_posix()
        if f.is_file() and rel not in skip and rel != "book.yaml":
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target / rel)

    contents, notes, words, chapters = [], 0, 0, 0
    for k in range(1, n + 1):
        for part in meta["contents"]:
            new_chapters = []
            for rel in part["chapters"]:
                text = (source / rel).read_text(encoding="utf-8")
                if n > 1:
                    text = NOTE_ID.sub(lambda m: f"[^{m.group(1)}-c{k}]", text)
                    p = Path(rel)
                    rel = (p.parent / f"{p.stem}--c{k}{p.suffix}").as_posix()
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                (target / rel).write_text(text, encoding="utf-8")
                new_chapters.append(rel)
                notes += sum(1 for line in text.split("\n") if re.match(r"^ {0,3}\[\^[^\]\s]+\]:", line))
                words += len(text.split())
                chapters += 1
            title = part["part"] if n == 1 else f"{part['part']} ({k})"
            contents.append({"part": title, "chapters": new_chapters})
    meta["id"] = f"bench-x{n}"
    meta["identifier"] = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'matbaa-bench-x%d' % n)}"
    if n > 1:
        meta["title"] = f"{meta['title']} (×{n})"
    meta["contents"] = contents
    if print_options:
        meta["print"] = dict(meta.get("print") or {}, **print_options)
    (target / "book.yaml").write_text(
        "# A synthetic book written by matbaa_dev.bench; every key: docs/manuscript.md.\n"
        + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")
    return {"id": meta["id"], "manuscript": str(target), "parts": len(contents), "chapters": chapters,
            "notes": notes, "words": words}


def chapter_paths(manuscript: Path) -> list[Path]:
    meta = _yaml().safe_load((Path(manuscript) / "book.yaml").read_text(encoding="utf-8"))
    return [Path(manuscript) / c for part in meta["contents"] for c in part["chapters"]]


_PLAIN_SENTENCE = re.compile(r"^[^\s#>*\-+|\d\[][^\[\]{}`<>*_|]*[.!?]$")


class SentenceEditor:
    """Changes one sentence of one chapter (of the middle part), differently each time."""

    def __init__(self, manuscript: Path):
        chapters = chapter_paths(manuscript)
        self.path = chapters[len(chapters) // 2]
        self.pristine = self.path.read_text(encoding="utf-8")
        lines = self.pristine.split("\n")
        candidates = [i for i, line in enumerate(lines) if _PLAIN_SENTENCE.match(line) and len(line) > 40]
        if not candidates:
            raise SystemExit(f"bench: no plain sentence to edit in {self.path}")
        self.line = candidates[len(candidates) // 2]

    def edit(self, run: int) -> None:
        lines = self.pristine.split("\n")
        s = lines[self.line]
        lines[self.line] = f"{s[:-1]} (düzəliş {run}){s[-1]}"
        self.path.write_text("\n".join(lines), encoding="utf-8")

    def restore(self) -> None:
        self.path.write_text(self.pristine, encoding="utf-8")


# ------------------------------------------------------------------ measuring

class BenchError(RuntimeError):
    pass


GNU_TIME = Path("/usr/bin/time")


def _tree_memory_kib(root: int) -> int:
    """Proportional set size (PSS) of `root` and all its descendants, summed:
    the memory of a build with worker processes, counting pages the workers
    share with their parent (fork) once, not once per process."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total


def run_measured(cmd: list[str], log: Path, cwd: Path | None = None) -> dict:
    """Run `cmd` to completion: its wall time and peak memory.

    Peak memory is the largest sum, sampled every 100 ms, of the proportional
    set sizes of the command and all its descendants (a parallel build's
    workers included: GNU time's %M would give only the largest single
    process); GNU time's %M (or ru_maxrss from os.wait4) is kept beside it as
    the largest single process, and the larger of the two is reported."""
    import threading

    log.parent.mkdir(parents=True, exist_ok=True)
    rss_file = log.with_suffix(".rss")
    prefix = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file)] if GNU_TIME.is_file() else []
    peak = {"kib": 0}
    done = threading.Event()
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(prefix + cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)

        def sample():
            while not done.wait(0.1):
                peak["kib"] = max(peak["kib"], _tree_memory_kib(proc.pid))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise BenchError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{tail}")
    kib = usage.ru_maxrss                                  # KiB on Linux
    if prefix:
        kib = int(rss_file.read_text().split()[-1])
        rss_file.unlink()
    return {"seconds": seconds, "peak_rss_mb": max(kib, peak["kib"]) / 1024,
            "largest_process_mb": kib / 1024, "tree_pss_mb": peak["kib"] / 1024}


def paired_ratios(pairs: list[tuple[dict, dict]]) -> list[float]:
    """Run by run, the first build's time over the second's (pdf_full over
    pdf_greedy: what total fit costs beside first fit), to 3 decimals.  The
    report gives their median: runs side by side, so that the machine's drift
    over minutes cancels out."""
    return [round(a["seconds"] / b["seconds"], 3) for a, b in pairs]


def summarize(samples: list[dict], **extra) -> dict:
    times = [s["seconds"] for s in samples]
    out = {"runs": len(times), "times": [round(t, 4) for t in times], "median": statistics.median(times),
           "min": min(times), "max": max(times), "peak_rss_mb": max(s["peak_rss_mb"] for s in samples)}
    out.update(extra)
    return out


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def pandoc_binary() -> Path | None:
    """The pandoc of PyPI pypandoc-binary (…/pypandoc/files/pandoc), else one on PATH."""
    import importlib.util

    spec = importlib.util.find_spec("pypandoc")
    if spec and spec.origin:
        for name in ("pandoc", "pandoc.exe"):
            p = Path(spec.origin).parent / "files" / name
            if p.is_file():
                return p
    found = shutil.which("pandoc")
    return Path(found) if found else None


def note(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


SKIPPABLE = ("pdf", "epub_full", "rebuild", "make_noop", "phases", "anchors", "spacing", "greedy")
# "pdf" skips all that needs it
GREEDY = {"linebreak": "greedy"}        # the book.yaml print options of the pdf_greedy row


def bench_size(n: int, runs: int, out: Path, source: Path, styles: Path, phase_runs: int = 1,
               skip: frozenset[str] = frozenset()) -> dict:
    """Every measurement of one size; `skip` names measurements left out (SKIPPABLE)."""
    if "pdf" in skip:       # epub_after_pdf, the rebuilds and make all start from the full PDF build
        skip = skip | {"rebuild", "make_noop"}
    py = sys.executable
    work = out / "temp" / f"x{n}"
    if work.exists():
        shutil.rmtree(work)
    ms = work / "manuscript"
    info = make_synthetic(source, ms, n)
    book_id = info["id"]
    logs = work / "logs"
    m: dict[str, dict] = {}

    def matbaa(fmt: str, build: Path, tag: str) -> dict:
        return run_measured([py, "-m", "matbaa", "build", fmt, "-m", str(ms), "-o", str(build),
                             "--styles", str(styles)], logs / f"{tag}.log")

    def series(name: str, once) -> list:
        samples = []
        for r in range(1, runs + 1):
            s = once(r)
            for one in (s if isinstance(s, tuple) else (s,)):
                note(f"x{n} {name} {r}/{runs}: {one['seconds']:.2f} s, {one['peak_rss_mb']:.0f} MB")
            samples.append(s)
        return samples

    # full PDF, each run into an empty folder; the last folder is kept for what follows
    main = work / "build"
    pdf, epub = main / f"{book_id}.pdf", main / f"{book_id}.epub"

    def pdf_full(r):
        if main.exists():
            shutil.rmtree(main)
        return matbaa("pdf", main, f"pdf_full-{r}")

    # the same book broken first-fit by WeasyPrint (print: linebreak: greedy): the
    # build time with and without the total-fit breaker (typeset/knuth_plass.py, the default)
    greedy_dir = work / "build-greedy"
    ms_greedy = work / "manuscript-greedy"

    def pdf_greedy(r):
        if greedy_dir.exists():
            shutil.rmtree(greedy_dir)
        return run_measured([py, "-m", "matbaa", "build", "pdf", "-m", str(ms_greedy), "-o", str(greedy_dir),
                             "--styles", str(styles)], logs / f"pdf_greedy-{r}.log")
    if "pdf" not in skip and "greedy" not in skip:
        # run by run, one after the other: this machine's speed drifts over
        # minutes, and the two builds are compared with each other
        make_synthetic(source, ms_greedy, n, GREEDY)
        pairs = series("pdf_full and pdf_greedy", lambda r: (pdf_full(r), pdf_greedy(r)))
        m["pdf_full"] = summarize([a for a, _b in pairs], pages=pdf_pages(pdf), bytes=pdf.stat().st_size)
        m["pdf_greedy"] = summarize([b for _a, b in pairs], pages=pdf_pages(greedy_dir / f"{book_id}.pdf"),
                                    print=GREEDY)
        m["pdf_greedy"]["paired"] = paired_ratios(pairs)
    elif "pdf" not in skip:
        samples = series("pdf_full", pdf_full)
        m["pdf_full"] = summarize(samples, pages=pdf_pages(pdf), bytes=pdf.stat().st_size)

    # the anchors: (a) WeasyPrint alone on matbaa's own print HTML, the very
    # document of the PDF build's last layout (what `matbaa build html` writes),
    # copied with its assets from the full build (else made by `matbaa build html`)
    if "anchors" not in skip:
        html_dir = work / "html"
        if (main / f"{book_id}.html").is_file():
            shutil.copytree(main / "assets", html_dir / "assets")
            shutil.copyfile(main / f"{book_id}.html", html_dir / f"{book_id}.html")
        else:   # no PDF build: the print HTML before any layout correction (no layout at all)
            run_measured([py, "-c", CHILD, "--html", str(ms), str(styles), str(html_dir)], logs / "html.log")
        html = html_dir / f"{book_id}.html"
        # the same kind of PDF as matbaa writes (tagged, PDF/UA-1 markers); once
        # untagged too, for reference (tagging costs WeasyPrint time and bytes)
        wp_pdf = work / "weasyprint.pdf"
        # with matbaa's Azerbaijani hyphenation patterns registered (pyphen has
        # none): the same line breaks, so the same pages to lay out
        hyph = (f"from pathlib import Path; from matbaa.typeset.hyphenation import register; "
                f"register(styles=Path({str(styles)!r})); ")
        code = (hyph + f"from weasyprint import HTML; HTML({str(html)!r}).write_pdf({str(wp_pdf)!r}, "
                "pdf_variant='pdf/ua-1')")
        samples = series("weasyprint", lambda r: run_measured([py, "-c", code], logs / f"weasyprint-{r}.log"))
        m["weasyprint"] = summarize(samples, pages=pdf_pages(wp_pdf), bytes=wp_pdf.stat().st_size)
        plain_pdf = work / "weasyprint-untagged.pdf"
        code = hyph + f"from weasyprint import HTML; HTML({str(html)!r}).write_pdf({str(plain_pdf)!r})"
        s = run_measured([py, "-c", code], logs / "weasyprint-untagged.log")
        note(f"x{n} weasyprint untagged: {s['seconds']:.2f} s, {s['peak_rss_mb']:.0f} MB")
        m["weasyprint_untagged"] = summarize([s], bytes=plain_pdf.stat().st_size)

        # (c) Typst on the same paragraphs: the anchor of the spacing figures
        if "spacing" not in skip:
            typst_pdf = work / "typst.pdf"
            code = (f"from pathlib import Path; from matbaa_dev.spacing import typst_anchor; "
                    f"typst_anchor(Path({str(html)!r}), Path({str(styles / 'fonts' / 'vollkorn')!r}), "
                    f"Path({str(typst_pdf)!r}), {json.dumps(_print_settings(ms))})")
            samples = series("typst", lambda r: run_measured([py, "-c", code], logs / f"typst-{r}.log"))
            m["typst"] = summarize(samples, pages=pdf_pages(typst_pdf), bytes=typst_pdf.stat().st_size)

        # (b) pandoc, the same chapters concatenated, to EPUB
        pandoc = pandoc_binary()
        if pandoc is None:
            note("no pandoc (pip install pypandoc-binary): the EPUB anchor is skipped")
            m["pandoc"] = {"skipped": "pandoc not found (PyPI pypandoc-binary)"}
        else:
            md = work / "pandoc" / "book.md"
            md.parent.mkdir(parents=True, exist_ok=True)
            md.write_text("\n\n".join(p.read_text(encoding="utf-8") for p in chapter_paths(ms)), encoding="utf-8")
            pd_epub = md.with_suffix(".epub")
            cmd = [str(pandoc), str(md), "-f", "markdown", "-t", "epub3", "-o", str(pd_epub),
                   "--metadata", f"title={book_id}", "--metadata", "lang=az"]
            samples = series("pandoc", lambda r: run_measured(cmd, logs / f"pandoc-{r}.log"))
            m["pandoc"] = summarize(samples, bytes=pd_epub.stat().st_size, binary=str(pandoc))

    if "epub_full" not in skip:
        def epub_full(r):
            d = work / "epub-cold"
            if d.exists():
                shutil.rmtree(d)
            return matbaa("epub", d, f"epub_full-{r}")
        samples = series("epub_full", epub_full)
        m["epub_full"] = summarize(samples, bytes=(work / "epub-cold" / f"{book_id}.epub").stat().st_size)

    if "pdf" not in skip:
        def epub_after_pdf(r):
            # a full EPUB build: its own cache (build/.cache/epub-<id>/) emptied each
            # time; the cover PNG, made once per title, stays cached after the first run
            shutil.rmtree(main / ".cache" / f"epub-{book_id}", ignore_errors=True)
            return matbaa("epub", main, f"epub_after_pdf-{r}")
        samples = series("epub_after_pdf", epub_after_pdf)
        m["epub_after_pdf"] = summarize(samples, bytes=epub.stat().st_size)
        samples = series("epub_repeat", lambda r: matbaa("epub", main, f"epub_repeat-{r}"))
        m["epub_repeat"] = summarize(samples, bytes=epub.stat().st_size)

    # one sentence changed, then PDF and EPUB again (in that order, as make does)
    editor = SentenceEditor(ms)
    if "rebuild" not in skip:
        pdf_samples, epub_samples = [], []
        for r in range(1, runs + 1):
            editor.edit(r)
            pdf_samples.append(matbaa("pdf", main, f"pdf_rebuild-{r}"))
            epub_samples.append(matbaa("epub", main, f"epub_rebuild-{r}"))
            note(f"x{n} rebuild {r}/{runs}: pdf {pdf_samples[-1]['seconds']:.2f} s, "
                 f"epub {epub_samples[-1]['seconds']:.2f} s")
        where = f"{editor.path.relative_to(ms)}:{editor.line + 1}"
        m["pdf_rebuild"] = summarize(pdf_samples, edited=where, pages=pdf_pages(pdf))
        m["epub_rebuild"] = summarize(epub_samples, edited=where)

    # make with nothing changed (a first make brings the outputs up to date if the
    # code or styles changed meanwhile)
    if "make_noop" not in skip:
        make = ["make", "--no-print-directory", "pdf", "epub", f"MANUSCRIPT={ms}", f"BUILD={main}"]
        run_measured(make, logs / "make-prime.log", cwd=ROOT)

        def make_noop(r):
            before = {p: p.stat().st_mtime_ns for p in (pdf, epub)}
            s = run_measured(make, logs / f"make_noop-{r}.log", cwd=ROOT)
            s["did_work"] = any(p.stat().st_mtime_ns != t for p, t in before.items())
            return s
        samples = series("make_noop", make_noop)
        m["make_noop"] = summarize(samples, did_work=any(s["did_work"] for s in samples))

    # ratios to the anchors
    for name, row in m.items():
        anchor = m.get(ANCHOR_OF.get(name, ""), {})
        if "median" in row and anchor.get("median"):
            row["anchor"] = ANCHOR_OF[name]
            row["ratio"] = row["median"] / anchor["median"]
            row["memory_ratio"] = row["peak_rss_mb"] / anchor["peak_rss_mb"]
    if "pdf_rebuild" in m:
        m["pdf_rebuild"]["ratio_to_full"] = m["pdf_rebuild"]["median"] / m["pdf_full"]["median"]
    if "weasyprint" in m and "pdf_full" in m:
        m["pdf_full"]["bytes_ratio"] = m["pdf_full"]["bytes"] / m["weasyprint"]["bytes"]

    # phases, in-process in a child that imports matbaa
    editor.restore()
    result = {"book": info, "measurements": m}
    if "spacing" not in skip:
        result["spacing"] = spacing_figures(work, main, book_id, greedy_dir)
    if "phases" not in skip:
        phases = []
        for r in range(1, phase_runs + 1):
            target = work / "phases.json"
            s = run_measured([py, "-c", CHILD, "--phases", str(ms), str(work / "phases-build"),
                              str(styles), str(target)], logs / f"phases-{r}.log")
            p = json.loads(target.read_text(encoding="utf-8"))
            p["peak_rss_mb"] = s["peak_rss_mb"]
            phases.append(p)
            note(f"x{n} phases {r}/{phase_runs}: " + ", ".join(f"{k} {p[k]:.2f}" for k in PHASES)
                 + f"; {p['layout_rounds']} layout rounds")
        phase = {k: statistics.median(p[k] for p in phases) for k in (*PHASES, "pdf_total")}
        phase.update(runs=phase_runs, layout_rounds=phases[-1]["layout_rounds"],
                     unhooked=phases[-1].get("unhooked", []), peak_rss_mb=max(p["peak_rss_mb"] for p in phases))
        phase["layout_per_round"] = phase["layout"] / max(1, phase["layout_rounds"])
        result["phases"] = phase
    return result


def _print_settings(manuscript: Path) -> dict:
    meta = _yaml().safe_load((Path(manuscript) / "book.yaml").read_text(encoding="utf-8"))
    return {k: v for k, v in (meta.get("print") or {}).items() if isinstance(v, str)}


def spacing_figures(work: Path, main: Path, book_id: str, greedy: Path | None = None) -> dict:
    """The word spacing of matbaa's PDF (body, notes), of its build broken
    first-fit (linebreak: greedy), and of the Typst anchor."""
    from matbaa_dev import spacing

    out = {}
    for tag, folder in (("matbaa", main), ("matbaa_greedy", greedy)):
        pdf = folder / f"{book_id}.pdf" if folder else None
        if pdf and pdf.is_file():
            figs = spacing.measure(pdf, pages=spacing.body_pages(folder / f"{book_id}.pages.json"))
            out[tag], out[tag + "_notes"] = figs["body"], figs["notes"]
            # every note on its call's page? (the page map's misplaced notes), and hyphens at page ends
            try:
                data = json.loads((folder / f"{book_id}.pages.json").read_text(encoding="utf-8"))
                out[tag].update(misplaced=len(data.get("misplaced", [])),
                                page_end_hyphens=data["hyphenation"]["page_end"])
            except (OSError, ValueError, KeyError):
                pass
    typst_pdf = work / "typst.pdf"
    if typst_pdf.is_file():
        out["typst"] = spacing.measure(typst_pdf, notes=None)["body"]
    return out


SPACING_ROWS = (("matbaa", "matbaa (total fit), body"), ("matbaa_notes", "matbaa (total fit), notes"),
                ("matbaa_greedy", "matbaa, linebreak: greedy, body"),
                ("matbaa_greedy_notes", "matbaa, linebreak: greedy, notes"), ("typst", "Typst, body (anchor)"))


def spacing_table(figs: dict) -> list[str]:
    lines = ["Word spacing of the justified lines (em of the body size; spacing.py):", "",
             "| PDF | justified lines | median | 90th pct | over 0.5 em | max | hyphenated lines "
             "| notes off their call's page | hyphens at a page end |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, title in SPACING_ROWS:
        f = figs.get(key)
        if f:
            lines.append(f"| {title} | {f['justified']} | {f['median_em']:.3f} | {f['p90_em']:.3f} | "
                         f"{f['over_half_em']} ({100 * f['over_half_share']:.1f} %) | {f['max_em']:.2f} | "
                         f"{f['hyphenated']} | {f.get('misplaced', '')} | {f.get('page_end_hyphens', '')} |")
    return lines + [""]


# ------------------------------------------------------------------ phases (child process)

def measure_phases(manuscript: Path, build: Path, styles: Path) -> dict:
    """Time each step of a PDF and an EPUB build, in this process, by wrapping
    the functions matbaa's writers call (the build itself is matbaa's own).
    The PDF is built with jobs=1: its pieces laid out one after the other here,
    so that every phase is seen (the sum of what the workers do)."""
    import weasyprint

    from matbaa import transforms
    from matbaa.diagnostics import Report
    from matbaa.read.reader import read_book
    from matbaa.epub import writer as epub_writer
    from matbaa.typeset import correct, parallel
    from matbaa.typeset import pdf as pdf_writer
    from matbaa.typeset.cover import render_cover

    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)
    t = {k: 0.0 for k in PHASES}
    t["layout_rounds"] = 0

    def load():
        report = Report()
        t0 = time.perf_counter()
        book = read_book(manuscript, styles, report)
        t1 = time.perf_counter()
        transforms.run(book, report)
        t2 = time.perf_counter()
        report.raise_if_errors()
        return book, t1 - t0, t2 - t1

    book, t["read"], t["transforms"] = load()

    def timed(key, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                t[key] += time.perf_counter() - t0
        return wrapper

    class TimedHTML(weasyprint.HTML):      # layout = parsing the HTML and CSS + render()
        def __init__(self, *a, **k):
            t0 = time.perf_counter()
            super().__init__(*a, **k)
            t["layout"] += time.perf_counter() - t0

        def render(self, *a, **k):
            t0 = time.perf_counter()
            document = super().render(*a, **k)
            t["layout"] += time.perf_counter() - t0
            t["layout_rounds"] += 1
            document.write_pdf = timed("pdf_write", document.write_pdf)
            return document

    # the names the writers look up when they run; one that has gone (the code
    # moved on) leaves its phase at 0 and in "unhooked", and the time in pdf_other
    hooks = [(weasyprint, "HTML", lambda f: TimedHTML),
             (parallel, "render_print_html", lambda f: timed("templates", f)),
             (correct, "render_print_html", lambda f: timed("templates", f)),
             (parallel, "read_pages", lambda f: timed("pagemap", f)),
             (correct, "read_pages", lambda f: timed("pagemap", f)),
             (pdf_writer, "join", lambda f: timed("join", f))]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in hooks if hasattr(mod, name)]
    t["unhooked"] = [f"{mod.__name__}.{name}" for mod, name, _ in hooks if not hasattr(mod, name)]
    for mod, name, wrap in hooks:
        if hasattr(mod, name):
            setattr(mod, name, wrap(getattr(mod, name)))
    try:
        t0 = time.perf_counter()
        done = pdf_writer.write_pdf(book, styles, build, jobs=1)
        t["pdf_total"] = time.perf_counter() - t0
    finally:
        for mod, name, original in saved:
            setattr(mod, name, original)
    t["pdf_other"] = t["pdf_total"] - sum(t[k] for k in ("templates", "layout", "pagemap", "pdf_write", "join"))

    # the EPUB as build.build_epub writes it after the PDF: with the PDF's page map
    t0 = time.perf_counter()
    epub_writer.write_epub(book, styles, build, done.pages, cover=lambda: render_cover(book, styles, build))
    t["epub_write"] = time.perf_counter() - t0
    return t


# ------------------------------------------------------------------ report

def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def table(results: dict) -> str:
    lines = []
    for size, res in results["sizes"].items():
        b = res["book"]
        m = res["measurements"]
        pages = m.get("pdf_full", m.get("weasyprint", {})).get("pages")
        lines += [f"### {size}x: {b['parts']} parts, {b['chapters']} chapters, {b['notes']} notes, "
                  f"{b['words']} words, {pages} PDF pages", "",
                  "| measurement | median s | min s | max s | ratio to anchor | peak MB | memory ratio |",
                  "|---|---:|---:|---:|---|---:|---:|"]
        for name in (*PDF_ROWS, *EPUB_ROWS, "weasyprint", "pandoc", "typst"):
            row = m.get(name, {})
            if "median" not in row:
                lines.append(f"| {ROW_TITLES[name]} | – | – | – | {row.get('skipped', 'not measured')} | – | – |")
                continue
            ratio = f"{row['ratio']:.2f}× {row['anchor']}" if "ratio" in row else (
                "(anchor)" if name in ("weasyprint", "pandoc", "typst") else "–")
            if name == "pdf_rebuild" and "ratio_to_full" in row:
                ratio += f"; {row['ratio_to_full']:.2f}× full"
            if name == "pdf_greedy" and row.get("paired"):
                ratio += f"; total fit {statistics.median(row['paired']):.2f}× this (median of runs side by side)"
            if name == "make_noop" and row.get("did_work"):
                ratio += "; DID WORK"
            mem = f"{row['memory_ratio']:.2f}" if "memory_ratio" in row else "–"
            lines.append(f"| {ROW_TITLES[name]} | {fmt_s(row['median'])} | {fmt_s(row['min'])} | "
                         f"{fmt_s(row['max'])} | {ratio} | {row['peak_rss_mb']:.0f} | {mem} |")
        lines.append("")
        wp = m.get("weasyprint")
        if wp and "bytes" in wp and "bytes_ratio" in m.get("pdf_full", {}):
            lines += [f"PDF size: matbaa {m['pdf_full']['bytes'] / 1e6:.2f} MB, WeasyPrint alone "
                      f"{wp['bytes'] / 1e6:.2f} MB ({m['pdf_full']['bytes_ratio']:.2f}×); "
                      f"pages: matbaa {pages}, WeasyPrint alone {wp.get('pages')}.", ""]
        if res.get("spacing"):
            lines += spacing_table(res["spacing"])
        plain = m.get("weasyprint_untagged")
        if plain and "median" in plain:
            lines += [f"WeasyPrint alone, untagged (one run, for reference): {fmt_s(plain['median'])} s, "
                      f"{plain['bytes'] / 1e6:.2f} MB, {plain['peak_rss_mb']:.0f} MB peak.", ""]
        ph = res.get("phases")
        if ph:
            lines += ["Phases (s, in-process with jobs=1: the pieces laid out one after the other, "
                      + (f"median of {ph['runs']} runs" if ph["runs"] > 1 else "one run")
                      + f"; {ph['layout_rounds']} WeasyPrint layouts (pieces, their correction rounds, "
                      f"front matter, glossary, folios), {fmt_s(ph['layout'])} s in all):", "",
                      "| " + " | ".join(PHASES) + " | PDF total |",
                      "|" + "---:|" * (len(PHASES) + 1),
                      "| " + " | ".join(fmt_s(ph[k]) for k in PHASES) + f" | {fmt_s(ph['pdf_total'])} |", ""]
    return "\n".join(lines)


def write_report(results: dict, out: Path) -> str:
    meta = results["meta"]
    (out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    md = table(results)
    head = (f"# matbaa bench, {meta['date']}\n\n"
            f"{meta['runs']} run(s) each; {meta['cpus']} CPUs; WeasyPrint {meta['weasyprint']}; "
            f"{meta['pandoc'] or 'no pandoc'}; Python {meta['python']}; peak memory by {meta['peak_memory_by']}.\n"
            "Ratios: PDF rows and make to WeasyPrint alone on the same HTML, EPUB rows to pandoc "
            "on the same chapters.\n\n")
    (out / "results.md").write_text(head + md + "\n", encoding="utf-8")
    return md


# ------------------------------------------------------------------ the two children, and the whole run

#: How the bench starts its own children (the print HTML, the phase timing): a
#: fresh interpreter, so that they are timed as a build is, from nothing imported.
CHILD = "import sys; from matbaa_dev.bench import child; sys.exit(child(sys.argv[1:]))"


def child(argv: list[str]) -> int:
    """`--html MANUSCRIPT STYLES DIR`: the print HTML without the layout loop;
    `--phases MANUSCRIPT BUILD STYLES TARGET.json`: the phase timing."""
    if argv[:1] == ["--html"]:
        from matbaa.build import load
        from matbaa.render.html import copy_assets, render_print_html

        ms, styles, build = map(Path, argv[1:4])
        book, _ = load(ms, styles)
        copy_assets(styles, build)
        (build / f"{book.id}.html").write_text(render_print_html(book, styles), encoding="utf-8")
        return 0
    if argv[:1] == ["--phases"]:
        ms, build, styles, target = map(Path, argv[1:5])
        result = measure_phases(ms, build, styles)
        target.write_text(json.dumps(result, indent=1), encoding="utf-8")
        return 0
    raise SystemExit(f"bench child: unknown {argv[:1]}")


def check_options(sizes: list[int], runs: int, phase_runs: int, skip: frozenset[str]) -> None:
    """ValueError unless every count is at least 1 and `skip` names known measurements."""
    if runs < 1 or phase_runs < 1 or not sizes or min(sizes) < 1:
        raise ValueError("--runs, --phase-runs and every size must be at least 1")
    if skip - set(SKIPPABLE):
        raise ValueError(f"--skip: unknown {', '.join(sorted(skip - set(SKIPPABLE)))} (known: {', '.join(SKIPPABLE)})")


def run(sizes: list[int], runs: int = 3, out: Path = Path("build/bench"), manuscript: Path = MANUSCRIPT,
        styles: Path = STYLES, phase_runs: int = 1, skip: frozenset[str] = frozenset(),
        command: str = "") -> int:
    """The whole bench (`python -m matbaa_dev bench`): every size, each
    measurement `runs` times; results.json and results.md in `out`, the table
    on stdout.  The exit status: 1 when a build failed."""
    check_options(sizes, runs, phase_runs, skip)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    pandoc = pandoc_binary()
    pandoc_version = None
    if pandoc:
        pandoc_version = subprocess.run([str(pandoc), "--version"], capture_output=True,
                                        text=True).stdout.split("\n")[0]
    from importlib.metadata import version

    results = {
        "meta": {"date": dt.datetime.now().isoformat(timespec="seconds"), "sizes": sizes, "runs": runs,
                 "python": platform.python_version(), "weasyprint": version("weasyprint"),
                 "pandoc": pandoc_version, "cpus": os.cpu_count(), "machine": platform.machine(),
                 "load_average": os.getloadavg()[0],
                 "peak_memory_by": "the process tree's summed PSS, sampled every 100 ms "
                                   "(or the largest process by " + ("GNU time %M" if GNU_TIME.is_file()
                                                                     else "os.wait4 ru_maxrss") + ", if larger)",
                 "manuscript": str(Path(manuscript).resolve()), "skipped": sorted(skip),
                 "command": command},
        "sizes": {},
    }
    t0 = time.perf_counter()
    try:
        for n in sizes:
            note(f"size x{n}")
            results["sizes"][str(n)] = bench_size(n, runs, out, Path(manuscript).resolve(),
                                                  Path(styles).resolve(), phase_runs, skip)
            results["meta"]["seconds"] = round(time.perf_counter() - t0, 1)
            md = write_report(results, out)     # after each size: a long run killed keeps what it measured
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(md)
    print(f"bench: wrote {out / 'results.json'} and {out / 'results.md'} ({results['meta']['seconds']} s)")
    return 0
