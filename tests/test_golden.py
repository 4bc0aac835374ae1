"""Golden files for a whole small book (the `matbaa new` sample): the print
document and the EPUB's package, nav and content documents.

A change to any of them fails here; when the change is intended, rewrite the
files with `pytest tests/test_golden.py --update-golden` and review the diff
of tests/golden/ by eye before committing it."""
import zipfile
from pathlib import Path

import pytest

from matbaa.build import build_epub, build_html
from matbaa.sample import HERE as SAMPLE

from conftest import STYLES

GOLDEN = Path(__file__).parent / "golden" / "sample"
EPUB_FILES = ["EPUB/content.opf", "EPUB/nav.xhtml", "EPUB/titlepage.xhtml", "EPUB/part-1.xhtml",
              "EPUB/part-2.xhtml", "EPUB/glossary.xhtml"]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    html, _ = build_html(SAMPLE, out, STYLES)
    epub, _ = build_epub(SAMPLE, out, STYLES)
    files = {"print.html": html.read_bytes()}
    with zipfile.ZipFile(epub) as z:
        files.update({name.split("/")[-1]: z.read(name) for name in EPUB_FILES})
    return files


@pytest.mark.parametrize("name", ["print.html"] + [n.split("/")[-1] for n in EPUB_FILES])
def test_golden(outputs, name, request):
    golden = GOLDEN / name
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(outputs[name])
    assert golden.is_file(), f"no golden file {golden}: run pytest --update-golden and review it"
    assert outputs[name].decode("utf-8") == golden.read_text(encoding="utf-8"), \
        f"{name} differs from tests/golden/sample/{name}; if intended: pytest --update-golden, then review the diff"
