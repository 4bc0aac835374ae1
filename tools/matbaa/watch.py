"""`matbaa watch` (`make watch`): rebuild the PDF and the EPUB whenever the
manuscript or the styles change.

    matbaa watch [-m manuscript] [-o build] [--styles styles] [--no-initial] [--in-process]

The folders are watched with `watchfiles` (inotify on Linux, not polling);
changes that arrive together (an editor saving several files) make one
rebuild.  Each rebuild prints its time, or every problem of the manuscript as
`file:line: CODE: severity: message`, and keeps watching.

A failed build never replaces a good output: a manuscript error stops the
build before any writer runs, and the writers replace their file atomically
(files.atomic_path), so the previous PDF and EPUB stay in place.

Each rebuild runs in a forked child of the watcher: matbaa and WeasyPrint are
imported once, here, but every build starts with no state left from the
previous one (hyphenation exceptions, fonts, templates are read afresh) and a
crash in a native library cannot end the watch.  Without fork (or with
--in-process) the rebuild runs in this process.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, TextIO

from matbaa.build import DEFAULT_STYLES, build_epub, build_pdf
from matbaa.diagnostics import ManuscriptError, MatbaaError

FORMATS = ("pdf", "epub")
BUILDERS = {"pdf": build_pdf, "epub": build_epub}


@dataclass
class Rebuild:
    ok: bool
    seconds: float
    times: dict[str, float] = field(default_factory=dict)     # format -> seconds
    outputs: dict[str, Path] = field(default_factory=dict)    # format -> file written
    errors: list[str] = field(default_factory=list)           # the lines printed for the failure
    warnings: list[str] = field(default_factory=list)


def _stamp() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")


def rebuild(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES,
            formats: Iterable[str] = FORMATS, out: TextIO | None = None) -> Rebuild:
    """Build each format once; print its time, or the manuscript's problems.

    Never raises for a manuscript or build problem: the result says what happened.
    On a manuscript error nothing is written, so the previous outputs stay."""
    out = out or sys.stdout
    result = Rebuild(ok=True, seconds=0.0)
    t0 = time.perf_counter()
    for fmt in formats:
        t = time.perf_counter()
        try:
            path, report = BUILDERS[fmt](Path(manuscript), Path(build), Path(styles))
        except ManuscriptError as exc:
            result.errors = [str(d) for d in exc.report.items]
            result.errors.append(f"matbaa: {exc}; the previous outputs are kept")
            break
        except MatbaaError as exc:
            result.errors = [f"matbaa: error: {exc}; the previous {fmt} is kept"]
            break
        except Exception as exc:  # noqa: BLE001 - a bug or a library failure must not end the watch
            result.errors = traceback.format_exception_only(type(exc), exc)
            result.errors = [line.rstrip() for line in result.errors]
            result.errors.append(f"matbaa: the {fmt} build failed; the previous {fmt} is kept")
            break
        result.times[fmt] = time.perf_counter() - t
        result.outputs[fmt] = path
        result.warnings += [str(d) for d in report.warnings if str(d) not in result.warnings]
    result.seconds = time.perf_counter() - t0
    result.ok = not result.errors
    for line in result.warnings + result.errors:
        print(line, file=out)
    if result.ok:
        done = ", ".join(f"{fmt} {s:.1f} s" for fmt, s in result.times.items())
        print(f"[{_stamp()}] rebuilt in {result.seconds:.1f} s ({done})", file=out, flush=True)
    else:
        print(f"[{_stamp()}] build failed after {result.seconds:.1f} s; waiting for the next change",
              file=out, flush=True)
    return result


def relevant(changes: Iterable[tuple[object, str]], build: Path) -> list[Path]:
    """The changed paths that matter: not the build's own outputs (when the
    build folder lies inside a watched one) nor its temporary files."""
    build = Path(build).resolve()
    paths = set()
    for _change, name in changes:
        p = Path(name).resolve()
        if p.is_relative_to(build) or (p.name.startswith(".") and p.name.endswith(".tmp")):
            continue
        paths.add(p)
    return sorted(paths)


def on_changes(changes: Iterable[tuple[object, str]], manuscript: Path, build: Path,
               styles: Path = DEFAULT_STYLES, out: TextIO | None = None,
               runner=None) -> Rebuild | int | None:
    """One round of the watch: say what changed and rebuild (None if nothing relevant).

    `runner` runs the rebuild (default: in this process, returning a Rebuild);
    the watch loop passes one that forks."""
    out = out or sys.stdout
    paths = relevant(changes, build)
    if not paths:
        return None
    roots = [Path(manuscript).resolve(), Path(styles).resolve()]

    def short(p: Path) -> str:
        for r in roots:
            if p.is_relative_to(r):
                return str(Path(r.name) / p.relative_to(r))
        return str(p)
    shown = ", ".join(short(p) for p in paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    print(f"[{_stamp()}] changed: {shown}", file=out, flush=True)
    return (runner or rebuild)(manuscript, build, styles, out=out)


def _child(manuscript, build, styles) -> None:
    sys.exit(0 if rebuild(manuscript, build, styles).ok else 1)


def forked_rebuild(manuscript: Path, build: Path, styles: Path, out: TextIO | None = None) -> int:
    """The rebuild in a forked child (its output goes to our stdout); returns its exit code."""
    sys.stdout.flush()
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(manuscript, build, styles))
    proc.start()
    proc.join()
    if proc.exitcode not in (0, 1):
        print(f"[{_stamp()}] the build process ended with {proc.exitcode}; the previous outputs are kept",
              flush=True)
    return proc.exitcode


def watch(manuscript: Path, build: Path, styles: Path = DEFAULT_STYLES, initial: bool = True,
          in_process: bool = False, stop_event=None) -> None:
    import watchfiles

    import weasyprint  # noqa: F401 - imported once here, so that each forked rebuild starts warm

    fork = not in_process and "fork" in multiprocessing.get_all_start_methods()
    runner = forked_rebuild if fork else rebuild
    manuscript, build, styles = Path(manuscript), Path(build), Path(styles)
    if not manuscript.is_dir():
        raise MatbaaError(f"no manuscript folder '{manuscript}'")
    print(f"matbaa: watching {manuscript} and {styles}; outputs in {build} (Ctrl-C to stop)", flush=True)
    if initial:
        runner(manuscript, build, styles)
    for changes in watchfiles.watch(manuscript, styles, stop_event=stop_event, raise_interrupt=False):
        on_changes(changes, manuscript, build, styles, runner=runner)
