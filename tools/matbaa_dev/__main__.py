"""The developers' tools, one command (they need the test extras: `make test` installs them).

    python -m matbaa_dev bench [--sizes 1,10,40] [--runs 3] [--out build/bench] [--quick] ...
    python -m matbaa_dev spacing BOOK.pdf [--size 10.5] [--notes 8] [--pages 5-22] [--loosest N]
    python -m matbaa_dev validate BOOK.epub [--out build/check]
    python -m matbaa_dev patterns > styles/hyphenation/hyph_az.dic

bench: how long matbaa takes on books of growing length, beside its anchors
(bench.py; `make bench`).  spacing: the word spacing of a PDF's justified lines,
as JSON (spacing.py).  validate: EPUBCheck and Ace on an EPUB (validate.py; the
same as `matbaa check`, which `make check` runs).  patterns: the Azerbaijani
hyphenation patterns, generated from the syllable rules (patterns.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    from matbaa_dev import bench

    ap = argparse.ArgumentParser(prog="python -m matbaa_dev", description="matbaa's development tools.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("bench", help="the benchmark: build/bench/results.md and results.json")
    b.add_argument("--sizes", default="1,10,40", help="book lengths, in multiples of the first book (1,10,40)")
    b.add_argument("--runs", type=int, default=3, help="runs of each measurement (median, min, max)")
    b.add_argument("--phase-runs", type=int, default=1, help="runs of the in-process phase timing")
    b.add_argument("--skip", default="",
                   help=f"measurements to leave out, comma-separated: {','.join(bench.SKIPPABLE)}")
    b.add_argument("--out", type=Path, default=Path("build/bench"))
    b.add_argument("-m", "--manuscript", type=Path, default=bench.MANUSCRIPT)
    b.add_argument("--styles", type=Path, default=bench.STYLES)
    b.add_argument("--quick", action="store_true", help="size 1 and one run only (for the tests)")

    s = sub.add_parser("spacing", help="the word spacing of a PDF's justified lines (JSON on stdout)")
    s.add_argument("pdf", type=Path)
    s.add_argument("--size", type=float, default=10.5, help="body size in pt (10.5)")
    s.add_argument("--notes", type=float, default=8.0, help="note size in pt (8); 0: no notes")
    s.add_argument("--pages", help="first-last page (1-based), e.g. 5-22")
    s.add_argument("--loosest", type=int, default=0, help="list the N loosest body lines")
    s.add_argument("--without-calls", action="store_true",
                   help="a note call's gap counts as space (how issue 12 measured)")

    v = sub.add_parser("validate", help="EPUBCheck and Ace on an EPUB (as `matbaa check`)")
    v.add_argument("epub", type=Path)
    v.add_argument("--out", type=Path, default=Path("build/check"))

    sub.add_parser("patterns", help="the Azerbaijani hyphenation patterns (.dic) on stdout")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = parser()
    args = ap.parse_args(argv)
    if args.command == "bench":
        from matbaa_dev import bench

        try:
            sizes = [1] if args.quick else [int(x) for x in args.sizes.split(",") if x.strip()]
            options = {"runs": 1 if args.quick else args.runs, "phase_runs": 1 if args.quick else args.phase_runs,
                       "skip": frozenset(x.strip() for x in args.skip.split(",") if x.strip())}
            bench.check_options(sizes, **options)
        except ValueError as exc:
            ap.error(f"bench: {exc}")
        return bench.run(sizes, out=args.out, manuscript=args.manuscript, styles=args.styles,
                         command="python -m matbaa_dev " + " ".join(argv), **options)
    if args.command == "spacing":
        from matbaa_dev import spacing

        result = spacing.report(args.pdf, args.size, args.notes or None, spacing.pages_range(args.pages),
                                calls=not args.without_calls, n_loosest=args.loosest)
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    if args.command == "validate":
        from matbaa_dev import validate

        return validate.validate(args.epub, args.out)
    if args.command == "patterns":
        from matbaa_dev import patterns

        sys.stdout.write(patterns.generate())
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
