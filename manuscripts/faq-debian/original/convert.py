"""How the chapters were first drafted from the HTML as received (then edited by hand).

    python original/convert.py basic-defs > chapters/draft.md

lxml takes the DocBook HTML apart (navigation, tables of contents, section
numbers, index anchors and links out of the book removed; links inside the
selection kept as cross-references), pandoc (pypandoc-binary) writes the
Markdown.  Paragraphs left in English by the translation are marked
[…]{lang=en}.  The chapters in chapters/ are the hand-edited result; this
script is kept as the record of the first step, not run by the build.
"""
import re
import subprocess
import sys
from pathlib import Path

from lxml import etree, html

HERE = Path(__file__).parent
SELECTION = ["basic-defs", "choosing", "compatibility", "software", "pkg-basics", "pkgtools", "kernel",
             "contributing", "faqinfo"]
EN = set("the and of to is that which with for are this was would he they have be it you can".split())


def ids_in(name):
    doc = html.parse(str(HERE / f"{name}.fr.html"))
    return {e.get("id") for e in doc.iter() if isinstance(e.tag, str) and e.get("id")}


def convert(name):
    known = set().union(*(ids_in(n) for n in SELECTION))
    doc = html.parse(str(HERE / f"{name}.fr.html"))
    chapter = doc.xpath('//div[@class="chapter"]')[0]
    for bad in chapter.xpath('.//div[@class="toc"]|.//a[@class="indexterm"]'):
        bad.drop_tree()                       # (keeps the text that follows it)
    for level in (1, 2, 3, 4):
        for h in chapter.xpath(f".//h{level}"):
            anchor = h.xpath(".//a[@id]")
            hid = anchor[0].get("id") if anchor else None
            text = re.sub(r"^\s*(Chapitre\s+)?[\d.]+\s*", "", h.text_content()).strip()
            for c in list(h):
                h.remove(c)
            h.text = text
            if hid:
                h.set("id", hid)
    # footnotes: the call becomes a marker that the Markdown step turns into [^id]
    notes = {}
    for fn in chapter.xpath('.//div[@class="footnote"]'):
        target = fn.xpath(".//a[@href]")[0].get("href").lstrip("#").replace("ftn.", "")
        for a in fn.xpath(".//sup"):
            a.drop_tree()
        notes[target] = " ".join(fn.text_content().split())
    for box in chapter.xpath('.//div[@class="footnotes"]'):
        box.drop_tree()
    for sup in chapter.xpath('.//a[@class="footnote"]'):
        ident = sup.get("href").lstrip("#").replace("ftn.", "")
        marker = chapter.makeelement("span", {})
        marker.text = f"FNCALL{ident}FNEND"
        marker.tail = sup.tail
        sup.getparent().replace(sup, marker)
    # definition lists (no such thing in the book's Markdown): items led by their term in bold
    for dl in chapter.xpath(".//dl"):
        ul = chapter.makeelement("ul", {})
        for dt in dl.xpath("./dt"):
            dd = dt.getnext()
            li = etree.SubElement(ul, "li")
            strong = chapter.makeelement("strong", {})
            strong.text = " ".join(dt.text_content().split())
            paras = dd.xpath("./p") if dd is not None else []
            if paras:
                first = paras[0]
                strong.tail = " " + (first.text or "").lstrip()
                first.text = None
                first.insert(0, strong)
                for child in list(dd):
                    li.append(child)
            else:
                li.append(strong)
        dl.getparent().replace(dl, ul)
    for a in chapter.xpath(".//a[@href]"):
        href = a.get("href")
        target = href.split("#")[-1] if "#" in href else href.split(".")[0]
        if not href.startswith(("http", "mailto", "ftp")) and target in known:
            a.set("href", "#" + target)
            # the HTML edition numbers its sections; this one does not
            if a.text:
                a.text = re.sub(r"^(Section|Chapitre)\s+[\d.]+,\s*", r"\1 ", a.text)
        else:
            a.drop_tag()
    for p in chapter.xpath(".//p|.//li[not(p)]"):
        words = p.text_content().lower().split()
        if words and sum(w in EN for w in words) > 0.08 * len(words):
            span = etree.SubElement(p, "span", lang="en")
            span.text, p.text = p.text, None
            for c in list(p)[:-1]:
                span.append(c)
    for e in chapter.xpath(".//span[not(@lang)]"):
        e.drop_tag()
    for e in chapter.iter():
        if isinstance(e.tag, str):
            e.attrib.pop("class", None)
            e.attrib.pop("title", None)
            if e.tag != "span" and not re.match("h[1-4]$", e.tag):
                e.attrib.pop("id", None)
    for pre in chapter.xpath(".//pre"):
        pre.set("class", "FENCE")
    body = etree.tostring(chapter, encoding="unicode")
    md = subprocess.run(["pandoc", "-f", "html", "-t",
                         "markdown-raw_html-native_divs-native_spans-smart-link_attributes-fenced_divs-inline_code_attributes",
                         "--wrap=preserve"], input=body, capture_output=True, text=True, check=True).stdout
    md = md.replace("``` FENCE", "```").replace("```FENCE", "```").replace("{.FENCE}", "")
    md = re.sub(r"\n\s*\]\{lang=\"en\"\}", "]{lang=en}", md)
    md = re.sub(r"\s*FNCALL(\S+?)FNEND", r"[^\1]", md)       # a call follows its word
    for ident, text in notes.items():
        words = text.lower().split()
        english = sum(w in EN for w in words) > 0.08 * len(words)
        md += f"\n[^{ident}]: " + (f"[{text}]{{lang=en}}" if english else text) + "\n"
    return md


if __name__ == "__main__":
    sys.stdout.write(convert(sys.argv[1]))
