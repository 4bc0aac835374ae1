"""The `matbaa` command.

    matbaa build pdf|epub|html|press [-m MANUSCRIPT] [-o BUILD] [--styles STYLES] [-j JOBS] [--whole]
    matbaa proof [-m MANUSCRIPT] [-o BUILD]
    matbaa new DIR

Manuscript problems are printed as `file:line: CODE: severity: message`, all of
them, and the exit status is 1; no traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .diagnostics import ManuscriptError, MatbaaError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="matbaa", description="Build print and EPUB editions of a manuscript.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build outputs")
    b.add_argument("formats", nargs="+", choices=["pdf", "epub", "html", "press"])
    b.add_argument("-m", "--manuscript", default="manuscript", type=Path)
    b.add_argument("-o", "--build", default="build", type=Path)
    b.add_argument("--styles", type=Path, default=None)
    b.add_argument("-j", "--jobs", type=int, default=None,
                   help="processes laying out the PDF's parts (default: one per core)")
    b.add_argument("--whole", action="store_true",
                   help="lay the PDF out as one document in one process (the reference for the parallel layout)")
    pr = sub.add_parser("proof", help="the proof PDF and the proof report (build/proof/)")
    pr.add_argument("-m", "--manuscript", default="manuscript", type=Path)
    pr.add_argument("-o", "--build", default="build", type=Path)
    pr.add_argument("--styles", type=Path, default=None)
    n = sub.add_parser("new", help="create a small sample manuscript")
    n.add_argument("directory", type=Path)
    args = parser.parse_args(argv)

    try:
        if args.command == "new":
            from .sample import create

            create(args.directory)
            print(f"created {args.directory}; build it with: make pdf epub MANUSCRIPT={args.directory}")
            return 0
        from .build import BUILDERS, DEFAULT_STYLES

        styles = args.styles or DEFAULT_STYLES
        from . import progress

        progress.enable()
        if args.command == "proof":
            from .proof import main as proof_main

            return proof_main(args.manuscript, args.build, styles)
        for fmt in args.formats:
            t0 = time.perf_counter()
            layout = {"jobs": args.jobs, "whole": args.whole} if fmt in ("pdf", "html") else {}
            out, report = BUILDERS[fmt](args.manuscript, args.build, styles, **layout)
            report.print()
            print(f"matbaa: wrote {out} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        return 0
    except ManuscriptError as exc:
        exc.report.print()
        print(f"matbaa: {exc}", file=sys.stderr)
        return 1
    except MatbaaError as exc:
        print(f"matbaa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
