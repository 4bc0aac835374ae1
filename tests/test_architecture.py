"""The shape of the code (docs/architecture.md), checked.

- Imports point one way: no cycle among matbaa's modules, function-level
  imports counted; each package imports only the layers below it; a
  function-level import of a matbaa module says why on its line.
- Engine internals are named in the adapter only (typeset/engine.py).
- Writers do not change the Book they are given.
- The page map follows the print layout: a new print stylesheet, and the
  EPUB's page-list is the new layout's, not the one saved before.
"""
from __future__ import annotations

import ast
import copy
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import ROOT, STYLES
from matbaa.sample import HERE as SAMPLE

TOOLS = ROOT / "tools"

#: The layers, bottom up: a module may import its own layer and the ones below.
#: (typeset, epub and proof share a layer: the EPUB hyphenates with typeset's
#: patterns, the proof reads lines through typeset's engine; no cycle is the rule.)
LAYERS = [
    {"matbaa", "matbaa.diagnostics", "matbaa.files", "matbaa.keys", "matbaa.language", "matbaa.resources",
     "matbaa.sample"},
    {"matbaa.model"},
    {"matbaa.read"},
    {"matbaa.transforms"},
    {"matbaa.render"},
    {"matbaa.typeset", "matbaa.epub", "matbaa.proof"},
    {"matbaa.build"},
    {"matbaa.cli", "matbaa.watch", "matbaa.__main__"},
]


def _modules() -> dict[str, Path]:
    mods = {}
    for path in (TOOLS / "matbaa").rglob("*.py"):
        parts = list(path.relative_to(TOOLS).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _imports(mods: dict[str, Path]) -> dict[str, list[tuple[str, int, bool]]]:
    """module -> [(imported matbaa module, line, at function level)], every import
    statement counted wherever it stands."""
    out: dict[str, list[tuple[str, int, bool]]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = []
        in_function = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                in_function |= {id(n) for n in ast.walk(fn)}
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                if t.split(".")[0] == "matbaa" and t in mods and t != name:
                    found.append((t, node.lineno, id(node) in in_function))
        out[name] = found
    return out


def _layer(module: str) -> int:
    for rank, names in enumerate(LAYERS):
        for n in names:
            if module == n or (n != "matbaa" and module.startswith(n + ".")):
                return rank
    raise AssertionError(f"{module}: in no layer of tests/test_architecture.LAYERS (add it, and to "
                         "docs/architecture.md)")


def test_no_import_cycle():
    mods = _modules()
    graph = {m: {t for t, _l, _f in edges} for m, edges in _imports(mods).items()}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == [], f"import cycles among matbaa's modules: {cycles}"


def test_imports_point_down_the_layers():
    wrong = []
    for name, edges in _imports(_modules()).items():
        for target, line, _f in edges:
            if target == "matbaa":          # the package's own __init__ (its version)
                continue
            if _layer(target) > _layer(name):
                wrong.append(f"{name}:{line} imports {target}")
    assert wrong == []


def test_function_level_imports_say_why():
    """A matbaa module imported inside a function must say why on its line
    (start-up time, an optional dependency); any other import stands at the top."""
    mods = _modules()
    silent = []
    for name, edges in _imports(mods).items():
        lines = mods[name].read_text(encoding="utf-8").splitlines()
        for target, line, in_function in edges:
            if in_function and "#" not in lines[line - 1]:
                silent.append(f"{mods[name].relative_to(ROOT)}:{line}: {lines[line - 1].strip()}")
    assert silent == []


def test_the_runtime_package_does_not_import_the_dev_tools():
    offenders = [str(p.relative_to(ROOT)) for p in (TOOLS / "matbaa").rglob("*.py")
                 if re.search(r"^\s*(from|import) matbaa_dev\b", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_engine_internals_only_in_the_adapter():
    """WeasyPrint's boxes, its tagger, pyphen's cache, a zip written by hand:
    named in typeset/engine.py only (tests/test_engine_contract.py checks them)."""
    pattern = re.compile(r"_page_box|_build_box_tree|hdcache|struct\.pack")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in sorted(TOOLS.rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert found and all(f.startswith("tools/matbaa/typeset/engine.py:") for f in found), found


# ------------------------------------------------------------------ writers and the Book

def test_writers_do_not_change_the_book(tmp_path):
    """PDF (in pieces and whole), EPUB, proof: the Book is the same after them all."""
    from matbaa.build import build_proof, load, page_map
    from matbaa.epub.writer import write_epub
    from matbaa.proof import proofread
    from matbaa.typeset.pdf import write_pdf

    book, _ = load(SAMPLE, STYLES)
    before = copy.deepcopy(book)
    write_pdf(book, STYLES, tmp_path / "pieces", jobs=1)
    assert book == before
    done = write_pdf(book, STYLES, tmp_path / "whole", whole=True)
    assert book == before
    assert done.book is not book
    pages = page_map(book, STYLES, tmp_path / "whole")
    write_epub(book, STYLES, tmp_path / "whole", pages, cover=lambda: (SAMPLE / "chapters/images/mark.png").read_bytes())
    assert book == before
    proof_book, _report, edition = build_proof(SAMPLE, tmp_path / "proof", STYLES)
    before_proof = copy.deepcopy(proof_book)
    proofread(proof_book, STYLES, tmp_path / "proof", edition, SAMPLE)
    assert proof_book == before_proof == before


# ------------------------------------------------------------------ the page map follows the layout

def _page_list(epub: Path) -> list[str]:
    with zipfile.ZipFile(epub) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"), etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    return nav.xpath('//x:nav[@epub:type="page-list"]//x:a/text()', namespaces=ns)


def test_epub_page_list_follows_a_new_print_stylesheet(tmp_path):
    """The issue's reproduction: build the sample, change the print CSS so that
    it sets more pages, build the EPUB alone: its page-list is the new layout's."""
    import pypdf

    from matbaa.build import build_epub, build_pdf

    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    build = tmp_path / "build"
    pdf, _ = build_pdf(SAMPLE, build, styles, jobs=1)
    before = _page_list(build_epub(SAMPLE, build, styles)[0])
    assert before and len(pypdf.PdfReader(pdf).pages) >= int(before[-1])
    css = styles / "css" / "print.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.chapter p { font-size: 2.2em; line-height: 1.6; }\n",
                   encoding="utf-8")
    after = _page_list(build_epub(SAMPLE, build, styles)[0])
    fresh = tmp_path / "fresh"
    pdf2, _ = build_pdf(SAMPLE, fresh, styles, jobs=1)
    expected = _page_list(build_epub(SAMPLE, fresh, styles)[0])
    assert int(after[-1]) > int(before[-1])
    assert after == expected
    assert int(after[-1]) <= len(pypdf.PdfReader(pdf2).pages)


def test_saved_page_map_is_reused_when_nothing_changed(tmp_path, monkeypatch):
    """The other side: after `make pdf`, `make epub` lays nothing out."""
    from matbaa import build as build_module

    build = tmp_path / "build"
    build_module.build_pdf(SAMPLE, build, STYLES, jobs=1)

    def no_layout(*a, **k):
        raise AssertionError("the EPUB build laid the book out although the saved page map is current")
    monkeypatch.setattr(build_module, "lay_out", no_layout)
    epub, _ = build_module.build_epub(SAMPLE, build, STYLES)
    assert _page_list(epub)
